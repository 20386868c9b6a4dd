/**
 * The failure converter of an encrypted deployment, loaded by path (`failureConverterPath`) because
 * it also runs inside the workflow sandbox: failure messages and stack traces are moved into an
 * encoded payload, which the payload codec then encrypts like any other. Histories show
 * "Encoded failure" instead of an error text that may quote customer data.
 *
 * One exception, so that an operator sees why the UI refused a decision: the `resolveStep`
 * validator's refusals keep their message in plain text. Those texts are built only from the
 * night's own step and feed names, the allowed actions and the sender's own input (clipped and
 * cleaned) — never from feed data or a failure's message — so they carry nothing the sender did not
 * type (docs/runbook.md, "Refusals in the UI").
 */
import { DefaultFailureConverter, type PayloadConverter, type ProtoFailure } from '@temporalio/common';
import { REFUSAL_PREFIX } from '../domain/night-story';

/** How the validator's refusals begin (src/workflows/messages.ts validateResolveStep). */
export const PLAIN_REFUSAL_PREFIX = REFUSAL_PREFIX;
const PLAIN_REFUSAL_TYPE = 'InvalidInput';

/** True for a failure whose message may stay readable (a refusal of an operator's message). */
export function isPlainRefusal(error: unknown): boolean {
  // No instanceof: in the sandbox the failure classes may come from another copy of the module.
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { type?: unknown; message?: unknown };
  return e.type === PLAIN_REFUSAL_TYPE && typeof e.message === 'string' && e.message.startsWith(PLAIN_REFUSAL_PREFIX);
}

class NightjarFailureConverter extends DefaultFailureConverter {
  override errorToFailure(err: unknown, payloadConverter: PayloadConverter): ProtoFailure {
    const failure = super.errorToFailure(err, payloadConverter);
    return isPlainRefusal(err) ? { ...failure, message: (err as { message: string }).message } : failure;
  }
}

export const failureConverter = new NightjarFailureConverter({ encodeCommonAttributes: true });

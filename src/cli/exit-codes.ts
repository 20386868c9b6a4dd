/**
 * How the CLI ends, and what it says when it fails: one or two lines (what failed, why, what to
 * do), never a stack trace. Scripts and runbooks rely on the codes:
 *
 *   0  done (or help shown)
 *   1  refused or failed: the night, the workflow or Temporal said no (unknown night, not running,
 *      a decision the night cannot take, no worker answering, Temporal unreachable), the demo's
 *      night did not complete, or the machine refused (a missing tool or file) — look at the
 *      night or the environment
 *   2  the command line or the configuration is wrong (flags, variables, key files) — fix the command
 *   3  an unexpected failure inside nightjar — a bug: report the line it printed
 */
import { CommanderError } from 'commander';
import {
  ServiceError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { KeyStoreError, PayloadDecryptionError } from '../codec/errors';
import { ConfigError } from '../config/config';
import { CodecServerUnusable } from '../infra/temporal-dev-server';
import { ManifestUnreadable } from '../night-report/manifests';
import { TriggerRejected } from '../triggers/errors';

export const ExitCode = { Ok: 0, Refused: 1, Usage: 2, Internal: 3 } as const;

/** Flags that parse one by one but not together (e.g. `--from` after `--to`). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The operation reached Temporal and was refused: the message says by whom and why. */
export class OperationRefused extends Error {
  override readonly name = 'OperationRefused';
}

/** Temporal could not be reached: nothing was done. */
export class TemporalUnreachable extends Error {
  override readonly name = 'TemporalUnreachable';
}

/** Commander's codes for a command line it cannot parse. */
const USAGE_CODES: ReadonlySet<string> = new Set([
  'commander.invalidArgument',
  'commander.unknownOption',
  'commander.unknownCommand',
  'commander.missingArgument',
  'commander.optionMissingArgument',
  'commander.missingMandatoryOptionValue',
  'commander.excessArguments',
  'commander.conflictingOption',
  // A command group called without a command prints its help as an error.
  'commander.help',
]);

/** gRPC status codes that mean "Temporal could not be reached". */
const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The first error of `error`'s cause chain that is an instance of `type`. */
function inChain<T>(error: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 10; e = (e as { cause?: unknown }).cause, depth += 1) {
    if (e instanceof type) return e;
  }
  return undefined;
}

/**
 * What the CLI prints for a failure (after `error: `) and the code it exits with. Errors the CLI
 * raises say it all already; the SDK's and the system's get words for what to do.
 */
export function describeFailure(error: unknown, command = 'nightjar'): { readonly code: number; readonly message: string } {
  const known = exitCodeOf(error);
  if (known !== undefined) return { code: known, message: messageOf(error) };
  const decryption = inChain(error, PayloadDecryptionError);
  if (decryption) return { code: ExitCode.Usage, message: `cannot read the night's payloads: ${decryption.message}` };
  if (error instanceof KeyStoreError) return { code: ExitCode.Usage, message: error.message };
  if (error instanceof CodecServerUnusable || error instanceof ManifestUnreadable) return { code: ExitCode.Refused, message: error.message };
  if (error instanceof WorkflowNotFoundError) return { code: ExitCode.Refused, message: `no such night: ${error.message}` };
  if (error instanceof WorkflowUpdateFailedError) return { code: ExitCode.Refused, message: messageOf(error.cause ?? error) };
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return {
      code: ExitCode.Refused,
      message: 'the night did not answer in time: no worker is polling its task queue, or its workflow task is failing (see the worker log); nothing was decided — try again once a worker runs',
    };
  }
  if (error instanceof WorkflowFailedError) return { code: ExitCode.Refused, message: `the night failed: ${messageOf(error.cause ?? error)}` };
  const service = inChain(error, ServiceError);
  if (service) {
    const grpc = (service.cause as { code?: unknown; details?: unknown } | undefined) ?? {};
    const details = typeof grpc.details === 'string' && grpc.details !== '' ? grpc.details : service.message;
    if (grpc.code === GRPC_UNAVAILABLE) return { code: ExitCode.Refused, message: `cannot reach Temporal: ${details}; is the server running (NIGHTJAR_TEMPORAL_ADDRESS)?` };
    if (grpc.code === GRPC_DEADLINE_EXCEEDED) return { code: ExitCode.Refused, message: `Temporal did not answer in time: ${details}; is a worker running?` };
    return { code: ExitCode.Refused, message: `Temporal refused the request: ${details}` };
  }
  const system = error as NodeJS.ErrnoException;
  if (error instanceof Error && typeof system.code === 'string' && typeof system.syscall === 'string') {
    return { code: ExitCode.Refused, message: `${system.syscall} ${system.path ?? ''} failed (${system.code}): check the path and its permissions`.replace('  ', ' ') };
  }
  // A plain Error is one this code base raised with words for the operator (a missing tool, a
  // server that exited); TypeError and its kin are programming errors.
  if (error instanceof Error && Object.getPrototypeOf(error) === Error.prototype) return { code: ExitCode.Refused, message: error.message };
  const name = error instanceof Error ? error.name : typeof error;
  return { code: ExitCode.Internal, message: `unexpected failure in '${command}' (${name}): ${messageOf(error)} — this is a bug in nightjar; please report this line` };
}

/** The exit code for an error the CLI knows, or undefined for an unexpected one. */
export function exitCodeOf(error: unknown): number | undefined {
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) return ExitCode.Ok;
    return USAGE_CODES.has(error.code) ? ExitCode.Usage : error.exitCode;
  }
  if (error instanceof UsageError || error instanceof ConfigError) return ExitCode.Usage;
  if (error instanceof OperationRefused || error instanceof TriggerRejected || error instanceof TemporalUnreachable) return ExitCode.Refused;
  return undefined;
}

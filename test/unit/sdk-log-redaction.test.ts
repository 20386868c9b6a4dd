import { Writable } from 'node:stream';
import { ApplicationFailure, ActivityFailure, RetryState } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { CENSOR, createLogger, PinoSdkLogger, redactFailure } from '../../src/worker/logger';

const MARKER = 'Jane Customer BE71096123456769';

function capture(redact = true) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger({ level: 'debug', redact, destination });
  return { sdkLogger: new PinoSdkLogger(logger, { redactFailures: redact }), lines };
}

test("the SDK's own 'Activity failed' line keeps the failure's type but not its message", async () => {
  const { sdkLogger, lines } = capture();
  const env = new MockActivityEnvironment(undefined, { logger: sdkLogger });
  const failing = async () => {
    throw ApplicationFailure.create({ type: 'FeedRejected', message: `trailer count off for ${MARKER}`, nonRetryable: true });
  };
  await expect(env.run(failing)).rejects.toThrow(MARKER);
  const out = lines.join('');
  const line = lines.map((l) => JSON.parse(l) as { msg: string; error?: { type?: string; message?: string; nonRetryable?: boolean } }).find((l) => l.msg === 'Activity failed');
  expect(line?.error).toMatchObject({ type: 'FeedRejected', message: CENSOR, nonRetryable: true });
  expect(out).not.toContain('Jane Customer');
  expect(out).not.toContain('BE71096123456769');
});

test("a 'Workflow failed' line (the workflow logger's shape: { error, sdkComponent }) loses the words of the failure and of its cause", () => {
  const { sdkLogger, lines } = capture();
  const cause = ApplicationFailure.create({ type: 'ReconciliationFailed', message: `rows of ${MARKER} do not add up`, nonRetryable: true });
  const error = new ActivityFailure(`activity failed for ${MARKER}`, 'reconcile', '7', RetryState.NON_RETRYABLE_FAILURE, 'worker-1', cause);
  sdkLogger.warn('Workflow failed', { error, sdkComponent: 'worker' });
  // Workflow log lines that carry a failure's message as a field lose it too.
  sdkLogger.warn('step parked: needs attention', { step: 'ingest', feed: 'payments', type: 'FeedRejected', message: `bad line for ${MARKER}` });
  const out = lines.join('');
  expect(out).not.toContain('Jane Customer');
  const [failed, parked] = lines.map((l) => JSON.parse(l));
  expect(failed.error).toMatchObject({ name: 'ActivityFailure', message: CENSOR, cause: { type: 'ReconciliationFailed', message: CENSOR } });
  expect(failed.sdkComponent).toBe('worker');
  expect(parked).toMatchObject({ step: 'ingest', feed: 'payments', type: 'FeedRejected', message: CENSOR });
});

test('with redaction switched off by configuration, the SDK line keeps the message', () => {
  const { sdkLogger, lines } = capture(false);
  sdkLogger.warn('step parked: needs attention', { step: 'ingest', message: `for ${MARKER}` });
  expect(lines.join('')).toContain(MARKER);
});

test('a redacted failure keeps its stack frames, not the first line that repeats the message', () => {
  const error = new Error(`boom for ${MARKER}`);
  const redacted = redactFailure(error);
  expect(String(redacted.stack)).toMatch(/^\s+at /);
  expect(JSON.stringify(redacted)).not.toContain('Jane');
});

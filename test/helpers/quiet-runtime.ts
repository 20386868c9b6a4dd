import { Writable } from 'node:stream';
import { Runtime } from '@temporalio/worker';
import { createLogger, PinoSdkLogger } from '../../src/worker/logger';

/** Every SDK log line this test file's runtime wrote (tests of the redaction read them). */
export const sdkLogLines: string[] = [];

// Tests keep the SDK's own log lines to warnings and errors, on stderr, through the same redaction
// as the worker's: a failure's message (which may quote customer data) never reaches the output.
const destination = new Writable({
  write(chunk: Buffer, _encoding, done) {
    sdkLogLines.push(String(chunk));
    process.stderr.write(chunk, () => done());
  },
});
Runtime.install({ logger: new PinoSdkLogger(createLogger({ level: 'warn', redact: true, destination }).child({ component: 'temporal-sdk' })) });

import pino from 'pino';
import { Runtime } from '@temporalio/worker';
import { createLogger, PinoSdkLogger } from '../../src/worker/logger';

// Tests keep the SDK's own log lines to warnings and errors, on stderr, through the same redaction
// as the worker's: a failure's message (which may quote customer data) never reaches the output.
Runtime.install({ logger: new PinoSdkLogger(createLogger({ level: 'warn', redact: true, destination: pino.destination(2) }).child({ component: 'temporal-sdk' })) });

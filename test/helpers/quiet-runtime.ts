import { DefaultLogger, Runtime } from '@temporalio/worker';

// Tests keep the SDK's own log lines to warnings and errors.
Runtime.install({ logger: new DefaultLogger('WARN') });

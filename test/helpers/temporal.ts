import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ensureSearchAttributes } from '../../src/infra/search-attributes';
import { SearchAttr } from '../../src/workflows/search-attributes';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
const bin = (name: string) => path.join(REPO_ROOT, '.venv', 'bin', name);

/** The time-skipping test server installed by the bootstrap (the SDK's own download cannot work here). */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: bin('temporal-test-server') } },
  });
  await ensureSearchAttributes(env.connection, env.namespace ?? 'default');
  return env;
}

/** The Temporal CLI dev server (the real server the demo and production-like tests use). */
export function createDevServerEnv(opts: { dbFilename?: string } = {}): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: bin('temporal') },
      ...(opts.dbFilename ? { dbFilename: opts.dbFilename } : {}),
      log: { format: 'json', level: 'error' },
      searchAttributes: Object.values(SearchAttr),
    },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Bundles the workflow code once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('../../src/workflows'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
  });
  return bundle;
}

let counter = 0;
/** A workflow id no other test uses. */
export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

/**
 * The procedure of docs/versioning.md, exercised: a history recorded on version 1 of a workflow
 * fails to replay on an unversioned change and replays on the same change behind patched(); the
 * patched version's own history replays too.
 */
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import type { History } from '@temporalio/common/lib/proto-utils';
import { createTimeSkippingEnv } from '../helpers/temporal';

jest.setTimeout(120_000);

const fixtures = path.resolve(__dirname, '..', 'fixtures', 'versioning');
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const bundle = (file: string): Promise<WorkflowBundleWithSourceMap> =>
  bundleWorkflowCode({ workflowsPath: path.join(fixtures, file), logger: quiet });

const activities = { async ingest() {}, async validate() {}, async exportReports() {} };

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

async function record(workflowBundle: WorkflowBundleWithSourceMap, workflowId: string): Promise<History> {
  const taskQueue = `versioning-${workflowId}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities });
  await worker.runUntil(env.client.workflow.execute('versionedNight', { taskQueue, workflowId, args: [] }));
  return env.client.workflow.getHandle(workflowId).fetchHistory();
}

test('a change that breaks running nights fails replay unless it is behind patched()', async () => {
  const [v1, unversioned, patchedV2] = await Promise.all([bundle('v1.ts'), bundle('v2-unversioned.ts'), bundle('v2-patched.ts')]);
  const v1History = await record(v1, `v1-${Date.now()}`);

  await expect(Worker.runReplayHistory({ workflowBundle: unversioned }, v1History, 'v1-night')).rejects.toBeInstanceOf(DeterminismViolationError);
  await expect(Worker.runReplayHistory({ workflowBundle: patchedV2 }, v1History, 'v1-night')).resolves.toBeUndefined();

  const v2History = await record(patchedV2, `v2-${Date.now()}`);
  const scheduled = v2History.events?.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name);
  expect(scheduled).toEqual(['ingest', 'validate', 'exportReports']);
  await expect(Worker.runReplayHistory({ workflowBundle: patchedV2 }, v2History, 'v2-night')).resolves.toBeUndefined();
  // Version 1 code cannot run a night that started on version 2: roll-backs need the same care.
  await expect(Worker.runReplayHistory({ workflowBundle: v1 }, v2History, 'v2-night')).rejects.toBeInstanceOf(DeterminismViolationError);
});

/**
 * What the tests of the nightly workflow share: a worker with fake activities on a task queue of
 * its own, and waiting on the status query instead of on the result.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { statusQuery, type PipelineStatus } from '../../src/workflows/messages';
import { fakeActivities, type FakeCalls, type FakeScript } from './fake-activities';
import { uniqueId, workflowBundle } from './temporal';

/** Runs `body` while a worker with the scripted fake activities polls a fresh task queue. */
export async function withFakeWorker(
  env: TestWorkflowEnvironment,
  script: FakeScript,
  body: (ctx: { taskQueue: string; calls: FakeCalls }) => Promise<void>,
  options: Partial<Pick<WorkerOptions, 'maxHeartbeatThrottleInterval' | 'defaultHeartbeatThrottleInterval'>> = {},
): Promise<void> {
  const taskQueue = uniqueId('tq');
  const { activities, calls } = fakeActivities(script);
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities, ...options });
  await worker.runUntil(body({ taskQueue, calls }));
}

/**
 * Polls the status query until `done` holds. A night that waits without a timer (parked, held)
 * must not be waited on with `result()`: the time-skipping server would jump to the execution
 * timeout. Tests wait here instead, and call `result()` once the night can finish.
 */
export async function waitForStatus(
  env: TestWorkflowEnvironment,
  handle: WorkflowHandle,
  done: (s: PipelineStatus) => boolean,
  what: string,
): Promise<PipelineStatus> {
  const giveUpAt = Date.now() + 15_000;
  let last: unknown;
  while (Date.now() < giveUpAt) {
    // Each query is bounded too: a night whose workflow task keeps failing does not answer.
    last = await env.client.withDeadline(Date.now() + 2_000, () => handle.query(statusQuery)).catch((e: unknown) => e);
    if (!(last instanceof Error) && done(last as PipelineStatus)) return last as PipelineStatus;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${what} after 15 s; last status: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}

import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { FEED_NAMES } from '../../src/domain/feeds/catalog';
import { MAX_RECORDED_PODS, recordedPods } from '../../src/domain/spark/attempt-pods';
import { dailyPipeline } from '../../src/workflows';
import { ABORTED_BY_OPERATOR } from '../../src/workflows/daily-pipeline';
import { resolveStepUpdate, statusQuery, type PipelineStatus } from '../../src/workflows/messages';
import { SearchAttr } from '../../src/workflows/search-attributes';
import { waitForStatus as waitForStatusOf, withFakeWorker } from '../helpers/nights';
import { createTimeSkippingEnv, uniqueId } from '../helpers/temporal';
import { feedRejected, OOM, PERMANENT, RESOURCES, retryableIoError, TRANSIENT, type FakeCalls, type FakeScript } from '../helpers/fake-activities';

jest.setTimeout(120_000);

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const run = (script: FakeScript, body: (ctx: { taskQueue: string; calls: FakeCalls }) => Promise<void>) => withFakeWorker(env, script, body);

const start = (taskQueue: string, businessDate = '2026-11-20') =>
  env.client.workflow.start(dailyPipeline, { taskQueue, workflowId: uniqueId(`daily-${businessDate}`), args: [{ businessDate }] });

type Night = Awaited<ReturnType<typeof start>>;

const waitForStatus = (handle: Night, done: (s: PipelineStatus) => boolean, what: string) => waitForStatusOf(env, handle, done, what);
const waitForParked = (handle: Night) => waitForStatus(handle, (s) => s.parked !== undefined, 'parked step');

async function nightjarStatus(handle: Night): Promise<string | undefined> {
  return (await handle.describe()).typedSearchAttributes.get(SearchAttr.status);
}

test('waits for the feeds, then ingests every feed, then normalize, transform, export and finalize, in that order', async () => {
  await run({}, async ({ taskQueue, calls }) => {
    const result = await (await start(taskQueue)).result();
    expect(result.status).toBe('COMPLETED');
    const stepOrder = calls.order.filter((c) => !c.startsWith('ingest:')).map((c) => c.split(':').slice(0, 2).join(':'));
    expect(stepOrder).toEqual([
      'plan', 'awaitFeeds',
      'submit:normalize', 'await:normalize', 'cleanup:normalize',
      'submit:transform', 'await:transform', 'cleanup:transform',
      'export', 'finalize',
    ]);
    const firstSubmit = calls.order.indexOf('submit:normalize:1');
    for (const feed of FEED_NAMES) {
      expect(calls.order.indexOf(`ingest:${feed}`)).toBeGreaterThan(calls.order.indexOf('awaitFeeds'));
      expect(calls.order.indexOf(`ingest:${feed}`)).toBeLessThan(firstSubmit);
    }
    // Found in the landing zone: each feed is ingested from the file discovery saw.
    expect(calls.ingests.map((i) => [i.feed, i.sourceUri]).sort()).toEqual(FEED_NAMES.map((f) => [f, `file:///landing/2026-11-20/${f}.csv`]).sort());
    const manifest = calls.finalized[0]!.manifest;
    expect(manifest.status).toBe('COMPLETED');
    expect(manifest.late).toBeUndefined();
    expect(manifest.decisions).toBeUndefined();
    expect(manifest.steps.map((s) => s.step)).toEqual(['ingest', 'normalize', 'transform', 'export']);
    for (const f of manifest.feeds) expect(f.rowsAccepted + f.rowsRejected).toBe(f.rowsIn);
    expect(result.reports.map((r) => r.table)).toContain('pipeline_step_metrics');
  });
});

test('an out-of-memory attempt is cleaned up and resubmitted with doubled driver memory', async () => {
  await run({ outcomes: { normalize: [OOM] } }, async ({ taskQueue, calls }) => {
    const result = await (await start(taskQueue)).result();
    expect(result.status).toBe('COMPLETED');
    const normalize = calls.submits.filter((s) => s.job === 'normalize');
    expect(normalize.map((s) => s.resources.driverMemoryMb)).toEqual([512, 1024]);
    expect(new Set(normalize.map((s) => s.attemptId)).size).toBe(2);
    const cleanups = calls.cleanups.filter((c) => c.job === 'normalize');
    expect(cleanups.map((c) => c.keepOutput)).toEqual([false, true]);
    const step = calls.finalized[0]!.manifest.steps.find((s) => s.step === 'normalize')!;
    expect(step.attempts.map((a) => [a.outcome, a.resources?.driverMemoryMb])).toEqual([
      ['OUT_OF_MEMORY', 512],
      ['SUCCEEDED', 1024],
    ]);
  });
});

test('the pods a Kubernetes attempt reported reach the attempt records of the manifest, bounded, driver and failed executors first', async () => {
  const driver = { role: 'driver' as const, name: 'nj-transform-a1-driver', node: 'kwok-a1', phase: 'Running' };
  const oomKilled = (i: number) => ({ role: 'executor' as const, name: `nj-transform-a1-exec-${i}`, node: 'kwok-b2', phase: 'Failed', exitCode: 137, reason: 'OOMKilled' });
  const healthy = (i: number) => ({ role: 'executor' as const, name: `nj-transform-a1-exec-h${String(i).padStart(2, '0')}`, node: 'kwok-a2', phase: 'Running' });
  // The platform as it would answer: every pod it saw; the activity bounds the list for the history.
  const pods = [...Array.from({ length: 30 }, (_, i) => healthy(i)), oomKilled(2), driver, oomKilled(1)];
  const executorOom = { ...OOM, oomSide: 'executor' as const, reason: '2 executors lost to out-of-memory', pods: recordedPods(pods).pods, podsOmitted: recordedPods(pods).omitted };
  await run({ outcomes: { transform: [executorOom] } }, async ({ taskQueue, calls }) => {
    const result = await (await start(taskQueue)).result();
    expect(result.status).toBe('COMPLETED');
    const transform = calls.finalized[0]!.manifest.steps.find((s) => s.step === 'transform')!;
    const [first, second] = transform.attempts;
    expect(first).toMatchObject({ outcome: 'OUT_OF_MEMORY', oomSide: 'executor', podsOmitted: 33 - MAX_RECORDED_PODS });
    expect(first!.pods).toHaveLength(MAX_RECORDED_PODS);
    expect(first!.pods!.slice(0, 3)).toEqual([driver, oomKilled(1), oomKilled(2)]);
    // The local platform reports no pods: the record then has none.
    expect(second).toMatchObject({ outcome: 'SUCCEEDED' });
    expect(second!.pods).toBeUndefined();
  });
});

test('out of memory on the last attempt parks transform as SparkOutOfMemory; a retry with more driver memory, within the cap, runs a new child that continues the attempt numbering', async () => {
  await run({ outcomes: { transform: [OOM, OOM, OOM] }, maxAttempts: 3, maxDriverMemoryMb: 8192 }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue);
    const parked = (await waitForParked(handle)).parked!;
    expect(parked).toMatchObject({ step: 'transform', error: { type: 'SparkOutOfMemory' }, actions: ['retry', 'abort'] });
    expect(parked.feed).toBeUndefined();
    expect(await nightjarStatus(handle)).toBe('NEEDS_ATTENTION');
    expect(calls.submits.filter((s) => s.job === 'transform').map((s) => s.resources.driverMemoryMb)).toEqual([512, 1024, 2048]);
    expect(calls.order).not.toContain('export');

    const answer = await handle.executeUpdate(resolveStepUpdate, {
      args: [{ step: 'transform', action: 'retry', overrides: { driverMemoryMb: 4096 }, reason: 'month-end volume', by: 'ops@bank' }],
    });
    expect(answer).toEqual({ accepted: true, step: 'transform', action: 'retry' });
    const result = await handle.result();
    expect(result.status).toBe('COMPLETED');

    const transform = calls.submits.filter((s) => s.job === 'transform');
    expect(transform.map((s) => [s.attempt, s.resources.driverMemoryMb])).toEqual([[1, 512], [2, 1024], [3, 2048], [4, 4096]]);
    expect(transform[3]!.resources).toEqual({ ...RESOURCES, driverMemoryMb: 4096 });
    expect(new Set(transform.map((s) => s.attemptId)).size).toBe(4);
    // Every attempt cleaned up; only the one that succeeded keeps its output.
    expect(calls.cleanups.filter((c) => c.job === 'transform').map((c) => [c.attemptId, c.keepOutput])).toEqual(transform.map((s, i) => [s.attemptId, i === 3]));
    const retry = await env.client.workflow.getHandle(`${handle.workflowId}-transform-r2`).describe();
    expect(retry.status.name).toBe('COMPLETED');
    expect(calls.order.filter((c) => c === 'export')).toHaveLength(1);

    const manifest = calls.finalized[0]!.manifest;
    expect(manifest.status).toBe('COMPLETED');
    expect(manifest.error).toBeUndefined();
    expect(manifest.steps.filter((s) => s.step === 'transform').map((s) => [s.status, s.attempts.map((a) => a.attempt)])).toEqual([
      ['FAILED', [1, 2, 3]],
      ['COMPLETED', [4]],
    ]);
    expect(manifest.decisions).toEqual([
      expect.objectContaining({ step: 'transform', action: 'retry', reason: 'month-end volume', by: 'ops@bank', error: expect.objectContaining({ type: 'SparkOutOfMemory' }) }),
    ]);
    expect(await nightjarStatus(handle)).toBe('COMPLETED');
  });
});

test('a transient Spark failure is retried with the same resources', async () => {
  await run({ outcomes: { normalize: [TRANSIENT] } }, async ({ taskQueue, calls }) => {
    await (await start(taskQueue)).result();
    const normalize = calls.submits.filter((s) => s.job === 'normalize');
    expect(normalize.map((s) => s.resources.driverMemoryMb)).toEqual([512, 512]);
  });
});

test('a permanent Spark failure parks normalize as SparkJobFailed without export; abort fails the night as AbortedByOperator', async () => {
  await run({ outcomes: { normalize: [PERMANENT] } }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue);
    const status = await waitForParked(handle);
    expect(status.status).toBe('NEEDS_ATTENTION');
    expect(status.parked).toMatchObject({ step: 'normalize', error: { type: 'SparkJobFailed', message: expect.stringContaining('AnalysisException') }, actions: ['retry', 'abort'] });
    expect(await nightjarStatus(handle)).toBe('NEEDS_ATTENTION');
    expect(calls.submits.filter((s) => s.job === 'normalize')).toHaveLength(1);
    expect(calls.submits.filter((s) => s.job === 'transform')).toHaveLength(0);
    const seenWhileParked = calls.order.length;

    await handle.executeUpdate(resolveStepUpdate, { args: [{ step: 'normalize', action: 'abort', reason: 'vendor fixes the job tomorrow', by: 'ops@bank' }] });
    await expect(handle.result()).rejects.toMatchObject({ cause: { type: ABORTED_BY_OPERATOR } });
    // Nothing ran after the decision but the manifest.
    expect(calls.order.slice(seenWhileParked)).toEqual(['finalize']);
    const manifest = calls.finalized[0]!.manifest;
    expect(manifest.status).toBe('FAILED');
    expect(manifest.error).toMatchObject({ step: 'normalize', type: 'SparkJobFailed' });
    expect(manifest.decisions).toEqual([
      expect.objectContaining({ step: 'normalize', action: 'abort', reason: 'vendor fixes the job tomorrow', by: 'ops@bank', error: expect.objectContaining({ type: 'SparkJobFailed' }) }),
    ]);
    expect(await nightjarStatus(handle)).toBe('FAILED');
  });
});

test('a retryable ingest error is retried with backoff until it succeeds', async () => {
  await run({ ingestErrors: { payments: [retryableIoError(), retryableIoError()] } }, async ({ taskQueue, calls }) => {
    const result = await (await start(taskQueue)).result();
    expect(result.status).toBe('COMPLETED');
    expect(calls.ingestAttempts.payments).toBe(3);
  });
});

test('a rejected feed file is not retried by Temporal and parks ingest for that feed; a retry ingests the corrected file and the night goes on', async () => {
  // The fake rejects the first delivery of accounts only: the retry finds a corrected file.
  await run({ ingestErrors: { accounts: [feedRejected()] } }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue);
    const status = await waitForParked(handle);
    expect(status.parked).toMatchObject({ step: 'ingest', feed: 'accounts', error: { type: 'FeedRejected' }, actions: ['retry', 'abort'] });
    expect(status.stage).toBe('ingest');
    expect(calls.ingestAttempts.accounts).toBe(1);
    expect(calls.submits).toHaveLength(0);

    await handle.executeUpdate(resolveStepUpdate, { args: [{ step: 'ingest', feed: 'accounts', action: 'retry', by: 'ops@bank' }] });
    expect((await handle.result()).status).toBe('COMPLETED');
    expect(calls.ingestAttempts.accounts).toBe(2);
    // Only the rejected feed was ingested again.
    for (const feed of FEED_NAMES.filter((f) => f !== 'accounts')) expect(calls.ingestAttempts[feed]).toBe(1);
    const manifest = calls.finalized[0]!.manifest;
    expect(manifest.feeds.map((f) => f.status)).toEqual(FEED_NAMES.map(() => 'INGESTED'));
    expect(manifest.decisions).toEqual([expect.objectContaining({ step: 'ingest', feed: 'accounts', action: 'retry', error: expect.objectContaining({ type: 'FeedRejected' }) })]);
  });
});

test('rows that do not reconcile park normalize as ReconciliationFailed; a retry ingests again and normalizes again', async () => {
  const script: FakeScript = { normalizeRowsIn: { transactions: 99 } };
  await run(script, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue);
    const status = await waitForParked(handle);
    expect(status.parked).toMatchObject({ step: 'normalize', error: { type: 'ReconciliationFailed', message: expect.stringContaining('transactions') }, actions: ['retry', 'abort'] });
    expect(calls.submits.filter((s) => s.job === 'transform')).toHaveLength(0);
    for (const feed of FEED_NAMES) expect(calls.ingestAttempts[feed]).toBe(1);

    // The sender delivers a corrected file: normalize now reads what the trailer says.
    delete script.normalizeRowsIn;
    await handle.executeUpdate(resolveStepUpdate, { args: [{ step: 'normalize', action: 'retry' }] });
    expect((await handle.result()).status).toBe('COMPLETED');
    for (const feed of FEED_NAMES) expect(calls.ingestAttempts[feed]).toBe(2);
    expect(calls.submits.filter((s) => s.job === 'normalize')).toHaveLength(2);
    expect(calls.submits.filter((s) => s.job === 'transform')).toHaveLength(1);
    const manifest = calls.finalized[0]!.manifest;
    expect(manifest.steps.map((s) => `${s.step}:${s.status}`)).toEqual(['ingest:COMPLETED', 'normalize:COMPLETED', 'ingest:COMPLETED', 'normalize:COMPLETED', 'transform:COMPLETED', 'export:COMPLETED']);
    expect(manifest.decisions).toEqual([expect.objectContaining({ step: 'normalize', action: 'retry', error: expect.objectContaining({ type: 'ReconciliationFailed' }) })]);
  });
});

test('money that does not balance with the trailer parks normalize as ReconciliationFailed naming the feed and the sums', async () => {
  const script: FakeScript = { normalizeAmountRejected: { payments: '0.99' } };
  await run(script, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue);
    const status = await waitForParked(handle);
    expect(status.parked?.error.type).toBe('ReconciliationFailed');
    expect(status.parked?.error.message).toContain("payments: amount accepted 99.00 + amount rejected 0.99 = 99.99, but the trailer's control sum is 100.00 (unaccounted 0.01)");
    expect(calls.submits.filter((s) => s.job === 'transform')).toHaveLength(0);

    delete script.normalizeAmountRejected;
    await handle.executeUpdate(resolveStepUpdate, { args: [{ step: 'normalize', action: 'retry' }] });
    expect((await handle.result()).status).toBe('COMPLETED');
    // The manifest answers "how much money did we not report tonight?", per feed.
    for (const f of calls.finalized[0]!.manifest.feeds) expect(f).toMatchObject({ controlSum: '100.00', amountAccepted: '99.00', amountRejected: '1.00' });
  });
});

test('normalizing again after a reconciliation failure continues the attempt numbering, so no attempt id is reused', async () => {
  const script: FakeScript = { normalizeRowsIn: { transactions: 99 } };
  await run(script, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue);
    await waitForParked(handle);
    delete script.normalizeRowsIn;
    await handle.executeUpdate(resolveStepUpdate, { args: [{ step: 'normalize', action: 'retry' }] });
    expect((await handle.result()).status).toBe('COMPLETED');
    const normalize = calls.submits.filter((s) => s.job === 'normalize');
    expect(normalize.map((s) => s.attempt)).toEqual([1, 2]);
    expect(new Set(normalize.map((s) => s.attemptId)).size).toBe(2);
  });
});

test('cancelling the night while Spark runs cleans up the attempt and records CANCELLED', async () => {
  await run({ hangOn: 'normalize' }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue);
    // Wait until the Spark attempt is running, then cancel the whole night.
    for (let i = 0; i < 100 && !calls.order.includes('await:normalize'); i++) await new Promise((r) => setTimeout(r, 100));
    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(calls.cleanups.filter((c) => c.job === 'normalize')).toEqual([expect.objectContaining({ keepOutput: false })]);
    expect(calls.finalized[0]!.manifest.status).toBe('CANCELLED');
    expect(calls.order).not.toContain('submit:transform:1');
  });
});

test('a second trigger for the same business date joins the running night instead of starting another', async () => {
  await run({ hangOn: 'transform' }, async ({ taskQueue, calls }) => {
    const workflowId = uniqueId('daily-dup');
    const opts = { taskQueue, workflowId, args: [{ businessDate: '2026-11-20' }] as [{ businessDate: string }], workflowIdConflictPolicy: 'USE_EXISTING' as const };
    const first = await env.client.workflow.start(dailyPipeline, opts);
    const second = await env.client.workflow.start(dailyPipeline, opts);
    expect(second.firstExecutionRunId).toBe(first.firstExecutionRunId);
    for (let i = 0; i < 100 && !calls.order.includes('await:transform'); i++) await new Promise((r) => setTimeout(r, 100));
    const status = await first.query(statusQuery);
    expect(status.stage).toBe('transform');
    expect(calls.order.filter((c) => c === 'plan')).toHaveLength(1);
    await first.cancel();
    await first.result().catch(() => undefined);
  });
});

describe('learned sizing', () => {
  test('with learned sizing on, each Spark job records its sizing once after it ends, and the manifest carries it', async () => {
    await run({ learnSizing: true, outcomes: { normalize: [OOM] } }, async ({ taskQueue, calls }) => {
      const result = await (await start(taskQueue, '2026-11-21')).result();
      expect(result.status).toBe('COMPLETED');
      expect(calls.sizings).toEqual([
        {
          businessDate: '2026-11-21',
          job: 'normalize',
          source: 'configured',
          configured: RESOURCES,
          startedFrom: RESOURCES,
          finalResources: { ...RESOURCES, driverMemoryMb: RESOURCES.driverMemoryMb * 2 },
          attempts: 2,
          succeeded: true,
        },
        {
          businessDate: '2026-11-21',
          job: 'transform',
          source: 'configured',
          configured: RESOURCES,
          startedFrom: RESOURCES,
          finalResources: RESOURCES,
          attempts: 1,
          succeeded: true,
        },
      ]);
      // Recorded after the job's last cleanup, before the next step starts.
      const at = (entry: string) => calls.order.indexOf(entry);
      expect(calls.order.filter((c) => c.startsWith('sizing:'))).toEqual(['sizing:normalize', 'sizing:transform']);
      expect(at('sizing:normalize')).toBeGreaterThan(calls.order.lastIndexOf('cleanup:normalize'));
      expect(at('sizing:normalize')).toBeLessThan(at('submit:transform:1'));
      expect(at('sizing:transform')).toBeGreaterThan(calls.order.lastIndexOf('cleanup:transform'));
      expect(at('sizing:transform')).toBeLessThan(at('export'));

      const manifest = calls.finalized[0]!.manifest;
      expect(manifest.sizing).toEqual([
        expect.objectContaining({ job: 'normalize', finalResources: { ...RESOURCES, driverMemoryMb: 1024 }, next: { ...RESOURCES, driverMemoryMb: 1024 }, change: 'learned' }),
        expect.objectContaining({ job: 'transform', finalResources: RESOURCES, change: null }),
      ]);
    });
  });

  test("a per-night override is passed on as the sizing's source and starting point", async () => {
    await run({ learnSizing: true }, async ({ taskQueue, calls }) => {
      const handle = await env.client.workflow.start(dailyPipeline, {
        taskQueue,
        workflowId: uniqueId('daily-2026-11-21'),
        args: [{ businessDate: '2026-11-21', sparkOverrides: { transform: { executorMemoryMb: 2048 } } }],
      });
      expect((await handle.result()).status).toBe('COMPLETED');
      expect(calls.sizings.find((s) => s.job === 'transform')).toMatchObject({
        source: 'override',
        configured: RESOURCES,
        startedFrom: { ...RESOURCES, executorMemoryMb: 2048 },
        finalResources: { ...RESOURCES, executorMemoryMb: 2048 },
      });
    });
  });

  test('a Spark job that fails for good records its sizing as not succeeded before it parks; the aborted night keeps it in the manifest', async () => {
    await run({ learnSizing: true, outcomes: { normalize: [PERMANENT] } }, async ({ taskQueue, calls }) => {
      const handle = await start(taskQueue);
      await waitForParked(handle);
      expect(calls.sizings).toEqual([expect.objectContaining({ job: 'normalize', attempts: 1, succeeded: false, finalResources: RESOURCES })]);
      await handle.executeUpdate(resolveStepUpdate, { args: [{ step: 'normalize', action: 'abort' }] });
      await expect(handle.result()).rejects.toMatchObject({ cause: { type: ABORTED_BY_OPERATOR } });
      expect(calls.sizings).toHaveLength(1);
      expect(calls.finalized[0]!.manifest.sizing).toEqual([expect.objectContaining({ job: 'normalize' })]);
    });
  });

  test('a failing sizing activity does not fail the night', async () => {
    await run({ learnSizing: true, sizingFails: true, outcomes: { normalize: [OOM] } }, async ({ taskQueue, calls }) => {
      const result = await (await start(taskQueue)).result();
      expect(result.status).toBe('COMPLETED');
      // Non-retryable: tried once per job, and the night went on to export.
      expect(calls.sizings.map((s) => s.job)).toEqual(['normalize', 'transform']);
      expect(calls.order).toContain('export');
      const manifest = calls.finalized[0]!.manifest;
      expect(manifest.status).toBe('COMPLETED');
      expect(manifest.sizing).toBeUndefined();
    });
  });

  test('with learned sizing off nothing is recorded', async () => {
    await run({ learnSizing: false, outcomes: { normalize: [OOM] } }, async ({ taskQueue, calls }) => {
      const result = await (await start(taskQueue)).result();
      expect(result.status).toBe('COMPLETED');
      expect(calls.sizings).toEqual([]);
      expect(calls.order.filter((c) => c.startsWith('sizing:'))).toEqual([]);
      expect(calls.finalized[0]!.manifest.sizing).toBeUndefined();
    });
  });
});

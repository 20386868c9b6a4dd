import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { FEED_NAMES } from '../../src/domain/feeds/catalog';
import { dailyPipeline } from '../../src/workflows';
import { statusQuery } from '../../src/workflows/messages';
import { createTimeSkippingEnv, uniqueId, workflowBundle } from '../helpers/temporal';
import { fakeActivities, feedRejected, OOM, PERMANENT, RESOURCES, retryableIoError, TRANSIENT, type FakeScript } from '../helpers/fake-activities';

jest.setTimeout(120_000);

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

async function run(script: FakeScript, body: (ctx: { taskQueue: string; calls: ReturnType<typeof fakeActivities>['calls'] }) => Promise<void>) {
  const taskQueue = uniqueId('tq');
  const { activities, calls } = fakeActivities(script);
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
  });
  await worker.runUntil(body({ taskQueue, calls }));
}

const start = (taskQueue: string, businessDate = '2026-11-20') =>
  env.client.workflow.start(dailyPipeline, { taskQueue, workflowId: uniqueId(`daily-${businessDate}`), args: [{ businessDate }] });

/** The failure type at the bottom of a workflow failure's cause chain. */
function rootType(err: unknown): string | undefined {
  let e = err as { cause?: unknown; type?: string } | undefined;
  while (e?.cause) e = e.cause as typeof e;
  return e?.type;
}

test('runs ingest of every feed, then normalize, transform, export and finalize, in that order', async () => {
  await run({}, async ({ taskQueue, calls }) => {
    const result = await (await start(taskQueue)).result();
    expect(result.status).toBe('COMPLETED');
    const stepOrder = calls.order.filter((c) => !c.startsWith('ingest:')).map((c) => c.split(':').slice(0, 2).join(':'));
    expect(stepOrder).toEqual([
      'plan',
      'submit:normalize', 'await:normalize', 'cleanup:normalize',
      'submit:transform', 'await:transform', 'cleanup:transform',
      'export', 'finalize',
    ]);
    const firstSubmit = calls.order.indexOf('submit:normalize:1');
    for (const feed of FEED_NAMES) expect(calls.order.indexOf(`ingest:${feed}`)).toBeLessThan(firstSubmit);
    const manifest = calls.finalized[0]!.manifest;
    expect(manifest.status).toBe('COMPLETED');
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

test('when memory reaches its cap the job fails as SparkOutOfMemory, every attempt cleaned up and recorded', async () => {
  await run({ outcomes: { transform: [OOM, OOM, OOM, OOM] }, maxAttempts: 4 }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue);
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(rootType(err)).toBe('SparkOutOfMemory');
    const transform = calls.submits.filter((s) => s.job === 'transform');
    expect(transform.map((s) => s.resources.driverMemoryMb)).toEqual([512, 1024, 2048]);
    expect(calls.cleanups.filter((c) => c.job === 'transform')).toHaveLength(3);
    expect(calls.order).not.toContain('export');
    const manifest = calls.finalized[0]!.manifest;
    expect(manifest.status).toBe('FAILED');
    expect(manifest.error).toMatchObject({ step: 'transform', type: 'SparkOutOfMemory' });
    expect(manifest.steps.find((s) => s.step === 'transform')!.attempts).toHaveLength(3);
  });
});

test('a transient Spark failure is retried with the same resources', async () => {
  await run({ outcomes: { normalize: [TRANSIENT] } }, async ({ taskQueue, calls }) => {
    await (await start(taskQueue)).result();
    const normalize = calls.submits.filter((s) => s.job === 'normalize');
    expect(normalize.map((s) => s.resources.driverMemoryMb)).toEqual([512, 512]);
  });
});

test('a permanent Spark failure fails the night at once as SparkJobFailed, without export', async () => {
  await run({ outcomes: { normalize: [PERMANENT] } }, async ({ taskQueue, calls }) => {
    const err = await (await start(taskQueue)).result().catch((e: unknown) => e);
    expect(rootType(err)).toBe('SparkJobFailed');
    expect(calls.submits.filter((s) => s.job === 'normalize')).toHaveLength(1);
    expect(calls.order).not.toContain('export');
    expect(calls.finalized[0]!.manifest.status).toBe('FAILED');
  });
});

test('a retryable ingest error is retried with backoff until it succeeds', async () => {
  await run({ ingestErrors: { payments: [retryableIoError(), retryableIoError()] } }, async ({ taskQueue, calls }) => {
    const result = await (await start(taskQueue)).result();
    expect(result.status).toBe('COMPLETED');
    expect(calls.ingestAttempts.payments).toBe(3);
  });
});

test('a rejected feed file is not retried and fails the night as FeedRejected', async () => {
  await run({ ingestErrors: { accounts: [feedRejected()] } }, async ({ taskQueue, calls }) => {
    const err = await (await start(taskQueue)).result().catch((e: unknown) => e);
    expect(rootType(err)).toBe('FeedRejected');
    expect(calls.ingestAttempts.accounts).toBe(1);
    expect(calls.submits).toHaveLength(0);
    expect(calls.finalized[0]!.manifest.error).toMatchObject({ step: 'ingest', type: 'FeedRejected' });
  });
});

test('rows that do not reconcile with the control count fail the night as ReconciliationFailed', async () => {
  await run({ normalizeRowsIn: { transactions: 99 } }, async ({ taskQueue, calls }) => {
    const err = await (await start(taskQueue)).result().catch((e: unknown) => e);
    expect(rootType(err)).toBe('ReconciliationFailed');
    expect(calls.submits.filter((s) => s.job === 'transform')).toHaveLength(0);
    expect(calls.finalized[0]!.manifest.error?.message).toContain('transactions');
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

  test('a Spark job that fails records its sizing as not succeeded, then the night fails as before', async () => {
    await run({ learnSizing: true, outcomes: { normalize: [PERMANENT] } }, async ({ taskQueue, calls }) => {
      const err = await (await start(taskQueue)).result().catch((e: unknown) => e);
      expect(rootType(err)).toBe('SparkJobFailed');
      expect(calls.sizings).toEqual([expect.objectContaining({ job: 'normalize', attempts: 1, succeeded: false, finalResources: RESOURCES })]);
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

/**
 * Fault matrix, worker crashes: the uninterrupted baseline, then a real worker process killed
 * with SIGKILL during ingest, during a Spark job and in the middle of the export, each time
 * replaced by a new worker process; and a forced re-run of the completed date.
 */
import type { WorkerProcess } from '../helpers/worker-process';
import { dailyWorkflowId, sparkJobWorkflowId } from '../../src/domain/ids';
import { activityRunning, BUSINESS_DATE, holdExportMidway, sparkReportCounts, startWorld, until, type MatrixWorld } from './harness';
import { retriesOf, runBaseline, runScenario, verdict, type Baseline, type Outcome } from './scenario';

jest.setTimeout(10 * 60_000);

let world: MatrixWorld;
let baseline: Promise<{ baseline: Baseline; outcome: Outcome }> | undefined;
/** The baseline runs once per file, first, and whichever test needs it first waits for it. */
const baselineOf = () => (baseline ??= runBaseline(world));

beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  const b = await baseline?.catch(() => undefined);
  await b?.outcome.run.close();
  await world?.close();
});

test('baseline: an uninterrupted night completes, creates one SparkApplication per job and leaves nothing behind', async () => {
  const { baseline: b, outcome } = await baselineOf();
  expect(outcome.result.status).toBe('COMPLETED');
  expect(outcome.manifest.status).toBe('COMPLETED');
  expect(b.creations).toBe(2);
  expect(outcome.leftovers).toEqual([]);
  expect(b.counts.eod_account_balances).toBeGreaterThan(0);
  const row = verdict('baseline (no fault)', outcome, undefined, 0);
  expect(row).toMatchObject({ completed: 1, leftovers: 0 });
});

/** A new worker process once the killed one is gone: the deployment's restart. */
async function replace(run: Outcome['run'], killed: WorkerProcess): Promise<void> {
  await killed.exited;
  await run.startWorker();
}

test('worker SIGKILL during ingest: a new worker finishes the night, same reports, no second Spark submission', async () => {
  const { baseline: b } = await baselineOf();
  let killedAt: string | undefined;
  const outcome = await runScenario(world, 'kill-ingest', {
    fault: 'worker SIGKILL during ingest',
    complete: b.counts,
    // Debug level shows the SDK's "Activity started": the kill lands while the ingests run.
    firstWorker: (run) =>
      run.startWorker({
        logLevel: 'debug',
        onLine: (line, worker) => {
          if (killedAt === undefined && line.msg === 'Activity started' && line.activityType === 'ingestFeed') {
            killedAt = String(line.time);
            process.kill(worker.pid as number, 'SIGKILL');
          }
        },
      }),
    inject: ({ run, worker }) => replace(run, worker),
  });
  const hit = retriesOf(outcome, 'ingestFeed');
  const row = verdict('worker SIGKILL during ingest', outcome, b, killedAt ? 1 : 0, `${hit} ingest activities ran again`);
  expect(killedAt).toBeDefined();
  expect(hit).toBeGreaterThan(0);
  expect(outcome.partialLooks).toEqual([]);
  expect(row).toMatchObject({ completed: 1, digestsEqual: 1, duplicateSubmissions: 0, leftovers: 0 });
});

test('worker SIGKILL while a Spark job runs: the new worker adopts the running attempt instead of resubmitting', async () => {
  const { baseline: b } = await baselineOf();
  const outcome = await runScenario(world, 'kill-spark', {
    fault: 'worker SIGKILL during a Spark job',
    complete: b.counts,
    inject: async ({ run, worker }) => {
      await world.cluster.waitForDriver(run.namespace, 'normalize', 'driver-running');
      // The worker watches the running driver: the kill lands inside the await, not before it.
      await activityRunning(world, sparkJobWorkflowId(dailyWorkflowId(BUSINESS_DATE), 'normalize'), 'awaitSparkJob');
      await worker.kill();
      await replace(run, worker);
    },
  });
  const resumed = retriesOf(outcome, 'awaitSparkJob');
  const row = verdict('worker SIGKILL during a Spark job', outcome, b, 1, `await retried ${resumed}×, SparkApplications created ${outcome.creations.length}`);
  expect(resumed).toBeGreaterThan(0);
  expect(outcome.creations).toHaveLength(b.creations);
  expect(outcome.partialLooks).toEqual([]);
  expect(row).toMatchObject({ completed: 1, digestsEqual: 1, duplicateSubmissions: 0, leftovers: 0 });
});

test('worker SIGKILL in the middle of the export: readers never see half the date, the retry exports it whole', async () => {
  const { baseline: b } = await baselineOf();
  let lock: Awaited<ReturnType<typeof holdExportMidway>> | undefined;
  const outcome = await runScenario(world, 'kill-export', {
    fault: 'worker SIGKILL mid-export',
    complete: b.counts,
    firstWorker: async (run) => {
      const worker = await run.startWorker();
      // The schema exists once the worker runs (it migrates at start).
      lock = await holdExportMidway(run.pool);
      return worker;
    },
    inject: async ({ run, worker }) => {
      const held = lock as NonNullable<typeof lock>;
      try {
        await until('the export to wait inside its transaction', () => held.waiting(), 180_000, 50);
        await worker.kill();
      } finally {
        await held.release();
      }
      await replace(run, worker);
    },
  });
  const retried = retriesOf(outcome, 'exportReports');
  const row = verdict('worker SIGKILL mid-export', outcome, b, 1, `export ran again ${retried}×; reader looks ${outcome.readerLooks}, partial ${outcome.partialLooks.length}`);
  expect(retried).toBeGreaterThan(0);
  expect(outcome.partialLooks).toEqual([]);
  expect(row).toMatchObject({ completed: 1, digestsEqual: 1, duplicateSubmissions: 0, leftovers: 0 });
});

test('a forced re-run of a completed date replaces its reports: identical digests, no duplicated rows', async () => {
  const { baseline: b, outcome: first } = await baselineOf();
  const outcome = await runScenario(world, 'rerun', {
    fault: 'forced re-run of a completed date',
    reuse: first.run,
    complete: b.counts,
    completeBefore: true,
  });
  const counts = await sparkReportCounts(first.run.pool, BUSINESS_DATE);
  const row = verdict('forced re-run of a completed date', outcome, b, 1, `reader looks ${outcome.readerLooks}, partial ${outcome.partialLooks.length}`);
  expect(counts).toEqual(b.counts);
  expect(outcome.partialLooks).toEqual([]);
  expect(row).toMatchObject({ completed: 1, digestsEqual: 1, duplicateSubmissions: 0, leftovers: 0 });
});

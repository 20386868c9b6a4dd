/**
 * Fault matrix, cancellation: a night cancelled through the client while it waits for feeds,
 * ingests, runs each Spark job and exports. Every time: the manifest says CANCELLED, nothing is
 * left in the namespace, no simulated driver still runs, and the date has no report rows.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledFailure, type WorkflowHandle } from '@temporalio/client';
import { DataLayout } from '../../src/common/layout';
import { SPARK_REPORTS } from '../../src/domain/reports/catalog';
import { generateFeeds } from '../../demo/feeds/generate-feeds';
import type { dailyPipeline } from '../../src/workflows/daily-pipeline';
import { statusQuery } from '../../src/workflows/messages';
import type { WorkerProcess } from '../helpers/worker-process';
import { logLine } from '../helpers/worker-process';
import {
  FEEDS,
  holdExportMidway,
  newRun,
  PartialDateReader,
  readManifest,
  recordResult,
  sparkReportCounts,
  startNight,
  startWorld,
  until,
  type MatrixWorld,
  type RunContext,
} from './harness';

jest.setTimeout(10 * 60_000);

let world: MatrixWorld;
let run: RunContext;
let worker: WorkerProcess;

beforeAll(async () => {
  world = await startWorld();
  run = await newRun(world, 'cancel');
  // Debug level: the SDK's "Activity started" lines give the ingest its kill point.
  worker = await run.startWorker({ logLevel: 'debug' });
});
afterAll(async () => {
  await run?.close();
  await world?.close();
});

/** Nothing but zeros is acceptable: a cancelled first run publishes nothing. */
const NEVER_COMPLETE = Object.fromEntries(SPARK_REPORTS.map((r) => [r.table, -1]));

async function withFeeds(businessDate: string): Promise<void> {
  await generateFeeds({ ...FEEDS, landingDir: new DataLayout(run.dataDir).landingDir(businessDate), businessDate });
}

async function cancelAt(
  fault: string,
  businessDate: string,
  point: (handle: WorkflowHandle<typeof dailyPipeline>) => Promise<void>,
  afterCancel: () => Promise<void> = async () => undefined,
): Promise<void> {
  const started = Date.now();
  const createdBefore = world.cluster.sparkApplicationsCreated(run.namespace).length;
  const reader = new PartialDateReader(run.pool, businessDate, NEVER_COMPLETE);
  try {
    const handle = await startNight(world, run, { businessDate });
    await point(handle);
    await handle.cancel();
    await afterCancel();
    const failure = await handle.result().then(
      () => undefined,
      (error: unknown) => error,
    );
    const manifest = readManifest(run, businessDate);
    const apps = world.cluster.sparkApplicationsCreated(run.namespace).slice(createdBefore);
    const leftovers = await until('the namespace to be empty', async () => ((await world.cluster.leftovers(run.namespace)).length === 0 ? [] : undefined), 30_000).catch(() =>
      world.cluster.leftovers(run.namespace),
    );
    const drivers = await until('the drivers to stop', () => (world.cluster.runningDrivers(apps).length === 0 ? [] : undefined), 30_000).catch(() =>
      world.cluster.runningDrivers(apps),
    );
    await reader.stop();
    const counts = await sparkReportCounts(run.pool, businessDate);
    const published = Object.values(counts).reduce((a, b) => a + b, 0);
    const cancelledStep = manifest.steps.find((s) => s.status === 'CANCELLED')?.step ?? manifest.error?.step ?? '-';
    recordResult({
      fault,
      injected: 1,
      completed: Number(manifest.status === 'CANCELLED'),
      digestsEqual: Number(published === 0 && reader.partial.length === 0),
      duplicateSubmissions: 0,
      leftovers: leftovers.length + drivers.length,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      notes: `manifest ${manifest.status}, cancelled step ${cancelledStep}, ${apps.length} SparkApplications, report rows ${published}`,
    });
    expect((failure as { cause?: unknown } | undefined)?.cause).toBeInstanceOf(CancelledFailure);
    expect(manifest.status).toBe('CANCELLED');
    expect(leftovers).toEqual([]);
    expect(drivers).toEqual([]);
    expect(reader.partial).toEqual([]);
    expect(published).toBe(0);
  } finally {
    await reader.stop();
  }
}

test('cancelled while waiting for feeds: CANCELLED, nothing started, nothing published', async () => {
  // A date whose feeds are not due yet: the night waits in the landing zone.
  const today = new Date().toISOString().slice(0, 10);
  await cancelAt('cancel: waiting for feeds', today, async (handle) => {
    await until('the night to wait for feeds', async () => ['AWAITING_FEEDS', 'LATE'].includes((await handle.query(statusQuery)).status) || undefined, 60_000, 200);
  });
});

test('cancelled during ingest: CANCELLED, no Spark application, nothing published', async () => {
  const date = '2026-11-16';
  await withFeeds(date);
  await cancelAt(
    'cancel: ingest',
    date,
    async () => {
      // Frozen as the first ingest starts: the cancellation is on record before any ingest ends.
      await worker.waitFor((l) => l.msg === 'Activity started' && l.activityType === 'ingestFeed' && l.workflowId === `nightjar-daily-${date}`, 120_000);
      process.kill(worker.pid as number, 'SIGSTOP');
    },
    async () => {
      await sleep(1_000);
      process.kill(worker.pid as number, 'SIGCONT');
    },
  );
});

test('cancelled while the normalize job runs: the driver is stopped and every object removed', async () => {
  const date = '2026-11-17';
  await withFeeds(date);
  await cancelAt('cancel: normalize Spark job', date, async () => {
    await world.cluster.simulator.waitFor((e) => e.app.includes('20261117-normalize') && e.what === 'driver-running', 180_000);
  });
});

test('cancelled while the transform job runs: the driver is stopped and every object removed', async () => {
  const date = '2026-11-18';
  await withFeeds(date);
  await cancelAt('cancel: transform Spark job', date, async () => {
    await world.cluster.simulator.waitFor((e) => e.app.includes('20261118-transform') && e.what === 'driver-running', 300_000);
  });
});

test('cancelled in the middle of the export: the transaction rolls back, the date stays unpublished', async () => {
  const date = '2026-11-20';
  await withFeeds(date);
  const lock = await holdExportMidway(run.pool);
  try {
    await cancelAt(
      'cancel: export',
      date,
      () => until('the export to wait inside its transaction', () => lock.waiting(), 300_000, 50).then(() => undefined),
      async () => {
        // The lock stays until the export has taken the cancellation in (it arrives with a heartbeat).
        await worker.waitFor(logLine('export cancelled: nothing committed', { businessDate: date }), 90_000);
        await lock.release();
      },
    );
  } finally {
    await lock.release();
  }
});

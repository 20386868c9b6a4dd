/**
 * Fault matrix, infrastructure: the Temporal server killed and restarted on its database file
 * mid-run, PostgreSQL unreachable in the middle of the export for longer than one attempt, and
 * the Kubernetes API misbehaving (429, 5xx, connection resets, cut watches, 410 Gone on resume)
 * while the Spark jobs run. Each night must complete with the baseline's reports.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { holdExportMidway, startWorld, TcpProxy, until, viaPort, type MatrixWorld } from './harness';
import { retriesOf, runBaseline, runScenario, verdict, type Baseline, type Outcome } from './scenario';

jest.setTimeout(10 * 60_000);

let world: MatrixWorld;
let baseline: Promise<{ baseline: Baseline; outcome: Outcome }> | undefined;
const baselineOf = () => (baseline ??= runBaseline(world));

beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  const b = await baseline?.catch(() => undefined);
  await b?.outcome.run.close();
  await world?.close();
});

test('Temporal dev server killed during a Spark job and started again on the same database: the night completes unchanged', async () => {
  const { baseline: b } = await baselineOf();
  let outageMs = 0;
  let workerSurvived = true;
  const outcome = await runScenario(world, 'server-restart', {
    fault: 'Temporal server restart mid-run',
    complete: b.counts,
    inject: async ({ run, worker }) => {
      await world.cluster.waitForDriver(run.namespace, 'normalize', 'driver-running');
      const down = Date.now();
      await world.devServer.kill();
      await sleep(3_000);
      await world.devServer.launch();
      outageMs = Date.now() - down;
      // A worker that gave up while the server was away is a finding; a new one still finishes the night.
      workerSurvived = worker.running;
      if (!workerSurvived) await run.startWorker();
    },
  });
  const row = verdict('Temporal server restart mid-run', outcome, b, 1, `server away ${Math.round(outageMs / 1000)} s; worker survived: ${workerSurvived}`);
  expect(workerSurvived).toBe(true);
  expect(outcome.partialLooks).toEqual([]);
  expect(row).toMatchObject({ completed: 1, digestsEqual: 1, duplicateSubmissions: 0, leftovers: 0 });
});

test('PostgreSQL unreachable mid-export for longer than one attempt: the export retries and publishes the whole date once', async () => {
  const { baseline: b } = await baselineOf();
  const direct = new URL(process.env.NIGHTJAR_TEST_PG_URL as string);
  const proxy = await TcpProxy.start({ host: direct.hostname, port: Number(direct.port || 5432) });
  let lock: Awaited<ReturnType<typeof holdExportMidway>> | undefined;
  const OUTAGE_MS = 20_000;
  try {
    const outcome = await runScenario(world, 'pg-outage', {
      fault: 'PostgreSQL unreachable mid-export (20 s)',
      complete: b.counts,
      firstWorker: async (run) => {
        const worker = await run.startWorker({ reportingUrl: viaPort(run.pgUrl, proxy.port) });
        lock = await holdExportMidway(run.pool);
        return worker;
      },
      inject: async () => {
        const held = lock as NonNullable<typeof lock>;
        try {
          await until('the export to wait inside its transaction', () => held.waiting(), 180_000, 50);
          await proxy.cut();
        } finally {
          await held.release();
        }
        await sleep(OUTAGE_MS);
        await proxy.restore();
      },
    });
    const retried = retriesOf(outcome, 'exportReports');
    const row = verdict('PostgreSQL unreachable mid-export (20 s)', outcome, b, 1, `export attempts after the first: ${retried}; reader looks ${outcome.readerLooks}`);
    expect(retried).toBeGreaterThanOrEqual(2);
    expect(outcome.partialLooks).toEqual([]);
    expect(row).toMatchObject({ completed: 1, digestsEqual: 1, duplicateSubmissions: 0, leftovers: 0 });
  } finally {
    await lock?.release();
    await proxy.cut();
  }
});

test('Kubernetes API faults throughout the Spark jobs (429, 5xx, resets, cut watches, 410 on resume): no duplicate, nothing left', async () => {
  const TICK_MS = 700;
  const { baseline: b } = await baselineOf();
  const { server } = world.cluster;
  let injected = 0;
  let chaos: Promise<void> | undefined;
  const outcome = await runScenario(world, 'kube-faults', {
    fault: 'Kubernetes API faults during Spark jobs',
    complete: b.counts,
    inject: async ({ run }) => {
      await world.cluster.waitForDriver(run.namespace, 'normalize', 'submitted');
      const transformDone = world.cluster.simulator.waitFor(
        (e) => e.app.includes('-transform-') && (e.what === 'completed' || e.what === 'failed') && world.cluster.sparkApplicationsCreated(run.namespace).includes(e.app),
        300_000,
      );
      let done = false;
      void transformDone.then(
        () => (done = true),
        () => (done = true),
      );
      chaos = (async () => {
        // Each fault lapses at the next tick if no request met it, as trouble on a real API server
        // passes whether anyone asked or not. Faults that never lapsed were armed faster (about
        // 1.2 a second) than a worker backing off sends requests (about 0.5): they piled up into
        // an outage that failed every request, outlasted the chaos's reason to stop (transform
        // completing) and kept the night from ever finishing.
        const withinMs = TICK_MS;
        const lostAnswers = () => server.requests().filter((r) => r.verb === 'create' && r.fault === 'reset-after').length;
        let lostAnswersArmed = 0;
        /** Arms a fault and says how many requests it can fail. */
        const arm = (fault: () => void, times = 1) => (): number => {
          fault();
          return times;
        };
        const faults: (() => number)[] = [
          arm(() => server.faults.next({ status: 429, times: 2, retryAfterSeconds: 1, withinMs }), 2),
          arm(() => server.faults.next({ status: 500, times: 2, withinMs }), 2),
          arm(() => server.faults.next({ status: 503, times: 1, withinMs })),
          arm(() => server.faults.resetConnection({ when: 'before', times: 1, withinMs })),
          () => {
            // The write happens, the answer is lost: the retry must adopt, never duplicate. Such a
            // fault waits for the next create (transform's submission); one at a time.
            if (lostAnswersArmed > lostAnswers()) return 0;
            server.faults.resetConnection({ when: 'after', verb: 'create', times: 1 });
            lostAnswersArmed += 1;
            return 1;
          },
          arm(() => void server.cutWatches()),
          arm(() => {
            // Compaction then a cut: every watch resumes from a resourceVersion that is gone (410).
            server.expireResourceVersionsBefore(server.resourceVersion);
            server.cutWatches();
          }),
        ];
        for (let i = 0; !done; i += 1) {
          injected += faults[i % faults.length]?.() ?? 0;
          await sleep(TICK_MS);
        }
        server.faults.clear();
      })();
    },
  });
  await chaos;
  const faulted = server.requests().filter((r) => r.fault !== undefined).length;
  const row = verdict('Kubernetes API faults during Spark jobs', outcome, b, injected, `${faulted} requests answered by a fault; ${outcome.creations.length} SparkApplications created`);
  expect(faulted).toBeGreaterThan(0);
  expect(outcome.creations).toHaveLength(b.creations);
  expect(row).toMatchObject({ completed: 1, digestsEqual: 1, duplicateSubmissions: 0, leftovers: 0 });
});

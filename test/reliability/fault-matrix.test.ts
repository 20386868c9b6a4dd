/**
 * The fault matrix: one uninterrupted baseline night, then the same night under each fault —
 * a real worker process killed with SIGKILL during ingest, during a Spark job and in the middle
 * of the export (each time replaced by a new worker process); a forced re-run of the completed
 * date; the Temporal server killed and restarted on its database file mid-run; PostgreSQL
 * unreachable mid-export for longer than one attempt; the Kubernetes API misbehaving (429, 5xx,
 * connection resets, cut watches, 410 Gone on resume) while the Spark jobs run; and, with real
 * Spark pods (a driver and executor JVMs run by the local container runtime), one executor JVM
 * killed mid-job and the driver's node lost. Every night must complete with the baseline's report
 * digests, no second Spark submission (but the one new attempt a lost driver rightly adds) and
 * nothing left. One world (dev server, simulated cluster) and one baseline serve every run.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkerProcess } from '../helpers/worker-process';
import { dailyWorkflowId, sparkJobWorkflowId } from '../../src/domain/ids';
import { activityRunning, BUSINESS_DATE, holdExportMidway, sparkReportCounts, startWorld, TcpProxy, until, viaPort, type MatrixWorld } from './harness';
import { ensurePlaneWhole, restartComponent, restartsRefused, startComponent, stopComponent, testWithRestarts, type ComponentChange } from '../support/plane-control';
import { applicationsBeingDeleted, containerPid, driverPods, executorPods, makeNodeNotReady, restoreNodeReady } from './plane-faults';
import { EXECUTOR_CONTAINER } from '../../local-cluster/operator-submission';
import type { AttemptPod } from '../../src/domain/spark/resources';
import { nightGuardMs, retriesOf, runBaseline, runScenario, verdict, type Baseline, type Outcome } from './scenario';

jest.setTimeout(30 * 60_000);

let world: MatrixWorld;
let baseline: Promise<{ baseline: Baseline; outcome: Outcome }> | undefined;
/** The baseline runs once per file, first, and whichever test needs it first waits for it. */
const baselineOf = () => (baseline ??= runBaseline(world));

beforeAll(async () => {
  world = await startWorld();
});
afterEach(async () => {
  // A row that stopped a component and failed before starting it again must not sink the others.
  if (restartsRefused() === undefined) await ensurePlaneWhole();
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

// The chaos is paced by the worker's own requests, not by the clock: a fault is armed only after
// the API server (through the proxy) answered a few requests since the last one. Armed by the
// clock (every 700 ms), as it was against the in-process fake server, it met nearly every request
// of a worker that, against a real server, is mostly watching and sends about one request a
// second: every Spark submission's first create lost its answer, the submit activity used up its
// attempts and the night never completed (profiled on the plane: 5 submit attempts, each failed
// on its first request). A flaky server answers most requests; this one fails at most one in four.
test('Kubernetes API faults throughout the Spark jobs (429, 5xx, resets, cut watches, 410 on resume): no duplicate, nothing left', async () => {
  const TICK_MS = 700;
  /** Requests answered normally between two faults. */
  const HEALTHY_BETWEEN = 3;
  const { baseline: b } = await baselineOf();
  const server = world.cluster.proxy;
  const before = server.requests().length;
  let injected = 0;
  let chaos: Promise<void> | undefined;
  const outcome = await runScenario(world, 'kube-faults', {
    fault: 'Kubernetes API faults during Spark jobs',
    complete: b.counts,
    resultTimeoutMs: nightGuardMs(b),
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
      // The write happens, the answer is lost: the retry must adopt, never duplicate. It waits
      // for the next SparkApplication create (transform's submission).
      server.faults.resetConnection({ when: 'after', verb: 'create', resource: 'sparkapplications', times: 1 });
      injected += 1;
      chaos = (async () => {
        // Each fault lapses if no request met it soon, as trouble on a real API server passes
        // whether anyone asked or not.
        const withinMs = 3_000;
        const faults: (() => number)[] = [
          () => (server.faults.next({ status: 429, times: 2, retryAfterSeconds: 1, withinMs }), 2),
          () => (server.faults.next({ status: 500, times: 2, withinMs }), 2),
          () => (server.faults.next({ status: 503, times: 1, withinMs }), 1),
          () => (server.faults.resetConnection({ when: 'before', times: 1, withinMs }), 1),
          () => (server.cutWatches(), 1),
          // Compaction then a cut: every watch resumes from a resourceVersion that is gone (410).
          () => (server.expireWatches(), 1),
        ];
        let quietFrom = server.requests().length;
        for (let i = 0; !done; ) {
          const log = server.requests();
          let healthy = 0;
          for (let k = log.length - 1; k >= quietFrom && log[k]?.fault === undefined; k -= 1) healthy += 1;
          if (healthy >= HEALTHY_BETWEEN) {
            injected += faults[i % faults.length]?.() ?? 0;
            i += 1;
            quietFrom = log.length;
          }
          await sleep(TICK_MS);
        }
        server.faults.clear();
      })();
    },
  });
  await chaos;
  const seen = server.requests().slice(before);
  const faulted = seen.filter((r) => r.fault !== undefined).length;
  const lostAnswers = seen.filter((r) => r.fault === 'reset-after').length;
  const row = verdict(
    'Kubernetes API faults during Spark jobs',
    outcome,
    b,
    injected,
    `${faulted} of ${seen.length} requests answered by a fault (${lostAnswers} create answer lost); ${outcome.creations.length} SparkApplications created`,
  );
  expect(faulted).toBeGreaterThan(0);
  expect(lostAnswers).toBe(1);
  expect(outcome.creations).toHaveLength(b.creations);
  expect(row).toMatchObject({ completed: 1, digestsEqual: 1, duplicateSubmissions: 0, leftovers: 0 });
});

// ---- the control plane's own faults (scripts/k8s.sh stop|start|restart on the plane this run owns) ----

/** Waits for the normalize driver to run and the worker to be awaiting it: the fault lands mid-job. */
async function normalizeRunning(run: Outcome['run']): Promise<void> {
  await world.cluster.waitForDriver(run.namespace, 'normalize', 'driver-running');
  await activityRunning(world, sparkJobWorkflowId(dailyWorkflowId(BUSINESS_DATE), 'normalize'), 'awaitSparkJob');
}

/** Once normalize's driver runs: its pod's name and node. */
async function runningNormalizeDriver(run: Outcome['run']): Promise<{ name: string; node: string }> {
  await normalizeRunning(run);
  const [driver] = await driverPods(run.namespace, 'normalize');
  const name = driver?.metadata?.name;
  const node = driver?.spec?.nodeName;
  if (name === undefined || node === undefined) throw new Error('the running normalize driver has no node');
  return { name, node };
}

/** Requests the proxy answered 502 (the API server unreachable) or 5xx from a server without etcd. */
const serverTrouble = () => world.cluster.proxy.requests().filter((r) => r.fault === undefined && (r.status === 0 || r.status >= 500)).length;

/** A restart of one component while normalize runs: the night must not notice beyond retries. */
async function restartMidJob(component: 'kube-apiserver' | 'etcd', fault: string): Promise<void> {
  const { baseline: b } = await baselineOf();
  let restart: ComponentChange | undefined;
  const troubleBefore = serverTrouble();
  const outcome = await runScenario(world, `${component}-restart`, {
    fault,
    complete: b.counts,
    resultTimeoutMs: nightGuardMs(b),
    inject: async ({ run }) => {
      await normalizeRunning(run);
      restart = await restartComponent(component);
    },
  });
  const trouble = serverTrouble() - troubleBefore;
  const row = verdict(fault, outcome, b, 1, `${component} away ${((restart?.ms ?? 0) / 1000).toFixed(1)} s (stop + start); ${trouble} worker requests failed meanwhile; SparkApplications created ${outcome.creations.length}`);
  expect(restart).toBeDefined();
  expect(outcome.creations).toHaveLength(b.creations);
  expect(outcome.partialLooks).toEqual([]);
  expect(row).toMatchObject({ completed: 1, digestsEqual: 1, duplicateSubmissions: 0, leftovers: 0 });
}

testWithRestarts('kube-apiserver restarted while a Spark job runs: watches resume, the night completes unchanged, no duplicate', () =>
  restartMidJob('kube-apiserver', 'kube-apiserver restart mid-job'),
);

testWithRestarts('etcd restarted while a Spark job runs: the API server rides it out, the night completes unchanged, no duplicate', () =>
  restartMidJob('etcd', 'etcd restart mid-job'),
);

testWithRestarts('kube-scheduler down: the driver stays Pending and unbound for 30 s, then runs once the scheduler is back', async () => {
  const { baseline: b } = await baselineOf();
  const OUTAGE_MS = 30_000;
  let pendingFor = 0;
  let downFor = 0;
  let boundAfterMs = 0;
  const outcome = await runScenario(world, 'scheduler-down', {
    fault: 'kube-scheduler down 30 s',
    complete: b.counts,
    resultTimeoutMs: nightGuardMs(b),
    inject: async ({ run }) => {
      await stopComponent('kube-scheduler');
      const down = Date.now();
      try {
        // The normalize driver is created while no scheduler runs: it must stay Pending, on no node.
        const pending = await until('the normalize driver pod to exist', async () => (await driverPods(run.namespace, 'normalize'))[0], 300_000, 200);
        const name = pending.metadata?.name as string;
        const seen = Date.now();
        for (;;) {
          const pod = (await driverPods(run.namespace, 'normalize')).find((p) => p.metadata?.name === name);
          expect(pod?.spec?.nodeName ?? '').toBe('');
          expect(pod?.status?.phase).toBe('Pending');
          if (Date.now() - seen >= OUTAGE_MS) break;
          await sleep(1_000);
        }
        pendingFor = Date.now() - seen;
        downFor = Date.now() - down;
      } finally {
        await startComponent('kube-scheduler');
      }
      const back = Date.now();
      await until('the normalize driver to be bound to a node', async () => (await driverPods(run.namespace, 'normalize'))[0]?.spec?.nodeName || undefined, 60_000, 200);
      boundAfterMs = Date.now() - back;
    },
  });
  const row = verdict('kube-scheduler down 30 s', outcome, b, 1, `scheduler away ${Math.round(downFor / 1000)} s, the driver Pending and unbound ${Math.round(pendingFor / 1000)} s of it; bound ${(boundAfterMs / 1000).toFixed(1)} s after the scheduler came back`);
  expect(pendingFor).toBeGreaterThanOrEqual(OUTAGE_MS);
  expect(outcome.creations).toHaveLength(b.creations);
  expect(row).toMatchObject({ completed: 1, digestsEqual: 1, duplicateSubmissions: 0, leftovers: 0 });
});

testWithRestarts('kube-controller-manager down through a cleanup: the foreground deletion waits for the garbage collector, then everything goes', async () => {
  const { baseline: b } = await baselineOf();
  let heldBy: string[] = [];
  let downMs = 0;
  const outcome = await runScenario(world, 'controller-manager-down', {
    fault: 'kube-controller-manager down through a cleanup',
    complete: b.counts,
    resultTimeoutMs: nightGuardMs(b),
    inject: async ({ run }) => {
      await normalizeRunning(run);
      await stopComponent('kube-controller-manager');
      const down = Date.now();
      try {
        // Normalize ends and its cleanup deletes the application in the foreground: with no
        // garbage collector, the foregroundDeletion finalizer holds it.
        heldBy = await until('the normalize SparkApplication to wait for the garbage collector', async () => {
          const held = await applicationsBeingDeleted(run.namespace);
          return held.length > 0 ? held : undefined;
        }, 180_000, 250);
        await sleep(10_000);
        expect(await applicationsBeingDeleted(run.namespace)).toEqual(heldBy);
      } finally {
        await startComponent('kube-controller-manager');
        downMs = Date.now() - down;
      }
    },
  });
  const row = verdict('kube-controller-manager down through a cleanup', outcome, b, 1, `controller-manager away ${Math.round(downMs / 1000)} s; held meanwhile: ${heldBy.join('; ')}`);
  expect(heldBy.join(' ')).toContain('foregroundDeletion');
  expect(outcome.creations).toHaveLength(b.creations);
  expect(row).toMatchObject({ completed: 1, digestsEqual: 1, duplicateSubmissions: 0, leftovers: 0 });
});

testWithRestarts('the driver\'s node goes NotReady: the driver is evicted, the job runs a new attempt on another node, same reports', async () => {
  const { baseline: b } = await baselineOf();
  let lostNode: string | undefined;
  let secondNode: string | undefined;
  let taints: string[] = [];
  let frozen: number[] = [];
  try {
    const outcome = await runScenario(world, 'node-not-ready', {
      fault: 'driver node NotReady',
      complete: b.counts,
      resultTimeoutMs: nightGuardMs(b),
      inject: async ({ run }) => {
        const { name: first, node } = await runningNormalizeDriver(run);
        lostNode = node;
        // The node hangs: its processes stop where they are (else a quick driver could finish within
        // the taint's 20 s toleration and nothing would be evicted), and its status goes NotReady.
        const normalizeApps = world.cluster.sparkApplicationsCreated(run.namespace).filter((app) => app.includes('-normalize-'));
        frozen = await until(`a driver process of ${normalizeApps.join(', ')} to freeze`, async () => {
          const pids = world.cluster.runningDrivers(normalizeApps);
          return pids.length > 0 ? pids : undefined;
        }, 30_000, 100);
        signalAll(frozen, 'SIGSTOP');
        taints = await makeNodeNotReady(lostNode);
        // The pods' default toleration of a NotReady node (20 s on this plane), then the eviction.
        const next = await until('the normalize job to run a new driver', async () => {
          const again = (await driverPods(run.namespace, 'normalize')).find((p) => p.metadata?.name !== first && p.spec?.nodeName);
          return again;
        }, 180_000, 500);
        secondNode = next.spec?.nodeName;
      },
    });
    const row = verdict(
      'driver node NotReady',
      outcome,
      b,
      1,
      `${lostNode} hung (${frozen.length} driver processes stopped) and NotReady (taints ${taints.join(', ')}); driver evicted, new attempt on ${secondNode}; SparkApplications created ${outcome.creations.length}`,
      1,
    );
    expect(secondNode).toBeDefined();
    expect(secondNode).not.toBe(lostNode);
    expect(outcome.creations).toHaveLength(b.creations + 1);
    expect(row).toMatchObject({ completed: 1, digestsEqual: 1, duplicateSubmissions: 0, leftovers: 0 });
  } finally {
    signalAll(frozen, 'SIGCONT'); // the eviction killed them; in case it did not, none stays stopped
    if (lostNode !== undefined) await restoreNodeReady(lostNode);
  }
});

/** Sends the signal to each process that still exists. */
function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

// ---- real Spark pods (the stand-in submits with spark-submit, the local runtime runs the JVMs) ----

/** The attempts of a Spark step in the night's manifest. */
function attemptsOf(outcome: Outcome, step: 'normalize' | 'transform') {
  return outcome.manifest.steps.find((s) => s.step === step)?.attempts ?? [];
}

const podLine = (p: AttemptPod) => `${p.role} ${p.name} on ${p.node ?? '?'}: ${p.phase ?? '?'}${p.exitCode !== undefined ? ` ${p.exitCode}` : ''}${p.reason ? ` ${p.reason}` : ''}`;

// A kubelet reports a container killed by SIGKILL from outside as exit 137, reason Error; only the
// memory limit's kill reads OOMKilled. With the executor OOM limit at 1, a kill counted as an OOM
// would stop the attempt at once and resubmit it with more memory: a second SparkApplication.
test('an executor JVM SIGKILLed mid-job (real Spark pods): Spark asks for a replacement, the same attempt succeeds, the kill is no OOM, same reports', async () => {
  const { baseline: b } = await baselineOf();
  const { runtime } = await world.cluster.real();
  let victim: { name: string; node: string; pid: number } | undefined;
  const outcome = await runScenario(world, 'executor-killed', {
    fault: 'executor SIGKILL mid-job (real Spark pods)',
    run: { realSpark: true, env: { NIGHTJAR_K8S_EXECUTOR_OOM_LIMIT: '1' } },
    complete: b.counts,
    resultTimeoutMs: nightGuardMs(b),
    inject: async ({ run }) => {
      await normalizeRunning(run);
      // An executor that has started a task: the kill lands in the middle of the job's work.
      victim = await until('a normalize executor to run a task', async () => {
        for (const pod of await executorPods(run.namespace, 'normalize')) {
          const name = pod.metadata?.name ?? '';
          const pid = containerPid(pod);
          if (pod.status?.phase !== 'Running' || pid === undefined) continue;
          const log = runtime.kubelet.logPath(run.namespace, name, EXECUTOR_CONTAINER);
          if (/Running task/.test(readFileSync(log, 'utf8'))) return { name, node: pod.spec?.nodeName ?? '', pid };
        }
        return undefined;
      }, 300_000, 200);
      process.kill(victim.pid, 'SIGKILL');
    },
  });
  const [attempt, ...more] = attemptsOf(outcome, 'normalize');
  const pods = attempt?.pods ?? [];
  const killed = pods.find((p) => p.name === victim?.name);
  const executors = pods.filter((p) => p.role === 'executor');
  const row = verdict(
    'executor SIGKILL mid-job (real Spark pods)',
    outcome,
    b,
    1,
    `${victim?.name} on ${victim?.node} killed; normalize's one attempt ${attempt?.outcome} with ${executors.length} executors (${killed ? podLine(killed) : 'killed executor not recorded'}); SparkApplications created ${outcome.creations.length}`,
  );
  expect(victim).toBeDefined();
  expect(killed).toMatchObject({ role: 'executor', phase: 'Failed', exitCode: 137, reason: 'Error' });
  // The replacement Spark asked for: more executors than the two it started with.
  expect(executors.length).toBeGreaterThanOrEqual(3);
  expect(more).toEqual([]);
  expect(attempt).toMatchObject({ outcome: 'SUCCEEDED', leftovers: 0 });
  expect(outcome.creations).toHaveLength(b.creations);
  expect(row).toMatchObject({ completed: 1, digestsEqual: 1, duplicateSubmissions: 0, leftovers: 0 });
});

// What a lost node looks like from the platform: the machine is gone, so its processes die at
// once and its kubelet writes nothing more (the driver pod still reads Running); the node stops
// being Ready, the controller-manager taints it and, once the pods' toleration ran out (20 s on
// this plane), evicts them. The node's status comes from kwok's chaos stage (Ready=False rather
// than a lease running out: the same taint, the same eviction, a minute sooner).
testWithRestarts('the driver\'s node is lost (real Spark pods): its JVMs die, its kubelet falls silent, the plane evicts the driver, a new attempt on another node, same reports', async () => {
  const { baseline: b } = await baselineOf();
  const { runtime } = await world.cluster.real();
  let lostNode: string | undefined;
  let firstDriver: string | undefined;
  let secondNode: string | undefined;
  let killed: string[] = [];
  let taints: string[] = [];
  try {
    const outcome = await runScenario(world, 'node-lost', {
      fault: 'driver node lost (real Spark pods)',
      run: { realSpark: true },
      complete: b.counts,
      resultTimeoutMs: nightGuardMs(b),
      inject: async ({ run }) => {
        const { name, node } = await runningNormalizeDriver(run);
        lostNode = node;
        firstDriver = name;
        killed = runtime.kubelet.loseNode(node);
        taints = await makeNodeNotReady(node);
        const next = await until('the normalize job to run a new driver', async () => (await driverPods(run.namespace, 'normalize')).find((p) => p.metadata?.name !== firstDriver && p.spec?.nodeName), 300_000, 500);
        secondNode = next.spec?.nodeName;
      },
    });
    const [lost, second, ...more] = attemptsOf(outcome, 'normalize');
    const lostDriver = lost?.pods?.find((p) => p.role === 'driver');
    const row = verdict(
      'driver node lost (real Spark pods)',
      outcome,
      b,
      1,
      `${lostNode} lost: ${killed.length} pod(s) killed there, NotReady (taints ${taints.join(', ')}); attempt 1 ${lost?.outcome} (${lost?.reason}), ${lostDriver ? podLine(lostDriver) : 'no driver recorded'}; attempt 2 ${second?.outcome} on ${secondNode}; SparkApplications created ${outcome.creations.length}`,
      1,
    );
    expect(killed).toContain(`${outcome.run.namespace}/${firstDriver}`);
    expect(lost).toMatchObject({ outcome: 'TRANSIENT', leftovers: 0 });
    // The lost driver as its silent kubelet left it (no exit code: nothing reported its death), on the lost node.
    expect(lostDriver).toMatchObject({ name: firstDriver, node: lostNode });
    expect(lostDriver?.exitCode).toBeUndefined();
    expect(second).toMatchObject({ outcome: 'SUCCEEDED', leftovers: 0 });
    expect(second?.pods?.find((p) => p.role === 'driver')?.node).toBe(secondNode);
    expect(more).toEqual([]);
    expect(secondNode).toBeDefined();
    expect(secondNode).not.toBe(lostNode);
    expect(outcome.creations).toHaveLength(b.creations + 1);
    expect(row).toMatchObject({ completed: 1, digestsEqual: 1, duplicateSubmissions: 0, leftovers: 0 });
  } finally {
    if (lostNode !== undefined) {
      runtime.kubelet.restoreNode(lostNode);
      await restoreNodeReady(lostNode);
    }
  }
});

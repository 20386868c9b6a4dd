/**
 * The Kubernetes Spark platform under Temporal: the real dev server, a worker with the real
 * activities, and `KubernetesSparkPlatform` talking to the real API server of the local control
 * plane (scripts/k8s.sh; NIGHTJAR_TEST_KUBECONFIG) through a counting proxy, with the operator
 * stand-in of local-cluster/ playing the operator, the kubelet and a scripted driver.
 * `sparkJob` child workflows are started directly, as top-level workflows.
 * - OOM reaction: an executor OOMKilled on attempt 1 → the SparkApplication of attempt 2 created,
 *   per job, with the stages in between.
 * - Many applications at once: concurrent jobs on one worker: wall time against one job alone,
 *   watch connections, API requests, memory and what is left in the namespace.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import pino from 'pino';
import type { Activities } from '../src/activities';
import { loadConfig } from '../src/config/config';
import { sparkAttemptId } from '../src/domain/ids';
import type { EscalationPolicy } from '../src/domain/spark/escalation';
import { leftoversIn, RESOURCES, TEST_SETTINGS } from '../test/kubernetes/harness';
import { FaultProxy } from '../test/support/fault-proxy';
import { createTestNamespace, deleteTestNamespace, planeKubeConfig } from '../test/support/local-plane';
import type { ReportingStore } from '../src/reporting/store';
import { KubernetesSparkPlatform, type KubernetesPlatformSettings } from '../src/spark/kubernetes/kubernetes-platform';
import { LocalSparkOperator, scriptedDriver, type SparkOperatorOptions, type TimelineEntry } from '../local-cluster';

type SparkOperatorSimulatorOptions = Omit<SparkOperatorOptions, 'kubeConfig' | 'namespaces'>;
import { createServices } from '../src/worker/worker';
import { sparkJob } from '../src/workflows';
import type { SparkJobInput, SparkJobResult } from '../src/workflows/spark-job';
import { percentile, round, sum } from './stats';
import { benchDevServer, benchWorkflowsPath } from './dev-server';

const BUSINESS_DATE = '2026-11-23';
/** Executors asking for less than this are OOMKilled; escalation by 2 from 1024 reaches it. */
const OOM_BELOW_MB = 2048;

/** Production timings: the 30 s safety poll never fires here, so reactions come from the watches. */
const SETTINGS: Omit<KubernetesPlatformSettings, 'namespace'> = {
  ...TEST_SETTINGS,
  executorOomLimit: 1,
  stuckAfterMs: 600_000,
  pollIntervalMs: 30_000,
  fallbackPollMs: 2_000,
  cleanupTimeoutMs: 60_000,
  driverLogLines: 40,
};


const POLICY: EscalationPolicy = { maxAttempts: 3, memoryFactor: 2, maxDriverMemoryMb: 8192, maxExecutorMemoryMb: 16384 };

const SPARK_ACTIVITIES = ['submitSparkJob', 'awaitSparkJob', 'cleanupSparkJob'] as const;
type SparkActivity = (typeof SPARK_ACTIVITIES)[number];

interface Span {
  readonly activity: SparkActivity;
  readonly start: number;
  readonly end: number;
}

/** The activities, with the Spark ones recording when they ran, per attempt id. */
function timedSparkActivities(activities: Activities, spans: Map<string, Span[]>): Activities {
  const wrapped: Record<string, unknown> = { ...activities };
  for (const activity of SPARK_ACTIVITIES) {
    const fn = activities[activity] as (input: { attemptId: string }) => Promise<unknown>;
    wrapped[activity] = async (input: { attemptId: string }) => {
      const start = Date.now();
      try {
        return await fn(input);
      } finally {
        const list = spans.get(input.attemptId) ?? [];
        list.push({ activity, start, end: Date.now() });
        spans.set(input.attemptId, list);
      }
    };
  }
  return wrapped as unknown as Activities;
}

/** The Spark activities never touch the reporting store: a stub keeps an embedded database out of the memory figures. */
const NO_STORE: ReportingStore = {
  kind: 'pglite',
  migrate: () => Promise.resolve(),
  replaceBusinessDate: () => Promise.reject(new Error('no reporting store in this benchmark')),
  countRows: () => Promise.reject(new Error('no reporting store in this benchmark')),
  query: () => Promise.reject(new Error('no reporting store in this benchmark')),
  close: () => Promise.resolve(),
};

interface Shared {
  readonly env: TestWorkflowEnvironment;
  readonly bundle: WorkflowBundleWithSourceMap;
  readonly repoRoot: string;
  readonly dataDir: string;
}

interface Cluster {
  /** The proxy the platform's requests go through: request counts and watch connections. */
  readonly server: FaultProxy;
  readonly simulator: LocalSparkOperator;
  /** Objects of Spark attempts left in the namespace (events aside: they expire on their own). */
  leftovers(): Promise<number>;
  readonly platform: KubernetesSparkPlatform;
  /** When each Spark activity ran (wall clock, like the simulator's timeline), per attempt id. */
  readonly spans: ReadonlyMap<string, readonly Span[]>;
  /** Starts a `sparkJob` and resolves with its result; `key` makes the ids unique. */
  runJob(key: string): { parentRunId: string; result: Promise<SparkJobResult> };
}

/**
 * A namespace on the local control plane, the operator stand-in, the platform and a worker built
 * from the real services, for one measurement. Teardown runs in order: the worker, the platform's
 * watches, the operator stand-in (its errors fail the benchmark), the proxy, the namespace.
 */
async function withCluster<T>(
  shared: Shared,
  name: string,
  simulatorOptions: SparkOperatorSimulatorOptions,
  body: (cluster: Cluster) => Promise<T>,
): Promise<T> {
  const config = loadConfig({ NIGHTJAR_DATA_DIR: path.join(shared.dataDir, name), NIGHTJAR_TASK_QUEUE: `bench-kubernetes-${name}` }, shared.repoRoot);
  const logger = pino({ level: 'error' });
  // The real local control plane (scripts/k8s.sh; NIGHTJAR_TEST_KUBECONFIG), a namespace of the
  // measurement's own, the operator stand-in on it, and the platform behind a counting proxy.
  const admin = planeKubeConfig();
  const namespace = await createTestNamespace(admin, `nj-bench-${name}`);
  const simulator = new LocalSparkOperator({ kubeConfig: admin, namespaces: [namespace], ...simulatorOptions });
  await simulator.start();
  const server = new FaultProxy(admin);
  await server.start();
  const platform = new KubernetesSparkPlatform({ kubeConfig: server.kubeConfig(), settings: { ...SETTINGS, namespace }, logger });
  const services = await createServices(config, logger, { platform, store: NO_STORE, client: shared.env.client });
  const spans = new Map<string, Span[]>();
  try {
    // The worker options of the composition root (src/worker), with the Spark activities timed.
    const worker = await Worker.create({
      connection: shared.env.nativeConnection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      workflowBundle: shared.bundle,
      activities: timedSparkActivities(services.activities, spans),
      shutdownGraceTime: '30 seconds',
      maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
    });
    const taskQueue = config.temporal.taskQueue;
    const client = shared.env.client;
    const cluster: Cluster = {
      server,
      simulator,
      platform,
      spans,
      leftovers: async () => (await leftoversIn(admin, namespace)).length,
      runJob(key) {
        // sparkAttemptId keeps 8 characters of the run id: the key must fit in them.
        const parentRunId = key.padStart(8, '0');
        const input: SparkJobInput = {
          businessDate: BUSINESS_DATE,
          job: 'normalize',
          parentWorkflowId: `bench-kubernetes-${name}-${key}`,
          parentRunId,
          inputs: {},
          resources: RESOURCES,
          policy: POLICY,
        };
        const result = client.workflow
          .start(sparkJob, { taskQueue, workflowId: `bench-kubernetes-${name}-${key}-normalize`, args: [input] })
          .then((handle) => handle.result());
        return { parentRunId, result };
      },
    };
    return await worker.runUntil(body(cluster));
  } finally {
    await services.close();
    await platform.close();
    await simulator.stop();
    await server.stop();
    await deleteTestNamespace(admin, namespace);
  }
}

function summarize(values: readonly number[]) {
  return { p50: round(percentile(values, 50)), p95: round(percentile(values, 95)), max: round(Math.max(...values)) };
}

export type Percentiles = ReturnType<typeof summarize>;

export interface OomReactionResult {
  jobs: number;
  executorOomAfterMs: number;
  /** Executor OOM written to the API → the next attempt's SparkApplication created. */
  total: Percentiles;
  stages: {
    /** Watch event delivered, attempt classified, DELETE of the application received. */
    oomToStopped: Percentiles;
    /** The DELETE answered; the await activity returns. */
    stoppedToAwaitReturned: Percentiles;
    /** Activity completion, workflow task, cleanup activity dispatched. */
    awaitToCleanupStart: Percentiles;
    /** Cleanup: deletion confirmed, nothing of the attempt left. */
    cleanup: Percentiles;
    /** Activity completion, workflow task, next submit dispatched. */
    cleanupToSubmit: Percentiles;
    /** Spec ConfigMap and SparkApplication created. */
    submitToCreated: Percentiles;
  };
  /** Watch connections opened over the whole run (3 expected: one per resource type). */
  watchesOpened: number;
}

export interface ManyAppsResult {
  jobs: number;
  runMs: number;
  /** One job alone, start to result (median of a few): runMs plus the fixed overhead of a job. */
  singleJobMs: number;
  overheadPerJobMs: number;
  /** First start to last completion. */
  wallMs: number;
  wallOverIdeal: number;
  jobLatency: Percentiles;
  /** Per job, from its start to its result. */
  stages: {
    /** Workflow start, first workflow task, submit activity dispatched. */
    startToSubmit: Percentiles;
    /** Spec ConfigMap and SparkApplication created. */
    submitToCreated: Percentiles;
    /** The simulated operator and kubelet: driver pod running. */
    createdToDriverRunning: Percentiles;
    /** The scripted driver's runMs, plus the simulator's own delays. */
    driverRunningToCompleted: Percentiles;
    /** Watch event delivered, classified, result file read; the await activity returns. */
    completedToAwaitReturned: Percentiles;
    awaitToCleanupStart: Percentiles;
    cleanup: Percentiles;
    /** Cleanup done → the workflow's result at the client. */
    cleanupToResult: Percentiles;
  };
  /** CPU time of this process (worker, fake API server and simulator together) over the wall time. */
  workerCpuCores: number;
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  peakOpenWatches: number;
  requestsByVerb: Record<string, number>;
  requestsPerJob: number;
  baselineRssMb: number;
  peakRssMb: number;
  baselineHeapMb: number;
  peakHeapMb: number;
  leftoverObjects: number;
  leftoversReported: number;
  succeeded: number;
}

export interface KubernetesBenchResult {
  oom: OomReactionResult;
  many: ManyAppsResult;
}

async function benchOomReaction(
  shared: Shared,
  opts: { jobs: number; executorOomAfterMs: number },
): Promise<OomReactionResult> {
  const simulatorOptions: SparkOperatorSimulatorOptions = {
    scenario: { name: 'executor-oom', minExecutorMemoryMb: OOM_BELOW_MB },
    timing: { executorOomAfterMs: opts.executorOomAfterMs },
    driver: scriptedDriver({ runMs: 200 }),
  };
  return withCluster(shared, 'oom', simulatorOptions, async ({ simulator, platform, spans, runJob }) => {
    const at = (app: string, what: TimelineEntry['what']) => simulator.timeline.find((e) => e.app === app && e.what === what)?.at;
    const span = (attemptId: string, activity: SparkActivity) => spans.get(attemptId)?.find((s) => s.activity === activity);
    const rows: { total: number; stages: number[] }[] = [];
    // One warm-up job, not counted: the watches start and the code paths warm up.
    for (let i = -1; i < opts.jobs; i++) {
      const key = i < 0 ? 'oomwarm' : `oom${String(i).padStart(5, '0')}`;
      const { parentRunId, result } = runJob(key);
      const done = await result;
      if (done.attempts.length !== 2 || done.attempts[0]?.outcome !== 'OUT_OF_MEMORY' || done.attempts[1]?.outcome !== 'SUCCEEDED') {
        throw new Error(`job ${key} did not go OOM then succeed: ${done.attempts.map((a) => `${a.outcome} (${a.reason})`).join('; ')}`);
      }
      if (i < 0) continue;
      const first = sparkAttemptId(BUSINESS_DATE, 'normalize', parentRunId, 1);
      const second = sparkAttemptId(BUSINESS_DATE, 'normalize', parentRunId, 2);
      const points = [
        at(first, 'executor-oom'),
        at(first, 'deleted'),
        span(first, 'awaitSparkJob')?.end,
        span(first, 'cleanupSparkJob')?.start,
        span(first, 'cleanupSparkJob')?.end,
        span(second, 'submitSparkJob')?.start,
        at(second, 'created'),
      ];
      if (points.some((p) => p === undefined)) throw new Error(`job ${key}: a step of the OOM reaction was not recorded`);
      const t = points as number[];
      rows.push({ total: t[6]! - t[0]!, stages: t.slice(1).map((p, k) => p - t[k]!) });
    }
    const stage = (k: number) => summarize(rows.map((r) => r.stages[k]!));
    const watchStats = platform.watchStats();
    return {
      jobs: opts.jobs,
      executorOomAfterMs: opts.executorOomAfterMs,
      total: summarize(rows.map((r) => r.total)),
      stages: {
        oomToStopped: stage(0),
        stoppedToAwaitReturned: stage(1),
        awaitToCleanupStart: stage(2),
        cleanup: stage(3),
        cleanupToSubmit: stage(4),
        submitToCreated: stage(5),
      },
      watchesOpened: watchStats === undefined ? 0 : sum(Object.values(watchStats).map((w) => w.watchesOpened)),
    };
  });
}

async function benchManyApplications(shared: Shared, opts: { jobs: number; runMs: number; singles: number }): Promise<ManyAppsResult> {
  const simulatorOptions: SparkOperatorSimulatorOptions = { scenario: 'success', driver: scriptedDriver({ runMs: opts.runMs }) };
  return withCluster(shared, 'many', simulatorOptions, async ({ server, simulator, spans, runJob, leftovers }) => {
    // A warm-up job, then a few alone: what one job costs without contention.
    await runJob('onewarm').result;
    const singles: number[] = [];
    for (let i = 0; i < opts.singles; i++) {
      const t0 = performance.now();
      await runJob(`one${String(i).padStart(5, '0')}`).result;
      singles.push(performance.now() - t0);
    }
    const singleJobMs = percentile(singles, 50);

    server.clearRequests();
    const baseline = process.memoryUsage();
    let peakRss = baseline.rss;
    let peakHeap = baseline.heapUsed;
    let peakWatches = server.openWatches;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakWatches = Math.max(peakWatches, server.openWatches);
    }, 50);
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const cpu = process.cpuUsage();
    const jobs: { attemptId: string; started: number; finished: number }[] = [];
    const t0 = performance.now();
    let results: SparkJobResult[];
    try {
      results = await Promise.all(
        Array.from({ length: opts.jobs }, (_, i) => {
          const started = Date.now();
          const { parentRunId, result } = runJob(`many${String(i).padStart(4, '0')}`);
          return result.then((r) => {
            jobs.push({ attemptId: sparkAttemptId(BUSINESS_DATE, 'normalize', parentRunId, 1), started, finished: Date.now() });
            return r;
          });
        }),
      );
    } finally {
      clearInterval(sampler);
      loopDelay.disable();
    }
    const wallMs = performance.now() - t0;
    const cpuUsed = process.cpuUsage(cpu);

    // Where a job's time went, from the simulator's timeline and the activities' spans.
    const at = (app: string, what: TimelineEntry['what']) => simulator.timeline.find((e) => e.app === app && e.what === what)?.at ?? NaN;
    const span = (attemptId: string, activity: SparkActivity) => spans.get(attemptId)?.find((x) => x.activity === activity);
    const stage = (of: (job: (typeof jobs)[number]) => number) => summarize(jobs.map(of));
    const stages = {
      startToSubmit: stage((j) => (span(j.attemptId, 'submitSparkJob')?.start ?? NaN) - j.started),
      submitToCreated: stage((j) => at(j.attemptId, 'created') - (span(j.attemptId, 'submitSparkJob')?.start ?? NaN)),
      createdToDriverRunning: stage((j) => at(j.attemptId, 'driver-running') - at(j.attemptId, 'created')),
      driverRunningToCompleted: stage((j) => at(j.attemptId, 'completed') - at(j.attemptId, 'driver-running')),
      completedToAwaitReturned: stage((j) => (span(j.attemptId, 'awaitSparkJob')?.end ?? NaN) - at(j.attemptId, 'completed')),
      awaitToCleanupStart: stage((j) => (span(j.attemptId, 'cleanupSparkJob')?.start ?? NaN) - (span(j.attemptId, 'awaitSparkJob')?.end ?? NaN)),
      cleanup: stage((j) => {
        const c = span(j.attemptId, 'cleanupSparkJob');
        return c === undefined ? NaN : c.end - c.start;
      }),
      cleanupToResult: stage((j) => j.finished - (span(j.attemptId, 'cleanupSparkJob')?.end ?? NaN)),
    };

    const requestsByVerb: Record<string, number> = {};
    for (const [key, count] of Object.entries(server.requestCounts())) {
      const verb = key.split(' ')[0] ?? key;
      requestsByVerb[verb] = (requestsByVerb[verb] ?? 0) + count;
    }
    const mb = (bytes: number) => round(bytes / 2 ** 20, 0);
    return {
      jobs: opts.jobs,
      runMs: opts.runMs,
      singleJobMs: round(singleJobMs, 0),
      overheadPerJobMs: round(singleJobMs - opts.runMs, 0),
      wallMs: round(wallMs, 0),
      wallOverIdeal: round(wallMs / singleJobMs, 2),
      jobLatency: summarize(jobs.map((j) => j.finished - j.started)),
      stages,
      workerCpuCores: round((cpuUsed.user + cpuUsed.system) / 1000 / wallMs, 2),
      eventLoopDelayP99Ms: round(loopDelay.percentile(99) / 1e6, 0),
      eventLoopDelayMaxMs: round(loopDelay.max / 1e6, 0),
      peakOpenWatches: peakWatches,
      requestsByVerb,
      requestsPerJob: round(sum(Object.values(requestsByVerb)) / opts.jobs),
      baselineRssMb: mb(baseline.rss),
      peakRssMb: mb(peakRss),
      baselineHeapMb: mb(baseline.heapUsed),
      peakHeapMb: mb(peakHeap),
      leftoverObjects: await leftovers(),
      leftoversReported: sum(results.flatMap((r) => r.attempts.map((a) => a.leftovers ?? 0))),
      succeeded: results.filter((r) => r.attempts[r.attempts.length - 1]?.outcome === 'SUCCEEDED').length,
    };
  });
}

export async function benchKubernetes(opts: {
  repoRoot: string;
  oomJobs: number;
  executorOomAfterMs: number;
  concurrentJobs: number;
  runMs: number;
}): Promise<KubernetesBenchResult> {
  const env = await benchDevServer(opts.repoRoot);
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nightjar-bench-k8s-'));
  try {
    const bundle = await bundleWorkflowCode({
      workflowsPath: benchWorkflowsPath(opts.repoRoot),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    });
    const shared = { env, bundle, repoRoot: opts.repoRoot, dataDir };
    const oom = await benchOomReaction(shared, { jobs: opts.oomJobs, executorOomAfterMs: opts.executorOomAfterMs });
    const many = await benchManyApplications(shared, { jobs: opts.concurrentJobs, runMs: opts.runMs, singles: 3 });
    return { oom, many };
  } finally {
    await env.teardown();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * One fault-matrix run from start to verdict: a worker process, the night started through the
 * project's triggers, a fault injected by the test's `inject` step, then the checks every run
 * shares (completed, digests equal to the baseline's, SparkApplications created once per
 * attempt, nothing left in the namespace, never half a date visible), recorded as a result row.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { RunManifest } from '../../src/domain/pipeline';
import { dailyWorkflowId } from '../../src/domain/ids';
import { sparkJobWorkflowId } from '../../src/domain/ids';
import type { dailyPipeline, DailyPipelineResult } from '../../src/workflows/daily-pipeline';
import type { WorkerProcess } from '../helpers/worker-process';
import {
  activityStarts,
  BUSINESS_DATE,
  newRun,
  PartialDateReader,
  readManifest,
  recordResult,
  reportDigests,
  sparkReportCounts,
  startNight,
  TENANT,
  until,
  type MatrixWorld,
  type RunContext,
  type RunOptions,
} from './harness';

export interface Baseline {
  readonly digests: Record<string, string>;
  readonly counts: Record<string, number>;
  /** SparkApplications an uninterrupted night creates. */
  readonly creations: number;
  readonly seconds: number;
}

export interface Outcome {
  readonly run: RunContext;
  readonly handle: WorkflowHandle<typeof dailyPipeline>;
  readonly result: DailyPipelineResult;
  readonly manifest: RunManifest;
  readonly digests: Record<string, string>;
  readonly creations: readonly string[];
  /** Objects left in the namespace, and (real-Spark runs) pods whose processes still run, as `process <ns>/<pod>`. */
  readonly leftovers: readonly string[];
  readonly partialLooks: readonly Record<string, number>[];
  readonly readerLooks: number;
  /** Activity type → the attempt number of each start (from the workflow histories). */
  readonly starts: Record<string, number[]>;
  readonly seconds: number;
}

export interface ScenarioOptions {
  /** The baseline's complete counts, for the reader; without them no reader runs. */
  readonly complete?: Record<string, number>;
  /** Starts the first worker; by default a plain one. */
  readonly firstWorker?: (run: RunContext) => Promise<WorkerProcess>;
  /** The fault: runs while the night runs, given its first worker. */
  readonly inject?: (ctx: { run: RunContext; worker: WorkerProcess; handle: WorkflowHandle<typeof dailyPipeline> }) => Promise<void>;
  /** How the fresh run is set up: real Spark pods, worker settings of its own. */
  readonly run?: RunOptions;
  /** Run an existing context again (the forced re-run) instead of a fresh one. */
  readonly reuse?: RunContext;
  /** The date is complete before the run (a re-run): the reader must never find it empty. */
  readonly completeBefore?: boolean;
  /** Keep the run's workers and database for a later run (the baseline, re-run after); closed by default. */
  readonly keep?: boolean;
  /** The result row's name; a run that fails before its verdict still records a row under it. */
  readonly fault?: string;
  readonly resultTimeoutMs?: number;
}

const WORKFLOW_ID = dailyWorkflowId(BUSINESS_DATE, TENANT);

/**
 * How long a run waits for its night before calling it hung: a guard, not a speed check. On the
 * 2-core machine, with the other test projects and the plane sharing it, an uninterrupted night
 * took 52 s alone and 185–255 s under load; a row of the plane's faults adds its outage (up to a
 * minute) and a new attempt.
 */
const NIGHT_GUARD_MS = 480_000;

/**
 * The guard for a night under a fault, from the baseline's own pace on this machine: three times
 * the uninterrupted night (a fault adds an outage, retries, or a whole new attempt of a job), and
 * never under the default.
 */
export function nightGuardMs(baseline: Baseline): number {
  return Math.max(NIGHT_GUARD_MS, Math.round(baseline.seconds * 3_000));
}

/** Runs one night with an optional fault and gathers everything the checks need. */
export async function runScenario(world: MatrixWorld, name: string, options: ScenarioOptions = {}): Promise<Outcome> {
  const started = Date.now();
  const run = options.reuse ?? (await newRun(world, name, options.run));
  const worker = options.firstWorker ? await options.firstWorker(run) : run.workers.find((w) => w.running) ?? (await run.startWorker());
  const reader = options.complete ? new PartialDateReader(run.pool, BUSINESS_DATE, options.complete, !options.completeBefore) : undefined;
  const createdBefore = world.cluster.sparkApplicationsCreated(run.namespace).length;
  let handle: WorkflowHandle<typeof dailyPipeline> | undefined;
  try {
    handle = await startNight(world, run);
    const night = handle;
    if (options.inject) await options.inject({ run, worker, handle: night });
    const result = await withTimeout(untilCrash(run, night.result()), options.resultTimeoutMs ?? NIGHT_GUARD_MS, `${name}: the night's result`);
    const left = async () => [...(await world.cluster.leftovers(run.namespace)), ...(await world.cluster.podProcesses(run.namespace)).map((p) => `process ${p}`)];
    const leftovers = await until('the namespace to be empty and its processes gone', async () => ((await left()).length === 0 ? [] : undefined), 20_000).catch(left);
    await reader?.stop();
    const starts = await activityStarts(world, [WORKFLOW_ID, sparkJobWorkflowId(WORKFLOW_ID, 'normalize'), sparkJobWorkflowId(WORKFLOW_ID, 'transform')]);
    return {
      run,
      handle: night,
      result,
      manifest: readManifest(run),
      digests: await reportDigests(run.pool, BUSINESS_DATE),
      creations: world.cluster.sparkApplicationsCreated(run.namespace).slice(createdBefore),
      leftovers,
      partialLooks: reader?.partial ?? [],
      readerLooks: reader?.looks ?? 0,
      starts,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
  } catch (error) {
    recordResult({
      fault: options.fault ?? name,
      injected: 1,
      completed: 0,
      digestsEqual: 0,
      duplicateSubmissions: 0,
      leftovers: (await world.cluster.leftovers(run.namespace).catch(() => [])).length,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      notes: `run failed: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]?.slice(0, 200)}`,
    });
    throw error;
  } finally {
    await reader?.stop();
    // A night that did not end (the run failed) must not be joined by the next run.
    const open = await handle?.describe().then((d) => d.status.name === 'RUNNING', () => false);
    if (open) await handle?.terminate(`${name}: the reliability run ended without the night`).catch(() => undefined);
    if (!options.keep && !options.reuse) await run.close();
  }
}

/** The uninterrupted night every other run is compared with. */
export async function runBaseline(world: MatrixWorld): Promise<{ baseline: Baseline; outcome: Outcome }> {
  const outcome = await runScenario(world, 'baseline', { keep: true });
  const counts = await sparkReportCounts(outcome.run.pool, BUSINESS_DATE);
  return {
    outcome,
    baseline: { digests: outcome.digests, counts, creations: outcome.creations.length, seconds: outcome.seconds },
  };
}

/**
 * How many times a fault made activities of this type run again. The history keeps one started
 * event per activity, carrying its last attempt number.
 */
export function retriesOf(outcome: Outcome, activity: string): number {
  return (outcome.starts[activity] ?? []).reduce((n, attempt) => n + attempt - 1, 0);
}

/**
 * The shared verdict of a run that must complete as if nothing happened; records its row.
 * `newAttempts`: SparkApplications the fault rightly added (a lost driver's job runs a new
 * attempt, under a name of its own); every other one beyond the baseline's is a duplicate.
 */
export function verdict(fault: string, outcome: Outcome, baseline: Baseline | undefined, injected: number, notes?: string, newAttempts = 0) {
  const digestsEqual = baseline ? Number(JSON.stringify(outcome.digests) === JSON.stringify(baseline.digests)) : 1;
  const duplicateSubmissions = baseline ? Math.max(0, outcome.creations.length - baseline.creations - newAttempts) : 0;
  const completed = Number(outcome.result.status === 'COMPLETED' && outcome.manifest.status === 'COMPLETED');
  const row = {
    fault,
    injected,
    completed,
    digestsEqual,
    duplicateSubmissions,
    leftovers: outcome.leftovers.length,
    seconds: outcome.seconds,
    ...(notes ? { notes } : {}),
  };
  recordResult(row);
  return row;
}

/** `promise`, unless a worker of the run crashes first (a crashed worker is a finding, not a wait). */
export async function untilCrash<T>(run: RunContext, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const crashed = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      const crash = run.workers.find((w) => w.crash !== undefined)?.crash;
      if (crash) reject(new Error(`a worker crashed: ${crash}`));
    }, 250);
  });
  try {
    return await Promise.race([promise, crashed]);
  } finally {
    clearInterval(timer);
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Spark: normalize + transform through the real local platform (spark-submit, local[N]) on
 * generated feeds, called directly (no Temporal) so the figure is Spark's own, JVM start-up
 * included, beside Spark's own floors measured in the same run with the same launcher
 * settings: the empty job (session start, one tiny action, stop) and the copy job (every feed
 * read once as text, its CSV columns split, written once as Parquet).
 *
 * Every attempt writes a Spark event log to a temporary directory; parsed after the run it
 * splits each attempt's wall time into JVM + Python start, session start, each SQL execution
 * (its Spark jobs, stages and tasks; writes marked) and the stop.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { createSparkActivities } from '../src/activities/spark';
import { DataLayout } from '../src/common/layout';
import type { NightjarConfig } from '../src/config/config';
import type { SparkJobName, SparkResources } from '../src/domain/spark/resources';
import type { SparkAwaitResult, SparkSubmission } from '../src/domain/pipeline';
import { generateFeeds } from '../demo/feeds/generate-feeds';
import { LocalSparkPlatform, type LocalSparkPlatformOptions } from '../src/spark/local/local-platform';
import { WarmDriver } from '../src/spark/local/warm-driver';
import { JOB_RESULT_FILE } from '../src/spark/outcome';
import { checkDigests, digestOutput, type SparkDigests } from './spark-digests';
import { round } from './stats';

const BUSINESS_DATE = '2026-11-20';
/** How often the bench's platform looks at a running attempt; the same for every side. */
const POLL_MS = 200;
const DEFAULT_SEED = 3;
const DEFAULT_DEFECT_RATE = 0.001;

/** One SQL execution (one action or one write) of an attempt, from its event log. */
export interface SparkAction {
  readonly label: string;
  readonly write: boolean;
  readonly seconds: number;
  readonly jobs: number;
  readonly stages: number;
  readonly tasks: number;
}

/** Where one attempt's wall time went. */
export interface SparkAttemptProfile {
  readonly name: string;
  readonly wallSeconds: number;
  /** Spawn of spark-submit → the SparkContext starting (launcher JVM, Python, gateway). */
  readonly startSeconds: number;
  /** SparkContext start → the first action (context, session, imports, first plan). */
  readonly sessionSeconds: number;
  /** First action's start → last action's end, less the gaps: the wall time some action ran (side-by-side actions counted once). */
  readonly busySeconds: number;
  /** The tasks' CPU (executor run and deserialize CPU, from each task's end): the work the cores did. */
  readonly taskCpuSeconds: number;
  readonly actions: readonly SparkAction[];
  /** In the driver between actions (Python, planning, result handling). */
  readonly betweenSeconds: number;
  /** Last action → the process seen to exit (result file, stop, JVM exit). */
  readonly stopSeconds: number;
}

/**
 * One side of a comparison: the Spark jobs (a `spark/` directory: `jobs/` and the package) and
 * the driver's JVM options they run with. `after` is this checkout with its configuration;
 * `before` (optional) an older checkout's jobs with its launcher settings, run interleaved with
 * `after` so both are measured under the same load.
 */
export interface SparkArm {
  readonly name: string;
  readonly jobsDir: string;
  readonly driverJavaOptions: readonly string[];
  readonly shortJob?: LocalSparkPlatformOptions['shortJob'];
  readonly longJob?: LocalSparkPlatformOptions['longJob'];
  readonly classDataDir?: string;
  /**
   * The jobs run as sessions of one warm driver (a Spark Connect server started by the bench,
   * one slot, the arm's long-job options), warmed by untimed nights first; its floors (the empty
   * and copy jobs) still run cold, as Spark's own start-up.
   */
  readonly warm?: boolean;
}

export interface SparkBenchArm {
  arm: string;
  normalizeSeconds: number;
  transformSeconds: number;
  totalSeconds: number;
  inputRowsPerSecond: number;
  /** The copy job over the same feeds, run in between, with the arm's launcher settings. */
  copySeconds: number;
  /** (normalize + transform) / copy. */
  copyRatio: number;
  profiles: readonly SparkAttemptProfile[];
}

export interface SparkBenchResult {
  transactions: number;
  inputRows: number;
  driverMemoryMb: number;
  arms: readonly SparkBenchArm[];
  digests: DigestCheck;
}

/** The outputs' digests against those recorded for the same night (see ./spark-digests). */
export interface DigestCheck {
  readonly night: string;
  readonly recorded: boolean;
  readonly checked: number;
  /** Arms whose outputs were checked (every arm must produce the same). */
  readonly arms: readonly string[];
}

export interface SparkProfileArm {
  arm: string;
  normalize: SparkAttemptProfile;
  transform: SparkAttemptProfile;
  empty: readonly [SparkAttemptProfile, SparkAttemptProfile];
  copy: SparkAttemptProfile;
  /** (normalize + transform) / (two empty jobs). */
  emptyRatio: number;
  /** (normalize + transform) / copy. */
  copyRatio: number;
  /** A warm arm's empty job on its warm driver (its own floor), beside the cold ones. */
  warmEmpty?: SparkAttemptProfile;
  /** A warm arm's untimed nights before it was measured (normalize + transform each, s): the first on a fresh server. */
  warmUpNights?: readonly number[];
}

export interface SparkProfileResult {
  transactions: number;
  inputRows: number;
  driverMemoryMb: number;
  arms: readonly SparkProfileArm[];
  digests: DigestCheck;
}

interface BenchOptions {
  readonly dir: string;
  readonly transactions: number;
  readonly driverMemoryMb: number;
  readonly seed?: number;
  readonly defectRate?: number;
  /** An older checkout to compare with, measured in the same run. */
  readonly before?: SparkArm;
  /** A warm-driver arm (the demo's profile only). */
  readonly warm?: SparkArm;
  /** Leaves `dir` (feeds, specs, outputs, event logs) in place for a look by hand. */
  readonly keep?: boolean;
}

/** This checkout's jobs with its configured launcher settings. */
export function currentArm(config: NightjarConfig): SparkArm {
  return {
    name: 'after',
    jobsDir: config.spark.jobsDir,
    driverJavaOptions: config.spark.driverJavaOptions,
    shortJob: config.spark.shortJob,
    longJob: config.spark.longJob,
    ...(config.spark.classDataDir !== undefined ? { classDataDir: config.spark.classDataDir } : {}),
  };
}

/**
 * Runs `step` for every arm, the arms' order alternating from one step to the next, so neither
 * side always runs first after the other's heavier step.
 */
async function interleaved<T>(arms: readonly SparkArm[], turn: number, step: (arm: SparkArm) => Promise<T>): Promise<Map<string, T>> {
  const out = new Map<string, T>();
  const order = turn % 2 === 0 ? arms : [...arms].reverse();
  for (const arm of order) out.set(arm.name, await step(arm));
  return out;
}

const got = <T>(m: Map<string, T>, arm: SparkArm): T => m.get(arm.name) as T;

/** Normalize + transform at a size, with the copy job over the same feeds in the same run. */
export async function benchSpark(config: NightjarConfig, opts: BenchOptions): Promise<SparkBenchResult> {
  const bench = await SparkBench.create(config, opts);
  const arms = [...(opts.before ? [opts.before] : []), currentArm(config)];
  try {
    await bench.warmUp(arms);
    const normalize = await interleaved(arms, 0, (a) => bench.ours('normalize', a));
    const copy = await interleaved(arms, 1, (a) => bench.copy(a));
    const transform = await interleaved(arms, 2, (a) => bench.ours('transform', a));
    return {
      transactions: opts.transactions,
      inputRows: bench.inputRows,
      driverMemoryMb: opts.driverMemoryMb,
      arms: arms.map((a) => {
        const n = got(normalize, a);
        const t = got(transform, a);
        const c = got(copy, a);
        const total = n.wallSeconds + t.wallSeconds;
        return {
          arm: a.name,
          normalizeSeconds: round(n.wallSeconds),
          transformSeconds: round(t.wallSeconds),
          totalSeconds: round(total),
          inputRowsPerSecond: Math.round(bench.inputRows / total),
          copySeconds: round(c.wallSeconds),
          copyRatio: round(total / c.wallSeconds, 2),
          profiles: [n, c, t],
        };
      }),
      digests: await bench.checkDigests(),
    };
  } finally {
    if (!opts.keep) await fs.rm(opts.dir, { recursive: true, force: true });
  }
}

/** Normalize + transform profiled, interleaved with two empty jobs and one copy job (per arm). */
export async function benchSparkProfile(config: NightjarConfig, opts: BenchOptions): Promise<SparkProfileResult> {
  const bench = await SparkBench.create(config, opts);
  const arms = [...(opts.before ? [opts.before] : []), currentArm(config), ...(opts.warm ? [opts.warm] : [])];
  try {
    await bench.warmUp(arms);
    const emptyA = await interleaved(arms, 0, (a) => bench.empty(1, a));
    const normalize = await interleaved(arms, 1, (a) => bench.ours('normalize', a));
    const copy = await interleaved(arms, 0, (a) => bench.copy(a));
    const transform = await interleaved(arms, 1, (a) => bench.ours('transform', a));
    const emptyB = await interleaved(arms, 0, (a) => bench.empty(2, a));
    const warmEmpty = await interleaved(arms, 0, async (a) => (a.warm ? bench.empty(3, a, true) : undefined));
    const warmProfiles = await bench.warmProfiles();
    for (const m of [normalize, transform]) for (const [k, v] of m) m.set(k, warmProfiles.get(v.name) ?? v);
    for (const [k, v] of warmEmpty) if (v) warmEmpty.set(k, warmProfiles.get(v.name) ?? v);
    return {
      transactions: opts.transactions,
      inputRows: bench.inputRows,
      driverMemoryMb: opts.driverMemoryMb,
      arms: arms.map((a) => {
        const n = got(normalize, a);
        const t = got(transform, a);
        const e: [SparkAttemptProfile, SparkAttemptProfile] = [got(emptyA, a), got(emptyB, a)];
        const c = got(copy, a);
        const ours = n.wallSeconds + t.wallSeconds;
        return {
          arm: a.name,
          normalize: n,
          transform: t,
          empty: e,
          copy: c,
          emptyRatio: round(ours / (e[0].wallSeconds + e[1].wallSeconds), 2),
          copyRatio: round(ours / c.wallSeconds, 2),
          ...(got(warmEmpty, a) ? { warmEmpty: got(warmEmpty, a), warmUpNights: bench.warmUpNights } : {}),
        };
      }),
      digests: await bench.checkDigests(),
    };
  } finally {
    await bench.stopWarmDriver();
    if (!opts.keep) await fs.rm(opts.dir, { recursive: true, force: true });
  }
}

/** Untimed nights on a warm arm's driver before it is measured: its JIT and caches warm, as a worker's are after a few nights. */
const WARM_DRIVER_WARM_UP_NIGHTS = 3;

class SparkBench {
  private readonly curated = new Map<string, Record<string, string>>();
  private readonly env = new MockActivityEnvironment();
  private readonly logger = pino({ level: 'warn' });
  private readonly digests = new Map<string, SparkDigests>();
  private warmDriver: WarmDriver | undefined;
  /** The warm attempts' windows (epoch ms), profiled from the server's event log at the end. */
  private readonly warmWindows = new Map<string, { t0: number; t1: number }>();
  /** The warm arm's untimed nights (normalize + transform, s). */
  readonly warmUpNights: number[] = [];

  private constructor(
    private readonly config: NightjarConfig,
    private readonly opts: BenchOptions,
    private readonly layout: DataLayout,
    private readonly feeds: readonly { feed: string; path: string }[],
    readonly inputRows: number,
    private readonly inputBytes: number,
  ) {}

  static async create(config: NightjarConfig, opts: BenchOptions): Promise<SparkBench> {
    const layout = new DataLayout(opts.dir);
    const generated = await generateFeeds({
      landingDir: layout.landingDir(BUSINESS_DATE),
      businessDate: BUSINESS_DATE,
      seed: opts.seed ?? DEFAULT_SEED,
      transactions: opts.transactions,
      defectRate: opts.defectRate ?? DEFAULT_DEFECT_RATE,
    });
    const inputRows = generated.feeds.reduce((a, f) => a + f.rows, 0);
    const inputBytes = (await Promise.all(generated.feeds.map((f) => fs.stat(f.path)))).reduce((a, st) => a + st.size, 0);
    return new SparkBench(config, opts, layout, generated.feeds, inputRows, inputBytes);
  }

  private resources(job: SparkJobName): SparkResources {
    return { ...this.config.spark.defaults[job], driverMemoryMb: this.opts.driverMemoryMb };
  }

  /** The bench's one warm driver (for a warm arm): one slot, its event log in one file. */
  private async warm(arm: SparkArm): Promise<WarmDriver> {
    if (this.warmDriver) return this.warmDriver;
    const events = await this.eventDir('warm-driver');
    const resources = this.resources('normalize');
    this.warmDriver = new WarmDriver({
      slots: 1,
      slotMemoryMb: resources.driverMemoryMb,
      cores: resources.driverCores,
      sparkSubmit: this.config.spark.sparkSubmit,
      pythonPath: this.config.spark.python,
      stateDir: path.join(this.opts.dir, 'warm-driver'),
      javaOptions: [...arm.driverJavaOptions, ...(arm.longJob?.javaOptions ?? [])],
      extraConf: eventLogConf(events),
      logger: this.logger,
    });
    return this.warmDriver;
  }

  async stopWarmDriver(): Promise<void> {
    await this.warmDriver?.stop();
  }

  /** Each warm attempt's profile, from the SQL executions in its window of the server's event log. */
  async warmProfiles(): Promise<Map<string, SparkAttemptProfile>> {
    const out = new Map<string, SparkAttemptProfile>();
    if (!this.warmDriver) return out;
    await this.warmDriver.stop(); // its event log is complete once the server has stopped
    const dir = path.join(this.opts.dir, 'events', 'warm-driver');
    const events = await readEventLog(dir);
    for (const [name, { t0, t1 }] of this.warmWindows) out.set(name, profileEvents(name, t0, t1, eventsWithin(events, t0, t1)));
    return out;
  }

  /** A platform whose attempts write their event log to `eventDir`, with the arm's JVM options. */
  private async platform(eventDir: string, arm: SparkArm, warm = false): Promise<LocalSparkPlatform> {
    return new LocalSparkPlatform({
      sparkSubmit: this.config.spark.sparkSubmit,
      pythonPath: this.config.spark.python,
      layout: this.layout,
      pollIntervalMs: POLL_MS,
      extraConf: eventLogConf(eventDir),
      driverJavaOptions: arm.driverJavaOptions,
      ...(arm.shortJob !== undefined ? { shortJob: arm.shortJob } : {}),
      ...(arm.longJob !== undefined ? { longJob: arm.longJob } : {}),
      ...(arm.classDataDir !== undefined ? { classDataDir: arm.classDataDir } : {}),
      ...(warm ? { warmDriver: await this.warm(arm) } : {}),
      logger: this.logger,
    });
  }

  private async eventDir(name: string): Promise<string> {
    const dir = path.join(this.opts.dir, 'events', name);
    await fs.mkdir(dir, { recursive: true });
    return dir;
  }

  /** normalize (over the raw feeds) or transform (over the same arm's curated output). */
  async ours(job: SparkJobName, arm: SparkArm, untimed = ''): Promise<SparkAttemptProfile> {
    const name = `bench-${job}-${arm.name}${untimed}-${this.opts.transactions}`;
    const events = await this.eventDir(name);
    const spark = createSparkActivities({
      platform: await this.platform(events, arm, arm.warm),
      layout: this.layout,
      jobsDir: arm.jobsDir,
      reportingCurrency: this.config.reportingCurrency,
      thresholds: this.config.spark.thresholds,
      // The before arm's jobs, older than the field, ignore it.
      stepsAtOnce: this.config.spark.stepsAtOnce,
      logger: this.logger,
    });
    let inputs: Record<string, string>;
    const curated = this.curated.get(arm.name);
    if (job === 'normalize') inputs = Object.fromEntries(this.feeds.map((f) => [f.feed, `file://${f.path}`]));
    else if (curated) inputs = curated;
    else throw new Error('transform before normalize');
    const t0 = Date.now();
    const submission = (await this.env.run((i: Parameters<typeof spark.submitSparkJob>[0]) => spark.submitSparkJob(i), {
      attemptId: name,
      workflowId: 'bench',
      businessDate: BUSINESS_DATE,
      job,
      attempt: 1,
      resources: this.resources(job),
      inputs,
    })) as SparkSubmission;
    const result = (await this.env.run((s: typeof submission) => spark.awaitSparkJob(s), submission)) as SparkAwaitResult;
    const t1 = Date.now();
    await this.env.run(spark.cleanupSparkJob, { attemptId: name, job, businessDate: BUSINESS_DATE, keepOutput: true });
    if (result.outcome.kind !== 'SUCCEEDED') throw new Error(`${arm.name} ${job} ${result.outcome.kind}: ${result.outcome.reason}`);
    if (job === 'normalize') {
      if (result.output?.job !== 'normalize') throw new Error('normalize produced no output');
      this.curated.set(arm.name, Object.fromEntries(result.output.feeds.map((f) => [f.feed, f.curatedUri])));
    }
    if (result.output) this.digests.set(arm.name, { ...this.digests.get(arm.name), ...(await digestOutput(result.output)) });
    return this.profile(`${job} (${arm.name})`, t0, t1, events, arm.warm);
  }

  /** A cold attempt's profile from its own event log; a warm one's wall time now, the rest at the end. */
  private profile(label: string, t0: number, t1: number, events: string, warm = false): Promise<SparkAttemptProfile> {
    if (!warm) return profileAttempt(label, t0, t1, events);
    this.warmWindows.set(label, { t0, t1 });
    return Promise.resolve(profileEvents(label, t0, t1, []));
  }

  /** Fails when any arm's outputs differ from those recorded for this night. */
  async checkDigests(): Promise<DigestCheck> {
    const { transactions, seed, defectRate } = this.opts;
    const night = `${transactions} transactions, seed ${seed ?? DEFAULT_SEED}, defects ${defectRate ?? DEFAULT_DEFECT_RATE}`;
    let recorded = false;
    let checked = 0;
    // The older side first: a night without recorded digests records the outputs of the code before the change.
    for (const [arm, digests] of [...this.digests].sort(([a]) => (a === 'before' ? -1 : 1))) {
      const check = await checkDigests(night, digests);
      if (check.differing.length > 0) {
        throw new Error(`the Spark jobs' outputs (${arm}) changed for the night of ${night}: ${check.differing.join('; ')} (see bench/spark-digests.json)`);
      }
      recorded ||= check.recorded;
      checked = Object.keys(digests).length;
    }
    return { night, recorded, checked, arms: [...this.digests.keys()] };
  }

  /**
   * Two untimed empty jobs per arm before anything is measured, one launched as a short job and
   * one as a long job: the page cache holds Spark's jars for both sides alike, and the class-data
   * archive of each set of JVM options the arm's jobs may get (normalize's and transform's inputs
   * differ in size) is written now (once per machine and Spark install), not during a measured
   * attempt.
   */
  async warmUp(arms: readonly SparkArm[]): Promise<void> {
    for (const arm of arms.filter((a) => a.warm)) {
      for (let night = 1; night <= WARM_DRIVER_WARM_UP_NIGHTS; night++) {
        const n = await this.ours('normalize', arm, `-warm-up${night}`);
        const t = await this.ours('transform', arm, `-warm-up${night}`);
        this.warmUpNights.push(round(n.wallSeconds + t.wallSeconds));
      }
      this.warmWindows.clear();
    }
    for (const arm of arms) {
      for (const [size, inputBytes] of [['short', 0], ['long', Number.MAX_SAFE_INTEGER]] as const) {
        const name = `bench-warm-${size}-${arm.name}-${this.opts.transactions}`;
        await this.floor(`warm-up ${size} (${arm.name})`, arm, name, 'empty_job.py', (result) => [name, result], inputBytes);
      }
    }
  }

  /** The empty job: Spark's floor for one attempt. */
  async empty(n: number, arm: SparkArm, warm = false): Promise<SparkAttemptProfile> {
    const name = `bench-empty${n}-${arm.name}-${this.opts.transactions}`;
    return this.floor(`empty ${n} (${arm.name}${warm ? ', on the warm driver' : ''})`, arm, name, 'empty_job.py', (result) => [name, result], this.inputBytes, warm);
  }

  /** The copy job over the raw feeds. */
  async copy(arm: SparkArm): Promise<SparkAttemptProfile> {
    const name = `bench-copy-${arm.name}-${this.opts.transactions}`;
    const out = path.join(this.opts.dir, 'copy', arm.name);
    return this.floor(`copy (${arm.name})`, arm, name, 'copy_job.py', (result) => [result, out, ...this.feeds.map((f) => f.path)]);
  }

  private async floor(label: string, arm: SparkArm, attemptId: string, script: string, args: (resultFile: string) => string[], inputBytes = this.inputBytes, warm = false): Promise<SparkAttemptProfile> {
    const events = await this.eventDir(attemptId);
    const platform = await this.platform(events, arm, warm);
    const resultFile = path.join(this.layout.jobOutputDir(BUSINESS_DATE, 'normalize', attemptId), JOB_RESULT_FILE);
    await fs.mkdir(path.dirname(resultFile), { recursive: true });
    const t0 = Date.now();
    const handle = await platform.submit({
      attemptId,
      workflowId: 'bench',
      businessDate: BUSINESS_DATE,
      job: 'normalize',
      attempt: 1,
      resources: this.resources('normalize'),
      mainFile: path.join(process.cwd(), 'bench', 'spark-jobs', script),
      args: args(resultFile),
      sparkConf: {},
      // Launched as our jobs are at this size: the night's raw input decides the short-job options.
      inputBytes,
    });
    const outcome = await platform.await(handle, { signal: new AbortController().signal, onProgress: () => undefined });
    const t1 = Date.now();
    await platform.cleanup(attemptId);
    if (outcome.kind !== 'SUCCEEDED') throw new Error(`${label} ${outcome.kind}: ${outcome.reason}`);
    return this.profile(label, t0, t1, events, warm);
  }
}

/** Milliseconds covered by at least one of `spans` ([start, end], in start order). */
export function coveredMs(spans: readonly (readonly [number, number])[]): number {
  let total = 0;
  let reach = -Infinity;
  for (const [start, end] of spans) {
    if (end <= reach) continue;
    total += end - Math.max(start, reach);
    reach = end;
  }
  return total;
}

function eventLogConf(dir: string): Record<string, string> {
  return { 'spark.eventLog.enabled': 'true', 'spark.eventLog.rolling.enabled': 'false', 'spark.eventLog.compress': 'false', 'spark.eventLog.dir': `file://${dir}` };
}

// ---- the event log -------------------------------------------------------------------------

type SparkEvent = Record<string, unknown> & { Event: string };

interface Execution {
  id: number;
  label: string;
  write: boolean;
  start: number;
  end?: number;
  jobs: number;
  stages: Set<number>;
  tasks: number;
}

const SQL_START = 'org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart';
const SQL_END = 'org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd';
const TASK_END = 'SparkListenerTaskEnd';

/** Reads the one event log in `dir` and splits [t0, t1] (epoch ms) into the profile's parts. */
export async function profileAttempt(name: string, t0: number, t1: number, dir: string): Promise<SparkAttemptProfile> {
  return profileEvents(name, t0, t1, await readEventLog(dir));
}

async function readEventLog(dir: string): Promise<SparkEvent[]> {
  const files = await fs.readdir(dir);
  if (files.length !== 1) throw new Error(`expected one event log in ${dir}, found ${files.length}`);
  const text = await fs.readFile(path.join(dir, files[0] as string), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as SparkEvent);
}

/**
 * The events of one attempt on a shared server: the SQL executions that started in [t0, t1]
 * (their jobs and stages follow by id); no application start, so the attempt's start-up is
 * measured from t0 (its Python, its session).
 */
export function eventsWithin(events: readonly SparkEvent[], t0: number, t1: number): SparkEvent[] {
  const inside = new Set<number>();
  for (const e of events) if (e.Event === SQL_START && (e.time as number) >= t0 && (e.time as number) <= t1) inside.add(e.executionId as number);
  return events.filter((e) => {
    if (e.Event === 'SparkListenerApplicationStart') return false;
    if (e.Event === SQL_START || e.Event === SQL_END) return inside.has(e.executionId as number);
    if (e.Event === TASK_END) {
      const finished = ((e['Task Info'] ?? {}) as Record<string, unknown>)['Finish Time'] as number | undefined;
      return finished !== undefined && finished >= t0 && finished <= t1;
    }
    return true;
  });
}

export function profileEvents(name: string, t0: number, t1: number, events: readonly SparkEvent[]): SparkAttemptProfile {
  let appStart: number | undefined;
  const executions = new Map<number, Execution>();
  const stageTasks = new Map<number, number>();
  const stageExecution = new Map<number, Execution>();
  let taskCpuNs = 0;
  for (const e of events) {
    if (e.Event === 'SparkListenerApplicationStart') appStart = e.Timestamp as number;
    else if (e.Event === TASK_END) {
      const m = (e['Task Metrics'] ?? {}) as Record<string, unknown>;
      taskCpuNs += Number(m['Executor CPU Time'] ?? 0) + Number(m['Executor Deserialize CPU Time'] ?? 0);
    }
    else if (e.Event === SQL_START) {
      const id = e.executionId as number;
      const root = (e.rootExecutionId as number | undefined) ?? id;
      if (root !== id) continue; // a nested execution: its jobs count under its root
      const plan = String(e.physicalPlanDescription ?? '');
      const write = /InsertIntoHadoopFsRelationCommand|WriteFiles/.test(plan);
      // A Connect session's executions are described by their plan: named by the attempt's session instead.
      const description = String(e.description ?? '');
      const label = description.startsWith('Spark Connect') ? 'operation' : description.split(' at ')[0] || 'action';
      executions.set(id, { id, label, write, start: e.time as number, jobs: 0, stages: new Set(), tasks: 0 });
    } else if (e.Event === SQL_END) {
      const exec = executions.get(e.executionId as number);
      if (exec) exec.end = e.time as number;
    } else if (e.Event === 'SparkListenerJobStart') {
      const props = (e.Properties ?? {}) as Record<string, string>;
      const id = Number(props['spark.sql.execution.root.id'] ?? props['spark.sql.execution.id']);
      const exec = executions.get(id);
      if (!exec) continue;
      exec.jobs++;
      for (const s of (e['Stage IDs'] ?? []) as number[]) stageExecution.set(s, exec);
    } else if (e.Event === 'SparkListenerStageCompleted') {
      const info = e['Stage Info'] as Record<string, unknown>;
      stageTasks.set(info['Stage ID'] as number, info['Number of Tasks'] as number);
    }
  }
  // Stages that ran (skipped ones never complete) count under their execution.
  for (const [stage, tasks] of stageTasks) {
    const exec = stageExecution.get(stage);
    if (!exec) continue;
    exec.stages.add(stage);
    exec.tasks += tasks;
  }
  const ordered = [...executions.values()].filter((x) => x.end !== undefined).sort((a, b) => a.start - b.start);
  const start = appStart ?? t0;
  const first = ordered[0]?.start ?? start;
  const last = ordered.reduce((m, x) => Math.max(m, x.end as number), first);
  // The jobs run independent steps side by side: time covered by at least one execution.
  const busy = coveredMs(ordered.map((x) => [x.start, x.end as number] as const));
  const s = (ms: number) => Math.max(0, ms) / 1000;
  return {
    name,
    wallSeconds: s(t1 - t0),
    startSeconds: s(start - t0),
    sessionSeconds: s(first - start),
    actions: ordered.map((x) => ({
      label: x.label,
      write: x.write,
      seconds: s((x.end as number) - x.start),
      jobs: x.jobs,
      stages: x.stages.size,
      tasks: x.tasks,
    })),
    busySeconds: s(busy),
    taskCpuSeconds: taskCpuNs / 1e9,
    betweenSeconds: s(last - first - busy),
    stopSeconds: s(t1 - last),
  };
}

/** The profile as Markdown: one row per attempt, then each attempt's actions, then the ratios per arm. */
export function renderSparkProfile(p: SparkProfileResult): string[] {
  const r = (v: number) => `${round(v)} s`;
  const lines = [
    '| attempt | wall | JVM + Python start | session start | actions (n) | writes (n) | actions\' wall (side by side once) | driver between actions | result + stop + exit |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const arm of p.arms) {
    for (const a of [arm.empty[0], arm.normalize, arm.copy, arm.transform, arm.empty[1], ...(arm.warmEmpty ? [arm.warmEmpty] : [])]) {
      const writes = a.actions.filter((x) => x.write);
      const reads = a.actions.filter((x) => !x.write);
      const sum = (xs: readonly SparkAction[]) => xs.reduce((t, x) => t + x.seconds, 0);
      lines.push(
        `| ${a.name} | **${r(a.wallSeconds)}** | ${r(a.startSeconds)} | ${r(a.sessionSeconds)} | ${r(sum(reads))} (${reads.length}) | ${r(sum(writes))} (${writes.length}) | ${r(a.busySeconds)} | ${r(a.betweenSeconds)} | ${r(a.stopSeconds)} |`,
      );
    }
  }
  lines.push('');
  lines.push(...renderActions(p.arms.flatMap((a) => [a.normalize, a.transform])));
  lines.push('');
  lines.push('| arm | normalize + transform | two empty jobs | ratio (goal ≤ 2.0) | copy job | ratio to the copy job |');
  lines.push('|---|---|---|---|---|---|');
  for (const a of p.arms) {
    const ours = a.normalize.wallSeconds + a.transform.wallSeconds;
    const empty = a.empty[0].wallSeconds + a.empty[1].wallSeconds;
    lines.push(`| ${a.arm} | ${r(ours)} | ${r(empty)} | **${a.emptyRatio}** | ${r(a.copy.wallSeconds)} | ${a.copyRatio} |`);
  }
  for (const a of p.arms.filter((x) => x.warmEmpty)) {
    const ours = a.normalize.wallSeconds + a.transform.wallSeconds;
    lines.push('');
    lines.push(
      `The ${a.arm} arm's driver before it was measured (untimed nights, normalize + transform): ${(a.warmUpNights ?? []).map((s) => `${s} s`).join(', ')} (the first on a fresh server, its start included); ` +
        `an empty job on it took ${r(a.warmEmpty!.wallSeconds)}, so against its own floor the jobs are ${round(ours / (2 * a.warmEmpty!.wallSeconds), 2)} × two such jobs.`,
    );
  }
  lines.push('');
  lines.push(renderDigestCheck(p.digests));
  return lines;
}

/** Each attempt's actions in order: label, seconds, Spark jobs / stages / tasks. */
export function renderActions(attempts: readonly SparkAttemptProfile[]): string[] {
  return attempts.map((a) => {
    const parts = a.actions.map((x) => `${x.write ? 'write ' : ''}${x.label} ${round(x.seconds)} s (${x.jobs}j/${x.stages}s/${x.tasks}t)`);
    return `- ${a.name} (${round(a.wallSeconds)} s; start ${round(a.startSeconds)} s, session ${round(a.sessionSeconds)} s, between actions ${round(a.betweenSeconds)} s, stop ${round(a.stopSeconds)} s; task CPU ${round(a.taskCpuSeconds)} s): ${parts.join(' · ')}`;
  });
}

export function renderDigestCheck(d: DigestCheck): string {
  const what = `${d.checked} digests (per feed counts, reasons, money and rejects; per report rows and CSV)`;
  return d.recorded
    ? `Outputs of ${d.arms.join(', ')}: ${what} recorded for the night of ${d.night} in bench/spark-digests.json.`
    : `Outputs unchanged: ${what} of ${d.arms.join(' and ')} equal those recorded for the night of ${d.night}.`;
}

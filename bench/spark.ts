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
import { LocalSparkPlatform } from '../src/spark/local/local-platform';
import { JOB_RESULT_FILE } from '../src/spark/outcome';
import { round } from './stats';

const BUSINESS_DATE = '2026-11-20';
/** How often the bench's platform looks at a running attempt; the same for every side. */
const POLL_MS = 200;

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
  readonly actions: readonly SparkAction[];
  /** In the driver between actions (Python, planning, result handling). */
  readonly betweenSeconds: number;
  /** Last action → the process seen to exit (result file, stop, JVM exit). */
  readonly stopSeconds: number;
}

export interface SparkBenchResult {
  transactions: number;
  inputRows: number;
  normalizeSeconds: number;
  transformSeconds: number;
  totalSeconds: number;
  inputRowsPerSecond: number;
  driverMemoryMb: number;
  /** The copy job over the same feeds, run in between. */
  copySeconds: number;
  /** (normalize + transform) / copy. */
  copyRatio: number;
}

export interface SparkProfileResult {
  transactions: number;
  inputRows: number;
  driverMemoryMb: number;
  normalize: SparkAttemptProfile;
  transform: SparkAttemptProfile;
  empty: readonly [SparkAttemptProfile, SparkAttemptProfile];
  copy: SparkAttemptProfile;
  /** (normalize + transform) / (two empty jobs). */
  emptyRatio: number;
  /** (normalize + transform) / copy. */
  copyRatio: number;
}

interface BenchOptions {
  readonly dir: string;
  readonly transactions: number;
  readonly driverMemoryMb: number;
  readonly seed?: number;
  readonly defectRate?: number;
}

/** Normalize + transform at a size, with the copy job over the same feeds in the same run. */
export async function benchSpark(config: NightjarConfig, opts: BenchOptions): Promise<SparkBenchResult> {
  const bench = await SparkBench.create(config, opts);
  try {
    const normalize = await bench.ours('normalize');
    const copy = await bench.copy();
    const transform = await bench.ours('transform');
    const total = normalize.wallSeconds + transform.wallSeconds;
    return {
      transactions: opts.transactions,
      inputRows: bench.inputRows,
      normalizeSeconds: round(normalize.wallSeconds),
      transformSeconds: round(transform.wallSeconds),
      totalSeconds: round(total),
      inputRowsPerSecond: Math.round(bench.inputRows / total),
      driverMemoryMb: opts.driverMemoryMb,
      copySeconds: round(copy.wallSeconds),
      copyRatio: round(total / copy.wallSeconds),
    };
  } finally {
    await fs.rm(opts.dir, { recursive: true, force: true });
  }
}

/** Normalize + transform profiled, interleaved with two empty jobs and one copy job. */
export async function benchSparkProfile(config: NightjarConfig, opts: BenchOptions): Promise<SparkProfileResult> {
  const bench = await SparkBench.create(config, opts);
  try {
    const emptyA = await bench.empty(1);
    const normalize = await bench.ours('normalize');
    const copy = await bench.copy();
    const transform = await bench.ours('transform');
    const emptyB = await bench.empty(2);
    const ours = normalize.wallSeconds + transform.wallSeconds;
    return {
      transactions: opts.transactions,
      inputRows: bench.inputRows,
      driverMemoryMb: opts.driverMemoryMb,
      normalize,
      transform,
      empty: [emptyA, emptyB],
      copy,
      emptyRatio: round(ours / (emptyA.wallSeconds + emptyB.wallSeconds)),
      copyRatio: round(ours / copy.wallSeconds),
    };
  } finally {
    await fs.rm(opts.dir, { recursive: true, force: true });
  }
}

class SparkBench {
  private curated: Record<string, string> | undefined;
  private readonly env = new MockActivityEnvironment();
  private readonly logger = pino({ level: 'warn' });

  private constructor(
    private readonly config: NightjarConfig,
    private readonly opts: BenchOptions,
    private readonly layout: DataLayout,
    private readonly feeds: readonly { feed: string; path: string }[],
    readonly inputRows: number,
  ) {}

  static async create(config: NightjarConfig, opts: BenchOptions): Promise<SparkBench> {
    const layout = new DataLayout(opts.dir);
    const generated = await generateFeeds({
      landingDir: layout.landingDir(BUSINESS_DATE),
      businessDate: BUSINESS_DATE,
      seed: opts.seed ?? 3,
      transactions: opts.transactions,
      defectRate: opts.defectRate ?? 0.001,
    });
    const inputRows = generated.feeds.reduce((a, f) => a + f.rows, 0);
    return new SparkBench(config, opts, layout, generated.feeds, inputRows);
  }

  private resources(job: SparkJobName): SparkResources {
    return { ...this.config.spark.defaults[job], driverMemoryMb: this.opts.driverMemoryMb };
  }

  /** A platform whose attempts write their event log to `eventDir`. */
  private platform(eventDir: string): LocalSparkPlatform {
    return new LocalSparkPlatform({
      sparkSubmit: this.config.spark.sparkSubmit,
      pythonPath: this.config.spark.python,
      layout: this.layout,
      pollIntervalMs: POLL_MS,
      extraConf: { 'spark.eventLog.enabled': 'true', 'spark.eventLog.rolling.enabled': 'false', 'spark.eventLog.compress': 'false', 'spark.eventLog.dir': `file://${eventDir}` },
      logger: this.logger,
    });
  }

  private async eventDir(name: string): Promise<string> {
    const dir = path.join(this.opts.dir, 'events', name);
    await fs.mkdir(dir, { recursive: true });
    return dir;
  }

  /** normalize (over the raw feeds) or transform (over normalize's curated output). */
  async ours(job: SparkJobName): Promise<SparkAttemptProfile> {
    const name = `bench-${job}-${this.opts.transactions}`;
    const events = await this.eventDir(name);
    const spark = createSparkActivities({
      platform: this.platform(events),
      layout: this.layout,
      jobsDir: this.config.spark.jobsDir,
      reportingCurrency: this.config.reportingCurrency,
      thresholds: this.config.spark.thresholds,
      logger: this.logger,
    });
    let inputs: Record<string, string>;
    if (job === 'normalize') inputs = Object.fromEntries(this.feeds.map((f) => [f.feed, `file://${f.path}`]));
    else if (this.curated) inputs = this.curated;
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
    if (result.outcome.kind !== 'SUCCEEDED') throw new Error(`${job} ${result.outcome.kind}: ${result.outcome.reason}`);
    if (job === 'normalize') {
      if (result.output?.job !== 'normalize') throw new Error('normalize produced no output');
      this.curated = Object.fromEntries(result.output.feeds.map((f) => [f.feed, f.curatedUri]));
    }
    return profileAttempt(job, t0, t1, events);
  }

  /** The empty job: Spark's floor for one attempt. */
  async empty(n: number): Promise<SparkAttemptProfile> {
    const name = `bench-empty${n}-${this.opts.transactions}`;
    return this.floor(`empty ${n}`, name, 'empty_job.py', (result) => [name, result]);
  }

  /** The copy job over the raw feeds. */
  async copy(): Promise<SparkAttemptProfile> {
    const name = `bench-copy-${this.opts.transactions}`;
    const out = path.join(this.opts.dir, 'copy');
    return this.floor('copy', name, 'copy_job.py', (result) => [result, out, ...this.feeds.map((f) => f.path)]);
  }

  private async floor(label: string, attemptId: string, script: string, args: (resultFile: string) => string[]): Promise<SparkAttemptProfile> {
    const events = await this.eventDir(attemptId);
    const platform = this.platform(events);
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
    });
    const outcome = await platform.await(handle, { signal: new AbortController().signal, onProgress: () => undefined });
    const t1 = Date.now();
    await platform.cleanup(attemptId);
    if (outcome.kind !== 'SUCCEEDED') throw new Error(`${label} ${outcome.kind}: ${outcome.reason}`);
    return profileAttempt(label, t0, t1, events);
  }
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

/** Reads the one event log in `dir` and splits [t0, t1] (epoch ms) into the profile's parts. */
export async function profileAttempt(name: string, t0: number, t1: number, dir: string): Promise<SparkAttemptProfile> {
  const files = await fs.readdir(dir);
  if (files.length !== 1) throw new Error(`expected one event log in ${dir}, found ${files.length}`);
  const text = await fs.readFile(path.join(dir, files[0] as string), 'utf8');
  const events = text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as SparkEvent);
  return profileEvents(name, t0, t1, events);
}

export function profileEvents(name: string, t0: number, t1: number, events: readonly SparkEvent[]): SparkAttemptProfile {
  let appStart: number | undefined;
  const executions = new Map<number, Execution>();
  const stageTasks = new Map<number, number>();
  const stageExecution = new Map<number, Execution>();
  for (const e of events) {
    if (e.Event === 'SparkListenerApplicationStart') appStart = e.Timestamp as number;
    else if (e.Event === SQL_START) {
      const id = e.executionId as number;
      const root = (e.rootExecutionId as number | undefined) ?? id;
      if (root !== id) continue; // a nested execution: its jobs count under its root
      const plan = String(e.physicalPlanDescription ?? '');
      const write = /InsertIntoHadoopFsRelationCommand|WriteFiles/.test(plan);
      const label = String(e.description ?? '').split(' at ')[0] || 'action';
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
  const busy = ordered.reduce((a, x) => a + ((x.end as number) - x.start), 0);
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
    betweenSeconds: s(last - first - busy),
    stopSeconds: s(t1 - last),
  };
}

/** The profile as Markdown: one row per attempt, then each attempt's actions. */
export function renderSparkProfile(p: SparkProfileResult): string[] {
  const r = (v: number) => `${round(v)} s`;
  const attempts = [p.empty[0], p.normalize, p.copy, p.transform, p.empty[1]];
  const lines = [
    '| attempt | wall | JVM + Python start | session start | actions (n) | writes (n) | driver between actions | result + stop + exit |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const a of attempts) {
    const writes = a.actions.filter((x) => x.write);
    const reads = a.actions.filter((x) => !x.write);
    const sum = (xs: readonly SparkAction[]) => xs.reduce((t, x) => t + x.seconds, 0);
    lines.push(
      `| ${a.name} | **${r(a.wallSeconds)}** | ${r(a.startSeconds)} | ${r(a.sessionSeconds)} | ${r(sum(reads))} (${reads.length}) | ${r(sum(writes))} (${writes.length}) | ${r(a.betweenSeconds)} | ${r(a.stopSeconds)} |`,
    );
  }
  lines.push('');
  for (const a of [p.normalize, p.transform]) {
    const parts = a.actions.map((x) => `${x.write ? 'write ' : ''}${x.label} ${round(x.seconds)} s (${x.jobs}j/${x.stages}s/${x.tasks}t)`);
    lines.push(`- ${a.name}: ${parts.join(' · ')}`);
  }
  lines.push('');
  const ours = p.normalize.wallSeconds + p.transform.wallSeconds;
  const empty = p.empty[0].wallSeconds + p.empty[1].wallSeconds;
  lines.push(`normalize + transform ${r(ours)} / two empty jobs ${r(empty)} = **${p.emptyRatio}** (goal ≤ 2.0); / copy job ${r(p.copy.wallSeconds)} = **${p.copyRatio}**`);
  return lines;
}

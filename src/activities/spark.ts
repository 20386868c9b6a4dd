import fs from 'node:fs/promises';
import path from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import pino, { type Logger } from 'pino';
import { z } from 'zod';
import { FailureType } from '../common/failures';
import { toUri, uriToPath, type DataLayout } from '../common/layout';
import { CURRENCY_MINOR_UNITS, FEED_NAMES, FEEDS, KNOWN_CURRENCIES } from '../domain/feeds/catalog';
import { SPARK_REPORTS } from '../domain/reports/catalog';
import type {
  CleanupReport,
  SparkAwaitResult,
  SparkCleanupInput,
  SparkJobOutput,
  SparkSubmission,
  SparkSubmitInput,
} from '../domain/pipeline';
import { recordedPods } from '../domain/spark/attempt-pods';
import type { SparkAttemptOutcome } from '../domain/spark/resources';
import { JOB_RESULT_FILE } from '../spark/outcome';
import type { SparkAttemptHandle, SparkPlatform, SparkProgress, WorkflowState } from '../spark/platform';
import { exists } from '../common/files';

/** Parameters of the transform job's risk alerts (docs/spark-jobs.md). */
export interface TransformThresholds {
  readonly largeValueRpt: number;
  readonly structuringThresholdRpt: number;
  readonly structuringBandLow: number;
  readonly structuringMinCount: number;
}

export interface SparkActivityDeps {
  readonly platform: SparkPlatform;
  readonly layout: DataLayout;
  /** Absolute path of the `spark/` directory (jobs and the `nightjar_spark` package). */
  readonly jobsDir: string;
  readonly reportingCurrency: string;
  readonly thresholds: TransformThresholds;
  /** Independent steps of a job's first attempt at once (`stepsAtOnce` in its spec; later attempts 1); the job's own default when absent. */
  readonly stepsAtOnce?: number;
  readonly logger?: Logger;
  /**
   * Whether a workflow is still open. The server answers a heartbeat of a wait it has already timed
   * out with "not found", as it does when the workflow has closed: only this tells the two apart.
   * Without it a not-found cancellation stops the attempt.
   */
  readonly workflowState?: (workflowId: string) => Promise<WorkflowState>;
}

/** What `awaitSparkJob` heartbeats; a retry finds the attempt it was watching here. */
export interface SparkAwaitHeartbeat extends SparkProgress {
  readonly attemptId: string;
}

const SPEC_FILE = 'spec.json';
const PACKAGE = 'nightjar_spark';
const PACKAGE_ZIP = `${PACKAGE}.zip`;
/** Attempt ids name Kubernetes objects: DNS-1123 labels (lower case, digits, '-', at most 63). */
const ATTEMPT_ID = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Steps side by side for one attempt: the configured number on a job's first attempt, one at a
 * time on any later one (after an out-of-memory, a transient failure or an operator's retry). Steps
 * side by side hold their memory at once; a retry buys its headroom back with the speed, so an
 * escalated attempt gets both more memory and the single step's peak.
 */
export function stepsAtOnce(attempt: number, configured: number): number {
  return attempt > 1 ? 1 : configured;
}

/** The job spec the PySpark jobs read (docs/spark-jobs.md). */
export function buildJobSpec(
  input: SparkSubmitInput,
  context: { readonly layout: DataLayout; readonly reportingCurrency: string; readonly thresholds: TransformThresholds; readonly stepsAtOnce?: number },
) {
  const outputUri = toUri(context.layout.jobOutputDir(input.businessDate, input.job, input.attemptId));
  const common = {
    job: input.job,
    attemptId: input.attemptId,
    businessDate: input.businessDate,
    reportingCurrency: context.reportingCurrency,
    outputUri,
    resultUri: `${outputUri}/${JOB_RESULT_FILE}`,
    catalog: FEEDS,
    knownCurrencies: KNOWN_CURRENCIES,
    minorUnits: CURRENCY_MINOR_UNITS,
    inputs: input.inputs,
    ...(context.stepsAtOnce !== undefined ? { stepsAtOnce: stepsAtOnce(input.attempt, context.stepsAtOnce) } : {}),
  };
  return input.job === 'transform' ? { ...common, reports: SPARK_REPORTS, thresholds: context.thresholds } : common;
}

const count = z.number().int().nonnegative();
/** An exact decimal as the jobs write sums ("-12.50"): never a JSON number, which would be a double. */
const decimalText = z.string().regex(/^-?[0-9]+(\.[0-9]+)?$/, 'an exact decimal written as text');
const NormalizeResult = z.object({
  job: z.literal('normalize'),
  feeds: z.array(
    z.object({
      feed: z.enum(FEED_NAMES),
      rowsIn: count,
      rowsAccepted: count,
      rowsRejected: count,
      rejectReasons: z.record(z.string(), count),
      amountAccepted: decimalText,
      amountRejected: decimalText,
      curatedUri: z.string().min(1),
      rejectsUri: z.string().min(1),
    }),
  ),
});
const TransformResult = z.object({
  job: z.literal('transform'),
  reports: z.array(z.object({ report: z.enum(SPARK_REPORTS.map((r) => r.name)), uri: z.string().min(1), rows: count })),
});
/** The `_result.json` a succeeded job wrote last. */
export const JobResult = z.discriminatedUnion('job', [NormalizeResult, TransformResult]);

/**
 * `{ inputBytes }`: the size of every input (a file, or a directory's files) when all are local
 * `file:` URIs that can be read; `{}` otherwise (the platform then treats the job as a long one).
 */
export async function localInputBytes(inputs: Readonly<Record<string, string>>): Promise<{ inputBytes?: number }> {
  const sizeOf = async (p: string): Promise<number> => {
    const st = await fs.stat(p);
    if (!st.isDirectory()) return st.size;
    const entries = await fs.readdir(p);
    return (await Promise.all(entries.map((e) => sizeOf(path.join(p, e))))).reduce((a, b) => a + b, 0);
  };
  try {
    const sizes = await Promise.all(Object.values(inputs).map((uri) => sizeOf(uriToPath(uri))));
    return { inputBytes: sizes.reduce((a, b) => a + b, 0) };
  } catch {
    return {};
  }
}

export function createSparkActivities(deps: SparkActivityDeps) {
  const { platform, layout } = deps;
  const logger = deps.logger ?? pino({ enabled: false });

  return {
    /**
     * Writes the attempt's job spec and starts the attempt. Idempotent by attempt id: a retry
     * (or a second call) adopts the attempt the first one started.
     */
    async submitSparkJob(input: SparkSubmitInput): Promise<SparkSubmission> {
      const { attemptId, job, businessDate } = input;
      if (!ATTEMPT_ID.test(attemptId)) {
        throw ApplicationFailure.create({
          type: FailureType.InvalidInput,
          message: `invalid Spark attempt id '${attemptId}': lower-case letters, digits and '-' only, at most 63 characters`,
          nonRetryable: true,
        });
      }
      // Spec and package are written once per attempt: a retry after a deploy must not swap
      // the files under a job that is already running from them.
      const workDir = layout.sparkWorkDir(attemptId);
      const spec = buildJobSpec(input, deps);
      const specFile = path.join(workDir, SPEC_FILE);
      await writeFileOnce(specFile, () => `${JSON.stringify(spec, null, 2)}\n`);

      const sparkConf: Record<string, string> = {};
      // The path on this machine; the Kubernetes platform maps the job to its path in the image.
      const mainFile = path.join(deps.jobsDir, 'jobs', `${job}.py`);
      if (platform.kind === 'local') {
        await requireFile(mainFile);
        // A snapshot of the package per attempt: the job imports the code it was submitted
        // with, even if the checkout changes while it runs. Spark takes zips, not directories.
        const zip = path.join(workDir, PACKAGE_ZIP);
        await writeFileOnce(zip, () => zipDirectory(path.join(deps.jobsDir, PACKAGE), PACKAGE));
        sparkConf['spark.submit.pyFiles'] = zip;
      }

      const handle = await platform.submit({
        attemptId,
        workflowId: input.workflowId,
        businessDate,
        job,
        attempt: input.attempt,
        resources: input.resources,
        mainFile,
        args: ['--spec', specFile],
        sparkConf,
        // On Kubernetes too: the shared data volume is mounted at the same path on the worker.
        ...(await localInputBytes(input.inputs)),
      });
      logger.info({ businessDate, job, attempt: input.attempt, attemptId, handle: handle.handle }, 'spark job submitted');
      return {
        attemptId,
        job,
        businessDate,
        platform: handle.platform,
        handle: handle.handle,
        submittedAt: handle.submittedAt,
        outputUri: spec.outputUri,
        resultUri: spec.resultUri,
      };
    },

    /**
     * Waits for the attempt to end, heartbeating its progress. A cancellation from the workflow
     * stops the attempt first; a worker shutdown, a timeout or a pause leave it running, so the
     * retry of this activity simply adopts it again.
     */
    async awaitSparkJob(submission: SparkSubmission): Promise<SparkAwaitResult> {
      const ctx = Context.current();
      const { attemptId, job, businessDate } = submission;
      const log = logger.child({ attemptId, job, businessDate, activityAttempt: ctx.info.attempt });
      const previous = ctx.info.heartbeatDetails as Partial<SparkAwaitHeartbeat> | undefined;
      if (previous?.attemptId === attemptId) log.info({ previous }, 'resuming the wait for a running spark attempt');

      const stop = new AbortController();
      const detach = new AbortController();
      const onCancel = () => {
        void leavesAttemptRunning(ctx, deps.workflowState, log).then((leave) => {
          if (leave) detach.abort(ctx.cancellationSignal.reason ?? new CancelledFailure('cancelled'));
          else stop.abort(ctx.cancellationSignal.reason);
        });
      };
      if (ctx.cancellationSignal.aborted) onCancel();
      else ctx.cancellationSignal.addEventListener('abort', onCancel, { once: true });

      const handle: SparkAttemptHandle = {
        attemptId,
        platform: submission.platform,
        handle: submission.handle,
        submittedAt: submission.submittedAt,
      };
      ctx.heartbeat({ attemptId, state: 'WAITING', elapsedMs: Date.now() - Date.parse(submission.submittedAt) } satisfies SparkAwaitHeartbeat);
      try {
        const outcome = boundedPods(
          await platform.await(handle, {
            signal: stop.signal,
            detach: detach.signal,
            onProgress: (progress) => ctx.heartbeat({ attemptId, ...progress } satisfies SparkAwaitHeartbeat),
          }),
        );
        if (outcome.kind !== 'SUCCEEDED') {
          if (stop.signal.aborted) {
            log.info({ reason: outcome.reason }, 'spark attempt stopped on cancellation');
            throw stop.signal.reason instanceof CancelledFailure ? stop.signal.reason : new CancelledFailure('cancelled');
          }
          log.warn({ outcome: outcome.kind, reason: outcome.reason, exitCode: outcome.exitCode }, 'spark attempt failed');
          return { outcome };
        }
        const output = await readJobOutput(submission);
        log.info({ outcome: outcome.kind }, 'spark attempt succeeded');
        return { outcome, output };
      } finally {
        ctx.cancellationSignal.removeEventListener('abort', onCancel);
      }
    },

    /**
     * Stops the attempt if it still runs and removes its scratch; also its output unless the
     * workflow keeps it (a succeeded attempt). Safe to call any number of times.
     */
    async cleanupSparkJob(input: SparkCleanupInput): Promise<CleanupReport> {
      const report = await platform.cleanup(input.attemptId);
      const removed = [...report.removed];
      let remaining = report.remaining;
      if (!input.keepOutput) {
        const outputDir = layout.jobOutputDir(input.businessDate, input.job, input.attemptId);
        if (await exists(outputDir)) {
          await fs.rm(outputDir, { recursive: true, force: true });
          removed.push(`output ${outputDir}`);
        }
        if (await exists(outputDir)) remaining += 1;
      }
      logger.info({ attemptId: input.attemptId, job: input.job, removed, remaining }, 'spark attempt cleaned up');
      return { attemptId: input.attemptId, removed, remaining };
    },
  };
}

/**
 * Cancellations that are not a decision about the job: the worker is going away (the server
 * retries the activity sooner when it fails with the cancellation), the activity timed out
 * (a retry is coming) or it was paused. The Spark attempt keeps running and is adopted later.
 *
 * "Not found" is ambiguous: the server says it of a wait whose heartbeat came too late (it has
 * timed the activity out and will retry it) and of a wait whose workflow has closed. Stopping the
 * attempt in the first case throws away a running job and submits it again, so the workflow is
 * asked: still running means a retry (or its own clean-up) is coming. When the server cannot be
 * asked either, the attempt is left running too: the workflow's clean-up or the janitor collects it.
 */
async function leavesAttemptRunning(
  ctx: Context,
  workflowState: SparkActivityDeps['workflowState'],
  log: Logger,
): Promise<boolean> {
  const details = ctx.cancellationDetails;
  const reason: unknown = ctx.cancellationSignal.reason;
  const message = reason instanceof Error ? reason.message : String(reason);
  if (details?.cancelRequested || details?.reset) return false;
  if (details?.notFound || message === 'NOT_FOUND') return workflowStillOpen(ctx.info.workflowExecution?.workflowId, workflowState, log);
  if (details?.workerShutdown || details?.timedOut || details?.paused) return true;
  return message === 'WORKER_SHUTDOWN' || message === 'TIMED_OUT' || message === 'PAUSED';
}

async function workflowStillOpen(
  workflowId: string | undefined,
  workflowState: SparkActivityDeps['workflowState'],
  log: Logger,
): Promise<boolean> {
  if (workflowState === undefined || workflowId === undefined) return false;
  try {
    const state = await workflowState(workflowId);
    const open = state === 'RUNNING';
    log.info(
      { workflowId, workflowState: state },
      open ? 'the server timed the wait out; the spark attempt is left running for the retry' : 'the workflow has closed; stopping the spark attempt',
    );
    return open;
  } catch (error) {
    log.warn({ workflowId, err: error }, 'the wait is unknown to the server and the workflow could not be asked; the spark attempt is left running');
    return true;
  }
}

async function readJobOutput(submission: SparkSubmission): Promise<SparkJobOutput> {
  const file = uriToPath(submission.resultUri);
  const malformed = (problem: string) =>
    ApplicationFailure.create({
      type: FailureType.SparkJobFailed,
      message: `malformed result file ${file}: ${problem}`,
      nonRetryable: true,
    });
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    if (err instanceof SyntaxError) throw malformed(`not JSON (${err.message})`);
    throw err;
  }
  const parsed = JobResult.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw malformed(issues.join('; '));
  }
  const result = parsed.data;
  if (result.job !== submission.job) throw malformed(`written by job '${result.job}', expected '${submission.job}'`);
  return result.job === 'normalize' ? { job: 'normalize', feeds: result.feeds } : { job: 'transform', reports: result.reports };
}

// ---- files -----------------------------------------------------------------------------

/** Writes `target` (temp file + rename) unless it exists: readers never see half a file. */
async function writeFileOnce(target: string, content: () => string | Buffer | Promise<Buffer>): Promise<void> {
  if (await exists(target)) return;
  await writeFileAtomic(target, await content());
}

async function writeFileAtomic(target: string, content: string | Buffer): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
  await fs.writeFile(tmp, content);
  await fs.rename(tmp, target);
}

async function requireFile(file: string): Promise<void> {
  if (!(await exists(file))) {
    throw ApplicationFailure.create({
      type: FailureType.SparkJobFailed,
      message: `Spark job entry point not found: ${file} (is jobsDir the repository's spark/ directory?)`,
      nonRetryable: true,
    });
  }
}

/** Files under `dir`, relative, sorted; compiled Python and hidden files left out. */
async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const entries = await fs.readdir(path.join(dir, prefix), { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (entry.name.startsWith('.') || entry.name === '__pycache__' || entry.name.endsWith('.pyc')) continue;
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await listFiles(dir, rel)));
    else if (entry.isFile()) files.push(rel);
  }
  return files;
}

/**
 * A zip of `dir` with its files under `root/`, as Python's zipimport reads it (what
 * `--py-files` ships). Deterministic: sorted entries and a fixed timestamp, so a resubmitted
 * attempt gets the same bytes. Small packages only (no ZIP64).
 */
export async function zipDirectory(dir: string, root: string): Promise<Buffer> {
  const DOS_DATE_1980_01_01 = (0 << 9) | (1 << 5) | 1;
  const UTF8_NAMES = 0x0800;
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const rel of await listFiles(dir)) {
    const data = await fs.readFile(path.join(dir, rel));
    const name = Buffer.from(`${root}/${rel}`, 'utf8');
    const deflated = deflateRawSync(data);
    const [method, body] = deflated.length < data.length ? [8, deflated] : [0, data];
    const crc = crc32(data);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0
    local.writeUInt16LE(UTF8_NAMES, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10); // time 00:00:00
    local.writeUInt16LE(DOS_DATE_1980_01_01, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28); // no extra field
    locals.push(local, name, body);

    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, 2.0 (so the mode below is read)
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(UTF8_NAMES, 8);
    entry.writeUInt16LE(method, 10);
    entry.writeUInt16LE(0, 12);
    entry.writeUInt16LE(DOS_DATE_1980_01_01, 14);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(body.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(name.length, 28);
    entry.writeUInt16LE(0, 30); // extra
    entry.writeUInt16LE(0, 32); // comment
    entry.writeUInt16LE(0, 34); // disk
    entry.writeUInt16LE(0, 36); // internal attributes
    entry.writeUInt32LE((0o100644 << 16) >>> 0, 38); // regular file, rw-r--r--
    entry.writeUInt32LE(offset, 42);
    central.push(entry, name);

    offset += local.length + name.length + body.length;
  }
  const centralSize = central.reduce((n, b) => n + b.length, 0);
  const entries = central.length / 2;
  if (offset + centralSize > 0xffffffff || entries > 0xffff) throw new Error(`${dir} is too large to zip without ZIP64`);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0, 4);
  end.writeUInt16LE(0, 6);
  end.writeUInt16LE(entries, 8);
  end.writeUInt16LE(entries, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(0, 20);
  return Buffer.concat([...locals, ...central, end]);
}

/** The outcome with its pods bounded for the workflow's history (driver and failed pods first). */
function boundedPods(outcome: SparkAttemptOutcome): SparkAttemptOutcome {
  if (outcome.pods === undefined) return outcome;
  const { pods, omitted } = recordedPods(outcome.pods);
  return { ...outcome, pods, ...(omitted > 0 ? { podsOmitted: omitted } : {}) };
}

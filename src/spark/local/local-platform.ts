import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import pino, { type Logger } from 'pino';
import { toUri, type DataLayout } from '../../common/layout';
import type { CleanupReport } from '../../domain/pipeline';
import { attemptJavaOptions, isShortAttempt, type SparkJavaOptions } from '../../domain/spark/java-options';
import type { SparkAttemptOutcome } from '../../domain/spark/resources';
import { classifyLocalExit, JOB_RESULT_FILE, parseProgressLine, tailLines } from '../outcome';
import type {
  AwaitOptions,
  SparkAttemptHandle,
  SparkAttemptRequest,
  SparkPlatform,
  SparkProgress,
  SweepOptions,
  SweepReport,
  WorkflowState,
} from '../platform';
import { ClassDataArchives, javaOptionValue } from '../class-data';
import { carryOutSweep, decideSweep, workflowStates, type SweepCandidate } from '../sweep';
import { exists, readFileTail } from '../../common/files';
import { commandLineHas, environmentHas, liveProcessGroup, otherProcessIds, tryKill } from './processes';
import { fitsWarmDriver, REMOTE_ENV, serverDeathNotice, sessionConf, sessionUrl, warmServerAlive, type WarmDriver } from './warm-driver';

/** The JVM options (the driver's own, short and long jobs') are {@link SparkJavaOptions}. */
export interface LocalSparkPlatformOptions extends SparkJavaOptions {
  /** Absolute path of `spark-submit`. */
  readonly sparkSubmit: string;
  /** The Python with pyspark installed; becomes PYSPARK_PYTHON and PYSPARK_DRIVER_PYTHON. */
  readonly pythonPath: string;
  readonly layout: DataLayout;
  /** The `--master` for an attempt's driver cores; `local[N]` by default. */
  readonly master?: (cores: number) => string;
  /** How often a running attempt is looked at (exit, progress). Default 1000 ms. */
  readonly pollIntervalMs?: number;
  /** How long a stopped attempt gets between SIGTERM and SIGKILL. Default 10 s. */
  readonly killGraceMs?: number;
  /** Spark configuration for every attempt (over the platform's defaults, under the job's own). */
  readonly extraConf?: Readonly<Record<string, string>>;
  /**
   * Where the drivers' class-data sharing archive lives (a directory outside any checkout). The
   * first attempt that finds no archive for this spark-submit and these JVM options writes it
   * when it exits (a dynamic archive of the classes it loaded); later attempts map it instead of
   * loading and verifying Spark's classes from the jars. Absent: no class-data sharing.
   */
  readonly classDataDir?: string;
  readonly logger?: Logger;
  /** Environment spark-submit starts from; the worker's own environment when absent. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Short attempts at the default memory run on it when a slot is free (see {@link WarmDriver}). */
  readonly warmDriver?: WarmDriver;
}

/** What `submission.json` in the attempt's work dir records: enough to find the attempt again. */
interface SubmissionRecord {
  readonly attemptId: string;
  readonly pid: number;
  readonly job: SparkAttemptRequest['job'];
  readonly businessDate: string;
  readonly workflowId: string;
  readonly attempt: number;
  readonly submittedAt: string;
  readonly logFile: string;
  readonly resultFile: string;
  /** Set when the attempt runs on the warm driver: the server it runs on and its session. */
  readonly warm?: WarmSession;
}

interface WarmSession {
  readonly serverPid: number;
  readonly serverLog: string;
  readonly url: string;
  /** The client's PYTHONPATH: the attempt's snapshot of the jobs' package. */
  readonly pythonPath: string;
}

/** A started attempt process; `exited` keeps what the exit means for the class-data archive. */
interface Launched {
  readonly child: ChildProcess;
  readonly command: string;
  readonly exited?: (clean: boolean) => Promise<void>;
}

interface ExitRecord {
  readonly code: number | null;
  readonly signal: string | null;
}

/** Environment variable every process of an attempt inherits, so stragglers can be found. */
export const ATTEMPT_ENV = 'NIGHTJAR_SPARK_ATTEMPT';
/** JVM system property on the driver's command line; `/proc/<pid>/cmdline` proves the pid is ours. */
export const ATTEMPT_PROPERTY = '-Dnightjar.attempt';

const SUBMISSION_FILE = 'submission.json';
/** What the janitor calls an attempt on this machine: its work dir and the processes it started. */
const LOCAL_ATTEMPT_KIND = 'LocalSparkAttempt';
const EXIT_FILE = 'exit.json';
const CANCEL_FILE = 'cancelled.json';
const ATTEMPT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;
/** Enough of the driver log to find an OutOfMemoryError that scrolled up behind Python's traceback. */
const CLASSIFY_TAIL_BYTES = 1024 * 1024;
const FIRST_PROGRESS_READ_BYTES = 64 * 1024;
const MAX_PROGRESS_DETAIL = 500;
/** A job that wrote its result but does not exit (a stuck non-daemon thread) is stopped after this. */
const RESULT_EXIT_GRACE_MS = 60_000;
const KILL_POLL_MS = 200;
const SIGKILL_WAIT_MS = 5_000;
/** How long the release of a stopped warm attempt's session may take. */
const RELEASE_TIMEOUT_MS = 30_000;
/**
 * Interrupts whatever the session named by argv[1] still runs on the warm driver and releases
 * the session (the server goes on). pyspark alone, not the job's package: it must work whatever
 * the attempt shipped.
 */
const RELEASE_SESSION_PY = [
  'import sys',
  'from pyspark.sql import SparkSession',
  'spark = SparkSession.builder.remote(sys.argv[1]).getOrCreate()',
  'try:',
  '    spark.interruptAll()',
  'finally:',
  '    spark.stop()',
].join('\n');

/**
 * Runs Spark jobs with `spark-submit` on this machine, one detached process group per attempt
 * (Linux: processes are found through /proc). The attempt's work dir holds what a later call
 * (after a worker restart) needs to find it: `submission.json` (pid, date, files), `exit.json`
 * (written when this process saw it exit) and `cancelled.json`. The driver log is written
 * straight to the run's log directory, so it is kept whatever happens to the work dir.
 */
export class LocalSparkPlatform implements SparkPlatform {
  readonly kind = 'local' as const;
  private readonly pollIntervalMs: number;
  private readonly killGraceMs: number;
  private readonly logger: Logger;
  private readonly submitting = new Map<string, Promise<SparkAttemptHandle>>();
  /** Exits of the children this process started, in case `exit.json` is not written yet. */
  private readonly exits = new Map<string, Promise<ExitRecord>>();
  private readonly classData: ClassDataArchives;
  /** Attempts holding one of the warm driver's slots in this process. */
  private readonly warmSlots = new Set<string>();

  constructor(private readonly options: LocalSparkPlatformOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.killGraceMs = options.killGraceMs ?? 10_000;
    this.logger = options.logger ?? pino({ enabled: false });
    this.classData = new ClassDataArchives(options.classDataDir, this.logger);
  }

  submit(request: SparkAttemptRequest): Promise<SparkAttemptHandle> {
    if (!ATTEMPT_ID.test(request.attemptId)) {
      return Promise.reject(new Error(`invalid attempt id '${request.attemptId}': letters, digits, '.', '_' and '-' only`));
    }
    // Two calls racing in this process must not both spawn.
    const pending = this.submitting.get(request.attemptId);
    if (pending) return pending;
    const started = this.submitOnce(request).finally(() => this.submitting.delete(request.attemptId));
    this.submitting.set(request.attemptId, started);
    return started;
  }

  /**
   * Polls until the attempt ends. Aborting `signal` stops the attempt; aborting `detach` ends
   * the wait without stopping it (the activity does so when the worker shuts down).
   */
  async await(handle: SparkAttemptHandle, options: AwaitOptions): Promise<SparkAttemptOutcome> {
    const { attemptId } = handle;
    const workDir = this.options.layout.sparkWorkDir(attemptId);
    const sub = await readJson<SubmissionRecord>(path.join(workDir, SUBMISSION_FILE));
    if (!sub) {
      return {
        kind: 'TRANSIENT',
        reason: `no submission record for attempt ${attemptId} (never submitted, or already cleaned up)`,
        diagnostics: [],
      };
    }
    const startedAt = Date.parse(sub.submittedAt);
    const log = new ProgressReader(sub.logFile);
    let latest: string | undefined;
    let resultSeenAt: number | undefined;

    const wake = options.detach ? AbortSignal.any([options.signal, options.detach]) : options.signal;
    for (;;) {
      if (options.detach?.aborted) throw options.detach.reason;
      if (options.signal.aborted) {
        await this.stop(sub, 'cancelled');
        return this.finish(sub, await this.observedExit(sub), true);
      }
      const exit = await readJson<ExitRecord>(path.join(workDir, EXIT_FILE));
      if (exit || !(await isAttemptProcess(sub.pid, attemptId))) {
        return this.finish(sub, exit ?? (await this.observedExit(sub)), false);
      }
      if (sub.warm && !(await warmServerAlive(sub.warm.serverPid))) {
        // Its client would retry the dead server for minutes: the attempt ended with the server.
        await this.stop(sub, 'the warm driver it ran on died');
        return this.finish(sub, await this.observedExit(sub), false);
      }

      latest = (await log.latest()) ?? latest;
      const progress: SparkProgress = {
        state: latest === undefined ? 'STARTING' : 'RUNNING',
        elapsedMs: Date.now() - startedAt,
        ...(latest === undefined ? {} : { detail: latest }),
      };
      options.onProgress(progress);

      if (await exists(sub.resultFile)) {
        resultSeenAt ??= Date.now();
        if (Date.now() - resultSeenAt > RESULT_EXIT_GRACE_MS) {
          this.logger.warn({ attemptId, pid: sub.pid }, 'spark job wrote its result but does not exit: stopping it');
          await this.stop(sub, 'result written but the driver did not exit');
          return this.finish(sub, await this.observedExit(sub), false);
        }
      }
      await this.nextLook(attemptId, wake);
    }
  }

  /** The poll interval, cut short by the abort of `wake` or the exit of a child this process started. */
  private async nextLook(attemptId: string, wake: AbortSignal): Promise<void> {
    const exited = this.exits.get(attemptId);
    if (!exited) return sleep(this.pollIntervalMs, wake);
    const done = new AbortController();
    try {
      await Promise.race([sleep(this.pollIntervalMs, AbortSignal.any([wake, done.signal])), exited]);
    } finally {
      done.abort();
    }
  }

  async cleanup(attemptId: string): Promise<CleanupReport> {
    if (!ATTEMPT_ID.test(attemptId)) throw new Error(`invalid attempt id '${attemptId}'`);
    const workDir = this.options.layout.sparkWorkDir(attemptId);
    const removed: string[] = [];
    const sub = await readJson<SubmissionRecord>(path.join(workDir, SUBMISSION_FILE)).catch(() => undefined);
    const killed = await this.killAttempt(attemptId);
    if (killed.length > 0 && sub) await this.releaseWarmSession(sub);
    this.releaseWarmSlot(attemptId);
    this.exits.delete(attemptId);
    if (killed.length > 0) removed.push(`processes ${killed.join(', ')}`);
    if (await exists(workDir)) {
      await fs.rm(workDir, { recursive: true, force: true });
      removed.push(`work dir ${workDir}`);
    }
    const left = (await exists(workDir) ? 1 : 0) + (await findAttemptProcesses(attemptId)).length;
    this.logger.info({ attemptId, removed, remaining: left }, 'spark attempt cleaned up');
    return { attemptId, removed, remaining: left };
  }

  /** The worker stops: the warm driver stops too, unless an attempt still runs on it. */
  async close(): Promise<void> {
    await this.options.warmDriver?.close();
  }

  /**
   * The janitor on this machine: each attempt work dir whose workflow is closed or unknown to
   * Temporal and that is old enough goes the way {@link cleanup} takes it (its processes
   * stopped, the dir removed; the driver log stays in the run's log dir). A dir whose submission
   * was never recorded (the worker died between writing the job's files and starting it) has no
   * workflow and counts by its own age.
   */
  async sweep(workflowState: (workflowId: string) => Promise<WorkflowState>, options: SweepOptions): Promise<SweepReport> {
    const candidates = await this.attemptDirs();
    const decision = decideSweep(candidates, await workflowStates(candidates, workflowState), options.now, options.minAgeMs);
    const where = `${this.options.layout.sparkWorkRoot()} (local Spark)`;
    const remove = async (obj: { name: string }) => {
      const report = await this.cleanup(obj.name);
      if (report.remaining > 0) throw new Error(`${report.remaining} of its processes or its work dir remain after the clean-up`);
    };
    return carryOutSweep(where, candidates.length, decision, remove, options);
  }

  // -------------------------------------------------------------------------------------

  /** Every attempt work dir on this machine, with the workflow and time its submission recorded. */
  private async attemptDirs(): Promise<SweepCandidate<typeof LOCAL_ATTEMPT_KIND>[]> {
    const root = this.options.layout.sparkWorkRoot();
    const entries = await fs.readdir(root, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    });
    const found: SweepCandidate<typeof LOCAL_ATTEMPT_KIND>[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory() || !ATTEMPT_ID.test(entry.name)) continue;
      const dir = path.join(root, entry.name);
      const sub = await readJson<SubmissionRecord>(path.join(dir, SUBMISSION_FILE)).catch(() => undefined);
      const submittedMs = sub === undefined ? Number.NaN : Date.parse(sub.submittedAt);
      const createdMs = Number.isNaN(submittedMs) ? (await fs.stat(dir).catch(() => undefined))?.mtimeMs : submittedMs;
      if (createdMs === undefined) continue; // removed meanwhile
      const workflowId = typeof sub?.workflowId === 'string' ? sub.workflowId : null;
      found.push({ kind: LOCAL_ATTEMPT_KIND, name: entry.name, workflowId, attemptId: entry.name, createdMs });
    }
    return found;
  }

  private async submitOnce(request: SparkAttemptRequest): Promise<SparkAttemptHandle> {
    const { attemptId, businessDate, job } = request;
    const { layout } = this.options;
    const workDir = layout.sparkWorkDir(attemptId);
    const submissionFile = path.join(workDir, SUBMISSION_FILE);

    const existing = await readJson<SubmissionRecord>(submissionFile);
    if (existing) {
      this.logger.info({ attemptId, pid: existing.pid }, 'spark attempt already submitted: adopting it');
      return toHandle(existing);
    }

    const logFile = layout.logFile(businessDate, attemptId);
    const record = (pid: number): SubmissionRecord => ({
      attemptId,
      pid,
      job,
      businessDate,
      workflowId: request.workflowId,
      attempt: request.attempt,
      submittedAt: new Date().toISOString(),
      logFile,
      resultFile: path.join(layout.jobOutputDir(businessDate, job, attemptId), JOB_RESULT_FILE),
    });

    // Started by an earlier call that died before it could record the submission.
    const running = await findAttemptProcesses(attemptId);
    const leader = running.find((p) => p.pid === p.pgid) ?? running[0];
    if (leader) {
      const adopted = record(leader.pid);
      await writeJsonAtomic(submissionFile, adopted);
      this.logger.warn({ attemptId, pid: leader.pid }, 'found an unrecorded spark process for this attempt: adopting it');
      return toHandle(adopted);
    }

    const tmpDir = path.join(workDir, 'tmp');
    await fs.mkdir(tmpDir, { recursive: true });
    await fs.mkdir(path.dirname(logFile), { recursive: true });
    const warm = await this.warmSession(request);
    const launched = warm ? this.launchWarm(request, workDir, logFile, warm) : await this.launchCold(request, workDir, logFile);
    const { child } = launched;
    const exitFile = path.join(workDir, EXIT_FILE);
    const exited = new Promise<ExitRecord>((resolve) => {
      child.once('exit', (code, signal) => {
        const exit = { code, signal };
        launched.exited?.(code === 0).catch((err: unknown) => this.logger.warn({ attemptId, err }, 'could not keep the class-data archive'));
        resolve(exit);
        writeJsonAtomic(exitFile, { ...exit, at: new Date().toISOString() }).catch((err: unknown) =>
          this.logger.warn({ attemptId, err }, 'could not record the spark-submit exit'),
        );
      });
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => {
        if (warm) this.releaseWarmSlot(attemptId);
        reject(new Error(`cannot start ${launched.command}: ${err.message}`));
      });
    });
    this.exits.set(attemptId, exited);
    // The worker must not wait for the job to exit; the job must not die with the worker.
    child.unref();
    const pid = child.pid as number;

    const submitted = { ...record(pid), ...(warm ? { warm } : {}) };
    await writeJsonAtomic(submissionFile, submitted);
    this.logger.info({ attemptId, pid, job, businessDate, logFile, warmDriver: warm !== undefined }, warm ? 'spark job started on the warm driver' : 'spark-submit started');
    return toHandle(submitted);
  }

  /** A cold attempt: spark-submit starts a driver JVM of its own. */
  private async launchCold(request: SparkAttemptRequest, workDir: string, logFile: string): Promise<Launched> {
    const { attemptId, job } = request;
    const tmpDir = path.join(workDir, 'tmp');
    const javaOptions = attemptJavaOptions(this.options, job, request.inputBytes).driver;
    const classData = await this.classData.launch('driver', this.options.sparkSubmit, javaOptions, attemptId);
    const args = buildSparkSubmitArgs({
      request,
      workDir,
      master: (this.options.master ?? ((cores) => `local[${cores}]`))(request.resources.driverCores),
      extraConf: this.options.extraConf ?? {},
      driverJavaOptions: [...javaOptions, ...classData.options],
    });
    const env = {
      ...(this.options.env ?? process.env),
      PYSPARK_PYTHON: this.options.pythonPath,
      PYSPARK_DRIVER_PYTHON: this.options.pythonPath,
      TMPDIR: tmpDir,
      [ATTEMPT_ENV]: attemptId,
    };
    const child = spawnDetached(this.options.sparkSubmit, args, { cwd: workDir, env, logFile });
    return { child, command: this.options.sparkSubmit, exited: (clean) => classData.exited(clean) };
  }

  /** An attempt on the warm driver: the job's Python, a Spark Connect client of the attempt's session. */
  private launchWarm(request: SparkAttemptRequest, workDir: string, logFile: string, warm: WarmSession): Launched {
    const conf = sessionConf({
      'spark.sql.shuffle.partitions': String(request.resources.shufflePartitions),
      ...(this.options.extraConf ?? {}),
      ...request.sparkConf,
    });
    const env = {
      ...(this.options.env ?? process.env),
      PYTHONPATH: warm.pythonPath,
      [REMOTE_ENV]: warm.url,
      NIGHTJAR_SPARK_SESSION_CONF: JSON.stringify(conf),
      TMPDIR: path.join(workDir, 'tmp'),
      [ATTEMPT_ENV]: request.attemptId,
    };
    const child = spawnDetached(this.options.pythonPath, [request.mainFile, ...request.args], { cwd: workDir, env, logFile });
    return { child, command: this.options.pythonPath };
  }

  /**
   * A slot on the warm driver for `request`, its server started if need be; undefined when the
   * attempt runs cold (no warm driver, not short, other memory than a slot's or more cores than
   * the server's, every slot taken, or the server would not start — which never fails the attempt).
   */
  private async warmSession(request: SparkAttemptRequest): Promise<WarmSession | undefined> {
    const warm = this.options.warmDriver;
    if (!warm) return undefined;
    const short = isShortAttempt(this.options, request.job, request.inputBytes);
    if (!fitsWarmDriver(request, warm.options, short) || !warm.tryAcquire()) return undefined;
    this.warmSlots.add(request.attemptId);
    try {
      const server = await warm.ensure();
      const base = this.options.env ?? process.env;
      const pythonPath = [request.sparkConf['spark.submit.pyFiles'], base.PYTHONPATH].filter((p) => p !== undefined && p !== '').join(path.delimiter);
      return { serverPid: server.pid, serverLog: server.logFile, url: sessionUrl(server.port, request.attemptId), pythonPath };
    } catch (err) {
      this.releaseWarmSlot(request.attemptId);
      this.logger.warn({ attemptId: request.attemptId, err }, 'the warm driver is not available: the attempt runs in a JVM of its own');
      return undefined;
    }
  }

  private releaseWarmSlot(attemptId: string): void {
    if (this.warmSlots.delete(attemptId)) this.options.warmDriver?.release();
  }

  /**
   * After a warm attempt's client was stopped: whatever its session still runs on the server is
   * interrupted and the session released (the server goes on). Best effort, bounded.
   */
  private async releaseWarmSession(sub: SubmissionRecord): Promise<void> {
    if (!sub.warm || !(await warmServerAlive(sub.warm.serverPid))) return;
    const url = sub.warm.url;
    await new Promise<void>((resolve) => {
      const child = spawn(this.options.pythonPath, ['-c', RELEASE_SESSION_PY, url], { env: this.options.env ?? process.env, stdio: 'ignore' });
      const timer = setTimeout(() => child.kill('SIGKILL'), RELEASE_TIMEOUT_MS);
      child.once('error', () => resolve());
      child.once('exit', (code) => {
        clearTimeout(timer);
        if (code !== 0) this.logger.warn({ attemptId: sub.attemptId, code }, 'could not release the attempt\'s session on the warm driver');
        resolve();
      });
    });
  }

  /** The exit as this process saw it, or unknown (null, null) when another process started it. */
  private async observedExit(sub: SubmissionRecord): Promise<ExitRecord> {
    const recorded = await readJson<ExitRecord>(path.join(this.options.layout.sparkWorkDir(sub.attemptId), EXIT_FILE));
    if (recorded) return recorded;
    const own = this.exits.get(sub.attemptId);
    if (own) {
      // The process is gone but its exit event may still be on its way.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 2_000)));
      const seen = await Promise.race([own, late]);
      clearTimeout(timer);
      if (seen) return seen;
    }
    return { code: null, signal: null };
  }

  private async finish(sub: SubmissionRecord, exit: ExitRecord, cancelled: boolean): Promise<SparkAttemptOutcome> {
    const workDir = this.options.layout.sparkWorkDir(sub.attemptId);
    this.releaseWarmSlot(sub.attemptId);
    const serverDeath = sub.warm && !(await exists(sub.resultFile)) ? await serverDeathNotice(sub.warm.serverPid, sub.warm.serverLog) : undefined;
    const outcome = classifyLocalExit({
      exitCode: exit.code,
      signal: exit.signal,
      // A warm attempt whose server died: the server's log says why (an OutOfMemoryError is the attempt's).
      logTail: [...(await readLogTail(sub.logFile)), ...(serverDeath ?? [])],
      resultPresent: await exists(sub.resultFile),
      cancelled: cancelled || (await exists(path.join(workDir, CANCEL_FILE))),
    });
    this.exits.delete(sub.attemptId);
    this.logger.info(
      { attemptId: sub.attemptId, outcome: outcome.kind, reason: outcome.reason, exitCode: exit.code, signal: exit.signal },
      'spark attempt ended',
    );
    return { ...outcome, logUri: toUri(sub.logFile) };
  }

  private async stop(sub: SubmissionRecord, why: string): Promise<void> {
    if (why === 'cancelled') {
      await writeJsonAtomic(path.join(this.options.layout.sparkWorkDir(sub.attemptId), CANCEL_FILE), {
        at: new Date().toISOString(),
      });
    }
    this.logger.info({ attemptId: sub.attemptId, pid: sub.pid, why }, 'stopping spark attempt');
    if ((await this.killAttempt(sub.attemptId)).length > 0) await this.releaseWarmSession(sub);
  }

  /**
   * SIGTERM to every process group of the attempt, SIGKILL after the grace period. Returns the
   * pids that were found alive. Only processes that carry the attempt's marker are signalled,
   * so a reused pid is never hit.
   */
  private async killAttempt(attemptId: string): Promise<number[]> {
    const found = await findAttemptProcesses(attemptId);
    if (found.length === 0) return [];
    signalAll(found, 'SIGTERM');
    const deadline = Date.now() + this.killGraceMs;
    let alive = found;
    while (alive.length > 0 && Date.now() < deadline) {
      await sleep(KILL_POLL_MS);
      alive = await findAttemptProcesses(attemptId);
    }
    if (alive.length > 0) {
      this.logger.warn({ attemptId, pids: alive.map((p) => p.pid) }, 'spark attempt ignored SIGTERM: sending SIGKILL');
      const killDeadline = Date.now() + SIGKILL_WAIT_MS;
      while (alive.length > 0 && Date.now() < killDeadline) {
        signalAll(alive, 'SIGKILL');
        await sleep(KILL_POLL_MS);
        alive = await findAttemptProcesses(attemptId);
      }
    }
    return found.map((p) => p.pid);
  }
}

/** The arguments of `spark-submit` for one attempt: an array, never a shell string. */
export function buildSparkSubmitArgs(input: {
  readonly request: SparkAttemptRequest;
  readonly workDir: string;
  readonly master: string;
  readonly extraConf: Readonly<Record<string, string>>;
  readonly driverJavaOptions?: readonly string[];
}): string[] {
  const { request, workDir } = input;
  const tmpDir = path.join(workDir, 'tmp');
  const conf: Record<string, string> = {
    'spark.sql.shuffle.partitions': String(request.resources.shufflePartitions),
    'spark.local.dir': tmpDir,
    'spark.ui.enabled': 'false',
    'spark.sql.warehouse.dir': path.join(workDir, 'warehouse'),
    ...input.extraConf,
    ...request.sparkConf,
  };
  // Appended, never replaced: the attempt property is how a later call recognises the JVM.
  conf['spark.driver.extraJavaOptions'] = [
    conf['spark.driver.extraJavaOptions'],
    ...(input.driverJavaOptions ?? []),
    `-Dderby.system.home=${javaOptionValue(workDir)}`,
    `-Djava.io.tmpdir=${javaOptionValue(tmpDir)}`,
    // No hsperfdata file under /tmp: a killed JVM would leave it behind, outside the work dir.
    '-XX:-UsePerfData',
    `${ATTEMPT_PROPERTY}=${request.attemptId}`,
  ]
    .filter((o) => o !== undefined && o.trim() !== '')
    .join(' ');
  return [
    '--master',
    input.master,
    '--name',
    request.attemptId,
    '--driver-memory',
    `${request.resources.driverMemoryMb}m`,
    ...Object.entries(conf).flatMap(([key, value]) => ['--conf', `${key}=${value}`]),
    request.mainFile,
    ...request.args,
  ];
}

/**
 * Starts `command` in its own process group (detached), so a stop reaches the JVM, the Python
 * driver and whatever they started; stdout and stderr go to the log file, so the job does not
 * depend on this process to drain a pipe and outlives it.
 */
function spawnDetached(command: string, args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv; logFile: string }): ChildProcess {
  const fd = openSync(opts.logFile, 'a');
  try {
    return spawn(command, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
}

function toHandle(sub: SubmissionRecord): SparkAttemptHandle {
  return { attemptId: sub.attemptId, platform: 'local', handle: String(sub.pid), submittedAt: sub.submittedAt, logUri: toUri(sub.logFile) };
}

// ---- processes (Linux /proc) ----------------------------------------------------------

export interface AttemptProcess {
  readonly pid: number;
  readonly pgid: number;
}

/**
 * Live (non-zombie) processes of an attempt: the JVM carries the attempt property on its
 * command line, and everything it starts (Python driver, PySpark daemon and workers, which
 * move to their own process group) inherits the attempt's environment variable.
 */
export async function findAttemptProcesses(attemptId: string): Promise<AttemptProcess[]> {
  const found: AttemptProcess[] = [];
  for (const pid of await otherProcessIds()) {
    const proc = await inspectProcess(pid, attemptId);
    if (proc) found.push(proc);
  }
  return found;
}

async function isAttemptProcess(pid: number, attemptId: string): Promise<boolean> {
  return (await inspectProcess(pid, attemptId)) !== undefined;
}

async function inspectProcess(pid: number, attemptId: string): Promise<AttemptProcess | undefined> {
  const pgid = await liveProcessGroup(pid);
  if (pgid === undefined) return undefined;
  const token = `${ATTEMPT_PROPERTY}=${attemptId}`;
  if (await commandLineHas(pid, (word) => word === token)) return { pid, pgid };
  const entry = `${ATTEMPT_ENV}=${attemptId}`;
  if (await environmentHas(pid, (e) => e === entry)) return { pid, pgid };
  return undefined;
}

function signalAll(procs: readonly AttemptProcess[], signal: NodeJS.Signals): void {
  const leaders = new Set(procs.filter((p) => p.pid === p.pgid).map((p) => p.pgid));
  for (const pgid of leaders) tryKill(-pgid, signal);
  for (const p of procs) if (!leaders.has(p.pgid)) tryKill(p.pid, signal);
}

// ---- files -----------------------------------------------------------------------------

/** Follows the driver log: each call reads only what was appended since the last one. */
class ProgressReader {
  private offset: number | undefined;
  private partial = '';
  private readonly decoder = new StringDecoder('utf8');

  constructor(private readonly file: string) {}

  /** The latest progress line's JSON (compact) among the new lines, if any. */
  async latest(): Promise<string | undefined> {
    const handle = await fs.open(this.file, 'r').catch(() => undefined);
    if (!handle) return undefined;
    try {
      const { size } = await handle.stat();
      if (this.offset === undefined || size < this.offset) {
        this.offset = Math.max(0, size - FIRST_PROGRESS_READ_BYTES);
        this.partial = '';
      }
      if (size - this.offset > CLASSIFY_TAIL_BYTES) {
        this.offset = size - CLASSIFY_TAIL_BYTES;
        this.partial = '';
      }
      const length = size - this.offset;
      if (length <= 0) return undefined;
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, this.offset);
      this.offset += bytesRead;
      const lines = (this.partial + this.decoder.write(buffer.subarray(0, bytesRead))).split('\n');
      this.partial = lines.pop() ?? '';
      for (let i = lines.length - 1; i >= 0; i--) {
        const progress = parseProgressLine(lines[i] as string);
        if (progress) return JSON.stringify(progress).slice(0, MAX_PROGRESS_DETAIL);
      }
      return undefined;
    } finally {
      await handle.close();
    }
  }
}

async function readLogTail(file: string): Promise<string[]> {
  const tail = await readFileTail(file, CLASSIFY_TAIL_BYTES);
  if (!tail) return [];
  const lines = tailLines(tail.text, Number.MAX_SAFE_INTEGER);
  return tail.cut ? lines.slice(1) : lines;
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await fs.writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await fs.rename(tmp, file);
}

/** Resolves after `ms`, or early when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

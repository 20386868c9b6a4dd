import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import pino, { type Logger } from 'pino';
import { z } from 'zod';
import { DataLayout, toUri, uriToPath } from '../src/common/layout';
import { SPARK_JOBS, type SparkAttemptOutcome, type SparkResources } from '../src/domain/spark/resources';
import { LocalSparkPlatform } from '../src/spark/local/local-platform';
import { JOB_RESULT_FILE } from '../src/spark/outcome';
import type { SparkAttemptRequest } from '../src/spark/platform';
import { Annotation } from '../src/spark/kubernetes/labels';
import { readApplication, type SimulatedApplication } from './application';
import type { DriverContext, DriverExit, DriverRuntime } from './driver-runtime';

export interface LocalSparkDriverOptions {
  /** `spark-submit` of the local PySpark install. */
  readonly sparkSubmit: string;
  /** The Python with pyspark installed. */
  readonly pythonPath: string;
  /** The repository's `spark/` directory: what the image holds at `imageJobsDir`. */
  readonly jobsDir: string;
  /** Where the image holds the `spark/` directory; `mainApplicationFile` must point under it. */
  readonly imageJobsDir: string;
  /**
   * The drivers' own scratch: work dirs, driver logs and each job's result until it is
   * published. Kept apart from the data directory's attempts, so nothing is shared with them.
   */
  readonly workDir: string;
  /** How often the running job is looked at and its log forwarded. Default 500 ms. */
  readonly pollIntervalMs?: number;
  /** Between SIGTERM and SIGKILL when the driver is killed. Default 5 s. */
  readonly killGraceMs?: number;
  readonly extraConf?: Readonly<Record<string, string>>;
  /**
   * The class-data sharing archive's directory, standing in for an archive built into the image
   * (the drivers start faster; nothing they do changes). Absent: none.
   */
  readonly classDataDir?: string;
  /** Environment spark-submit starts from; this process's own when absent. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly logger?: Logger;
}

/** Spark's `spark.sql.shuffle.partitions` default, for an application that does not set it. */
const SPARK_DEFAULT_SHUFFLE_PARTITIONS = 200;
/** A pod log line is cut here: a stack trace line can be very long. */
const MAX_LOG_LINE = 4000;

const DriverSpec = z.object({
  job: z.enum(SPARK_JOBS),
  businessDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  resultUri: z.string().startsWith('file:'),
});

const SparkConf = z.record(z.string(), z.string()).catch({});

/**
 * The attempt id the local Spark runs under: the application's name and a piece of its uid.
 * Real attempt ids are DNS labels (no '.'), so this one never collides with one of them, and
 * an application re-created under the same name gets a fresh one.
 */
export function localAttemptId(app: Pick<SimulatedApplication, 'name' | 'uid'>): string {
  const uid = app.uid.replace(/[^A-Za-z0-9]/g, '').slice(0, 8);
  return `${app.name}.driver-${uid || 'local'}`;
}

/**
 * The repository file a `local://` main application file of the image stands for:
 * `local://<imageJobsDir>/jobs/normalize.py` → `<jobsDir>/jobs/normalize.py`. Anything outside
 * the image's jobs directory is refused.
 */
export function jobFileFor(mainApplicationFile: string, imageJobsDir: string, jobsDir: string): string {
  if (!mainApplicationFile.startsWith('local:///')) {
    throw new Error(`mainApplicationFile ${JSON.stringify(mainApplicationFile)} is not a local:// path inside the image`);
  }
  const inImage = path.posix.normalize(mainApplicationFile.slice('local://'.length));
  const relative = path.posix.relative(path.posix.normalize(imageJobsDir), inImage);
  if (relative === '' || relative.startsWith('..') || path.posix.isAbsolute(relative)) {
    throw new Error(`mainApplicationFile ${JSON.stringify(mainApplicationFile)} is not under the image's jobs directory ${imageJobsDir}`);
  }
  return path.join(jobsDir, ...relative.split('/'));
}

/** How a local attempt's outcome shows as the driver container's end. */
export function driverExitFor(outcome: Pick<SparkAttemptOutcome, 'kind'>): DriverExit {
  switch (outcome.kind) {
    case 'SUCCEEDED':
      return { exitCode: 0, reason: 'Completed' };
    case 'OUT_OF_MEMORY':
      return { exitCode: 137, reason: 'OOMKilled' };
    default:
      return { exitCode: 1, reason: 'Error' };
  }
}

/**
 * A driver runtime that runs the job for real, with the local `spark-submit` in `local[N]`
 * mode: the job spec comes from the ConfigMap the platform created, the entry point is the
 * repository's copy of the file the image would hold, and the driver's memory, cores and JVM
 * options are the application's (local mode has no executors: their pods stay the simulator's).
 * The local log becomes the driver pod's log; killing the driver kills the local process group.
 */
export function localSparkDriver(options: LocalSparkDriverOptions): DriverRuntime {
  const logger = options.logger ?? pino({ enabled: false });
  const pollIntervalMs = options.pollIntervalMs ?? 500;
  const layout = new DataLayout(options.workDir);
  const baseEnv = options.env ?? process.env;
  // The image has the `nightjar_spark` package on its Python path.
  const env = { ...baseEnv, PYTHONPATH: [options.jobsDir, baseEnv.PYTHONPATH].filter((p) => p !== undefined && p !== '').join(path.delimiter) };
  /** A platform per attempt: the driver's JVM options are the application's. */
  const platformFor = (driverJavaOptions: readonly string[]) =>
    new LocalSparkPlatform({
      sparkSubmit: options.sparkSubmit,
      pythonPath: options.pythonPath,
      layout,
      pollIntervalMs,
      killGraceMs: options.killGraceMs ?? 5_000,
      extraConf: options.extraConf ?? {},
      driverJavaOptions,
      ...(options.classDataDir !== undefined ? { classDataDir: options.classDataDir } : {}),
      logger,
      env,
    });

  return {
    async run(ctx: DriverContext): Promise<DriverExit> {
      const app = readApplication(ctx.app);
      const spec = await ctx.readSpec();
      const parsed = DriverSpec.safeParse(spec);
      if (!parsed.success) throw new Error(`the mounted job spec is missing or is not a Nightjar job spec: ${z.prettifyError(parsed.error)}`);
      const { job, businessDate, resultUri } = parsed.data;
      const mainFile = jobFileFor(app.mainApplicationFile, options.imageJobsDir, options.jobsDir);
      const attemptId = localAttemptId(app);
      const outputDir = layout.jobOutputDir(businessDate, job, attemptId);
      const localResult = path.join(outputDir, JOB_RESULT_FILE);

      const specFile = path.join(layout.sparkWorkDir(attemptId), 'spec.json');
      const sparkConf = sqlConf(ctx.app.spec);
      const platform = platformFor(driverJavaOptions(ctx.app.spec));
      const request: SparkAttemptRequest = {
        attemptId,
        workflowId: app.object.metadata.annotations?.[Annotation.workflowId] ?? app.name,
        businessDate,
        job,
        attempt: app.attempt,
        resources: resourcesOf(app, sparkConf),
        mainFile,
        args: withSpecFile(app.arguments, specFile),
        sparkConf,
      };
      const log = (line: string) => ctx.log(line.length > MAX_LOG_LINE ? `${line.slice(0, MAX_LOG_LINE)}…` : line);
      log(
        `INFO LocalSparkDriver: running ${path.relative(options.jobsDir, mainFile)} in local[${request.resources.driverCores}] ` +
          `with driver memory ${request.resources.driverMemoryMb}m (executors are not started in local mode)`,
      );

      const following = new AbortController();
      let follower: Promise<void> | undefined;
      try {
        // The job writes its result here, where the local platform looks for it; the driver
        // publishes it at the spec's resultUri once the attempt is known to have succeeded.
        await fs.mkdir(path.dirname(specFile), { recursive: true });
        await fs.writeFile(specFile, `${JSON.stringify({ ...(spec as Record<string, unknown>), resultUri: toUri(localResult) }, null, 2)}\n`);
        ctx.signal.throwIfAborted();
        const handle = await platform.submit(request);
        const logFile = handle.logUri !== undefined ? uriToPath(handle.logUri) : layout.logFile(businessDate, attemptId);
        const reader = new LogFollower(logFile);
        follower = (async () => {
          while (!following.signal.aborted) {
            for (const line of await reader.read()) log(line);
            await sleep(pollIntervalMs, undefined, { signal: following.signal }).catch(() => undefined);
          }
          for (const line of await reader.read(true)) log(line);
        })();
        const outcome = await platform.await(handle, { signal: ctx.signal, onProgress: () => undefined });
        following.abort();
        await follower;
        ctx.signal.throwIfAborted();
        if (outcome.kind === 'SUCCEEDED') await publish(localResult, uriToPath(resultUri));
        else log(`ERROR LocalSparkDriver: ${outcome.kind}: ${outcome.reason}`);
        logger.info({ attemptId, outcome: outcome.kind, reason: outcome.reason }, 'simulated driver ended');
        return driverExitFor(outcome);
      } finally {
        following.abort();
        await follower?.catch((error: unknown) => logger.warn({ attemptId, err: error }, 'could not forward the driver log'));
        await platform.cleanup(attemptId).catch((error: unknown) => logger.warn({ attemptId, err: error }, 'could not clean up the local driver'));
        await fs.rm(outputDir, { recursive: true, force: true });
      }
    },
  };
}

function sparkConfOf(spec: unknown): Record<string, string> {
  const raw = typeof spec === 'object' && spec !== null ? (spec as { sparkConf?: unknown }).sparkConf : undefined;
  return SparkConf.parse(raw ?? {});
}

/** The application's `spark.sql.*` configuration: what still means something in local mode. */
function sqlConf(spec: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(sparkConfOf(spec)).filter(([key]) => key.startsWith('spark.sql.')));
}

/** The driver's JVM options the application asks for (`spark.driver.extraJavaOptions`). */
export function driverJavaOptions(spec: unknown): string[] {
  return (sparkConfOf(spec)['spark.driver.extraJavaOptions'] ?? '').split(/\s+/).filter((o) => o !== '');
}

function resourcesOf(app: SimulatedApplication, sparkConf: Readonly<Record<string, string>>): SparkResources {
  const partitions = Number(sparkConf['spark.sql.shuffle.partitions']);
  const whole = (n: number) => Math.max(1, Math.round(n));
  return {
    driverMemoryMb: whole(app.driver.memoryMb),
    driverCores: whole(app.driver.cores),
    executorMemoryMb: whole(app.executor.memoryMb),
    executorCores: whole(app.executor.cores),
    executorInstances: app.executor.instances,
    memoryOverheadMb: app.driver.memoryOverheadMb === undefined ? null : whole(app.driver.memoryOverheadMb),
    shufflePartitions: Number.isInteger(partitions) && partitions > 0 ? partitions : SPARK_DEFAULT_SHUFFLE_PARTITIONS,
  };
}

/** The arguments with `--spec` pointing at the driver's copy of the spec. */
function withSpecFile(args: readonly string[], specFile: string): string[] {
  const at = args.indexOf('--spec');
  if (at < 0) return [...args, '--spec', specFile];
  const out = [...args];
  out.splice(at + 1, at + 1 < out.length ? 1 : 0, specFile);
  return out;
}

/** Copies the result where the spec asked for it, atomically: its presence means success. */
async function publish(from: string, to: string): Promise<void> {
  await fs.mkdir(path.dirname(to), { recursive: true });
  const temporary = `${to}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await fs.copyFile(from, temporary);
    await fs.rename(temporary, to);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
}

/** Reads what was appended to a log file since the last call, as whole lines. */
class LogFollower {
  private offset = 0;
  private partial = '';
  private readonly decoder = new StringDecoder('utf8');

  constructor(private readonly file: string) {}

  /** New complete lines; with `final`, an unterminated last line too. */
  async read(final = false): Promise<string[]> {
    const handle = await fs.open(this.file, 'r').catch(() => undefined);
    const lines: string[] = [];
    if (handle !== undefined) {
      try {
        const { size } = await handle.stat();
        while (this.offset < size) {
          const buffer = Buffer.alloc(Math.min(size - this.offset, 256 * 1024));
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
          if (bytesRead === 0) break;
          this.offset += bytesRead;
          const parts = (this.partial + this.decoder.write(buffer.subarray(0, bytesRead))).split(/\r?\n/);
          this.partial = parts.pop() ?? '';
          lines.push(...parts);
        }
      } finally {
        await handle.close();
      }
    }
    if (final) {
      const rest = this.partial + this.decoder.end();
      this.partial = '';
      if (rest !== '') lines.push(rest);
    }
    return lines;
  }
}

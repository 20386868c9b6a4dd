import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { SPARK_JOBS } from '../src/domain/spark/resources';
import type { StoredObject } from './kube';
import type { SimulatorTiming } from './timing';

/** How the driver container ended, as the kubelet reports it. */
export interface DriverExit {
  readonly exitCode: number;
  readonly reason: 'Completed' | 'Error' | 'OOMKilled';
}

/** What a driver runtime gets to work with while its container runs. */
export interface DriverContext {
  /** The SparkApplication as stored when the driver started. */
  readonly app: StoredObject;
  /** Aborted when the driver is killed (by its scenario, a deletion, or the simulator stopping). */
  readonly signal: AbortSignal;
  readonly timing: SimulatorTiming;
  /** Appends a line to the driver pod's log (container `spark-kubernetes-driver`). */
  log(line: string): void;
  /**
   * The job spec the driver would read from its mounted ConfigMap: the ConfigMap of
   * `spec.driver.configMaps` (the one mounted at the spec directory, else the first), key
   * `spec.json`, JSON-parsed. Undefined when there is none; rejects when it is not JSON.
   */
  readSpec(): Promise<unknown>;
}

/**
 * What runs inside the simulated driver container. It must honour `signal` (resolve or reject
 * soon after it is aborted): the simulator waits for it when it stops. A rejection that is not
 * an abort reads as the job crashing (exit 1, reason Error).
 */
export interface DriverRuntime {
  run(ctx: DriverContext): Promise<DriverExit>;
}

export interface ScriptedDriverOptions {
  /** How long the job works before it succeeds; default `timing.runMs`. */
  readonly runMs?: number;
  /** What a successful job leaves behind; default {@link writeCannedResult}. */
  readonly onSuccess?: (spec: unknown, ctx: DriverContext) => Promise<void> | void;
}

/** A driver that reads its spec, works for a while, and succeeds. */
export function scriptedDriver(options: ScriptedDriverOptions = {}): DriverRuntime {
  return {
    async run(ctx: DriverContext): Promise<DriverExit> {
      const spec = await ctx.readSpec();
      const job = isJobSpec(spec) ? spec.job : 'unknown';
      ctx.log(`NIGHTJAR_PROGRESS ${JSON.stringify({ phase: 'started', job })}`);
      await sleep(options.runMs ?? ctx.timing.runMs, undefined, { signal: ctx.signal });
      if (options.onSuccess) await options.onSuccess(spec, ctx);
      else await writeCannedResult(spec);
      ctx.signal.throwIfAborted();
      ctx.log(`NIGHTJAR_PROGRESS ${JSON.stringify({ phase: 'done', job })}`);
      return { exitCode: 0, reason: 'Completed' };
    },
  };
}

const JobSpecSchema = z.object({ job: z.enum(SPARK_JOBS), resultUri: z.string().optional() });

function isJobSpec(spec: unknown): spec is z.infer<typeof JobSpecSchema> {
  return JobSpecSchema.safeParse(spec).success;
}

/**
 * What a succeeded job leaves behind (docs/spark-jobs.md): when the spec has a `file://`
 * `resultUri`, an empty result of its job (`{"job":"normalize","feeds":[]}` or
 * `{"job":"transform","reports":[]}`) written atomically there. Returns the path written, or
 * undefined when the spec asks for nothing this process can write.
 */
export async function writeCannedResult(spec: unknown): Promise<string | undefined> {
  const parsed = JobSpecSchema.safeParse(spec);
  if (!parsed.success || parsed.data.resultUri === undefined || !parsed.data.resultUri.startsWith('file://')) return undefined;
  const { job, resultUri } = parsed.data;
  const file = fileURLToPath(resultUri);
  const result = job === 'normalize' ? { job, feeds: [] } : { job, reports: [] };
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, JSON.stringify(result));
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return file;
}

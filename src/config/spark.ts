import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { EscalationPolicy } from '../domain/spark/escalation';
import type { LongJobJavaOptions, ShortJobJavaOptions } from '../domain/spark/java-options';
import type { SparkJobName, SparkResources } from '../domain/spark/resources';
import type { SizingPolicy } from '../domain/spark/sizing';
import { bool, mb, mibPerJob, optionalPositive, perJob, positive, problem } from './parsers';

const positiveNumber = z.number().positive();

/**
 * The JVM options for a short job (small input), its driver's and executors': the client compiler
 * alone (no C2 warm-up competing for the two cores) and one collector thread (not one per core to
 * start) were measured to start faster (README, "Spark at the demo's default size"). The collector
 * is the throughput one on a single thread, not the serial one: a driver whose live data settled
 * just under its heap spent 761 s collecting under the serial collector without ever failing
 * (so no out-of-memory outcome, no escalation), and failed with OutOfMemoryError in 21 and 29 s
 * under this one (README, "Out-of-memory recovery, measured").
 * A long job keeps the JVM's default compilers: at 1 M transactions the C1-only driver fell far
 * behind the copy job.
 */
export const DEFAULT_SHORT_JOB_JAVA_OPTIONS = '-XX:TieredStopAtLevel=1 -XX:+UseParallelGC -XX:ParallelGCThreads=1';

/**
 * The largest input (MiB) that makes a job short, per job: normalize's input is the raw CSV
 * (3.5 MB on the demo's night, 138 MB at 1 M transactions, where the client compiler alone was
 * 20 % slower); transform's is the curated Parquet, a quarter of that (40 MB at 1 M, where the
 * client compiler alone was 17 % faster; 206 MB at 5 M, where both were even).
 */
export const SHORT_JOB_MAX_INPUT_MIB = { normalize: 32, transform: 128 } as const;

/**
 * The JVM options for every other job (a larger or unknown input): the throughput collector.
 * Against the JVM's default collector (G1) normalize took 5-16 % less wall time at 1 M
 * and 5 M transactions on two cores (README, "Spark speed: the driver's JVM").
 */
export const DEFAULT_LONG_JOB_JAVA_OPTIONS = '-XX:+UseParallelGC';

/** A JVM option that sets the heap's size (`-Xmx4g`, `-Xms1g`, `-XX:MaxHeapSize=…`). */
const HEAP_SIZE = /^-(?:Xm[xs]|XX:(?:Max|Initial)HeapSize=)/;

/** Whitespace-separated JVM options, each starting with `-`; `none` for none. */
const javaOptions = z
  .string()
  .transform((s) => (s.trim() === 'none' ? [] : s.split(/\s+/).filter((o) => o !== '')))
  .refine((opts) => opts.every((o) => o.startsWith('-')), 'expected JVM options separated by spaces, each starting with "-" (e.g. -XX:+UseSerialGC), or "none"')
  .refine(
    (opts) => !opts.some((o) => HEAP_SIZE.test(o)),
    'sets the heap size, which belongs to the job resources (NIGHTJAR_SPARK_DRIVER_MEMORY_MB, NIGHTJAR_SPARK_EXECUTOR_MEMORY_MB) and grows between attempts after an out-of-memory; Spark refuses it here too',
  );
const JobResources = z
  .strictObject({
    driverMemoryMb: z.number().int().min(256),
    driverCores: z.number().int().positive(),
    executorMemoryMb: z.number().int().min(256),
    executorCores: z.number().int().positive(),
    executorInstances: z.number().int().positive(),
    memoryOverheadMb: z.number().int().positive().nullable(),
    shufflePartitions: z.number().int().positive(),
  })
  .partial();
const JobPolicy = z
  .strictObject({
    maxAttempts: z.number().int().positive(),
    memoryFactor: z.number().gt(1),
    maxDriverMemoryMb: z.number().int().min(256),
    maxExecutorMemoryMb: z.number().int().min(256),
    executorInstancesFactor: positiveNumber,
    maxExecutorInstances: z.number().int().positive(),
    shufflePartitionsFactor: positiveNumber,
    maxShufflePartitions: z.number().int().positive(),
    maxTotalMemoryMb: z.number().int().min(256),
  })
  .partial();

/** Where and how big the Spark jobs run, how they grow after running out of memory, what they learn, the report thresholds. */
export const SparkEnv = z.object({
  NIGHTJAR_SPARK_PLATFORM: z.enum(['local', 'kubernetes']).default('local'),
  NIGHTJAR_SPARK_SUBMIT: z.string().optional(),
  NIGHTJAR_PYTHON: z.string().optional(),
  NIGHTJAR_SPARK_CORES: positive.default(2),
  NIGHTJAR_SPARK_DRIVER_MEMORY_MB: mb.default(1024),
  NIGHTJAR_SPARK_EXECUTOR_MEMORY_MB: mb.default(2048),
  NIGHTJAR_SPARK_EXECUTOR_INSTANCES: positive.default(2),
  NIGHTJAR_SPARK_SHUFFLE_PARTITIONS: positive.default(8),
  NIGHTJAR_SPARK_UI: bool.default(false),
  NIGHTJAR_SPARK_DRIVER_JAVA_OPTIONS: z.string().default('none').pipe(javaOptions),
  NIGHTJAR_SPARK_SHORT_JOB_JAVA_OPTIONS: z.string().default(DEFAULT_SHORT_JOB_JAVA_OPTIONS).pipe(javaOptions),
  NIGHTJAR_SPARK_LONG_JOB_JAVA_OPTIONS: z.string().default(DEFAULT_LONG_JOB_JAVA_OPTIONS).pipe(javaOptions),
  NIGHTJAR_SPARK_SHORT_JOB_MAX_INPUT_MB: z.string().default(JSON.stringify(SHORT_JOB_MAX_INPUT_MIB)).pipe(mibPerJob(SHORT_JOB_MAX_INPUT_MIB)),
  NIGHTJAR_SPARK_CDS_DIR: z.string().min(1).optional(),
  NIGHTJAR_SPARK_WARM_SLOTS: z.coerce.number().int().min(0, 'must be 0 (off) or more').max(16).default(0),
  NIGHTJAR_SPARK_WARM_IDLE_SECONDS: positive.default(600),
  NIGHTJAR_SPARK_STEPS_AT_ONCE: z.coerce.number().int().min(1, 'must be 1 (one step at a time) or more').max(8).default(2),
  NIGHTJAR_OOM_MAX_ATTEMPTS: positive.default(4),
  NIGHTJAR_OOM_MEMORY_FACTOR: z.coerce.number().gt(1, 'must be greater than 1').default(2),
  NIGHTJAR_OOM_MAX_DRIVER_MEMORY_MB: mb.default(8192),
  NIGHTJAR_OOM_MAX_EXECUTOR_MEMORY_MB: mb.default(16384),
  NIGHTJAR_OOM_EXECUTOR_INSTANCES_FACTOR: optionalPositive,
  NIGHTJAR_OOM_MAX_EXECUTOR_INSTANCES: positive.optional(),
  NIGHTJAR_OOM_SHUFFLE_PARTITIONS_FACTOR: optionalPositive,
  NIGHTJAR_OOM_MAX_TOTAL_MEMORY_MB: mb.optional(),
  NIGHTJAR_SPARK_JOB_RESOURCES: perJob(JobResources, '{"transform": {"executorMemoryMb": 4096}}').optional(),
  NIGHTJAR_OOM_JOB_POLICY: perJob(JobPolicy, '{"transform": {"maxExecutorMemoryMb": 32768}}').optional(),
  NIGHTJAR_SIZING_LEARN: bool.default(true),
  NIGHTJAR_SIZING_STEP_DOWN_AFTER: positive.default(5),
  NIGHTJAR_SIZING_STEP_DOWN_FACTOR: z.coerce.number().gt(1, 'must be greater than 1').default(2),
  NIGHTJAR_LARGE_VALUE_THRESHOLD: z.coerce.number().positive().default(10000),
  NIGHTJAR_STRUCTURING_THRESHOLD: z.coerce.number().positive().default(10000),
});
type Env = z.output<typeof SparkEnv>;

/** A JVM option that selects a garbage collector (`-XX:+UseSerialGC`, `-XX:+UseParallelGC`, …). */
const COLLECTOR = /^-XX:\+Use\w+GC$/;

/**
 * The driver's own options and the short- or long-job options are given together: the JVM refuses
 * to start with two collectors, so they must not both choose one.
 */
export function checkSparkEnv(env: Env, ctx: z.RefinementCtx): void {
  const chosen = env.NIGHTJAR_SPARK_DRIVER_JAVA_OPTIONS.find((o) => COLLECTOR.test(o));
  if (chosen === undefined) return;
  for (const variable of ['NIGHTJAR_SPARK_SHORT_JOB_JAVA_OPTIONS', 'NIGHTJAR_SPARK_LONG_JOB_JAVA_OPTIONS'] as const) {
    const other = env[variable].find((o) => COLLECTOR.test(o));
    if (other !== undefined) {
      problem(ctx, 'NIGHTJAR_SPARK_DRIVER_JAVA_OPTIONS', `chooses a collector (${chosen}) and ${variable} chooses another (${other}): the JVM refuses two; set ${variable}=none or drop ${chosen}`);
    }
  }
}

/** The Spark settings without the Kubernetes platform's (see ./kubernetes). */
export interface SparkJobsConfig {
  readonly platform: 'local' | 'kubernetes';
  readonly sparkSubmit: string;
  readonly python: string;
  readonly jobsDir: string;
  readonly ui: boolean;
  /** JVM options of each attempt's driver, on every platform. */
  readonly driverJavaOptions: readonly string[];
  /** More JVM options for an attempt (driver and executors) whose input is at most its job's `maxInputBytes`. */
  readonly shortJob: ShortJobJavaOptions;
  /** More JVM options for every other attempt (larger or unknown input). */
  readonly longJob: LongJobJavaOptions;
  /** Where local drivers keep their class-data sharing archive; absent when turned off. */
  readonly classDataDir?: string;
  /** Short local attempts at once on the warm driver (a Spark Connect server); 0 is off. */
  readonly warmSlots: number;
  /** The warm driver stops after this long unused. */
  readonly warmIdleStopMs: number;
  /**
   * Independent steps of one job run side by side (normalize's feeds, transform's reports), at
   * most this many at once; written into each attempt's spec. 1 runs them one after another.
   */
  readonly stepsAtOnce: number;
  readonly defaults: Readonly<Record<SparkJobName, SparkResources>>;
  /** The default policy, and per job the policy with that job's settings over it. */
  readonly escalation: EscalationPolicy;
  readonly escalationByJob: Readonly<Record<SparkJobName, EscalationPolicy>>;
  readonly sizing: { readonly learn: boolean; readonly policy: SizingPolicy };
  readonly thresholds: {
    readonly largeValueRpt: number;
    readonly structuringThresholdRpt: number;
    readonly structuringBandLow: number;
    readonly structuringMinCount: number;
  };
}

export function sparkJobsConfig(e: Env, repoRoot: string): SparkJobsConfig {
  const venvBin = path.join(repoRoot, '.venv', 'bin');
  const resources: SparkResources = {
    driverMemoryMb: e.NIGHTJAR_SPARK_DRIVER_MEMORY_MB,
    driverCores: e.NIGHTJAR_SPARK_CORES,
    executorMemoryMb: e.NIGHTJAR_SPARK_EXECUTOR_MEMORY_MB,
    executorCores: 1,
    executorInstances: e.NIGHTJAR_SPARK_EXECUTOR_INSTANCES,
    memoryOverheadMb: null,
    shufflePartitions: e.NIGHTJAR_SPARK_SHUFFLE_PARTITIONS,
  };
  const escalation = escalationPolicy(e);
  return {
    platform: e.NIGHTJAR_SPARK_PLATFORM,
    sparkSubmit: e.NIGHTJAR_SPARK_SUBMIT ?? path.join(venvBin, 'spark-submit'),
    python: e.NIGHTJAR_PYTHON ?? path.join(venvBin, 'python'),
    jobsDir: path.join(repoRoot, 'spark'),
    ui: e.NIGHTJAR_SPARK_UI,
    driverJavaOptions: e.NIGHTJAR_SPARK_DRIVER_JAVA_OPTIONS,
    shortJob: { maxInputBytes: e.NIGHTJAR_SPARK_SHORT_JOB_MAX_INPUT_MB, javaOptions: e.NIGHTJAR_SPARK_SHORT_JOB_JAVA_OPTIONS },
    longJob: { javaOptions: e.NIGHTJAR_SPARK_LONG_JOB_JAVA_OPTIONS },
    warmSlots: e.NIGHTJAR_SPARK_WARM_SLOTS,
    warmIdleStopMs: e.NIGHTJAR_SPARK_WARM_IDLE_SECONDS * 1000,
    stepsAtOnce: e.NIGHTJAR_SPARK_STEPS_AT_ONCE,
    // Outside the checkout, so every clone and worker of this machine shares one archive.
    ...(e.NIGHTJAR_SPARK_CDS_DIR === 'off' ? {} : { classDataDir: path.resolve(e.NIGHTJAR_SPARK_CDS_DIR ?? path.join(os.homedir(), '.cache', 'nightjar', 'spark-cds')) }),
    defaults: {
      normalize: { ...resources, ...e.NIGHTJAR_SPARK_JOB_RESOURCES?.normalize },
      transform: { ...resources, ...e.NIGHTJAR_SPARK_JOB_RESOURCES?.transform },
    },
    escalation,
    escalationByJob: {
      normalize: { ...escalation, ...e.NIGHTJAR_OOM_JOB_POLICY?.normalize },
      transform: { ...escalation, ...e.NIGHTJAR_OOM_JOB_POLICY?.transform },
    },
    sizing: {
      learn: e.NIGHTJAR_SIZING_LEARN,
      policy: { stepDownAfterCleanNights: e.NIGHTJAR_SIZING_STEP_DOWN_AFTER, stepDownFactor: e.NIGHTJAR_SIZING_STEP_DOWN_FACTOR },
    },
    thresholds: {
      largeValueRpt: e.NIGHTJAR_LARGE_VALUE_THRESHOLD,
      structuringThresholdRpt: e.NIGHTJAR_STRUCTURING_THRESHOLD,
      structuringBandLow: 0.8,
      structuringMinCount: 3,
    },
  };
}

function escalationPolicy(e: Env): EscalationPolicy {
  return {
    maxAttempts: e.NIGHTJAR_OOM_MAX_ATTEMPTS,
    memoryFactor: e.NIGHTJAR_OOM_MEMORY_FACTOR,
    maxDriverMemoryMb: e.NIGHTJAR_OOM_MAX_DRIVER_MEMORY_MB,
    maxExecutorMemoryMb: e.NIGHTJAR_OOM_MAX_EXECUTOR_MEMORY_MB,
    ...(e.NIGHTJAR_OOM_EXECUTOR_INSTANCES_FACTOR !== undefined ? { executorInstancesFactor: e.NIGHTJAR_OOM_EXECUTOR_INSTANCES_FACTOR } : {}),
    ...(e.NIGHTJAR_OOM_MAX_EXECUTOR_INSTANCES !== undefined ? { maxExecutorInstances: e.NIGHTJAR_OOM_MAX_EXECUTOR_INSTANCES } : {}),
    ...(e.NIGHTJAR_OOM_SHUFFLE_PARTITIONS_FACTOR !== undefined ? { shufflePartitionsFactor: e.NIGHTJAR_OOM_SHUFFLE_PARTITIONS_FACTOR } : {}),
    ...(e.NIGHTJAR_OOM_MAX_TOTAL_MEMORY_MB !== undefined ? { maxTotalMemoryMb: e.NIGHTJAR_OOM_MAX_TOTAL_MEMORY_MB } : {}),
  };
}

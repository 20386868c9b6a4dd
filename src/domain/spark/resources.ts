import { z } from 'zod';

/** What one Spark attempt asks for. Local mode uses the driver's numbers only. */
export interface SparkResources {
  readonly driverMemoryMb: number;
  readonly driverCores: number;
  readonly executorMemoryMb: number;
  readonly executorCores: number;
  readonly executorInstances: number;
  /** Extra off-heap per pod; null lets Spark apply its default factor (min 384 MiB). */
  readonly memoryOverheadMb: number | null;
  readonly shufflePartitions: number;
}

/**
 * What no Spark resource is ever asked for, whatever the configuration: a number past these is a
 * typo or an attack (9,007,199,254,740,991 MiB), refused at every door before any cap applies.
 */
export const SPARK_RESOURCE_LIMITS = {
  memoryMb: 4 * 1024 * 1024,
  cores: 256,
  executorInstances: 10_000,
  shufflePartitions: 1_000_000,
} as const;

const positiveInt = z.number().int().positive();
const upTo = (max: number) => positiveInt.max(max, `must be at most ${max}`);

/** Runtime check of a SparkResources value (overrides from operators, platform inputs). */
export const SparkResourcesSchema = z.object({
  driverMemoryMb: upTo(SPARK_RESOURCE_LIMITS.memoryMb),
  driverCores: upTo(SPARK_RESOURCE_LIMITS.cores),
  executorMemoryMb: upTo(SPARK_RESOURCE_LIMITS.memoryMb),
  executorCores: upTo(SPARK_RESOURCE_LIMITS.cores),
  executorInstances: upTo(SPARK_RESOURCE_LIMITS.executorInstances),
  memoryOverheadMb: upTo(SPARK_RESOURCE_LIMITS.memoryMb).nullable(),
  shufflePartitions: upTo(SPARK_RESOURCE_LIMITS.shufflePartitions),
} satisfies Record<keyof SparkResources, z.ZodType>);

/** Some resources of one job, over its planned ones (an operator's override). */
export const SparkResourcesOverrideSchema = SparkResourcesSchema.partial().strict();

/** Per-job overrides for one night: `{ "transform": { "driverMemoryMb": 4096 } }`. */
export const SparkOverridesSchema = z.strictObject({ normalize: SparkResourcesOverrideSchema, transform: SparkResourcesOverrideSchema }).partial();

/** The Spark jobs of a night, in the order they run. */
export const SPARK_JOBS = ['normalize', 'transform'] as const;
export type SparkJobName = (typeof SPARK_JOBS)[number];

export type SparkOutcomeKind = 'SUCCEEDED' | 'OUT_OF_MEMORY' | 'TRANSIENT' | 'PERMANENT';

/** How an attempt ended, as classified by the platform. Failures are data, not exceptions. */
export interface SparkAttemptOutcome {
  readonly kind: SparkOutcomeKind;
  /** One line an operator can act on. */
  readonly reason: string;
  /** Where the OOM struck, when kind is OUT_OF_MEMORY. */
  readonly oomSide?: 'driver' | 'executor';
  readonly exitCode?: number | null;
  /** Last lines of the driver log, for the failure details (already redacted). */
  readonly diagnostics: readonly string[];
  readonly logUri?: string;
  /** On Kubernetes: the attempt's driver and executor pods as last seen (which died of what, where). */
  readonly pods?: readonly AttemptPod[];
  /** Pods seen but left out of `pods` (bounded for workflow payloads, see recordedPods). */
  readonly podsOmitted?: number;
}

/** One pod of a Kubernetes attempt, for the manifest. */
export interface AttemptPod {
  readonly role: 'driver' | 'executor';
  readonly name: string;
  readonly node?: string;
  readonly phase?: string;
  readonly exitCode?: number;
  readonly reason?: string;
}

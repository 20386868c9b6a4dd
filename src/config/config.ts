import path from 'node:path';
import { z } from 'zod';
import type { SparkJobName, SparkResources } from '../domain/spark/resources';
import type { EscalationPolicy } from '../domain/spark/escalation';

/**
 * Strict boolean: only the words below are accepted. `Boolean("false")` is true, a classic
 * configuration bug, so env strings are never coerced with Boolean().
 */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: "expected one of: true, false, 1, 0, yes, no" })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const mb = z.coerce.number({ message: 'expected a number of MiB' }).int().min(256, 'must be at least 256 MiB');
const positive = z.coerce.number({ message: 'expected a number' }).int().positive();

/** Every environment variable Nightjar reads, with its default. The README's reference mirrors this. */
export const ConfigSchema = z
  .object({
    NIGHTJAR_DATA_DIR: z.string().min(1).default('.data'),
    NIGHTJAR_TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
    NIGHTJAR_TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    NIGHTJAR_TASK_QUEUE: z.string().min(1).default('nightjar'),
    NIGHTJAR_TEMPORAL_UI_URL: z.url({ message: 'expected an http(s) URL' }).default('http://localhost:8233'),
    NIGHTJAR_REPORTING_STORE: z.enum(['pglite', 'postgres']).default('pglite'),
    NIGHTJAR_REPORTING_PG_URL: z.string().optional(),
    NIGHTJAR_REPORTING_CURRENCY: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as EUR').default('EUR'),
    NIGHTJAR_SPARK_PLATFORM: z.enum(['local']).default('local'),
    NIGHTJAR_SPARK_SUBMIT: z.string().optional(),
    NIGHTJAR_PYTHON: z.string().optional(),
    NIGHTJAR_SPARK_CORES: positive.default(2),
    NIGHTJAR_SPARK_DRIVER_MEMORY_MB: mb.default(1024),
    NIGHTJAR_SPARK_EXECUTOR_MEMORY_MB: mb.default(2048),
    NIGHTJAR_SPARK_EXECUTOR_INSTANCES: positive.default(2),
    NIGHTJAR_SPARK_SHUFFLE_PARTITIONS: positive.default(8),
    NIGHTJAR_SPARK_UI: bool.default(false),
    NIGHTJAR_OOM_MAX_ATTEMPTS: positive.default(4),
    NIGHTJAR_OOM_MEMORY_FACTOR: z.coerce.number().gt(1, 'must be greater than 1').default(2),
    NIGHTJAR_OOM_MAX_DRIVER_MEMORY_MB: mb.default(8192),
    NIGHTJAR_OOM_MAX_EXECUTOR_MEMORY_MB: mb.default(16384),
    NIGHTJAR_LARGE_VALUE_THRESHOLD: z.coerce.number().positive().default(10000),
    NIGHTJAR_STRUCTURING_THRESHOLD: z.coerce.number().positive().default(10000),
    NIGHTJAR_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    NIGHTJAR_LOG_REDACT: bool.default(true),
  })
  .superRefine((env, ctx) => {
    if (env.NIGHTJAR_REPORTING_STORE === 'postgres' && !env.NIGHTJAR_REPORTING_PG_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['NIGHTJAR_REPORTING_PG_URL'],
        message: 'required when NIGHTJAR_REPORTING_STORE=postgres (e.g. postgres://user:pass@host:5432/db)',
      });
    }
  });

export interface NightjarConfig {
  readonly repoRoot: string;
  readonly dataDir: string;
  readonly temporal: { readonly address: string; readonly namespace: string; readonly taskQueue: string; readonly uiUrl: string };
  readonly reporting: { readonly kind: 'pglite'; readonly dataDir: string } | { readonly kind: 'postgres'; readonly url: string };
  readonly reportingCurrency: string;
  readonly spark: {
    readonly platform: 'local';
    readonly sparkSubmit: string;
    readonly python: string;
    readonly jobsDir: string;
    readonly ui: boolean;
    readonly defaults: Readonly<Record<SparkJobName, SparkResources>>;
    readonly escalation: EscalationPolicy;
    readonly thresholds: {
      readonly largeValueRpt: number;
      readonly structuringThresholdRpt: number;
      readonly structuringBandLow: number;
      readonly structuringMinCount: number;
    };
  };
  readonly log: { readonly level: string; readonly redact: boolean };
}

/** A configuration problem, naming each variable and what it accepts. */
export class ConfigError extends Error {
  readonly type = 'InvalidInput';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** The repository root (where package.json, spark/ and .venv/ live). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Parses configuration from an environment once; call it in the composition root only. */
export function loadConfig(env: Record<string, string | undefined> = process.env, repoRoot = REPO_ROOT): NightjarConfig {
  const parsed = ConfigSchema.safeParse(
    Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('NIGHTJAR_') && v !== undefined && v !== '')),
  );
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const name = String(i.path[0] ?? '');
        return `${name}=${JSON.stringify(env[name] ?? '')}: ${i.message}`;
      }),
    );
  }
  const e = parsed.data;
  const dataDir = path.resolve(repoRoot, e.NIGHTJAR_DATA_DIR);
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
  return {
    repoRoot,
    dataDir,
    temporal: {
      address: e.NIGHTJAR_TEMPORAL_ADDRESS,
      namespace: e.NIGHTJAR_TEMPORAL_NAMESPACE,
      taskQueue: e.NIGHTJAR_TASK_QUEUE,
      uiUrl: e.NIGHTJAR_TEMPORAL_UI_URL.replace(/\/$/, ''),
    },
    reporting:
      e.NIGHTJAR_REPORTING_STORE === 'postgres'
        ? { kind: 'postgres', url: e.NIGHTJAR_REPORTING_PG_URL as string }
        : { kind: 'pglite', dataDir: path.join(dataDir, 'reporting', 'pglite') },
    reportingCurrency: e.NIGHTJAR_REPORTING_CURRENCY,
    spark: {
      platform: e.NIGHTJAR_SPARK_PLATFORM,
      sparkSubmit: e.NIGHTJAR_SPARK_SUBMIT ?? path.join(venvBin, 'spark-submit'),
      python: e.NIGHTJAR_PYTHON ?? path.join(venvBin, 'python'),
      jobsDir: path.join(repoRoot, 'spark'),
      ui: e.NIGHTJAR_SPARK_UI,
      defaults: { normalize: resources, transform: resources },
      escalation: {
        maxAttempts: e.NIGHTJAR_OOM_MAX_ATTEMPTS,
        memoryFactor: e.NIGHTJAR_OOM_MEMORY_FACTOR,
        maxDriverMemoryMb: e.NIGHTJAR_OOM_MAX_DRIVER_MEMORY_MB,
        maxExecutorMemoryMb: e.NIGHTJAR_OOM_MAX_EXECUTOR_MEMORY_MB,
      },
      thresholds: {
        largeValueRpt: e.NIGHTJAR_LARGE_VALUE_THRESHOLD,
        structuringThresholdRpt: e.NIGHTJAR_STRUCTURING_THRESHOLD,
        structuringBandLow: 0.8,
        structuringMinCount: 3,
      },
    },
    log: { level: e.NIGHTJAR_LOG_LEVEL, redact: e.NIGHTJAR_LOG_REDACT },
  };
}

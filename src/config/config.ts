import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { SparkJobName, SparkResources } from '../domain/spark/resources';
import type { EscalationPolicy } from '../domain/spark/escalation';
import type { SizingPolicy } from '../domain/spark/sizing';
import { DEFAULT_BUSINESS_DATE_WINDOW, type BusinessDateWindow } from '../domain/bounds';
import { BusinessDate } from '../domain/business-date';
import type { BusinessCalendar } from '../domain/calendar';
import { FEED_NAMES, type FeedName } from '../domain/feeds/catalog';
import { DEFAULT_KUBERNETES_TIMINGS, type KubeConfigSource, type KubernetesPlatformSettings } from '../spark/kubernetes/settings';

/**
 * Strict boolean: only the words below are accepted. `Boolean("false")` is true, a classic
 * configuration bug, so env strings are never coerced with Boolean().
 */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: "expected one of: true, false, 1, 0, yes, no" })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const mb = z.coerce.number({ message: 'expected a number of MiB' }).int().min(256, 'must be at least 256 MiB');
const positive = z.coerce.number({ message: 'expected a number' }).int().positive();
const optionalPositive = z.coerce.number({ message: 'expected a number' }).positive().optional();

/** `key=value,key=value` (node selectors). */
const keyValues = z
  .string()
  .regex(/^[^=,\s]+=[^=,\s]*(?:,[^=,\s]+=[^=,\s]*)*$/, 'expected key=value pairs separated by commas')
  .transform((s) => Object.fromEntries(s.split(',').map((kv) => kv.split('=') as [string, string])));

/** `ENV_NAME=secret:key,...`: environment variables taken from Secrets, by reference only. */
const secretRefs = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*=[^:,\s]+:[^:,\s]+(?:,[A-Za-z_][A-Za-z0-9_]*=[^:,\s]+:[^:,\s]+)*$/, 'expected NAME=secret:key pairs separated by commas')
  .transform((s) =>
    s.split(',').map((entry) => {
      const [name, ref] = entry.split('=') as [string, string];
      const [secretName, key] = ref.split(':') as [string, string];
      return { name, secretName, key };
    }),
  );

const list = z
  .string()
  .transform((s) => s.split(',').map((v) => v.trim()).filter((v) => v.length > 0));

const tolerations = z.string().transform((s, ctx) => {
  try {
    const value: unknown = JSON.parse(s);
    if (Array.isArray(value)) return value as Record<string, unknown>[];
  } catch {
    // reported below
  }
  ctx.addIssue({ code: 'custom', message: 'expected a JSON array of tolerations, e.g. [{"key":"batch","operator":"Exists","effect":"NoSchedule"}]' });
  return z.NEVER;
});

const positiveNumber = z.number().positive();
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

/** `{"transform": {...}}`: per-job settings as JSON, checked field by field. */
function perJob<T extends z.ZodType>(schema: T, example: string) {
  const shape = z.strictObject({ normalize: schema, transform: schema }).partial();
  return z.string().transform((s, ctx) => {
    let value: unknown;
    try {
      value = JSON.parse(s);
    } catch {
      ctx.addIssue({ code: 'custom', message: `expected JSON such as ${example}` });
      return z.NEVER;
    }
    const parsed = shape.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        ctx.addIssue({ code: 'custom', message: `${issue.path.join('.') || '(root)'}: ${issue.code === 'unrecognized_keys' ? `unexpected ${issue.keys.join(', ')}` : issue.message}` });
      }
      return z.NEVER;
    }
    return parsed.data as Partial<Record<SparkJobName, z.output<T>>>;
  });
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** A duration in seconds, `0` or `off` to disable. */
const interval = z
  .string()
  .regex(/^(?:off|\d+)$/, 'expected a number of seconds or "off"')
  .transform((s) => (s === 'off' ? 0 : Number(s)));

/** `host:port` to listen on, or `off`. */
const listenAddress = z
  .string()
  .regex(/^(?:off|[^\s:]+:\d{1,5})$/, 'expected host:port (e.g. 0.0.0.0:9464) or "off"')
  .refine((s) => s === 'off' || Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, 'port must be at most 65535')
  .transform((s) => (s === 'off' ? undefined : s));

const keyId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected a key id of letters, digits, ".", "_" or "-" (at most 64)');

/** Every environment variable Nightjar reads, with its default. The README's reference mirrors this. */
export const ConfigSchema = z
  .object({
    NIGHTJAR_DATA_DIR: z.string().min(1).default('.data'),
    NIGHTJAR_TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
    NIGHTJAR_TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    NIGHTJAR_TASK_QUEUE: z.string().min(1).optional(),
    NIGHTJAR_TEMPORAL_UI_URL: z.url({ message: 'expected an http(s) URL' }).default('http://localhost:8233'),
    NIGHTJAR_REPORTING_STORE: z.enum(['pglite', 'postgres']).default('pglite'),
    NIGHTJAR_REPORTING_PG_URL: z.string().optional(),
    NIGHTJAR_REPORTING_CURRENCY: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as EUR').default('EUR'),
    NIGHTJAR_SPARK_PLATFORM: z.enum(['local', 'kubernetes']).default('local'),
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
    NIGHTJAR_OOM_EXECUTOR_INSTANCES_FACTOR: optionalPositive,
    NIGHTJAR_OOM_MAX_EXECUTOR_INSTANCES: positive.optional(),
    NIGHTJAR_OOM_SHUFFLE_PARTITIONS_FACTOR: optionalPositive,
    NIGHTJAR_OOM_MAX_TOTAL_MEMORY_MB: mb.optional(),
    NIGHTJAR_SPARK_JOB_RESOURCES: perJob(JobResources, '{"transform": {"executorMemoryMb": 4096}}').optional(),
    NIGHTJAR_OOM_JOB_POLICY: perJob(JobPolicy, '{"transform": {"maxExecutorMemoryMb": 32768}}').optional(),
    NIGHTJAR_SIZING_LEARN: bool.default(true),
    NIGHTJAR_SIZING_STEP_DOWN_AFTER: positive.default(5),
    NIGHTJAR_SIZING_STEP_DOWN_FACTOR: z.coerce.number().gt(1, 'must be greater than 1').default(2),
    NIGHTJAR_K8S_NAMESPACE: z.string().regex(/^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/, 'expected a Kubernetes namespace name').max(63).optional(),
    NIGHTJAR_K8S_CONFIG: z.string().min(1).default('default'),
    NIGHTJAR_K8S_IMAGE: z.string().regex(/^\S+$/, 'expected an image reference without spaces').optional(),
    NIGHTJAR_K8S_IMAGE_PULL_POLICY: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
    NIGHTJAR_K8S_SERVICE_ACCOUNT: z.string().min(1).default('nightjar-spark'),
    NIGHTJAR_K8S_SPARK_VERSION: z.string().regex(/^\d+\.\d+(?:\.\d+)?$/, 'expected a Spark version such as 4.0.1').default('4.0.1'),
    NIGHTJAR_K8S_JOBS_DIR: z.string().regex(/^\//, 'expected an absolute path inside the image').default('/opt/nightjar/spark'),
    NIGHTJAR_K8S_TTL_SECONDS: positive.default(3600),
    NIGHTJAR_K8S_SPARK_CONF_CONFIGMAP: z.string().min(1).optional(),
    NIGHTJAR_K8S_SECRET_ENV: secretRefs.optional(),
    NIGHTJAR_K8S_NODE_SELECTOR: keyValues.optional(),
    NIGHTJAR_K8S_TOLERATIONS: tolerations.optional(),
    NIGHTJAR_K8S_PRIORITY_CLASS: z.string().min(1).optional(),
    NIGHTJAR_K8S_LOCALITY_KEY: z.string().min(1).default('topology.kubernetes.io/zone'),
    NIGHTJAR_K8S_LOCALITY: list.optional(),
    NIGHTJAR_K8S_LOCALITY_REQUIRED: bool.default(false),
    NIGHTJAR_K8S_BATCH_SCHEDULER: z.enum(['volcano', 'yunikorn']).optional(),
    NIGHTJAR_K8S_BATCH_QUEUE: z.string().min(1).optional(),
    NIGHTJAR_K8S_DATA_PVC: z.string().min(1).optional(),
    NIGHTJAR_K8S_EXECUTOR_OOM_LIMIT: positive.default(2),
    NIGHTJAR_K8S_STUCK_AFTER_SECONDS: positive.default(600),
    NIGHTJAR_K8S_POLL_SECONDS: positive.default(30),
    NIGHTJAR_K8S_CLEANUP_TIMEOUT_SECONDS: positive.default(60),
    NIGHTJAR_JANITOR_EVERY_SECONDS: interval.default(0),
    NIGHTJAR_JANITOR_MIN_AGE_SECONDS: positive.default(1800),
    NIGHTJAR_WORKER_MAX_ACTIVITIES: positive.default(200),
    NIGHTJAR_LARGE_VALUE_THRESHOLD: z.coerce.number().positive().default(10000),
    NIGHTJAR_STRUCTURING_THRESHOLD: z.coerce.number().positive().default(10000),
    NIGHTJAR_TENANT: z.string().regex(/^[a-z0-9](?:[-a-z0-9]{0,30}[a-z0-9])?$/, 'expected 1-32 lower-case letters, digits or -').default('default'),
    NIGHTJAR_TIME_ZONE: z
      .string()
      .refine(isTimeZone, 'expected an IANA time zone such as Europe/Brussels')
      .default('UTC'),
    NIGHTJAR_CALENDAR_REGION: z.string().min(1).default('default'),
    NIGHTJAR_WEEKEND: z
      .string()
      .regex(/^[1-7](?:,[1-7])*$/, 'expected ISO weekdays 1-7 separated by commas, e.g. 6,7')
      .transform((s) => [...new Set(s.split(',').map(Number))].sort())
      .default([6, 7]),
    NIGHTJAR_HOLIDAYS: list
      .pipe(z.array(BusinessDate))
      .default([]),
    NIGHTJAR_OPTIONAL_FEEDS: list.pipe(z.array(z.enum(FEED_NAMES, { message: `expected feed names: ${FEED_NAMES.join(', ')}` }))).default([]),
    NIGHTJAR_FEED_DEADLINE_HOURS: z.coerce.number().positive().max(72).default(4),
    NIGHTJAR_FEED_POLL_SECONDS: positive.default(60),
    NIGHTJAR_FEED_ROOTS: list.pipe(z.array(z.string().regex(/^\//, 'expected absolute directory paths'))).optional(),
    NIGHTJAR_SCHEDULE_TIME: z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (24-hour)').optional(),
    NIGHTJAR_SCHEDULE_CATCHUP_SECONDS: positive.default(12 * 3600),
    NIGHTJAR_SCHEDULE_LOOKBACK_DAYS: positive.max(366).default(10),
    NIGHTJAR_BUSINESS_DATE_PAST_DAYS: positive.max(36_600).default(DEFAULT_BUSINESS_DATE_WINDOW.pastDays),
    NIGHTJAR_BUSINESS_DATE_FUTURE_DAYS: z.coerce.number({ message: 'expected a number' }).int().min(0).max(3660).default(DEFAULT_BUSINESS_DATE_WINDOW.futureDays),
    NIGHTJAR_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
    NIGHTJAR_HTTP_PORT: z.coerce.number().int().min(1).max(65535).default(8088),
    NIGHTJAR_HTTP_TOKENS: list.pipe(z.array(z.string().min(16, 'tokens must be at least 16 characters'))).optional(),
    NIGHTJAR_KAFKA_BROKERS: list.optional(),
    NIGHTJAR_KAFKA_TOPIC: z.string().min(1).default('nightjar.feed-arrivals'),
    NIGHTJAR_KAFKA_DLQ_TOPIC: z.string().min(1).default('nightjar.feed-arrivals.dlq'),
    NIGHTJAR_KAFKA_GROUP: z.string().min(1).default('nightjar-feed-bridge'),
    NIGHTJAR_TEMPORAL_TLS_CERT: z.string().min(1).optional(),
    NIGHTJAR_TEMPORAL_TLS_KEY: z.string().min(1).optional(),
    NIGHTJAR_TEMPORAL_TLS_CA: z.string().min(1).optional(),
    NIGHTJAR_TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
    NIGHTJAR_ENCRYPTION_KEYS_DIR: z.string().min(1).optional(),
    NIGHTJAR_ENCRYPTION_KEY_ID: keyId.optional(),
    NIGHTJAR_ENCRYPTION_PLAINTEXT: z.enum(['accept', 'refuse'], { message: 'expected accept or refuse' }).default('accept'),
    NIGHTJAR_CODEC_HOST: z.string().min(1).default('127.0.0.1'),
    NIGHTJAR_CODEC_PORT: z.coerce.number().int().min(1).max(65535).default(8089),
    NIGHTJAR_CODEC_CORS_ORIGINS: list.pipe(z.array(z.url({ message: 'expected origins such as http://localhost:8233' }))).optional(),
    NIGHTJAR_CODEC_TOKENS: list.pipe(z.array(z.string().min(16, 'tokens must be at least 16 characters'))).optional(),
    NIGHTJAR_METRICS_ADDRESS: listenAddress.default('127.0.0.1:9464'),
    NIGHTJAR_HEALTH_ADDRESS: listenAddress.optional(),
    NIGHTJAR_SHUTDOWN_GRACE_SECONDS: positive.default(30),
    NIGHTJAR_WORKFLOW_BUNDLE: z.string().min(1).optional(),
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
    if (env.NIGHTJAR_SPARK_PLATFORM === 'kubernetes') {
      if (!env.NIGHTJAR_K8S_NAMESPACE) {
        ctx.addIssue({ code: 'custom', path: ['NIGHTJAR_K8S_NAMESPACE'], message: 'required when NIGHTJAR_SPARK_PLATFORM=kubernetes (the namespace Spark applications run in)' });
      }
      if (!env.NIGHTJAR_K8S_IMAGE) {
        ctx.addIssue({ code: 'custom', path: ['NIGHTJAR_K8S_IMAGE'], message: 'required when NIGHTJAR_SPARK_PLATFORM=kubernetes (the Spark job image)' });
      }
    }
    if (env.NIGHTJAR_ENCRYPTION_KEYS_DIR && !env.NIGHTJAR_ENCRYPTION_KEY_ID) {
      ctx.addIssue({ code: 'custom', path: ['NIGHTJAR_ENCRYPTION_KEY_ID'], message: 'required when NIGHTJAR_ENCRYPTION_KEYS_DIR is set (the id of the key that encrypts new payloads)' });
    }
    if (env.NIGHTJAR_ENCRYPTION_KEY_ID && !env.NIGHTJAR_ENCRYPTION_KEYS_DIR) {
      ctx.addIssue({ code: 'custom', path: ['NIGHTJAR_ENCRYPTION_KEYS_DIR'], message: 'required when NIGHTJAR_ENCRYPTION_KEY_ID is set (the directory holding one file per key id)' });
    }
    if (Boolean(env.NIGHTJAR_TEMPORAL_TLS_CERT) !== Boolean(env.NIGHTJAR_TEMPORAL_TLS_KEY)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.NIGHTJAR_TEMPORAL_TLS_CERT ? 'NIGHTJAR_TEMPORAL_TLS_KEY' : 'NIGHTJAR_TEMPORAL_TLS_CERT'],
        message: 'mTLS needs both NIGHTJAR_TEMPORAL_TLS_CERT and NIGHTJAR_TEMPORAL_TLS_KEY (PEM file paths)',
      });
    }
    if (env.NIGHTJAR_SCHEDULE_LOOKBACK_DAYS > env.NIGHTJAR_BUSINESS_DATE_PAST_DAYS) {
      ctx.addIssue({
        code: 'custom',
        path: ['NIGHTJAR_SCHEDULE_LOOKBACK_DAYS'],
        message: `must not reach further back than NIGHTJAR_BUSINESS_DATE_PAST_DAYS (${env.NIGHTJAR_BUSINESS_DATE_PAST_DAYS}): the nightly trigger would owe dates no door accepts`,
      });
    }
    if (env.NIGHTJAR_K8S_BATCH_QUEUE && !env.NIGHTJAR_K8S_BATCH_SCHEDULER) {
      ctx.addIssue({ code: 'custom', path: ['NIGHTJAR_K8S_BATCH_QUEUE'], message: 'needs NIGHTJAR_K8S_BATCH_SCHEDULER (volcano or yunikorn)' });
    }
  });


export interface NightjarConfig {
  readonly repoRoot: string;
  readonly dataDir: string;
  readonly temporal: {
    readonly address: string;
    readonly namespace: string;
    readonly taskQueue: string;
    readonly uiUrl: string;
    /** mTLS to the Temporal frontend (PEM file paths); plain TCP when absent. */
    readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile?: string; readonly serverName?: string };
  };
  /** AES-256-GCM payload encryption: one file per key id in `keysDir`; `activeKeyId` encrypts, all decrypt. */
  readonly encryption?: {
    readonly keysDir: string;
    readonly activeKeyId: string;
    /** What decoding does with an unencrypted payload (docs/runbook.md argues the default, accept). */
    readonly plaintext?: 'accept' | 'refuse';
  };
  /** The codec server the Temporal UI calls to show decrypted payloads (`nightjar codec-server`). */
  readonly codecServer: { readonly host: string; readonly port: number; readonly corsOrigins: readonly string[]; readonly tokens: readonly string[] };
  /** Prometheus metrics (`host:port`) and the health endpoints; absent when `off`. */
  readonly observability: { readonly metricsAddress?: string; readonly healthAddress?: string };
  readonly reporting: { readonly kind: 'pglite'; readonly dataDir: string } | { readonly kind: 'postgres'; readonly url: string };
  readonly reportingCurrency: string;
  readonly spark: {
    readonly platform: 'local' | 'kubernetes';
    readonly sparkSubmit: string;
    readonly python: string;
    readonly jobsDir: string;
    readonly ui: boolean;
    readonly defaults: Readonly<Record<SparkJobName, SparkResources>>;
    /** The default policy, and per job the policy with that job's settings over it. */
    readonly escalation: EscalationPolicy;
    readonly escalationByJob: Readonly<Record<SparkJobName, EscalationPolicy>>;
    readonly sizing: { readonly learn: boolean; readonly policy: SizingPolicy };
    readonly kubernetes?: {
      readonly config: KubeConfigSource;
      readonly settings: KubernetesPlatformSettings;
    };
    readonly thresholds: {
      readonly largeValueRpt: number;
      readonly structuringThresholdRpt: number;
      readonly structuringBandLow: number;
      readonly structuringMinCount: number;
    };
  };
  readonly log: { readonly level: string; readonly redact: boolean };
  readonly janitor: { readonly everySeconds: number; readonly minAgeSeconds: number };
  /** The one tenant this deployment serves: its worker, triggers and CLI refuse every other. */
  readonly tenant: string;
  /** The business dates a trigger may name, around today in the tenant's zone. */
  readonly businessDates: BusinessDateWindow;
  readonly calendar: BusinessCalendar;
  readonly feeds: {
    readonly optional: readonly FeedName[];
    readonly deadlineHours: number;
    readonly pollSeconds: number;
    /** Directories, besides the data directory, that announced feed files may be read from. */
    readonly roots: readonly string[];
  };
  /** The nightly schedule, upserted at worker start when a time is configured. */
  readonly schedule?: { readonly time: string; readonly catchupWindowSeconds: number; readonly lookbackDays: number };
  readonly worker: {
    readonly maxConcurrentActivities: number;
    /** How long activities get to finish after SIGTERM before they are handed back to the server. */
    readonly shutdownGraceSeconds: number;
    /** A workflow bundle prebuilt at image build time; workflows are bundled from source when absent. */
    readonly workflowBundle?: string;
  };
  /** The HTTP trigger API (served by `nightjar triggers` when tokens are configured). */
  readonly http: { readonly host: string; readonly port: number; readonly tokens: readonly string[] };
  /** The Kafka feed-arrival bridge (run by `nightjar triggers` when brokers are configured). */
  readonly kafka?: { readonly brokers: readonly string[]; readonly topic: string; readonly dlqTopic: string; readonly groupId: string };
}

/** A configuration problem, naming each variable and what it accepts. */
export class ConfigError extends Error {
  readonly type = 'InvalidInput';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * The task queue of a tenant's nights when NIGHTJAR_TASK_QUEUE is not set: `nightjar` for the
 * default tenant (as before tenants), `nightjar-<tenant>` for any other, so two tenants on one
 * Temporal namespace never share a queue by default.
 */
export function defaultTaskQueue(tenant: string): string {
  return tenant === 'default' ? 'nightjar' : `nightjar-${tenant}`;
}

/** The repository root (where package.json, spark/ and .venv/ live). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/**
 * Secrets that may instead be read from a file, `<NAME>_FILE` (a Kubernetes Secret mounted as a
 * file keeps them out of the process environment). Token lists may be one per line.
 */
export const FILE_VARIABLES = ['NIGHTJAR_REPORTING_PG_URL', 'NIGHTJAR_HTTP_TOKENS', 'NIGHTJAR_CODEC_TOKENS'] as const;

export type ReadSecretFile = (file: string) => string;
const readSecretFile: ReadSecretFile = (file) => fs.readFileSync(file, 'utf8');

/** The environment with every `<NAME>_FILE` of FILE_VARIABLES replaced by `<NAME>` and the file's content. */
function resolveFileVariables(env: Record<string, string | undefined>, read: ReadSecretFile): Record<string, string | undefined> {
  const resolved = { ...env };
  const problems: string[] = [];
  for (const name of FILE_VARIABLES) {
    const file = env[`${name}_FILE`];
    if (file === undefined || file === '') continue;
    if (env[name] !== undefined && env[name] !== '') {
      problems.push(`${name}_FILE=${JSON.stringify(file)}: set either ${name} or ${name}_FILE, not both`);
      continue;
    }
    let content: string;
    try {
      content = read(file);
    } catch (error) {
      problems.push(`${name}_FILE=${JSON.stringify(file)}: cannot read the file (${error instanceof Error ? error.message : String(error)})`);
      continue;
    }
    const value = content
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line.length > 0)
      .join(',');
    if (value === '') problems.push(`${name}_FILE=${JSON.stringify(file)}: the file is empty`);
    else resolved[name] = value;
    delete resolved[`${name}_FILE`];
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return resolved;
}

/** Parses configuration from an environment once; call it in the composition root only. */
export function loadConfig(given: Record<string, string | undefined> = process.env, repoRoot = REPO_ROOT, read: ReadSecretFile = readSecretFile): NightjarConfig {
  const env = resolveFileVariables(given, read);
  const parsed = ConfigSchema.safeParse(
    Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('NIGHTJAR_') && v !== undefined && v !== '')),
  );
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const name = String(i.path[0] ?? '');
        // Secrets are named, never shown.
        const shown = (FILE_VARIABLES as readonly string[]).includes(name) ? '(secret, not shown)' : JSON.stringify(env[name] ?? '');
        return `${name}=${shown}: ${i.message}`;
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
  const escalation: EscalationPolicy = {
    maxAttempts: e.NIGHTJAR_OOM_MAX_ATTEMPTS,
    memoryFactor: e.NIGHTJAR_OOM_MEMORY_FACTOR,
    maxDriverMemoryMb: e.NIGHTJAR_OOM_MAX_DRIVER_MEMORY_MB,
    maxExecutorMemoryMb: e.NIGHTJAR_OOM_MAX_EXECUTOR_MEMORY_MB,
    ...(e.NIGHTJAR_OOM_EXECUTOR_INSTANCES_FACTOR !== undefined ? { executorInstancesFactor: e.NIGHTJAR_OOM_EXECUTOR_INSTANCES_FACTOR } : {}),
    ...(e.NIGHTJAR_OOM_MAX_EXECUTOR_INSTANCES !== undefined ? { maxExecutorInstances: e.NIGHTJAR_OOM_MAX_EXECUTOR_INSTANCES } : {}),
    ...(e.NIGHTJAR_OOM_SHUFFLE_PARTITIONS_FACTOR !== undefined ? { shufflePartitionsFactor: e.NIGHTJAR_OOM_SHUFFLE_PARTITIONS_FACTOR } : {}),
    ...(e.NIGHTJAR_OOM_MAX_TOTAL_MEMORY_MB !== undefined ? { maxTotalMemoryMb: e.NIGHTJAR_OOM_MAX_TOTAL_MEMORY_MB } : {}),
  };
  return {
    repoRoot,
    dataDir,
    temporal: {
      address: e.NIGHTJAR_TEMPORAL_ADDRESS,
      namespace: e.NIGHTJAR_TEMPORAL_NAMESPACE,
      taskQueue: e.NIGHTJAR_TASK_QUEUE ?? defaultTaskQueue(e.NIGHTJAR_TENANT),
      uiUrl: e.NIGHTJAR_TEMPORAL_UI_URL.replace(/\/$/, ''),
      ...(e.NIGHTJAR_TEMPORAL_TLS_CERT !== undefined && e.NIGHTJAR_TEMPORAL_TLS_KEY !== undefined
        ? {
            tls: {
              certFile: path.resolve(e.NIGHTJAR_TEMPORAL_TLS_CERT),
              keyFile: path.resolve(e.NIGHTJAR_TEMPORAL_TLS_KEY),
              ...(e.NIGHTJAR_TEMPORAL_TLS_CA !== undefined ? { caFile: path.resolve(e.NIGHTJAR_TEMPORAL_TLS_CA) } : {}),
              ...(e.NIGHTJAR_TEMPORAL_TLS_SERVER_NAME !== undefined ? { serverName: e.NIGHTJAR_TEMPORAL_TLS_SERVER_NAME } : {}),
            },
          }
        : {}),
    },
    ...(e.NIGHTJAR_ENCRYPTION_KEYS_DIR !== undefined && e.NIGHTJAR_ENCRYPTION_KEY_ID !== undefined
      ? { encryption: { keysDir: path.resolve(repoRoot, e.NIGHTJAR_ENCRYPTION_KEYS_DIR), activeKeyId: e.NIGHTJAR_ENCRYPTION_KEY_ID, plaintext: e.NIGHTJAR_ENCRYPTION_PLAINTEXT } }
      : {}),
    codecServer: {
      host: e.NIGHTJAR_CODEC_HOST,
      port: e.NIGHTJAR_CODEC_PORT,
      corsOrigins: e.NIGHTJAR_CODEC_CORS_ORIGINS ?? [new URL(e.NIGHTJAR_TEMPORAL_UI_URL).origin],
      tokens: e.NIGHTJAR_CODEC_TOKENS ?? [],
    },
    observability: {
      ...(e.NIGHTJAR_METRICS_ADDRESS !== undefined ? { metricsAddress: e.NIGHTJAR_METRICS_ADDRESS } : {}),
      ...(e.NIGHTJAR_HEALTH_ADDRESS !== undefined ? { healthAddress: e.NIGHTJAR_HEALTH_ADDRESS } : {}),
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
      ...(e.NIGHTJAR_SPARK_PLATFORM === 'kubernetes' ? { kubernetes: kubernetesConfig(e, dataDir) } : {}),
      thresholds: {
        largeValueRpt: e.NIGHTJAR_LARGE_VALUE_THRESHOLD,
        structuringThresholdRpt: e.NIGHTJAR_STRUCTURING_THRESHOLD,
        structuringBandLow: 0.8,
        structuringMinCount: 3,
      },
    },
    log: { level: e.NIGHTJAR_LOG_LEVEL, redact: e.NIGHTJAR_LOG_REDACT },
    janitor: { everySeconds: e.NIGHTJAR_JANITOR_EVERY_SECONDS, minAgeSeconds: e.NIGHTJAR_JANITOR_MIN_AGE_SECONDS },
    tenant: e.NIGHTJAR_TENANT,
    businessDates: { pastDays: e.NIGHTJAR_BUSINESS_DATE_PAST_DAYS, futureDays: e.NIGHTJAR_BUSINESS_DATE_FUTURE_DAYS },
    calendar: { region: e.NIGHTJAR_CALENDAR_REGION, timeZone: e.NIGHTJAR_TIME_ZONE, weekend: e.NIGHTJAR_WEEKEND, holidays: [...new Set(e.NIGHTJAR_HOLIDAYS)].sort() },
    feeds: { optional: e.NIGHTJAR_OPTIONAL_FEEDS, deadlineHours: e.NIGHTJAR_FEED_DEADLINE_HOURS, pollSeconds: e.NIGHTJAR_FEED_POLL_SECONDS, roots: e.NIGHTJAR_FEED_ROOTS ?? [] },
    ...(e.NIGHTJAR_SCHEDULE_TIME !== undefined
      ? { schedule: { time: e.NIGHTJAR_SCHEDULE_TIME, catchupWindowSeconds: e.NIGHTJAR_SCHEDULE_CATCHUP_SECONDS, lookbackDays: e.NIGHTJAR_SCHEDULE_LOOKBACK_DAYS } }
      : {}),
    worker: {
      maxConcurrentActivities: e.NIGHTJAR_WORKER_MAX_ACTIVITIES,
      shutdownGraceSeconds: e.NIGHTJAR_SHUTDOWN_GRACE_SECONDS,
      ...(e.NIGHTJAR_WORKFLOW_BUNDLE !== undefined ? { workflowBundle: path.resolve(repoRoot, e.NIGHTJAR_WORKFLOW_BUNDLE) } : {}),
    },
    http: { host: e.NIGHTJAR_HTTP_HOST, port: e.NIGHTJAR_HTTP_PORT, tokens: e.NIGHTJAR_HTTP_TOKENS ?? [] },
    ...(e.NIGHTJAR_KAFKA_BROKERS !== undefined && e.NIGHTJAR_KAFKA_BROKERS.length > 0
      ? { kafka: { brokers: e.NIGHTJAR_KAFKA_BROKERS, topic: e.NIGHTJAR_KAFKA_TOPIC, dlqTopic: e.NIGHTJAR_KAFKA_DLQ_TOPIC, groupId: e.NIGHTJAR_KAFKA_GROUP } }
      : {}),
  };
}

function kubernetesConfig(e: z.output<typeof ConfigSchema>, dataDir: string): NonNullable<NightjarConfig['spark']['kubernetes']> {
  const source = e.NIGHTJAR_K8S_CONFIG;
  const config: KubeConfigSource =
    source === 'in-cluster' ? { kind: 'in-cluster' } : source === 'default' ? { kind: 'default' } : { kind: 'file', path: path.resolve(source) };
  const placement = {
    ...(e.NIGHTJAR_K8S_NODE_SELECTOR !== undefined ? { nodeSelector: e.NIGHTJAR_K8S_NODE_SELECTOR } : {}),
    ...(e.NIGHTJAR_K8S_TOLERATIONS !== undefined ? { tolerations: e.NIGHTJAR_K8S_TOLERATIONS } : {}),
    ...(e.NIGHTJAR_K8S_PRIORITY_CLASS !== undefined ? { priorityClassName: e.NIGHTJAR_K8S_PRIORITY_CLASS } : {}),
  };
  const settings: KubernetesPlatformSettings = {
    namespace: e.NIGHTJAR_K8S_NAMESPACE as string,
    image: e.NIGHTJAR_K8S_IMAGE as string,
    ...(e.NIGHTJAR_K8S_IMAGE_PULL_POLICY !== undefined ? { imagePullPolicy: e.NIGHTJAR_K8S_IMAGE_PULL_POLICY } : {}),
    serviceAccount: e.NIGHTJAR_K8S_SERVICE_ACCOUNT,
    sparkVersion: e.NIGHTJAR_K8S_SPARK_VERSION,
    imageJobsDir: e.NIGHTJAR_K8S_JOBS_DIR,
    ttlSeconds: e.NIGHTJAR_K8S_TTL_SECONDS,
    ...(e.NIGHTJAR_K8S_SPARK_CONF_CONFIGMAP !== undefined ? { sparkConfConfigMap: e.NIGHTJAR_K8S_SPARK_CONF_CONFIGMAP } : {}),
    ...(e.NIGHTJAR_K8S_SECRET_ENV !== undefined ? { secretEnv: e.NIGHTJAR_K8S_SECRET_ENV } : {}),
    // Tolerations are checked field by field by the SparkApplication builder at submission.
    placement: placement as KubernetesPlatformSettings['placement'],
    ...(e.NIGHTJAR_K8S_LOCALITY !== undefined && e.NIGHTJAR_K8S_LOCALITY.length > 0
      ? { locality: { topologyKey: e.NIGHTJAR_K8S_LOCALITY_KEY, values: e.NIGHTJAR_K8S_LOCALITY, required: e.NIGHTJAR_K8S_LOCALITY_REQUIRED } }
      : {}),
    ...(e.NIGHTJAR_K8S_BATCH_SCHEDULER !== undefined
      ? { batchScheduler: { name: e.NIGHTJAR_K8S_BATCH_SCHEDULER, ...(e.NIGHTJAR_K8S_BATCH_QUEUE !== undefined ? { queue: e.NIGHTJAR_K8S_BATCH_QUEUE } : {}) } }
      : {}),
    ...(e.NIGHTJAR_K8S_DATA_PVC !== undefined ? { dataVolume: { claimName: e.NIGHTJAR_K8S_DATA_PVC, mountPath: dataDir } } : {}),
    executorOomLimit: e.NIGHTJAR_K8S_EXECUTOR_OOM_LIMIT,
    stuckAfterMs: e.NIGHTJAR_K8S_STUCK_AFTER_SECONDS * 1000,
    pollIntervalMs: e.NIGHTJAR_K8S_POLL_SECONDS * 1000,
    fallbackPollMs: DEFAULT_KUBERNETES_TIMINGS.fallbackPollMs,
    cleanupTimeoutMs: e.NIGHTJAR_K8S_CLEANUP_TIMEOUT_SECONDS * 1000,
    driverLogLines: DEFAULT_KUBERNETES_TIMINGS.driverLogLines,
  };
  return { config, settings };
}

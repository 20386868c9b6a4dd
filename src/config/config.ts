import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { BusinessDateWindow } from '../domain/bounds';
import type { BusinessCalendar } from '../domain/calendar';
import { ConfigError } from './config-error';
import { checkKubernetesEnv, kubernetesConfig, KubernetesEnv, type KubernetesConfig } from './kubernetes';
import { checkNightsEnv, nightsConfig, NightsEnv, type FeedsConfig, type ScheduleConfig } from './nights';
import { isSecretVariable, readSecretFile, resolveFileVariables, type ReadSecretFile } from './secret-files';
import { checkSparkEnv, sparkJobsConfig, SparkEnv, type SparkJobsConfig } from './spark';
import { checkTemporalEnv, codecServerConfig, encryptionConfig, temporalConfig, TemporalEnv, type CodecServerConfig, type EncryptionConfig, type TemporalConfig } from './temporal';
import { triggersConfig, TriggersEnv, type HttpConfig, type KafkaConfig } from './triggers';
import { checkWorkerEnv, workerConfig, WorkerEnv, type ReportingConfig, type WorkerConfig } from './worker';

export { ConfigError } from './config-error';
export { FILE_VARIABLES, type ReadSecretFile } from './secret-files';
export { defaultTaskQueue } from './temporal';

/**
 * Every environment variable Nightjar reads, with its default: one schema, put together from one
 * part per concern (./worker, ./temporal, ./spark, ./kubernetes, ./nights, ./triggers). The
 * README's reference mirrors this.
 */
export const ConfigSchema = z
  .object({ ...WorkerEnv.shape, ...TemporalEnv.shape, ...SparkEnv.shape, ...KubernetesEnv.shape, ...NightsEnv.shape, ...TriggersEnv.shape })
  .superRefine((env, ctx) => {
    checkWorkerEnv(env, ctx);
    checkKubernetesEnv(env, ctx);
    checkSparkEnv(env, ctx);
    checkTemporalEnv(env, ctx);
    checkNightsEnv(env, ctx);
  });

export interface NightjarConfig {
  readonly repoRoot: string;
  readonly dataDir: string;
  readonly temporal: TemporalConfig;
  readonly encryption?: EncryptionConfig;
  readonly codecServer: CodecServerConfig;
  /** Prometheus metrics (`host:port`) and the health endpoints; absent when `off`. */
  readonly observability: { readonly metricsAddress?: string; readonly healthAddress?: string };
  readonly reporting: ReportingConfig;
  readonly reportingCurrency: string;
  readonly spark: SparkJobsConfig & { readonly kubernetes?: KubernetesConfig };
  readonly log: { readonly level: string; readonly redact: boolean };
  readonly janitor: { readonly everySeconds: number; readonly minAgeSeconds: number };
  /** The one tenant this deployment serves: its worker, triggers and CLI refuse every other. */
  readonly tenant: string;
  /** The business dates a trigger may name, around today in the tenant's zone. */
  readonly businessDates: BusinessDateWindow;
  readonly calendar: BusinessCalendar;
  readonly feeds: FeedsConfig;
  readonly schedule?: ScheduleConfig;
  readonly worker: WorkerConfig;
  readonly http: HttpConfig;
  readonly kafka?: KafkaConfig;
}

/**
 * The repository root (where package.json, spark/ and .venv/ live): the nearest directory above
 * this file with a package.json, the same from the sources (src/config) and the compiled CLI
 * (dist/src/config).
 */
export const REPO_ROOT = packageRoot(__dirname);

function packageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, '..', '..');
  }
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
        const shown = isSecretVariable(name) ? '(secret, not shown)' : JSON.stringify(env[name] ?? '');
        return `${name}=${shown}: ${i.message}`;
      }),
    );
  }
  const e = parsed.data;
  const dataDir = path.resolve(repoRoot, e.NIGHTJAR_DATA_DIR);
  const { observability, reporting, reportingCurrency, log, janitor, worker } = workerConfig(e, repoRoot, dataDir);
  return {
    repoRoot,
    dataDir,
    temporal: temporalConfig(e, e.NIGHTJAR_TENANT),
    ...encryptionConfig(e, repoRoot),
    codecServer: codecServerConfig(e),
    observability,
    reporting,
    reportingCurrency,
    spark: { ...sparkJobsConfig(e, repoRoot), ...kubernetesConfig(e, dataDir) },
    log,
    janitor,
    ...nightsConfig(e),
    worker,
    ...triggersConfig(e),
  };
}

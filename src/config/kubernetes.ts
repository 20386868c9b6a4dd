import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_KUBERNETES_TIMINGS, type KubeConfigSource, type KubernetesPlatformSettings } from '../spark/kubernetes/settings';
import { bool, keyValues, list, positive, problem } from './parsers';

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

/** The Kubernetes platform (spark-operator): where, as whom and how Spark applications run, and how they are watched. */
export const KubernetesEnv = z.object({
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
    // How attempts reach Kubernetes: SparkApplications for the spark-operator, or spark-submit's own cluster mode.
    NIGHTJAR_K8S_SUBMIT: z.enum(['operator', 'spark-submit']).default('operator'),
    // spark-submit mode: labels every driver and executor pod gets besides the attempt's.
    NIGHTJAR_K8S_POD_LABELS: keyValues.optional(),
    NIGHTJAR_K8S_SUBMIT_TIMEOUT_SECONDS: positive.default(180),
});
type Env = z.output<typeof KubernetesEnv> & { readonly NIGHTJAR_SPARK_PLATFORM: 'local' | 'kubernetes' };

export interface KubernetesConfig {
  readonly config: KubeConfigSource;
  readonly settings: KubernetesPlatformSettings;
  /** How attempts are submitted: spark-operator SparkApplications, or spark-submit in cluster mode. */
  readonly submit: { readonly mode: 'operator' } | { readonly mode: 'spark-submit'; readonly extraPodLabels?: Readonly<Record<string, string>>; readonly timeoutMs: number };
}

/** What the Kubernetes platform cannot run without, and variables that only make sense together. */
export function checkKubernetesEnv(env: Env, ctx: z.RefinementCtx): void {
  if (env.NIGHTJAR_SPARK_PLATFORM === 'kubernetes') {
    if (!env.NIGHTJAR_K8S_NAMESPACE) problem(ctx, 'NIGHTJAR_K8S_NAMESPACE', 'required when NIGHTJAR_SPARK_PLATFORM=kubernetes (the namespace Spark applications run in)');
    if (!env.NIGHTJAR_K8S_IMAGE) problem(ctx, 'NIGHTJAR_K8S_IMAGE', 'required when NIGHTJAR_SPARK_PLATFORM=kubernetes (the Spark job image)');
  }
  if (env.NIGHTJAR_K8S_BATCH_QUEUE && !env.NIGHTJAR_K8S_BATCH_SCHEDULER) {
    problem(ctx, 'NIGHTJAR_K8S_BATCH_QUEUE', 'needs NIGHTJAR_K8S_BATCH_SCHEDULER (volcano or yunikorn)');
  }
}

/** The Kubernetes platform's settings, when it is the configured platform. */
export function kubernetesConfig(e: Env, dataDir: string): { kubernetes?: KubernetesConfig } {
  return e.NIGHTJAR_SPARK_PLATFORM === 'kubernetes' ? { kubernetes: kubernetesPlatform(e, dataDir) } : {};
}

function kubernetesPlatform(e: Env, dataDir: string): KubernetesConfig {
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
  const submit =
    e.NIGHTJAR_K8S_SUBMIT === 'spark-submit'
      ? { mode: 'spark-submit' as const, timeoutMs: e.NIGHTJAR_K8S_SUBMIT_TIMEOUT_SECONDS * 1000, ...(e.NIGHTJAR_K8S_POD_LABELS !== undefined ? { extraPodLabels: e.NIGHTJAR_K8S_POD_LABELS } : {}) }
      : { mode: 'operator' as const };
  return { config, settings, submit };
}

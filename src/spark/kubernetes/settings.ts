/**
 * What the Kubernetes Spark platform is configured with. Kept apart from the platform so that
 * configuration can be parsed without loading the Kubernetes client.
 */
import type { SparkJobName } from '../../domain/spark/resources';
import type { BatchSchedulerInput, ImagePullPolicy, LocalityInput, PlacementInput, SecretEnvRef, VolumeInput } from './spark-application';

/** How the worker finds its cluster: in-cluster service account, client-node's default lookup, or a kubeconfig file. */
export type KubeConfigSource = { readonly kind: 'in-cluster' } | { readonly kind: 'default' } | { readonly kind: 'file'; readonly path: string };

export interface KubernetesPlatformSettings {
  readonly namespace: string;
  readonly image: string;
  readonly imagePullPolicy?: ImagePullPolicy;
  readonly serviceAccount: string;
  readonly sparkVersion: string;
  /** Where the `spark/` directory (jobs and package) lives inside the image. */
  readonly imageJobsDir: string;
  readonly ttlSeconds: number;
  readonly sparkConfConfigMap?: string;
  readonly secretEnv?: readonly SecretEnvRef[];
  readonly placement?: Omit<PlacementInput, 'locality'>;
  /** Node affinity to where the job's data lives (zone or rack), per job or for all. */
  readonly locality?: LocalityInput;
  readonly localityByJob?: Partial<Record<SparkJobName, LocalityInput>>;
  readonly batchScheduler?: BatchSchedulerInput;
  /** The shared data volume (the data layout's root), mounted at the same path as on the worker. */
  readonly dataVolume?: VolumeInput;
  /** Distinct executors lost to OOM after which the attempt is stopped and reported as OOM. */
  readonly executorOomLimit: number;
  /** An attempt waiting longer than this before it runs is stuck. */
  readonly stuckAfterMs: number;
  /** Safety re-check of an attempt while the watches are up. */
  readonly pollIntervalMs: number;
  /** Re-check interval while the watches are down. */
  readonly fallbackPollMs: number;
  /** How long cleanup waits for deletions to finish before it reports what remains. */
  readonly cleanupTimeoutMs: number;
  /** Driver log lines attached to a permanent failure. */
  readonly driverLogLines: number;
}

export const DEFAULT_KUBERNETES_TIMINGS = {
  executorOomLimit: 2,
  stuckAfterMs: 10 * 60_000,
  pollIntervalMs: 30_000,
  fallbackPollMs: 2_000,
  cleanupTimeoutMs: 60_000,
  driverLogLines: 40,
  ttlSeconds: 3600,
} as const;

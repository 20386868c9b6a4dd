/**
 * The demo's Kubernetes: the in-process fake API server, the spark-operator/kubelet simulator
 * whose drivers run the jobs with the local Spark, and a `KubernetesSparkPlatform` that reaches
 * them through the real client like it would reach a cluster. Loaded only for
 * `--spark-platform simulated-kubernetes`, so local demos never load the Kubernetes client.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { NightjarConfig } from '../config/config';
import { FakeKubeApiServer } from '../spark/kubernetes/fake-api';
import { DEFAULT_KUBERNETES_TIMINGS, KubernetesSparkPlatform, type KubernetesPlatformSettings } from '../spark/kubernetes/kubernetes-platform';
import {
  localSparkDriver,
  SparkOperatorSimulator,
  type NamedScenario,
  type SimulatorStats,
  type SimulatorTiming,
  type TimelineEntry,
} from '../spark/kubernetes/simulator';

export const DEMO_NAMESPACE = 'nightjar-demo';

/** Where the image holds `spark/` when the configuration does not say (the configuration's default). */
const DEFAULT_IMAGE_JOBS_DIR = '/opt/nightjar/spark';

/** Slow enough to watch: executors die about every second and a half, doomed drivers after a few seconds. */
export const DEMO_TIMING: Partial<SimulatorTiming> = {
  submitDelayMs: 500,
  podStartMs: 1_000,
  executorStartMs: 1_000,
  executorOomAfterMs: 1_500,
  executorDeleteAfterMs: 500,
  driverFailAfterMs: 4_000,
  imagePullBackoffMs: 1_000,
  terminalDelayMs: 500,
};

/** The platform's settings for the demo: the configured Kubernetes settings, with demo timings. */
export function demoPlatformSettings(config: NightjarConfig): KubernetesPlatformSettings {
  const configured = config.spark.kubernetes?.settings;
  return {
    image: 'registry.example/nightjar-spark:demo',
    serviceAccount: 'nightjar-spark',
    sparkVersion: '4.0.1',
    imageJobsDir: DEFAULT_IMAGE_JOBS_DIR,
    ttlSeconds: DEFAULT_KUBERNETES_TIMINGS.ttlSeconds,
    cleanupTimeoutMs: DEFAULT_KUBERNETES_TIMINGS.cleanupTimeoutMs,
    driverLogLines: DEFAULT_KUBERNETES_TIMINGS.driverLogLines,
    ...configured,
    namespace: DEMO_NAMESPACE,
    executorOomLimit: 2,
    stuckAfterMs: 20_000,
    pollIntervalMs: 2_000,
    fallbackPollMs: 2_000,
  };
}

/** The kinds of namespaced objects an attempt may leave behind. */
export const CLUSTER_KINDS = [
  ['sparkapplications', 'SparkApplications'],
  ['pods', 'pods'],
  ['services', 'services'],
  ['configmaps', 'configmaps'],
  ['persistentvolumeclaims', 'PVCs'],
] as const;

export interface ClusterContents {
  /** Objects per kind (display name → count). */
  readonly counts: Readonly<Record<string, number>>;
  readonly total: number;
}

export interface SimulatedCluster {
  readonly platform: KubernetesSparkPlatform;
  readonly namespace: string;
  /** What the simulator did so far, in order (grows while it runs). */
  readonly timeline: readonly TimelineEntry[];
  stats(): Readonly<SimulatorStats>;
  /** What the namespace holds now, events aside. */
  contents(): ClusterContents;
  /** Stops the platform's watches, the simulator (killing running drivers) and the server. */
  stop(): Promise<void>;
}

export interface SimulatedClusterOptions {
  readonly scenario: NamedScenario;
  readonly logger: Logger;
  readonly timing?: Partial<SimulatorTiming>;
}

export async function startSimulatedCluster(config: NightjarConfig, options: SimulatedClusterOptions): Promise<SimulatedCluster> {
  const { logger } = options;
  const settings = demoPlatformSettings(config);
  const server = new FakeKubeApiServer({ namespace: settings.namespace });
  await server.start();
  const simulator = new SparkOperatorSimulator(server, {
    namespace: settings.namespace,
    scenario: options.scenario,
    timing: options.timing ?? DEMO_TIMING,
    driver: localSparkDriver({
      sparkSubmit: config.spark.sparkSubmit,
      pythonPath: config.spark.python,
      jobsDir: config.spark.jobsDir,
      imageJobsDir: settings.imageJobsDir,
      workDir: path.join(config.dataDir, 'work', 'simulated-cluster'),
      logger: logger.child({ component: 'simulated-driver' }),
    }),
  });
  simulator.start();
  const platform = new KubernetesSparkPlatform({
    kubeConfig: server.kubeConfig(),
    settings,
    logger: logger.child({ component: 'spark-kubernetes', namespace: settings.namespace }),
  });
  let stopped: Promise<void> | undefined;
  return {
    platform,
    namespace: settings.namespace,
    timeline: simulator.timeline,
    stats: () => simulator.stats,
    contents() {
      const counts: Record<string, number> = {};
      for (const [plural, label] of CLUSTER_KINDS) counts[label] = server.store.list(plural, settings.namespace).length;
      return { counts, total: Object.values(counts).reduce((a, b) => a + b, 0) };
    },
    stop() {
      stopped ??= (async () => {
        await platform.close();
        try {
          await simulator.stop();
        } catch (error) {
          logger.warn({ err: error }, 'the Spark operator simulator reported errors');
        }
        await server.stop();
      })();
      return stopped;
    },
  };
}

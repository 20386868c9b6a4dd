/**
 * The demo's Kubernetes in spark-submit mode: the project's local control plane (started if it
 * is not running), the local container runtime in this process, and Nightjar's
 * `SparkSubmitKubernetesPlatform` — spark-submit creates each attempt's driver pod, the driver
 * creates its executor pods, and the runtime runs every one of them as real JVMs of the
 * checkout's PySpark, with the pods' memory limits enforced by cgroups where the machine allows.
 * Nothing is played: what the summary shows is what the pods did. Demo support, never shipped.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CoreV1Api, KubeConfig, NetworkingV1Api } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ScenarioName } from '../src/cli/options';
import type { NightjarConfig } from '../src/config/config';
import { describePod } from '../src/domain/spark/attempt-pods';
import type { KubernetesPlatformSettings } from '../src/spark/kubernetes/settings';
import { attemptPodOf } from '../src/spark/kubernetes/status';
import { SparkSubmitKubernetesPlatform } from '../src/spark/kubernetes/spark-submit/spark-submit-platform';
import { DRIVER_CONTAINER } from '../src/spark/kubernetes/spark-submit/submit-invocation';
import { launcherJava, sparkJavaOptions } from '../src/spark/create-platform';
import { demoPlatformSettings, ensureNamespace, EXECUTOR_OOM_OVERRIDES, startPlane, type DemoCluster, type LocalClusterReport } from './demo-cluster';
import { LocalKubelet, RUNTIME_LABEL } from './runtime/local-kubelet';
import { IMAGE_JOBS_DIR, imageDefaults } from './runtime/spark-install';
import { ensureSparkDriverRole } from './spark-driver-role';

/** Apart from the operator mode's namespace, so each mode's summary counts only its own objects. */
export const SPARK_SUBMIT_DEMO_NAMESPACE = 'nightjar-demo-submit';


export interface SparkSubmitDemoClusterOptions {
  readonly scenario: ScenarioName;
  readonly logger: Logger;
  /** The runtime label value this demo's pods carry (default: one of this process's own). */
  readonly runtimeLabel?: string;
}

/** The platform's settings for the demo in spark-submit mode: real JVMs start slower than the operator stand-in's plays. */
export function sparkSubmitDemoSettings(config: NightjarConfig): KubernetesPlatformSettings {
  return {
    ...demoPlatformSettings(config),
    namespace: SPARK_SUBMIT_DEMO_NAMESPACE,
    image: 'nightjar-spark:local',
    imageJobsDir: IMAGE_JOBS_DIR,
    stuckAfterMs: 300_000,
  };
}

/** One line per pod whose state changed since the last look: what the runtime made of it. */
class PodNews {
  private readonly last = new Map<string, string>();
  private readonly lines: string[] = [];
  constructor(private readonly core: CoreV1Api, private readonly namespace: string) {}

  async look(): Promise<void> {
    const pods = await this.core.listNamespacedPod({ namespace: this.namespace });
    for (const raw of pods.items) {
      const pod = attemptPodOf(raw);
      if (pod === undefined) continue;
      const line = describePod(pod);
      if (this.last.get(pod.name) === line) continue;
      this.last.set(pod.name, line);
      this.lines.push(`      [pod] ${line}`);
    }
  }

  drain(): string[] {
    return this.lines.splice(0);
  }
}

export type SparkSubmitDemoCluster = DemoCluster<SparkSubmitKubernetesPlatform>;

export async function startSparkSubmitDemoCluster(config: NightjarConfig, options: SparkSubmitDemoClusterOptions): Promise<SparkSubmitDemoCluster> {
  const { logger } = options;
  const settings = sparkSubmitDemoSettings(config);
  const kubeconfig = await startPlane(config.repoRoot, logger);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfig);
  await ensureNamespace(kubeConfig, settings.namespace);
  await ensureSparkDriverRole(kubeConfig, settings.namespace, settings.serviceAccount);
  const namespace = settings.namespace;
  const runtimeLabel = options.runtimeLabel ?? `demo-${process.pid}`;
  const workDir = path.join(config.dataDir, 'work', 'local-kubernetes-submit');
  const kubelet = new LocalKubelet({
    kubeConfig,
    stateDir: path.join(workDir, 'runtime'),
    ...imageDefaults(config.repoRoot),
    labelValue: runtimeLabel,
    namespaces: [namespace],
    logger: logger.child({ component: 'local-runtime' }),
  });
  await kubelet.start();
  const platform = new SparkSubmitKubernetesPlatform({
    kubeConfig,
    settings,
    javaOptions: sparkJavaOptions(config),
    submit: {
      sparkSubmit: config.spark.sparkSubmit,
      submitTimeoutMs: 180_000,
      extraPodLabels: { [RUNTIME_LABEL]: runtimeLabel },
      kubeConfigPath: kubeconfig,
      workDir,
      ...launcherJava(config),
    },
    // The plane's nodes serve no logs to the API here (no log server in the demo): read the runtime's files.
    driverLogTail: async (pod, lines) => {
      const file = kubelet.logPath(namespace, pod, DRIVER_CONTAINER);
      return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : undefined;
    },
    logger: logger.child({ component: 'spark-kubernetes', submit: 'spark-submit', namespace }),
  });
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const networking = kubeConfig.makeApiClient(NetworkingV1Api);
  const news = new PodNews(core, namespace);
  const looking = setInterval(() => void news.look().catch(() => undefined), 1_000);
  looking.unref();
  let stopped: Promise<void> | undefined;
  return {
    platform,
    namespace,
    kubeconfig,
    ...(options.scenario === 'executor-oom' ? { sparkOverrides: EXECUTOR_OOM_OVERRIDES } : {}),
    news: () => news.drain(),
    async report(): Promise<LocalClusterReport> {
      const [pods, services, maps, claims, policies] = await Promise.all([
        core.listNamespacedPod({ namespace }).then((l) => l.items.length),
        core.listNamespacedService({ namespace }).then((l) => l.items.length),
        // kube-root-ca.crt is the controller-manager's, in every namespace.
        core.listNamespacedConfigMap({ namespace }).then((l) => l.items.filter((c) => c.metadata?.name !== 'kube-root-ca.crt').length),
        core.listNamespacedPersistentVolumeClaim({ namespace }).then((l) => l.items.length),
        networking.listNamespacedNetworkPolicy({ namespace }).then((l) => l.items.length),
      ]);
      const counts = { pods, services, configmaps: maps, PVCs: claims, networkpolicies: policies };
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      const held = Object.entries(counts)
        .map(([kind, n]) => `${n} ${kind}`)
        .join(', ');
      const text =
        `Local Kubernetes (spark-submit mode), namespace ${namespace}: ${held} left${total === 0 ? '' : ' — NOT CLEAN'}\n` +
        `Local container runtime: pods labelled ${RUNTIME_LABEL}=${runtimeLabel} ran as processes of this machine's Spark; ` +
        `memory limits enforced by ${kubelet.memoryEnforcement === 'cgroup-v1' ? 'a cgroup v1 memory group per pod' : 'the JVM heap only (no writable cgroup v1 memory hierarchy)'}\n` +
        `Look with kubectl: kubectl --kubeconfig ${kubeconfig} -n ${namespace} get pods,events\n`;
      return { namespace, kubeconfig, counts, total, operator: {}, text };
    },
    stop() {
      stopped ??= (async () => {
        clearInterval(looking);
        await platform.close();
        await kubelet.stop();
      })();
      return stopped;
    },
  };
}

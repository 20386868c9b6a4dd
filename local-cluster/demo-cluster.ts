/**
 * The demo's Kubernetes: the project's local control plane (scripts/k8s.sh: real etcd,
 * kube-apiserver, controller-manager, scheduler, kwok nodes), the operator/kubelet stand-in
 * whose drivers run the jobs with the local Spark, and a `KubernetesSparkPlatform` reaching the
 * plane through the real client with the admin kubeconfig. The demo loads this file at run time
 * (compiled apart from what ships, see local-cluster/tsconfig.json), only for
 * `--spark-platform local-kubernetes`.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { mkdir } from 'node:fs/promises';
import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { DemoSizes, ScenarioName } from '../src/cli/options';
import type { NightjarConfig } from '../src/config/config';
import type { SparkOverrides } from '../src/domain/pipeline';
import { SPARK_GROUP, SPARK_PLURAL, SPARK_VERSION } from '../src/spark/kubernetes/kube-api';
import { DEFAULT_KUBERNETES_TIMINGS, KubernetesSparkPlatform, type KubernetesPlatformSettings } from '../src/spark/kubernetes/kubernetes-platform';
import { sparkJavaOptions } from '../src/spark/create-platform';
import { localSparkDriver } from './local-spark-driver';
import type { NamedScenario } from './scenarios';
import { RUNTIME_LABEL, RUNTIME_LABEL_VALUE } from './runtime/local-kubelet';
import { LocalSparkOperator } from './spark-operator';
import { ensureSparkDriverRole } from './spark-driver-role';
import type { SimulatorTiming, TimelineEntry } from './index';

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

/**
 * A named scenario with the parameters that make it show what it is named for with the demo's
 * sizes. The memory scenarios need more than the first attempt asks for and no more than one
 * escalation gives (halfway between: ×1.5 with the default factor 2), so exactly one
 * escalation fixes them; the passing troubles hit the first attempt only.
 */
export function demoScenario(name: ScenarioName, sizes: DemoSizes): NamedScenario {
  const halfwayAbove = (mb: number) => Math.round((mb * (1 + sizes.memoryFactor)) / 2);
  switch (name) {
    case 'executor-oom':
      return { name, minExecutorMemoryMb: halfwayAbove(sizes.executorMemoryMb) };
    case 'driver-oom':
      return { name, minDriverMemoryMb: halfwayAbove(sizes.driverMemoryMb) };
    case 'eviction':
    case 'stuck-submitted':
      return { name, times: 1 };
    default:
      return { name };
  }
}

/** What the stand-in did that an operator would want to see while it happens. */
const NOTABLE: ReadonlySet<TimelineEntry['what']> = new Set([
  'driver-running',
  'executor-oom',
  'driver-oom',
  'evicted',
  'stuck',
  'image-pull-backoff',
  'straggler',
  'driver-failed',
  'completed',
  'failed',
  'deleted',
]);

function describeEntry(e: TimelineEntry): string {
  return `      [cluster] ${e.app}: ${e.what}${e.detail ? ` — ${e.detail.length > 160 ? `${e.detail.slice(0, 160)}…` : e.detail}` : ''}`;
}

/** The kinds of namespaced objects an attempt may leave behind. */
const CLUSTER_KINDS = ['SparkApplications', 'pods', 'services', 'configmaps', 'PVCs'] as const;

export interface LocalClusterReport {
  readonly namespace: string;
  readonly kubeconfig: string;
  /** Objects per kind left in the namespace (display name → count), events aside. */
  readonly counts: Readonly<Record<string, number>>;
  readonly total: number;
  readonly operator: Readonly<Record<string, number>>;
  /** The summary's lines. */
  readonly text: string;
}

/** The demo's Spark on the local plane, in either submit mode (`P`: that mode's platform). */
export interface DemoCluster<P = KubernetesSparkPlatform> {
  readonly platform: P;
  readonly namespace: string;
  /** The admin kubeconfig of the plane: `kubectl --kubeconfig <it> -n <namespace> get pods`. */
  readonly kubeconfig: string;
  /** What the night asks for on top of its plan (the real executor-oom scenario's sizes). */
  readonly sparkOverrides?: SparkOverrides;
  /** What happened on the plane since the last call, one line each (the stand-in's timeline, or the pods' changes). */
  news(): string[];
  report(): Promise<LocalClusterReport>;
  /** Stops the platform's watches and what runs the pods (killing running drivers); the plane keeps running. */
  stop(): Promise<void>;
}

/**
 * The executor-oom scenario's night with real Spark (both submit modes): a large accounts dimension (the demo generates 2,000,000
 * accounts for it unless --accounts says otherwise), which the transform broadcasts to its
 * executors — each builds the whole hash table, some 300–500 MB, on its heap — and a transform
 * that starts with 512 MiB executors in pods of 576 MiB (a small explicit overhead): the table
 * and the JVM's own memory outgrow the pod and the kernel kills the executor (OOMKilled).
 * Escalation doubles executor memory and overhead within the job's caps until the table fits.
 * The driver, which collects the dimension and builds the table first, gets room for it.
 */
export const EXECUTOR_OOM_OVERRIDES: SparkOverrides = {
  transform: { driverMemoryMb: 3072, executorMemoryMb: 512, memoryOverheadMb: 64, executorInstances: 2, executorCores: 1 },
};

export interface DemoClusterOptions {
  readonly scenario: ScenarioName;
  readonly sizes: DemoSizes;
  readonly logger: Logger;
  readonly timing?: Partial<SimulatorTiming>;
  /**
   * Real Spark on the plane: the local container runtime is started (local-cluster/runtime/run.sh,
   * idempotent) and the operator stand-in submits each application with spark-submit in cluster
   * mode, so a driver pod and its executor pods run as JVMs. Otherwise the stand-in plays the pods
   * and runs each job with local Spark in-process.
   */
  readonly realSpark?: boolean;
}

/** Starts the plane when it is not running (scripts/k8s.sh up is idempotent) and returns its admin kubeconfig path. */
export async function startPlane(repoRoot: string, logger: Logger): Promise<string> {
  const script = path.join(repoRoot, 'scripts', 'k8s.sh');
  if (!existsSync(script)) throw new Error(`the local control plane's script ${script} is missing`);
  try {
    const { stdout } = await promisify(execFile)('bash', [script, 'up'], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
    const kubeconfig = stdout.trim().split('\n').at(-1)?.trim() ?? '';
    if (kubeconfig === '' || !existsSync(kubeconfig)) throw new Error(`scripts/k8s.sh up printed no kubeconfig path (last line: ${JSON.stringify(kubeconfig)})`);
    return kubeconfig;
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    const last = typeof stderr === 'string' ? stderr.trim().split('\n').slice(-3).join(' / ') : '';
    logger.error({ err: error }, 'starting the local control plane failed');
    throw new Error(`could not start the local control plane (scripts/k8s.sh up)${last ? `: ${last}` : ''}`, { cause: error });
  }
}

/** Starts the local container runtime when it is not running (run.sh start is idempotent). */
export async function startRuntime(repoRoot: string, logger: Logger): Promise<void> {
  const script = path.join(repoRoot, 'local-cluster', 'runtime', 'run.sh');
  try {
    await promisify(execFile)('bash', [script, 'start'], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    const last = typeof stderr === 'string' ? stderr.trim().split('\n').slice(-3).join(' / ') : '';
    logger.error({ err: error }, 'starting the local container runtime failed');
    throw new Error(`could not start the local container runtime (local-cluster/runtime/run.sh start)${last ? `: ${last}` : ''}`, { cause: error });
  }
}

/** The demo's namespace with the ServiceAccounts the chart would make; with real Spark, the drivers' Role too. */
export async function ensureNamespace(kc: KubeConfig, namespace: string, driverRole = false): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const exists409 = (error: unknown) => {
    if (!(error instanceof ApiException && error.code === 409)) throw error;
  };
  await core.createNamespace({ body: { metadata: { name: namespace } } }).catch(exists409);
  for (const name of ['default', 'nightjar-spark']) {
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } }).catch(exists409);
  }
  if (driverRole) await ensureSparkDriverRole(kc, namespace, 'nightjar-spark');
}

export async function startDemoCluster(config: NightjarConfig, options: DemoClusterOptions): Promise<DemoCluster> {
  const { logger } = options;
  const settings = demoPlatformSettings(config);
  const kubeconfig = await startPlane(config.repoRoot, logger);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfig);
  const realSpark = options.realSpark === true;
  await ensureNamespace(kubeConfig, settings.namespace, realSpark);
  const submissions = path.join(config.dataDir, 'work', 'local-kubernetes', 'submissions');
  if (realSpark) {
    await startRuntime(config.repoRoot, logger);
    await mkdir(submissions, { recursive: true });
  }
  const operator = new LocalSparkOperator({
    kubeConfig,
    namespaces: [settings.namespace],
    scenario: demoScenario(options.scenario, options.sizes),
    timing: options.timing ?? DEMO_TIMING,
    logger: logger.child({ component: 'local-spark-operator' }),
    driver: localSparkDriver({
      sparkSubmit: config.spark.sparkSubmit,
      pythonPath: config.spark.python,
      jobsDir: config.spark.jobsDir,
      imageJobsDir: settings.imageJobsDir,
      workDir: path.join(config.dataDir, 'work', 'local-kubernetes'),
      ...(config.spark.classDataDir !== undefined ? { classDataDir: config.spark.classDataDir } : {}),
      logger: logger.child({ component: 'local-driver' }),
    }),
    ...(realSpark
      ? { realSpark: { sparkSubmit: config.spark.sparkSubmit, kubeConfigPath: kubeconfig, podLabels: { [RUNTIME_LABEL]: RUNTIME_LABEL_VALUE }, workDir: submissions } }
      : {}),
  });
  await operator.start();
  const platform = new KubernetesSparkPlatform({
    kubeConfig,
    settings,
    javaOptions: sparkJavaOptions(config),
    logger: logger.child({ component: 'spark-kubernetes', namespace: settings.namespace }),
  });
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  let seen = 0;
  let stopped: Promise<void> | undefined;
  return {
    platform,
    namespace: settings.namespace,
    kubeconfig,
    ...(realSpark && options.scenario === 'executor-oom' ? { sparkOverrides: EXECUTOR_OOM_OVERRIDES } : {}),
    news() {
      const lines: string[] = [];
      for (const timeline = operator.timeline; seen < timeline.length; seen += 1) {
        const entry = timeline[seen];
        if (entry && NOTABLE.has(entry.what)) lines.push(describeEntry(entry));
      }
      return lines;
    },
    async report() {
      const namespace = settings.namespace;
      const listed = await Promise.all([
        custom.listNamespacedCustomObject({ group: SPARK_GROUP, version: SPARK_VERSION, plural: SPARK_PLURAL, namespace }).then((l) => ((l as { items?: unknown[] }).items ?? []).length),
        core.listNamespacedPod({ namespace }).then((l) => l.items.length),
        core.listNamespacedService({ namespace }).then((l) => l.items.length),
        // kube-root-ca.crt is the controller-manager's, in every namespace.
        core.listNamespacedConfigMap({ namespace }).then((l) => l.items.filter((c) => c.metadata?.name !== 'kube-root-ca.crt').length),
        core.listNamespacedPersistentVolumeClaim({ namespace }).then((l) => l.items.length),
      ]);
      const counts = Object.fromEntries(CLUSTER_KINDS.map((kind, i) => [kind, listed[i] ?? 0]));
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      const stats = operator.stats;
      const held = Object.entries(counts)
        .map(([kind, n]) => `${n} ${kind}`)
        .join(', ');
      const seenText = [`${stats.executorOoms} executor OOMs`, `${stats.driverOoms} driver OOMs`, `${stats.evictions} evictions`, `${stats.stragglers} stragglers planted`];
      const text =
        `Local Kubernetes, namespace ${namespace}: ${held} left${total === 0 ? '' : ' — NOT CLEAN'}\n` +
        `Operator stand-in: ${stats.applicationsSeen} SparkApplications seen (${stats.completed} completed, ${stats.failed} failed, ${stats.deleted} deleted); ${seenText.join(', ')}\n` +
        `Look with kubectl: kubectl --kubeconfig ${kubeconfig} -n ${namespace} get sparkapplications,pods,events\n`;
      return { namespace, kubeconfig, counts, total, operator: { ...stats }, text };
    },
    stop() {
      stopped ??= (async () => {
        await platform.close();
        try {
          await operator.stop();
        } catch (error) {
          logger.warn({ err: error }, 'the local spark-operator reported errors');
        }
      })();
      return stopped;
    },
  };
}

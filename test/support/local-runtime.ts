/**
 * A local container runtime for one test file on the shared plane: it runs only the pods that
 * carry its own runtime label value (so it never takes another run's pods) in the namespaces it
 * is given, and serves their logs to the API server's `pods/log` on a port of its own.
 */
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { LocalKubelet, RUNTIME_LABEL } from '../../local-cluster/runtime/local-kubelet';
import { LogServer } from '../../local-cluster/runtime/log-server';
import { imageDefaults } from '../../local-cluster/runtime/spark-install';
import { loadConfig } from '../../src/config/config';
import type { SparkResources } from '../../src/domain/spark/resources';
import { launcherJava } from '../../src/spark/create-platform';
import type { KubernetesPlatformSettings } from '../../src/spark/kubernetes/settings';
import { SparkSubmitKubernetesPlatform } from '../../src/spark/kubernetes/spark-submit/spark-submit-platform';
import { DRIVER_CONTAINER } from '../../src/spark/kubernetes/spark-submit/submit-invocation';
import type { SparkAttemptRequest } from '../../src/spark/platform';
import { planeKubeConfigFile } from './local-plane';

export { RUNTIME_LABEL };

/** Where the test image's jobs (test/fixtures/spark-image) appear inside the pods. */
export const TEST_IMAGE_DIR = '/opt/nightjar/test-image';

/** The test image's jobs mapped onto this machine, for `startTestRuntime`. */
export function testImage(repoRoot: string): Pick<TestRuntimeOptions, 'imagePaths' | 'imageEnv'> {
  return { imagePaths: [{ containerPath: TEST_IMAGE_DIR, hostPath: path.join(repoRoot, 'test', 'fixtures', 'spark-image') }], imageEnv: { PYTHONPATH: TEST_IMAGE_DIR } };
}

/** Either Kubernetes platform's settings for a test namespace on the plane, jobs from the test image. */
export function testPlatformSettings(namespace: string): KubernetesPlatformSettings {
  return {
    namespace,
    image: 'nightjar-spark:local',
    serviceAccount: 'nightjar-spark',
    sparkVersion: '4.3.0',
    imageJobsDir: TEST_IMAGE_DIR,
    ttlSeconds: 3600,
    executorOomLimit: 2,
    stuckAfterMs: 5 * 60_000,
    pollIntervalMs: 5_000,
    fallbackPollMs: 1_000,
    cleanupTimeoutMs: 60_000,
    driverLogLines: 20,
  };
}

/** A small attempt of the test image's job: a driver and two executors of 512 MiB. */
export const TEST_RESOURCES: SparkResources = {
  driverMemoryMb: 768,
  driverCores: 1,
  executorMemoryMb: 512,
  executorCores: 1,
  executorInstances: 2,
  memoryOverheadMb: null,
  shufflePartitions: 4,
};

/**
 * spark-submit mode on the plane for a test namespace: pyspark's spark-submit, pods labelled for
 * `runtime`, the driver's log read from the runtime's files; submission files under `workDir`.
 */
export function testSubmitPlatform(
  kc: KubeConfig,
  namespace: string,
  runtime: TestRuntime,
  repoRoot: string,
  workDir: string,
  /** Where spark-submit's class-data archive goes (default: the machine's, as a worker's). */
  opts: { readonly classDataDir?: string } = {},
): SparkSubmitKubernetesPlatform {
  const launcher = launcherJava(loadConfig(process.env, repoRoot));
  return new SparkSubmitKubernetesPlatform({
    kubeConfig: kc,
    settings: testPlatformSettings(namespace),
    submit: {
      sparkSubmit: path.join(repoRoot, '.venv', 'bin', 'spark-submit'),
      submitTimeoutMs: 180_000,
      extraPodLabels: runtime.podLabels,
      kubeConfigPath: planeKubeConfigFile(),
      workDir,
      // spark-submit's own JVM as a worker's: the short-job options and a class-data archive.
      ...launcher,
      ...(opts.classDataDir !== undefined ? { classDataDir: opts.classDataDir } : {}),
    },
    driverLogTail: runtime.logTail(namespace, DRIVER_CONTAINER),
  });
}

/**
 * An attempt of the test image's job (what `mode` says it does: succeed, raise, or grow a skewed
 * group until executors run out of memory), with its spec written under `dir`; the job writes its
 * result to `resultFile`.
 */
export async function testAttemptRequest(
  dir: string,
  repoRoot: string,
  attemptId: string,
  mode: 'ok' | 'error' | 'executor-oom',
  resources: SparkResources,
): Promise<{ req: SparkAttemptRequest; resultFile: string }> {
  const resultFile = path.join(dir, 'out', attemptId, '_result.json');
  const specFile = path.join(dir, 'work', attemptId, 'spec.json');
  await fs.mkdir(path.dirname(specFile), { recursive: true });
  await fs.writeFile(specFile, JSON.stringify({ attemptId, mode, resultUri: `file://${resultFile}` }));
  return {
    resultFile,
    req: {
      attemptId,
      workflowId: `nightjar-daily-2026-12-04-${attemptId}`,
      businessDate: '2026-12-04',
      job: 'normalize',
      attempt: 1,
      resources,
      mainFile: path.join(repoRoot, 'spark', 'jobs', 'normalize.py'),
      args: ['--spec', specFile],
      sparkConf: {
        'spark.ui.enabled': 'false',
        // Short-lived JVMs on a small machine: quick JIT start-up, one GC thread.
        'spark.driver.extraJavaOptions': '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC',
        'spark.executor.extraJavaOptions': '-XX:+UseSerialGC',
      },
    },
  };
}

export interface TestRuntimeOptions {
  readonly kubeConfig: KubeConfig;
  readonly repoRoot: string;
  readonly stateDir: string;
  /** This runtime's `nightjar.io/runtime` value. */
  readonly labelValue: string;
  readonly namespaces: readonly string[];
  /** Where its log server listens (10251 + a number of one's own on a shared plane); none when omitted. */
  readonly logPort?: number;
  /** Extra image directories (e.g. a test image's jobs) mapped onto this machine. */
  readonly imagePaths?: readonly { containerPath: string; hostPath: string }[];
  readonly imageEnv?: Readonly<Record<string, string>>;
}

export interface TestRuntime {
  readonly kubelet: LocalKubelet;
  /** The label every pod this runtime should run must carry. */
  readonly podLabels: Readonly<Record<string, string>>;
  /** The last lines of a container's log from this runtime's own files (a platform's driverLogTail without a log server). */
  logTail(namespace: string, container: string): (pod: string, lines: number) => Promise<string | undefined>;
  stop(): Promise<void>;
}

export async function startTestRuntime(options: TestRuntimeOptions): Promise<TestRuntime> {
  const image = imageDefaults(options.repoRoot);
  const kubelet = new LocalKubelet({
    kubeConfig: options.kubeConfig,
    stateDir: options.stateDir,
    ...image,
    imagePaths: [...image.imagePaths, ...(options.imagePaths ?? [])],
    imageEnv: { ...image.imageEnv, ...options.imageEnv },
    labelValue: options.labelValue,
    namespaces: options.namespaces,
    logger: pino({ enabled: false }),
  });
  await kubelet.start();
  let logs: LogServer | undefined;
  if (options.logPort !== undefined) {
    const core = options.kubeConfig.makeApiClient(CoreV1Api);
    logs = new LogServer({
      kubeConfig: options.kubeConfig,
      port: options.logPort,
      stateDir: options.stateDir,
      logPath: (namespace, pod, container) => kubelet.logPath(namespace, pod, container),
      nodes: async () => (await core.listNode()).items.filter((n) => n.metadata?.annotations?.['kwok.x-k8s.io/node'] === 'fake').map((n) => n.metadata?.name ?? ''),
    });
    await logs.start();
  }
  return {
    kubelet,
    podLabels: { [RUNTIME_LABEL]: options.labelValue },
    logTail: (namespace, container) => async (pod, lines) => {
      const file = kubelet.logPath(namespace, pod, container);
      return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : undefined;
    },
    async stop() {
      await logs?.stop();
      await kubelet.stop();
    },
  };
}

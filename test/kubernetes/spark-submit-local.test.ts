/**
 * Spark's own Kubernetes mode on the local plane, for real: spark-submit (pyspark's) creates the
 * driver pod on the real API server, the driver creates its executor pods, and the local
 * container runtime runs each pod as its own JVM (plus Python workers). Needs the plane
 * (NIGHTJAR_TEST_KUBECONFIG or `npm run k8s:up`) and the checkout's .venv.
 */
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import { LocalKubelet, RUNTIME_LABEL } from '../../local-cluster/runtime/local-kubelet';
import { imageDefaults } from '../../local-cluster/runtime/spark-install';
import type { SparkResources } from '../../src/domain/spark/resources';
import type { KubernetesPlatformSettings } from '../../src/spark/kubernetes/settings';
import { SparkSubmitKubernetesPlatform } from '../../src/spark/kubernetes/spark-submit/spark-submit-platform';
import { DRIVER_CONTAINER, driverPodName } from '../../src/spark/kubernetes/spark-submit/submit-invocation';
import type { SparkAttemptRequest } from '../../src/spark/platform';
import { createTestNamespace, deleteTestNamespace, planeKubeConfig, planeKubeConfigFile } from '../support/local-plane';

jest.setTimeout(480_000);

const REPO = path.resolve(__dirname, '..', '..');
const TEST_IMAGE_DIR = '/opt/nightjar/test-image';
const SERVICE_ACCOUNT = 'nightjar-spark';
// This file's own runtime label value: a runtime started for the demo leaves these pods alone.
const RUNTIME_VALUE = `local-test-${process.pid}`;

let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let namespace: string;
let dir: string;
let kubelet: LocalKubelet;
let platform: SparkSubmitKubernetesPlatform;

function settings(ns: string): KubernetesPlatformSettings {
  return {
    namespace: ns,
    image: 'nightjar-spark:local',
    serviceAccount: SERVICE_ACCOUNT,
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

beforeAll(async () => {
  kc = planeKubeConfig();
  core = kc.makeApiClient(k8s.CoreV1Api);
  // The namespace comes with the driver's ServiceAccount (nightjar-spark).
  namespace = await createTestNamespace(kc, 'spark-submit');
  // The chart's driver Role: what Spark's scheduler backend does with its executors.
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name: 'spark-driver' },
      rules: [
        { apiGroups: [''], resources: ['pods', 'configmaps', 'persistentvolumeclaims'], verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'watch'] },
        { apiGroups: [''], resources: ['services'], verbs: ['create', 'delete', 'deletecollection', 'get'] },
      ],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'spark-driver' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'spark-driver' },
      subjects: [{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace }],
    },
  });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nightjar-spark-submit-'));
  const image = imageDefaults(REPO);
  kubelet = new LocalKubelet({
    kubeConfig: kc,
    stateDir: path.join(dir, 'runtime'),
    ...image,
    imagePaths: [...image.imagePaths, { containerPath: TEST_IMAGE_DIR, hostPath: path.join(REPO, 'test', 'fixtures', 'spark-image') }],
    imageEnv: { ...image.imageEnv, PYTHONPATH: TEST_IMAGE_DIR },
    labelValue: RUNTIME_VALUE,
    namespaces: [namespace],
    logger: pino({ enabled: false }),
  });
  await kubelet.start();
  platform = new SparkSubmitKubernetesPlatform({
    kubeConfig: kc,
    settings: settings(namespace),
    submit: {
      sparkSubmit: path.join(REPO, '.venv', 'bin', 'spark-submit'),
      submitTimeoutMs: 180_000,
      extraPodLabels: { [RUNTIME_LABEL]: RUNTIME_VALUE },
      kubeConfigPath: planeKubeConfigFile(),
      workDir: dir,
    },
    driverLogTail: async (pod, lines) => {
      const file = kubelet.logPath(namespace, pod, DRIVER_CONTAINER);
      return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : undefined;
    },
  });
});

afterAll(async () => {
  await platform?.close();
  await kubelet?.stop();
  if (namespace !== undefined) await deleteTestNamespace(kc, namespace);
  if (dir !== undefined) await fs.rm(dir, { recursive: true, force: true });
});

const RESOURCES: SparkResources = {
  driverMemoryMb: 768,
  driverCores: 1,
  executorMemoryMb: 512,
  executorCores: 1,
  executorInstances: 2,
  memoryOverheadMb: null,
  shufflePartitions: 4,
};

async function request(attemptId: string, mode: 'ok' | 'executor-oom', resources: SparkResources): Promise<{ req: SparkAttemptRequest; resultFile: string }> {
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
      mainFile: path.join(REPO, 'spark', 'jobs', 'normalize.py'),
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

async function attemptObjects(): Promise<string[]> {
  const [pods, services, maps, policies] = await Promise.all([
    core.listNamespacedPod({ namespace }),
    core.listNamespacedService({ namespace }),
    core.listNamespacedConfigMap({ namespace }),
    kc.makeApiClient(k8s.NetworkingV1Api).listNamespacedNetworkPolicy({ namespace }),
  ]);
  return [
    ...pods.items.map((o) => `Pod/${o.metadata?.name}`),
    ...services.items.map((o) => `Service/${o.metadata?.name}`),
    ...maps.items.filter((o) => o.metadata?.name !== 'kube-root-ca.crt').map((o) => `ConfigMap/${o.metadata?.name}`),
    // Spark 4's driver NetworkPolicy: owned by the driver pod, removed by garbage collection.
    ...policies.items.map((o) => `NetworkPolicy/${o.metadata?.name}`),
  ];
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('spark-submit mode runs a real driver and two executor JVMs as pods, adopts its own driver on a second submit, and leaves nothing', async () => {
  const attemptId = `nj-20261204-normalize-${Date.now().toString(36)}-a1`;
  const { req, resultFile } = await request(attemptId, 'ok', RESOURCES);

  const handle = await platform.submit(req);
  expect(handle.handle).toBe(driverPodName(attemptId));
  const again = await platform.submit(req);
  expect(again).toMatchObject({ handle: handle.handle, submittedAt: handle.submittedAt });

  const outcome = await platform.await(handle, { signal: new AbortController().signal, onProgress: () => undefined });
  expect(outcome).toMatchObject({ kind: 'SUCCEEDED' });
  expect(outcome.pods?.map((p) => p.role).sort()).toEqual(['driver', 'executor', 'executor']);

  const result = JSON.parse(readFileSync(resultFile, 'utf8')) as { total: number; executors: string[] };
  expect(result.total).toBe(4_999_950_000);
  expect(result.executors.length).toBe(2);

  const pods = (await core.listNamespacedPod({ namespace, labelSelector: `nightjar.io/attempt-id=${attemptId}` })).items;
  const driver = pods.find((p) => p.metadata?.name === handle.handle);
  const executors = pods.filter((p) => p.metadata?.labels?.['spark-role'] === 'executor');
  expect(driver?.status?.phase).toBe('Succeeded');
  expect(executors.map((p) => p.metadata?.name).sort()).toEqual([...result.executors].sort());
  // Each pod its own process with its own address, on the plane's nodes.
  const addresses = new Set([driver, ...executors].map((p) => p?.status?.podIP));
  expect(addresses.size).toBe(3);
  for (const pod of [driver, ...executors]) expect(pod?.spec?.nodeName).toMatch(/^kwok-/);

  const cleanup = await platform.cleanup(attemptId);
  expect(cleanup.remaining).toBe(0);
  expect(await eventually(attemptObjects, (left) => left.length === 0)).toEqual([]);
  expect(await eventually(async () => kubelet.runningPods(), (running) => running.length === 0)).toEqual([]);
});

test('executors that really run out of memory are seen on their pods, the attempt is stopped after N of them, and the janitor removes what it left', async () => {
  const attemptId = `nj-20261204-normalize-${Date.now().toString(36)}-a2`;
  // 512 MiB of heap and almost no overhead: as the skewed group fills the heap, the JVM outgrows
  // the pod's memory limit (512 + 32 MiB) before the heap is full, and the kernel kills it.
  const { req } = await request(attemptId, 'executor-oom', { ...RESOURCES, memoryOverheadMb: 32 });

  const handle = await platform.submit(req);
  const outcome = await platform.await(handle, { signal: new AbortController().signal, onProgress: () => undefined });
  expect(outcome).toMatchObject({ kind: 'OUT_OF_MEMORY', oomSide: 'executor' });
  expect(outcome.reason).toMatch(/2 executors lost to out-of-memory/);
  // What the pods say, as a kubelet reported it: killed by the kernel in the pod's memory cgroup
  // (137 OOMKilled) or, where no cgroup is available, the JVM's own OutOfMemoryError exit (52).
  const lost = (outcome.pods ?? []).filter((p) => p.role === 'executor' && p.phase === 'Failed');
  const expected = kubelet.memoryEnforcement === 'cgroup-v1' ? { exitCode: 137, reason: 'OOMKilled' } : { exitCode: 52, reason: 'Error' };
  expect(lost.filter((p) => p.exitCode === expected.exitCode && p.reason === expected.reason).length).toBeGreaterThanOrEqual(2);
  expect(outcome.pods?.find((p) => p.role === 'driver')).toMatchObject({ name: handle.handle, node: expect.stringMatching(/^kwok-/) });

  // As if the worker had died before its cleanup: the janitor finds what is left by its labels (the
  // stop already deleted the driver pod; its executors, ConfigMaps, Service and NetworkPolicy go
  // with it by garbage collection), here the spec ConfigMap.
  const swept = await platform.sweep(async () => 'CLOSED', { now: Date.now(), minAgeMs: 0 });
  expect(swept.failed).toEqual([]);
  expect(swept.removed.map((o) => `${o.kind}/${o.name}`)).toEqual(expect.arrayContaining([`ConfigMap/${attemptId}-spec`]));
  expect(await eventually(attemptObjects, (left) => left.length === 0)).toEqual([]);
  const cleanup = await platform.cleanup(attemptId);
  expect(cleanup.remaining).toBe(0);
  expect(await eventually(attemptObjects, (left) => left.length === 0)).toEqual([]);
  expect(await eventually(async () => kubelet.runningPods(), (running) => running.length === 0)).toEqual([]);
});

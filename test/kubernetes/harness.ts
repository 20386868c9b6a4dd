import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { KubeWriter, LocalSparkOperator, type SparkOperatorOptions } from '../../local-cluster';
import type { SparkResources } from '../../src/domain/spark/resources';
import { SPARK_GROUP, SPARK_PLURAL, SPARK_VERSION } from '../../src/spark/kubernetes/kube-api';
import { KubernetesSparkPlatform, type KubernetesPlatformSettings } from '../../src/spark/kubernetes/kubernetes-platform';
import type { SparkAttemptRequest } from '../../src/spark/platform';
import type { SparkJobInput } from '../../src/workflows/spark-job';
import { FaultProxy } from '../support/fault-proxy';
import { createTestNamespace, deleteTestNamespace, planeKubeConfig } from '../support/local-plane';

export { describeOnPlane } from '../support/local-plane';

export const TEST_SETTINGS: Omit<KubernetesPlatformSettings, 'namespace'> = {
  image: 'registry.bank.example/nightjar-spark:1.0.0',
  serviceAccount: 'nightjar-spark',
  sparkVersion: '4.0.1',
  imageJobsDir: '/opt/nightjar/spark',
  ttlSeconds: 3600,
  executorOomLimit: 2,
  stuckAfterMs: 30_000,
  pollIntervalMs: 500,
  fallbackPollMs: 50,
  cleanupTimeoutMs: 15_000,
  driverLogLines: 20,
};

export const RESOURCES: SparkResources = {
  driverMemoryMb: 1024,
  driverCores: 1,
  executorMemoryMb: 1024,
  executorCores: 1,
  executorInstances: 2,
  memoryOverheadMb: null,
  shufflePartitions: 8,
};

export type OperatorOptions = Omit<SparkOperatorOptions, 'kubeConfig' | 'namespaces'>;

export interface Cluster {
  /** The test's own namespace on the shared plane. */
  readonly namespace: string;
  /** The admin kubeconfig of the plane (not through the proxy). */
  readonly admin: KubeConfig;
  /** Reads and writes as admin in the test's namespace. */
  readonly api: KubeWriter;
  /** What the platform goes through: faults, request log, watch connections. */
  readonly proxy: FaultProxy;
  readonly operator: LocalSparkOperator;
  readonly platform: KubernetesSparkPlatform;
  readonly dir: string;
  /** Every object left in the namespace, events aside (they expire on their own). */
  leftovers(): Promise<string[]>;
  /** The SparkApplications in the namespace, by name. */
  applications(): Promise<string[]>;
}

/** The ConfigMap the controller-manager publishes into every namespace: not an attempt's. */
const CLUSTER_CONFIGMAPS = new Set(['kube-root-ca.crt']);

export async function leftoversIn(kc: KubeConfig, namespace: string): Promise<string[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const names = (kind: string, items: { metadata?: { name?: string } }[]) => items.map((o) => `${kind}/${o.metadata?.name ?? '?'}`);
  const apps = (await custom.listNamespacedCustomObject({ group: SPARK_GROUP, version: SPARK_VERSION, plural: SPARK_PLURAL, namespace })) as { items?: { metadata?: { name?: string } }[] };
  return [
    ...names('sparkapplications', apps.items ?? []),
    ...names('pods', (await core.listNamespacedPod({ namespace })).items),
    ...names('services', (await core.listNamespacedService({ namespace })).items),
    ...names('configmaps', (await core.listNamespacedConfigMap({ namespace })).items.filter((c) => !CLUSTER_CONFIGMAPS.has(c.metadata?.name ?? ''))),
    ...names('persistentvolumeclaims', (await core.listNamespacedPersistentVolumeClaim({ namespace })).items),
  ];
}

/**
 * Per test: a namespace of its own on the real plane, the operator/kubelet stand-in on it (as
 * admin), a fault proxy in front of the API server and the platform under test behind the proxy.
 * After each test: the platform's watches stop, then the stand-in (its errors fail the test),
 * the proxy, and the namespace is deleted.
 */
export function useCluster(): (options?: OperatorOptions, settings?: Partial<KubernetesPlatformSettings>) => Promise<Cluster> {
  const started: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of started.splice(0)) await stop();
  });
  return async (options = {}, settings = {}) => {
    const admin = planeKubeConfig();
    const namespace = await createTestNamespace(admin, 'nj-test');
    const operator = new LocalSparkOperator({ kubeConfig: admin, namespaces: [namespace], ...options });
    const proxy = new FaultProxy(admin);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nightjar-k8s-'));
    const closing: (() => Promise<void>)[] = [];
    started.push(async () => {
      try {
        for (const close of closing) await close();
        await operator.stop();
      } finally {
        await proxy.stop();
        await deleteTestNamespace(admin, namespace);
        await fs.rm(dir, { recursive: true, force: true });
      }
    });
    await operator.start();
    await proxy.start();
    const platform = new KubernetesSparkPlatform({ kubeConfig: proxy.kubeConfig(), settings: { ...TEST_SETTINGS, namespace, ...settings } });
    closing.push(() => platform.close());
    return {
      namespace,
      admin,
      api: new KubeWriter(admin, namespace),
      proxy,
      operator,
      platform,
      dir,
      leftovers: () => leftoversIn(admin, namespace),
      applications: async () => (await leftoversIn(admin, namespace)).filter((o) => o.startsWith('sparkapplications/')),
    };
  };
}

let sequence = 0;

/** An attempt request with a spec file on disk whose result URI points into `dir`. */
export async function attemptRequest(dir: string, overrides: Partial<SparkAttemptRequest> = {}): Promise<SparkAttemptRequest> {
  sequence += 1;
  const attempt = overrides.attempt ?? 1;
  const attemptId = overrides.attemptId ?? `nj-20261123-normalize-${String(sequence).padStart(8, '0')}-a${attempt}`;
  const outputDir = path.join(dir, 'out', attemptId);
  const spec = { job: overrides.job ?? 'normalize', attemptId, businessDate: '2026-11-23', outputUri: `file://${outputDir}`, resultUri: `file://${outputDir}/_result.json` };
  const specFile = path.join(dir, 'work', attemptId, 'spec.json');
  await fs.mkdir(path.dirname(specFile), { recursive: true });
  await fs.writeFile(specFile, JSON.stringify(spec));
  return {
    attemptId,
    workflowId: 'nightjar-daily-2026-11-23',
    businessDate: '2026-11-23',
    job: 'normalize',
    attempt,
    resources: RESOURCES,
    mainFile: '/repo/spark/jobs/normalize.py',
    args: ['--spec', specFile],
    sparkConf: {},
    ...overrides,
  };
}

/** Await options that never cancel, collecting progress. */
export function awaitOptions(progress: string[] = [], signal = new AbortController().signal, detach?: AbortSignal) {
  return { signal, ...(detach ? { detach } : {}), onProgress: (p: { state: string; detail?: string }) => progress.push(`${p.state}:${p.detail ?? ''}`) };
}

/** A `sparkJob` input for normalize on 2026-11-23 with a fresh parent run (so fresh attempt ids). */
export function sparkJobInput(overrides: Partial<SparkJobInput> = {}): SparkJobInput {
  return {
    businessDate: '2026-11-23',
    job: 'normalize',
    parentWorkflowId: 'nightjar-daily-2026-11-23',
    parentRunId: randomUUID(),
    inputs: {},
    resources: RESOURCES,
    policy: { maxAttempts: 2, memoryFactor: 2, maxDriverMemoryMb: 4096, maxExecutorMemoryMb: 4096 },
    ...overrides,
  };
}

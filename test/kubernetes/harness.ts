import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FakeKubeApiServer } from '../../src/spark/kubernetes/fake-api';
import { KubernetesSparkPlatform, type KubernetesPlatformSettings } from '../../src/spark/kubernetes/kubernetes-platform';
import { SparkOperatorSimulator, type SparkOperatorSimulatorOptions } from '../../src/spark/kubernetes/simulator';
import type { SparkAttemptRequest } from '../../src/spark/platform';
import { randomUUID } from 'node:crypto';
import type { SparkResources } from '../../src/domain/spark/resources';
import type { SparkJobInput } from '../../src/workflows/spark-job';

export const NAMESPACE = 'nightly';

export const TEST_SETTINGS: KubernetesPlatformSettings = {
  namespace: NAMESPACE,
  image: 'registry.bank.example/nightjar-spark:1.0.0',
  serviceAccount: 'nightjar-spark',
  sparkVersion: '4.0.1',
  imageJobsDir: '/opt/nightjar/spark',
  ttlSeconds: 3600,
  executorOomLimit: 2,
  stuckAfterMs: 30_000,
  pollIntervalMs: 500,
  fallbackPollMs: 50,
  cleanupTimeoutMs: 5_000,
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

export interface Cluster {
  readonly server: FakeKubeApiServer;
  readonly simulator: SparkOperatorSimulator;
  readonly platform: KubernetesSparkPlatform;
  readonly dir: string;
}

/**
 * A fake API server, the operator/kubelet simulator and the platform under test, per test.
 * After each test: the platform's watches stop, then the simulator (its errors fail the test),
 * then the server.
 */
export function useCluster(): (options?: SparkOperatorSimulatorOptions, settings?: Partial<KubernetesPlatformSettings>) => Promise<Cluster> {
  const started: Cluster[] = [];
  afterEach(async () => {
    for (const c of started.splice(0)) {
      await c.platform.close();
      await c.simulator.stop();
      await c.server.stop();
      await fs.rm(c.dir, { recursive: true, force: true });
    }
  });
  return async (options = {}, settings = {}) => {
    const server = new FakeKubeApiServer({ namespace: NAMESPACE, namespaces: [NAMESPACE] });
    await server.start();
    const simulator = new SparkOperatorSimulator(server, { namespace: NAMESPACE, ...options });
    simulator.start();
    const platform = new KubernetesSparkPlatform({ kubeConfig: server.kubeConfig(), settings: { ...TEST_SETTINGS, ...settings } });
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nightjar-k8s-'));
    const cluster = { server, simulator, platform, dir };
    started.push(cluster);
    return cluster;
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

/** Every object left in the namespace, events aside (they expire on their own). */
export function leftovers(server: FakeKubeApiServer): string[] {
  const kinds = ['sparkapplications', 'pods', 'services', 'configmaps', 'persistentvolumeclaims'];
  return kinds.flatMap((plural) => server.store.list(plural, NAMESPACE).map((o) => `${plural}/${o.metadata.name}`));
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

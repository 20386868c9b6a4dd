import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { KubernetesSparkPlatform } from '../../src/spark/kubernetes/kubernetes-platform';
import { SPARK_OPERATOR_API_VERSION } from '../../src/spark/kubernetes/spark-application';
import type { SparkAttemptRequest } from '../../src/spark/platform';
import { deleteTestNamespace, planeKubeConfig, planeKubeConfigFile, serviceAccountToken, statusOf, tokenKubeConfig } from '../support/local-plane';
import { monitoringCrds } from '../support/monitoring-crds';
import { CHART, find, only, render, run, tool, type KubeObject } from './tools';

/**
 * The chart installed by helm into the real control plane of scripts/k8s.sh: every object is
 * accepted by the real API server, the worker's pods are admitted and scheduled, and the real RBAC
 * lets the worker's and the Spark driver's ServiceAccounts do exactly what their Roles say.
 */
jest.setTimeout(180_000);

const kc = planeKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const objectsApi = k8s.KubernetesObjectApi.makeApiClient(kc);
const suffix = Date.now().toString(36);

interface Release {
  readonly values: string;
  readonly namespace: string;
  readonly release: string;
  objects: KubeObject[];
}

const releases: Record<'minimal' | 'full' | 'second', Release> = {
  minimal: { values: 'minimal-values.yaml', namespace: `chart-acme-${suffix}`, release: 'nightjar', objects: [] },
  full: { values: 'full-values.yaml', namespace: `chart-full-${suffix}`, release: 'nightjar', objects: [] },
  second: { values: 'second-tenant-values.yaml', namespace: `chart-globex-${suffix}`, release: 'nightjar-globex', objects: [] },
};

function helm(args: readonly string[]): string {
  const result = run(tool('helm'), [...args, '--kubeconfig', planeKubeConfigFile()]);
  if (result.status !== 0) throw new Error(`helm ${args.slice(0, 2).join(' ')} failed (${result.status}):\n${result.stderr}`);
  return result.stdout;
}

beforeAll(async () => {
  // What a bank's cluster has before the chart: the monitoring CRDs and the priority class it names.
  for (const crd of monitoringCrds()) await objectsApi.patch(crd, undefined, undefined, 'nightjar-tests', true, k8s.PatchStrategy.ServerSideApply);
  const priority = { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'batch-high' }, value: 100000 };
  await objectsApi.patch(priority, undefined, undefined, 'nightjar-tests', true, k8s.PatchStrategy.ServerSideApply);
  await waitFor('the monitoring CRDs to be served', async () => {
    const list = await objectsApi.list('monitoring.coreos.com/v1', 'ServiceMonitor', 'default').catch(() => undefined);
    return list !== undefined;
  });
  for (const r of Object.values(releases)) {
    const valuesFile = path.join(CHART, 'ci', r.values);
    r.objects = render(r.namespace, [valuesFile], r.release).objects;
    helm(['install', r.release, CHART, '--namespace', r.namespace, '--create-namespace', '--values', valuesFile]);
  }
});

afterAll(async () => {
  for (const r of Object.values(releases)) await deleteTestNamespace(kc, r.namespace);
});

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('helm install into the real control plane', () => {
  test.each(Object.keys(releases) as (keyof typeof releases)[])('%s values: every rendered object is stored by the API server', async (name) => {
    const r = releases[name];
    expect(r.objects.length).toBeGreaterThan(5);
    const missing: string[] = [];
    for (const o of r.objects) {
      const ref = { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: r.namespace } };
      const found = await objectsApi.read(ref).catch(() => undefined);
      if (!found) missing.push(`${o.kind}/${o.metadata.name}`);
    }
    expect(missing).toEqual([]);
    expect(helm(['status', r.release, '--namespace', r.namespace])).toContain('STATUS: deployed');
  });

  test('the full values install the monitoring kinds too (ServiceMonitor, PrometheusRule)', () => {
    const kinds = new Set(releases.full.objects.map((o) => o.kind));
    expect(kinds).toContain('ServiceMonitor');
    expect(kinds).toContain('PrometheusRule');
  });

  test("the worker's pods are admitted (restricted security context, its ServiceAccount) and scheduled on a kwok node", async () => {
    const { namespace } = releases.minimal;
    let pods: k8s.V1Pod[] = [];
    await waitFor('worker pods bound to a node', async () => {
      pods = (await core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/component=worker' })).items;
      return pods.length > 0 && pods.every((p) => Boolean(p.spec?.nodeName));
    });
    for (const pod of pods) expect(pod.spec?.nodeName).toMatch(/^kwok-/);
  });
});

describe('the real RBAC for the chart ServiceAccounts', () => {
  const { namespace } = releases.minimal;
  const other = releases.second.namespace;

  function saNames(objects: readonly KubeObject[]) {
    const worker = only(objects, 'Deployment', '-worker') as KubeObject & { spec: { template: { spec: { serviceAccountName: string } } } };
    const config = (only(objects, 'ConfigMap', '-config') as KubeObject & { data: Record<string, string> }).data;
    return { worker: worker.spec.template.spec.serviceAccountName, spark: config.NIGHTJAR_K8S_SERVICE_ACCOUNT as string };
  }

  test('the platform runs an attempt end to end with the worker token, not admin', async () => {
    const names = saNames(releases.minimal.objects);
    expect(find(releases.minimal.objects, 'ServiceAccount').map((o) => o.metadata.name).sort()).toEqual([names.spark, names.worker].sort());
    const workerKc = tokenKubeConfig(kc, await serviceAccountToken(kc, namespace, names.worker), 'worker');
    const platform = new KubernetesSparkPlatform({
      kubeConfig: workerKc,
      settings: {
        namespace,
        image: 'registry.bank.example/nightjar-spark:0.1.0',
        serviceAccount: names.spark,
        sparkVersion: '4.0.1',
        imageJobsDir: '/opt/nightjar/spark',
        ttlSeconds: 3600,
        executorOomLimit: 2,
        stuckAfterMs: 60_000,
        pollIntervalMs: 1_000,
        fallbackPollMs: 200,
        cleanupTimeoutMs: 30_000,
        driverLogLines: 20,
      },
    });
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nightjar-rbac-'));
    const stop = new AbortController();
    let outcome: Promise<unknown> = Promise.resolve();
    try {
      const request = await attemptRequest(dir);
      const handle = await platform.submit(request);
      // Submitting twice adopts (the second create answers 409 and the worker may read it back).
      await expect(platform.submit(request)).resolves.toMatchObject({ handle: handle.handle });
      const progress: string[] = [];
      outcome = platform.await(handle, { signal: new AbortController().signal, detach: stop.signal, onProgress: (p) => progress.push(p.state) });
      // The operator's part, played as admin: the application ran and completed, its result written.
      await fs.mkdir(path.join(dir, 'out'), { recursive: true });
      await fs.writeFile(path.join(dir, 'out', '_result.json'), JSON.stringify({ ok: true }));
      await completeApplication(namespace, handle.handle);
      await expect(outcome).resolves.toMatchObject({ kind: 'SUCCEEDED' });
      const report = await platform.cleanup(request.attemptId);
      expect(report).toMatchObject({ remaining: 0 });
      await expect(platform.cleanup(request.attemptId)).resolves.toMatchObject({ remaining: 0 });
    } finally {
      stop.abort(new Error('the test ended'));
      await outcome.catch(() => undefined);
      await platform.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test('what the worker Role does not grant is refused with 403', async () => {
    const names = saNames(releases.minimal.objects);
    const workerKc = tokenKubeConfig(kc, await serviceAccountToken(kc, namespace, names.worker), 'worker');
    const asWorker = workerKc.makeApiClient(k8s.CoreV1Api);
    const customAsWorker = workerKc.makeApiClient(k8s.CustomObjectsApi);
    const app = { apiVersion: SPARK_OPERATOR_API_VERSION, kind: 'SparkApplication', metadata: { name: 'not-yours' }, spec: {} };
    expect(await statusOf(customAsWorker.createNamespacedCustomObject({ group: 'sparkoperator.k8s.io', version: 'v1beta2', namespace: other, plural: 'sparkapplications', body: app }))).toBe(403);
    expect(await statusOf(customAsWorker.listNamespacedCustomObject({ group: 'sparkoperator.k8s.io', version: 'v1beta2', namespace: other, plural: 'sparkapplications' }))).toBe(403);
    expect(await statusOf(asWorker.listNode())).toBe(403);
    expect(await statusOf(asWorker.listNamespacedSecret({ namespace }))).toBe(403);
    expect(await statusOf(asWorker.readNamespacedSecret({ namespace, name: 'nightjar-reporting' }))).toBe(403);
    expect(await statusOf(asWorker.createNamespacedPod({ namespace, body: podBody('worker-made', names.spark), dryRun: 'All' }))).toBe(403);
    expect(await statusOf(asWorker.deleteCollectionNamespacedPod({ namespace }))).toBe(403);
    expect(await statusOf(exec(workerKc, namespace))).toBe(403);
    expect(await statusOf(asWorker.listNamespacedPod({ namespace }))).toBe('ok');
  });

  test("the Spark driver's ServiceAccount creates executors in its namespace and nothing elsewhere", async () => {
    const names = saNames(releases.minimal.objects);
    const driverKc = tokenKubeConfig(kc, await serviceAccountToken(kc, namespace, names.spark), 'spark-driver');
    const asDriver = driverKc.makeApiClient(k8s.CoreV1Api);
    expect(await statusOf(asDriver.createNamespacedPod({ namespace, body: podBody('exec-1', names.spark), dryRun: 'All' }))).toBe('ok');
    expect(await statusOf(asDriver.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'spark-exec-conf' } }, dryRun: 'All' }))).toBe('ok');
    expect(await statusOf(asDriver.createNamespacedService({ namespace, body: { metadata: { name: 'driver-svc' }, spec: { clusterIP: 'None', ports: [{ port: 7078 }] } }, dryRun: 'All' }))).toBe('ok');
    expect(await statusOf(asDriver.createNamespacedPod({ namespace: other, body: podBody('exec-elsewhere', names.spark), dryRun: 'All' }))).toBe(403);
    expect(await statusOf(asDriver.listNamespacedSecret({ namespace }))).toBe(403);
    expect(await statusOf(asDriver.listNode())).toBe(403);
    expect(await statusOf(asDriver.listNamespacedService({ namespace }))).toBe(403);
    expect(await statusOf(exec(driverKc, namespace))).toBe(403);
  });
});

let sequence = 0;
async function attemptRequest(dir: string): Promise<SparkAttemptRequest> {
  sequence += 1;
  const attemptId = `nj-20261204-normalize-${suffix.slice(-6)}${String(sequence).padStart(2, '0')}-a1`;
  const spec = { job: 'normalize', attemptId, businessDate: '2026-12-04', outputUri: `file://${dir}/out`, resultUri: `file://${dir}/out/_result.json` };
  const specFile = path.join(dir, 'spec.json');
  await fs.writeFile(specFile, JSON.stringify(spec));
  return {
    attemptId,
    workflowId: 'nightjar-daily-acme-2026-12-04',
    businessDate: '2026-12-04',
    job: 'normalize',
    attempt: 1,
    resources: { driverMemoryMb: 1024, driverCores: 1, executorMemoryMb: 1024, executorCores: 1, executorInstances: 2, memoryOverheadMb: null, shufflePartitions: 8 },
    mainFile: '/srv/nightjar/spark/jobs/normalize.py',
    args: ['--spec', specFile],
    sparkConf: {},
  };
}

async function completeApplication(namespace: string, name: string): Promise<void> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const now = new Date().toISOString();
  await waitFor(`SparkApplication ${name}`, async () => (await statusOf(custom.getNamespacedCustomObject({ group: 'sparkoperator.k8s.io', version: 'v1beta2', namespace, plural: 'sparkapplications', name }))) === 'ok');
  await custom.patchNamespacedCustomObjectStatus(
    {
      group: 'sparkoperator.k8s.io',
      version: 'v1beta2',
      namespace,
      plural: 'sparkapplications',
      name,
      body: { status: { applicationState: { state: 'COMPLETED' }, driverInfo: {}, terminationTime: now, lastSubmissionAttemptTime: now, executionAttempts: 1, submissionAttempts: 1 } },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

function podBody(name: string, serviceAccountName: string): k8s.V1Pod {
  return {
    metadata: { name },
    spec: { serviceAccountName, restartPolicy: 'Never', containers: [{ name: 'spark-kubernetes-executor', image: 'registry.bank.example/nightjar-spark:0.1.0' }] },
  };
}

/** `kubectl exec`'s first request: create on pods/exec (refused before any stream opens). */
async function exec(config: k8s.KubeConfig, namespace: string): Promise<unknown> {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('no cluster');
  const url = `${cluster.server}/api/v1/namespaces/${namespace}/pods/any/exec?command=sh&stdout=true`;
  const init: RequestInit & { headers: Record<string, string> } = { method: 'POST', headers: {} };
  const options = await config.applyToFetchOptions({});
  const auth = (options.headers as Record<string, string> | undefined)?.Authorization;
  if (auth) init.headers.Authorization = auth;
  const agent = options.agent;
  const { default: https } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'POST', headers: init.headers, agent: agent as import('node:https').Agent }, (res) => {
      res.resume();
      if ((res.statusCode ?? 0) >= 400) reject(Object.assign(new Error(`exec answered ${res.statusCode}`), { code: res.statusCode }));
      else resolve(res.statusCode);
    });
    req.on('error', reject);
    req.end();
  });
}

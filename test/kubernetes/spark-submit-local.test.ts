/**
 * Spark's own Kubernetes mode on the local plane, for real: spark-submit (pyspark's) creates the
 * driver pod on the real API server, the driver creates its executor pods, and the local
 * container runtime runs each pod as its own JVM (plus Python workers). Needs the plane
 * (NIGHTJAR_TEST_KUBECONFIG or `npm run k8s:up`) and the checkout's .venv.
 */
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { ensureSparkDriverRole } from '../../local-cluster/spark-driver-role';
import type { SparkResources } from '../../src/domain/spark/resources';
import { SparkSubmitKubernetesPlatform } from '../../src/spark/kubernetes/spark-submit/spark-submit-platform';
import { driverPodName } from '../../src/spark/kubernetes/spark-submit/submit-invocation';
import { createTestNamespace, deleteTestNamespace, namespaceObjects, planeKubeConfig, settle } from '../support/local-plane';
import { startTestRuntime, TEST_RESOURCES, testAttemptRequest, testImage, testSubmitPlatform, type TestRuntime } from '../support/local-runtime';

jest.setTimeout(480_000);

const REPO = path.resolve(__dirname, '..', '..');
// This file's own runtime label value: a runtime started for the demo leaves these pods alone.
const RUNTIME_VALUE = `local-test-${process.pid}`;

let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let namespace: string;
let dir: string;
let runtime: TestRuntime;
let kubelet: TestRuntime['kubelet'];
let platform: SparkSubmitKubernetesPlatform;

beforeAll(async () => {
  kc = planeKubeConfig();
  core = kc.makeApiClient(k8s.CoreV1Api);
  // The namespace comes with the driver's ServiceAccount (nightjar-spark).
  namespace = await createTestNamespace(kc, 'spark-submit');
  // The chart's driver Role: what Spark's scheduler backend does with its executors.
  await ensureSparkDriverRole(kc, namespace);
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nightjar-spark-submit-'));
  runtime = await startTestRuntime({ kubeConfig: kc, repoRoot: REPO, stateDir: path.join(dir, 'runtime'), labelValue: RUNTIME_VALUE, namespaces: [namespace], ...testImage(REPO) });
  kubelet = runtime.kubelet;
  // A class-data directory of its own: the first submission writes spark-submit's archive, the next maps it.
  platform = testSubmitPlatform(kc, namespace, runtime, REPO, dir, { classDataDir: path.join(dir, 'class-data') });
});

afterAll(async () => {
  await platform?.close();
  await runtime?.stop();
  if (namespace !== undefined) await deleteTestNamespace(kc, namespace);
  if (dir !== undefined) await fs.rm(dir, { recursive: true, force: true });
});

const RESOURCES = TEST_RESOURCES;

const request = (attemptId: string, mode: 'ok' | 'executor-oom', resources: SparkResources) => testAttemptRequest(dir, REPO, attemptId, mode, resources);
const attemptObjects = () => namespaceObjects(kc, namespace);

test('spark-submit mode runs a real driver and two executor JVMs as pods, adopts its own driver on a second submit, and leaves nothing', async () => {
  const attemptId = `nj-20261204-normalize-${Date.now().toString(36)}-a1`;
  const { req, resultFile } = await request(attemptId, 'ok', RESOURCES);

  const handle = await platform.submit(req);
  expect(handle.handle).toBe(driverPodName(attemptId));
  // spark-submit's own JVM ran with the short-job options and wrote its class-data archive at its clean exit.
  expect((await fs.readdir(path.join(dir, 'class-data'))).filter((f) => /^kubernetes-submit-[0-9a-f]{16}\.jsa$/.test(f))).toHaveLength(1);
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
  expect(await settle(attemptObjects, (left) => left.length === 0)).toEqual([]);
  expect(await settle(async () => kubelet.runningPods(), (running) => running.length === 0)).toEqual([]);
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
  expect(await settle(attemptObjects, (left) => left.length === 0)).toEqual([]);
  const cleanup = await platform.cleanup(attemptId);
  expect(cleanup.remaining).toBe(0);
  expect(await settle(attemptObjects, (left) => left.length === 0)).toEqual([]);
  expect(await settle(async () => kubelet.runningPods(), (running) => running.length === 0)).toEqual([]);
});

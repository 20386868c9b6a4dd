/**
 * The operator stand-in submitting for real: for a SparkApplication the platform creates, it runs
 * pyspark's spark-submit in cluster mode with the operator's arguments, Spark creates the driver
 * pod on the real API server, the driver its executor pods, and a local runtime runs each as its
 * own JVM. The application's status follows the real pods; the platform's driver-log tail reads
 * the real driver's log through `pods/log`; deleting the application removes the pods by the real
 * garbage collector. Needs the plane (NIGHTJAR_TEST_KUBECONFIG) and the checkout's .venv.
 */
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { LocalSparkOperator } from '../../local-cluster';
import { SPARK_GROUP, SPARK_PLURAL, SPARK_VERSION } from '../../src/spark/kubernetes/kube-api';
import { KubernetesSparkPlatform } from '../../src/spark/kubernetes/kubernetes-platform';
import { ensureSparkDriverRole } from '../../local-cluster/spark-driver-role';
import { createTestNamespace, deleteTestNamespace, describeOnPlane, namespaceObjects, planeKubeConfig, planeKubeConfigFile, settle } from '../support/local-plane';
import { startTestRuntime, TEST_RESOURCES, testAttemptRequest, testImage, testPlatformSettings, type TestRuntime } from '../support/local-runtime';

jest.setTimeout(480_000);

const REPO = path.resolve(__dirname, '..', '..');
// This file's own runtime label value and log port: other runtimes on the plane leave these pods alone.
const RUNTIME_VALUE = `operator-test-${process.pid}`;
const LOG_PORT = Number(process.env.NIGHTJAR_TEST_LOG_PORT ?? 10253);

const RESOURCES = TEST_RESOURCES;

describeOnPlane('the operator stand-in with real Spark', () => {
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let custom: k8s.CustomObjectsApi;
  let namespace: string;
  let dir: string;
  let runtime: TestRuntime;
  let operator: LocalSparkOperator;
  let platform: KubernetesSparkPlatform;

  beforeAll(async () => {
    kc = planeKubeConfig();
    core = kc.makeApiClient(k8s.CoreV1Api);
    custom = kc.makeApiClient(k8s.CustomObjectsApi);
    namespace = await createTestNamespace(kc, 'operator-submit');
    await ensureSparkDriverRole(kc, namespace);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nightjar-operator-submit-'));
    runtime = await startTestRuntime({
      kubeConfig: kc,
      repoRoot: REPO,
      stateDir: path.join(dir, 'runtime'),
      labelValue: RUNTIME_VALUE,
      namespaces: [namespace],
      logPort: LOG_PORT,
      ...testImage(REPO),
    });
    await fs.mkdir(path.join(dir, 'submissions'));
    operator = new LocalSparkOperator({
      kubeConfig: kc,
      namespaces: [namespace],
      realSpark: {
        sparkSubmit: path.join(REPO, '.venv', 'bin', 'spark-submit'),
        kubeConfigPath: planeKubeConfigFile(),
        podLabels: runtime.podLabels,
        workDir: path.join(dir, 'submissions'),
      },
    });
    await operator.start();
    platform = new KubernetesSparkPlatform({ kubeConfig: kc, settings: testPlatformSettings(namespace) });
  });

  afterAll(async () => {
    await platform?.close();
    await operator?.stop();
    await runtime?.stop();
    if (namespace !== undefined) await deleteTestNamespace(kc, namespace);
    if (dir !== undefined) await fs.rm(dir, { recursive: true, force: true });
  });

  const request = (attemptId: string, mode: 'ok' | 'error' | 'executor-oom', resources = RESOURCES) => testAttemptRequest(dir, REPO, attemptId, mode, resources);

  async function application(name: string): Promise<{ metadata: { uid: string }; status: Record<string, unknown> }> {
    return (await custom.getNamespacedCustomObject({ group: SPARK_GROUP, version: SPARK_VERSION, plural: SPARK_PLURAL, namespace, name })) as never;
  }

  const left = () => namespaceObjects(kc, namespace);

  test('a SparkApplication ends in a real driver with two real executors, its status as the operator writes it, and deleting it leaves nothing', async () => {
    const attemptId = `nj-20261204-normalize-${Date.now().toString(36)}-o1`;
    const { req, resultFile } = await request(attemptId, 'ok');
    const handle = await platform.submit(req);
    const outcome = await platform.await(handle, { signal: new AbortController().signal, onProgress: () => undefined });
    expect(outcome).toMatchObject({ kind: 'SUCCEEDED' });

    const result = JSON.parse(readFileSync(resultFile, 'utf8')) as { total: number; executors: string[] };
    expect(result.total).toBe(4_999_950_000);
    expect(result.executors.length).toBe(2);

    const app = await application(attemptId);
    const status = app.status as {
      applicationState: { state: string };
      submissionID: string;
      driverInfo: { podName: string };
      sparkApplicationId: string;
      executorState: Record<string, string>;
      terminationTime: string;
    };
    expect(status.applicationState.state).toBe('COMPLETED');
    expect(status.driverInfo.podName).toBe(`${attemptId}-driver`);
    expect(Object.keys(status.executorState).sort()).toEqual([...result.executors].sort());
    expect(Object.values(status.executorState)).toEqual(['COMPLETED', 'COMPLETED']);
    expect(status.terminationTime).toEqual(expect.any(String));

    const driver = await core.readNamespacedPod({ namespace, name: `${attemptId}-driver` });
    expect(driver.status?.phase).toBe('Succeeded');
    expect(driver.spec?.nodeName).toMatch(/^kwok-/);
    expect(driver.metadata?.labels).toMatchObject({
      'sparkoperator.k8s.io/app-name': attemptId,
      'sparkoperator.k8s.io/launched-by-spark-operator': 'true',
      'sparkoperator.k8s.io/submission-id': status.submissionID,
      'spark-role': 'driver',
      'spark-app-selector': status.sparkApplicationId,
      'nightjar.io/attempt-id': attemptId,
    });
    // The driver pod is the application's controlled child: the garbage collector follows it.
    expect(driver.metadata?.ownerReferences).toEqual([expect.objectContaining({ kind: 'SparkApplication', name: attemptId, uid: app.metadata.uid, controller: true })]);

    // The platform's driver-log tail goes through the API's pods/log, served by the runtime.
    const log = await core.readNamespacedPodLog({ namespace, name: `${attemptId}-driver`, container: 'spark-kubernetes-driver' });
    expect(log).toMatch(/SparkContext/);

    const cleanup = await platform.cleanup(attemptId);
    expect(cleanup.remaining).toBe(0);
    expect(await settle(left, (objects) => objects.length === 0)).toEqual([]);
    expect(await settle(async () => runtime.kubelet.runningPods(), (running) => running.length === 0)).toEqual([]);
    expect(operator.failures).toBe(0);
  });

  test("a job that raises fails the application in the operator's words, and the platform's verdict carries the real driver's log read through pods/log", async () => {
    const attemptId = `nj-20261204-normalize-${Date.now().toString(36)}-o2`;
    const { req } = await request(attemptId, 'error');
    const handle = await platform.submit(req);
    const outcome = await platform.await(handle, { signal: new AbortController().signal, onProgress: () => undefined });
    expect(outcome.kind).toBe('PERMANENT');
    expect(outcome.reason).toMatch(/driver container failed with ExitCode: 1, Reason: Error/);
    expect(outcome.diagnostics).toContain('--- driver log (last lines) ---');
    expect(outcome.diagnostics.join('\n')).toMatch(/ValueError: bad column amount/);

    // The platform stops a failing application as soon as its verdict is in (FAILING is enough).
    expect((await operator.waitForStep(attemptId, 'driver-failed')).detail).toBe('exit code 1 (Error)');

    const cleanup = await platform.cleanup(attemptId);
    expect(cleanup.remaining).toBe(0);
    expect(await settle(left, (objects) => objects.length === 0)).toEqual([]);
    expect(operator.failures).toBe(0);
  });

  test('executors that really run out of memory are seen by the operator stand-in on the real pods and by the platform, which stops the application after N', async () => {
    const attemptId = `nj-20261204-normalize-${Date.now().toString(36)}-o3`;
    // 512 MiB of heap and almost no overhead: the skewed group outgrows the pod's limit (512 + 32 MiB).
    const { req } = await request(attemptId, 'executor-oom', { ...RESOURCES, memoryOverheadMb: 32 });
    const handle = await platform.submit(req);
    const outcome = await platform.await(handle, { signal: new AbortController().signal, onProgress: () => undefined });
    expect(outcome).toMatchObject({ kind: 'OUT_OF_MEMORY', oomSide: 'executor' });
    // The operator's view of the same deaths, from the real pods: cgroup kills (137 OOMKilled), or
    // the JVM's own OutOfMemoryError exit (52) where no memory cgroup is available.
    const expected = runtime.kubelet.memoryEnforcement === 'cgroup-v1' ? /exit code 137 \(OOMKilled\)/ : /exit code 52 /;
    const ooms = operator.timeline.filter((e) => e.app === attemptId && e.what === 'executor-oom');
    expect(ooms.length).toBeGreaterThanOrEqual(1);
    for (const oom of ooms) expect(oom.detail).toMatch(expected);

    const cleanup = await platform.cleanup(attemptId);
    expect(cleanup.remaining).toBe(0);
    expect(await settle(left, (objects) => objects.length === 0)).toEqual([]);
    expect(await settle(async () => runtime.kubelet.runningPods(), (running) => running.length === 0)).toEqual([]);
    expect(operator.failures).toBe(0);
  });
});

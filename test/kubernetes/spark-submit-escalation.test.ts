/**
 * Executor out-of-memory recovered by escalation, for real, in spark-submit mode on the local
 * plane: the sparkJob workflow (Temporal dev server) with the real Spark activities submits a
 * skewed job (test/fixtures/spark-image/jobs/transform.py) whose executors really die of memory
 * at 512 MiB — killed by their pod's memory cgroup, or the JVM's own OutOfMemoryError where no
 * cgroup is available — stops the attempt after two lost executors, resubmits with twice the
 * executor memory, and succeeds. Needs the plane (NIGHTJAR_TEST_KUBECONFIG) and the .venv.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { ensureSparkDriverRole } from '../../local-cluster/spark-driver-role';
import { createSparkActivities } from '../../src/activities/spark';
import { DataLayout } from '../../src/common/layout';
import type { SparkResources } from '../../src/domain/spark/resources';
import { SparkSubmitKubernetesPlatform } from '../../src/spark/kubernetes/spark-submit/spark-submit-platform';
import { sparkJob } from '../../src/workflows/spark-job';
import { createDevServerEnv, REPO_ROOT, uniqueId, workflowBundle } from '../helpers/temporal';
import { createTestNamespace, deleteTestNamespace, describeOnPlane, namespaceObjects, planeKubeConfig, settle } from '../support/local-plane';
import { startTestRuntime, testImage, testSubmitPlatform, type TestRuntime } from '../support/local-runtime';

jest.setTimeout(900_000);

// This file's own runtime label value: no other runtime on the plane takes these pods.
const RUNTIME_VALUE = `escalation-test-${process.pid}`;

/**
 * 512 MiB executors in pods of 612 MiB cannot hold the fixture's skewed group; one escalation
 * (×2: 1 GiB executors, the explicit overhead growing with them to 256 MiB) can.
 */
const RESOURCES: SparkResources = {
  driverMemoryMb: 768,
  driverCores: 1,
  executorMemoryMb: 512,
  executorCores: 1,
  executorInstances: 2,
  memoryOverheadMb: 100,
  shufflePartitions: 4,
};
const POLICY = { maxAttempts: 2, memoryFactor: 2, maxDriverMemoryMb: 1024, maxExecutorMemoryMb: 1024 };

let env: TestWorkflowEnvironment;
let kc: k8s.KubeConfig;
let namespace: string;
let dir: string;
let runtime: TestRuntime;
let kubelet: TestRuntime['kubelet'];
let platform: SparkSubmitKubernetesPlatform;

describeOnPlane('spark-submit mode: real executor OOM recovered by escalation', () => {
  beforeAll(async () => {
    env = await createDevServerEnv();
    kc = planeKubeConfig();
    namespace = await createTestNamespace(kc, 'nj-escalate');
    await ensureSparkDriverRole(kc, namespace);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nightjar-escalation-'));
    runtime = await startTestRuntime({ kubeConfig: kc, repoRoot: REPO_ROOT, stateDir: path.join(dir, 'runtime'), labelValue: RUNTIME_VALUE, namespaces: [namespace], ...testImage(REPO_ROOT) });
    kubelet = runtime.kubelet;
    platform = testSubmitPlatform(kc, namespace, runtime, REPO_ROOT, dir);
  });

  afterAll(async () => {
    await platform?.close();
    await runtime?.stop();
    if (namespace !== undefined) await deleteTestNamespace(kc, namespace);
    await env?.teardown();
    if (dir !== undefined) await fs.rm(dir, { recursive: true, force: true });
  });

  test('executors die of memory on their pods, the attempt is stopped after 2, the second attempt with twice the executor memory succeeds, the records name the lost pods, and nothing is left', async () => {
    const taskQueue = uniqueId('escalation');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createSparkActivities({
        platform,
        layout: new DataLayout(path.join(dir, 'data')),
        jobsDir: path.join(REPO_ROOT, 'spark'),
        reportingCurrency: 'EUR',
        thresholds: { largeValueRpt: 10000, structuringThresholdRpt: 10000, structuringBandLow: 0.8, structuringMinCount: 3 },
      }),
    });
    const result = await worker.runUntil(
      env.client.workflow.execute(sparkJob, {
        taskQueue,
        workflowId: uniqueId('nightjar-daily-2026-12-04-transform'),
        args: [{ businessDate: '2026-12-04', job: 'transform', parentWorkflowId: 'nightjar-daily-2026-12-04', parentRunId: `run-${process.pid}`, inputs: {}, resources: RESOURCES, policy: POLICY }],
      }),
    );

    expect(result.attempts.map((a) => [a.outcome, a.oomSide ?? null, a.resources?.executorMemoryMb, a.resources?.memoryOverheadMb, a.leftovers])).toEqual([
      ['OUT_OF_MEMORY', 'executor', 512, 100, 0],
      ['SUCCEEDED', null, 1024, 256, 0],
    ]);
    const [first, second] = result.attempts;
    expect(first!.reason).toMatch(/2 executors lost to out-of-memory/);
    // What the first attempt's pods said, as the runtime reported them: killed in the pod's memory
    // cgroup (137 OOMKilled) or, without one, the JVM's own OutOfMemoryError exit (52).
    const expected = kubelet.memoryEnforcement === 'cgroup-v1' ? { exitCode: 137, reason: 'OOMKilled' } : { exitCode: 52, reason: 'Error' };
    const lost = (first!.pods ?? []).filter((p) => p.role === 'executor' && p.phase === 'Failed');
    expect(lost.length).toBeGreaterThanOrEqual(2);
    for (const pod of lost) expect(pod).toMatchObject({ ...expected, node: expect.stringMatching(/^kwok-/) });
    expect(first!.pods?.[0]).toMatchObject({ role: 'driver', node: expect.stringMatching(/^kwok-/) });
    // The second attempt: its driver and two executors, all ended well.
    expect(second!.pods?.map((p) => p.role)).toEqual(['driver', 'executor', 'executor']);
    expect(second!.pods?.find((p) => p.role === 'driver')).toMatchObject({ phase: 'Succeeded', exitCode: 0 });

    expect(await settle(() => namespaceObjects(kc, namespace), (left) => left.length === 0)).toEqual([]);
    expect(await settle(async () => kubelet.runningPods(), (running) => running.length === 0)).toEqual([]);
  });
});

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createSparkActivities } from '../../src/activities/spark';
import { DataLayout } from '../../src/common/layout';
import { FailureType } from '../../src/common/failures';
import { LocalSparkOperator, type ScenarioChoice } from '../../local-cluster';
import { KubernetesSparkPlatform } from '../../src/spark/kubernetes/kubernetes-platform';
import { sparkJob, type SparkJobFailureDetails } from '../../src/workflows/spark-job';
import { SearchAttr } from '../../src/workflows/search-attributes';
import { createDevServerEnv, REPO_ROOT, uniqueId, workflowBundle } from '../helpers/temporal';
import { createTestNamespace, deleteTestNamespace, planeKubeConfig } from '../support/local-plane';
import { describeOnPlane, leftoversIn, RESOURCES, sparkJobInput, TEST_SETTINGS } from './harness';

jest.setTimeout(120_000);

let env: TestWorkflowEnvironment;
let dataDir: string;
beforeAll(async () => {
  env = await createDevServerEnv();
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nightjar-k8s-job-'));
});
afterAll(async () => {
  await env?.teardown();
  await fs.rm(dataDir, { recursive: true, force: true });
});

const POLICY = { maxAttempts: 4, memoryFactor: 2, maxDriverMemoryMb: 4096, maxExecutorMemoryMb: 4096 };

/** A worker whose Spark platform is Kubernetes, on the real plane with the operator stand-in, in a namespace of its own. */
async function withCluster(
  scenario: ScenarioChoice,
  body: (ctx: { taskQueue: string; simulator: LocalSparkOperator; leftovers: () => Promise<string[]> }) => Promise<void>,
) {
  const admin = planeKubeConfig();
  const namespace = await createTestNamespace(admin, 'nj-sparkjob');
  const simulator = new LocalSparkOperator({ kubeConfig: admin, namespaces: [namespace], scenario, timing: { executorOomAfterMs: 50, runMs: 100 } });
  const platform = new KubernetesSparkPlatform({ kubeConfig: admin, settings: { ...TEST_SETTINGS, namespace, executorOomLimit: 2 } });
  const taskQueue = uniqueId('k8s');
  try {
    await simulator.start();
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createSparkActivities({
        platform,
        layout: new DataLayout(dataDir),
        jobsDir: path.join(REPO_ROOT, 'spark'),
        reportingCurrency: 'EUR',
        thresholds: { largeValueRpt: 10000, structuringThresholdRpt: 10000, structuringBandLow: 0.8, structuringMinCount: 3 },
      }),
    });
    await worker.runUntil(body({ taskQueue, simulator, leftovers: () => leftoversIn(admin, namespace) }));
  } finally {
    await platform.close();
    try {
      await simulator.stop();
    } finally {
      await deleteTestNamespace(admin, namespace);
    }
  }
}

const start = (taskQueue: string) =>
  env.client.workflow.start(sparkJob, {
    taskQueue,
    workflowId: uniqueId('nightjar-daily-2026-11-23-normalize'),
    args: [sparkJobInput({ resources: { ...RESOURCES, executorMemoryMb: 1024 }, policy: POLICY })],
  });

describeOnPlane('sparkJob on the Temporal dev server with the Kubernetes platform on the real plane', () => {
  test('executor OOM on Kubernetes: stopped, resubmitted with twice the executor memory, succeeds; every attempt cleaned; visible in search attributes', async () => {
    await withCluster({ name: 'executor-oom', minExecutorMemoryMb: 2048 }, async ({ taskQueue, simulator, leftovers }) => {
      const handle = await start(taskQueue);
      const result = await handle.result();
      expect(result.attempts.map((a) => [a.outcome, a.oomSide ?? null, a.resources?.executorMemoryMb, a.leftovers])).toEqual([
        ['OUT_OF_MEMORY', 'executor', 1024, 0],
        ['SUCCEEDED', null, 2048, 0],
      ]);
      expect(result.finalResources.executorMemoryMb).toBe(2048);
      // One SparkApplication per attempt, never two for the same attempt.
      expect(simulator.stats.applicationsSeen).toBe(2);
      expect(await leftovers()).toEqual([]);

      const description = await handle.describe();
      expect(description.typedSearchAttributes.get(SearchAttr.sparkOutcome)).toBe('SUCCEEDED');
      expect(description.typedSearchAttributes.get(SearchAttr.sparkAttempt)).toBe(2);
      expect(description.typedSearchAttributes.get(SearchAttr.oomEscalations)).toBe(1);
      expect(description.typedSearchAttributes.get(SearchAttr.businessDate)).toBe('2026-11-23');
    });
  });

  test('a permanent failure (bad image) fails the job at once, typed, with nothing left on the cluster', async () => {
    await withCluster('image-pull-backoff', async ({ taskQueue, leftovers }) => {
      const handle = await start(taskQueue);
      const error = await handle.result().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      const cause = (error as WorkflowFailedError).cause as { type?: string; details?: unknown[]; message: string };
      expect(cause.type).toBe(FailureType.SparkJobFailed);
      expect(cause.message).toMatch(/ImagePullBackOff|ErrImagePull/);
      const details = cause.details?.[0] as SparkJobFailureDetails;
      expect(details.attempts).toHaveLength(1);
      expect(details.attempts[0]?.leftovers).toBe(0);
      expect(await leftovers()).toEqual([]);
    });
  });

  test('cancelling the job while it runs stops the application and cleans up', async () => {
    await withCluster({ name: 'executor-oom', minExecutorMemoryMb: 100_000 }, async ({ taskQueue, simulator, leftovers }) => {
      const handle = await start(taskQueue);
      await simulator.waitFor((e) => e.what === 'executor-running', 20_000);
      await handle.cancel();
      await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
      // The cleanup activity ran in a non-cancellable scope before the workflow closed.
      expect(await leftovers()).toEqual([]);
    });
  });
});

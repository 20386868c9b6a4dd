import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { attemptSelector } from '../../../src/spark/kubernetes/labels';
import { scriptedDriver, type DriverRuntime } from '../../../local-cluster';
import {
  driverLog,
  SPARK_API_VERSION,
  attemptId,
  classify,
  countOf,
  createAttempt,
  deleteForeground,
  eventually,
  expectNothingLeft,
  gate,
  observe,
  rawApplication,
  recordStates,
  remaining,
  useSimulatedClusters,
} from './harness';

// The real plane: namespaces, pods and garbage collection take their (short) time.
jest.setTimeout(60_000);

const startCluster = useSimulatedClusters();

let workDir: string;
beforeEach(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'nightjar-simulator-'));
});
afterEach(async () => {
  await rm(workDir, { recursive: true, force: true });
});

test('success: submitted, running with its executors, then completed with the canned result written; foreground deletion leaves nothing', async () => {
  const held = gate();
  const seenSpecs: unknown[] = [];
  // The default runtime, held open until the test has looked at the running application.
  const inner = scriptedDriver();
  const driver: DriverRuntime = {
    async run(ctx) {
      seenSpecs.push(await ctx.readSpec());
      await held.opened;
      return inner.run(ctx);
    },
  };
  const cluster = await startCluster({ driver });
  const resultFile = path.join(workDir, 'reports', 'nested', '_result.json');
  const attempt = await createAttempt(cluster, {
    spec: { job: 'transform', attemptId: 'a', resultUri: pathToFileURL(resultFile).href },
    resources: { executorInstances: 3 },
  });
  const { name } = attempt;

  await cluster.simulator.waitForStep(name, 'driver-running');
  await eventually(() => countOf(cluster, name, 'executor-running') === 3, 'three executors run');
  const running = await observe(cluster, name);
  expect(running.app.status.applicationState.state).toBe('RUNNING');
  expect(running.app.status.sparkApplicationId).toMatch(/^spark-[0-9a-f]{32}$/);
  expect(running.app.status.submissionAttempts).toBe(1);
  expect(running.app.status.lastSubmissionAttemptTime).toEqual(expect.any(String));
  expect(running.app.status.driverInfo?.podName).toBe(`${name}-driver`);
  expect(running.app.status.executorState).toEqual({ [`${name}-exec-1`]: 'RUNNING', [`${name}-exec-2`]: 'RUNNING', [`${name}-exec-3`]: 'RUNNING' });
  expect(running.driverPod?.status.phase).toBe('Running');
  expect(running.driverPod?.status.containerStatuses?.[0]).toMatchObject({ name: 'spark-kubernetes-driver', state: { running: {} } });
  expect(running.executorPods.map((p) => [p.metadata.name, p.status.phase])).toEqual([
    [`${name}-exec-1`, 'Running'],
    [`${name}-exec-2`, 'Running'],
    [`${name}-exec-3`, 'Running'],
  ]);
  expect(classify(name, running, attempt)).toMatchObject({ kind: 'RUNNING', executorOoms: 0 });
  expect(seenSpecs).toEqual([{ job: 'transform', attemptId: 'a', resultUri: pathToFileURL(resultFile).href }]);

  // Pods: Spark's and the operator's labels plus the attempt's, owned as Spark and the operator own them.
  const driverPod = await cluster.core.readNamespacedPod({ namespace: cluster.namespace, name: `${name}-driver` });
  const appId = running.app.status.sparkApplicationId ?? '';
  expect(driverPod.metadata?.labels).toMatchObject({
    ...attempt.labels,
    'spark-role': 'driver',
    'spark-app-selector': appId,
    'sparkoperator.k8s.io/app-name': name,
    'sparkoperator.k8s.io/submission-id': expect.any(String),
    'sparkoperator.k8s.io/launched-by-spark-operator': 'true',
  });
  expect(driverPod.metadata?.ownerReferences).toEqual([
    { apiVersion: SPARK_API_VERSION, kind: 'SparkApplication', name, uid: attempt.uid, controller: true, blockOwnerDeletion: true },
  ]);
  expect(driverPod.spec?.volumes?.some((v) => v.configMap?.name === `${name}-spec`)).toBe(true);
  const executor = await cluster.core.readNamespacedPod({ namespace: cluster.namespace, name: `${name}-exec-2` });
  expect(executor.metadata?.labels).toMatchObject({ ...attempt.labels, 'spark-role': 'executor', 'spark-exec-id': '2', 'spark-app-selector': appId });
  expect(executor.metadata?.ownerReferences?.map((r) => [r.kind, r.name, r.uid])).toEqual([['Pod', `${name}-driver`, driverPod.metadata?.uid]]);
  const sparkOwned = await remaining(cluster, `spark-app-selector=${appId}`);
  expect(sparkOwned.filter((n) => !n.startsWith('pods/'))).toEqual([
    expect.stringMatching(/^configmaps\/spark-drv-[0-9a-f]{16}-conf-map$/),
    expect.stringMatching(/^configmaps\/spark-exec-[0-9a-f]{16}-conf-map$/),
    expect.stringMatching(new RegExp(`^services/${name}-[0-9a-f]{16}-driver-svc$`)),
  ]);
  const service = await cluster.core.readNamespacedService({ namespace: cluster.namespace, name: sparkOwned.find((n) => n.startsWith('services/'))?.slice('services/'.length) ?? '' });
  expect(service.spec?.clusterIP).toBe('None');
  expect(service.metadata?.ownerReferences?.map((r) => r.uid)).toEqual([driverPod.metadata?.uid]);

  held.release();
  await cluster.simulator.waitForStep(name, 'completed');
  const done = await observe(cluster, name);
  expect(done.app.status.applicationState).toEqual({ state: 'COMPLETED' });
  expect(done.app.status.terminationTime).toEqual(expect.any(String));
  expect(done.app.status.executorState).toEqual({ [`${name}-exec-1`]: 'COMPLETED', [`${name}-exec-2`]: 'COMPLETED', [`${name}-exec-3`]: 'COMPLETED' });
  expect(done.driverPod?.status.phase).toBe('Succeeded');
  expect(done.driverPod?.status.containerStatuses?.[0]?.state?.terminated).toEqual({ exitCode: 0, reason: 'Completed' });
  // The driver deleted its executors when it stopped.
  expect(done.executorPods).toEqual([]);
  const appEvents = done.events.filter((e) => e.involvedObject.kind === 'SparkApplication').map((e) => e.reason);
  expect(appEvents).toEqual(expect.arrayContaining(['SparkApplicationSubmitted', 'SparkDriverRunning', 'SparkExecutorRunning', 'SparkDriverCompleted', 'SparkApplicationCompleted']));
  expect(classify(name, done, attempt)).toMatchObject({ kind: 'SUCCEEDED' });
  const states = cluster.simulator.timeline.filter((e) => e.app === name).map((e) => e.what);
  expect(states.indexOf('submitted')).toBeLessThan(states.indexOf('driver-running'));
  expect(states.indexOf('driver-completed')).toBeLessThan(states.indexOf('completed'));

  expect(await readFile(resultFile, 'utf8')).toBe('{"job":"transform","reports":[]}');
  expect(await readdir(path.dirname(resultFile))).toEqual(['_result.json']);
  const log = driverLog(cluster, `${name}-driver`);
  expect(log).toContain('INFO SparkContext: Running Spark version 4.0.1');
  expect(log).toContain('NIGHTJAR_PROGRESS {"phase":"done","job":"transform"}');

  await deleteForeground(cluster, name);
  await expectNothingLeft(cluster, attempt, appId);
  expect(cluster.simulator.timeline.at(-1)).toMatchObject({ app: name, attempt: '1', what: 'deleted' });
});

test('success with the default runtime and no spec: a watch sees SUBMITTED, RUNNING, SUCCEEDING, COMPLETED in that order', async () => {
  const cluster = await startCluster({});
  const recording = await recordStates(cluster, attemptId('normalize', 1));
  const attempt = await createAttempt(cluster, { job: 'normalize' });
  await cluster.simulator.waitForStep(attempt.name, 'completed');
  await eventually(() => recording.states.at(-1) === 'COMPLETED', 'the watch saw COMPLETED');
  recording.stop();
  expect(recording.states).toEqual(['', 'SUBMITTED', 'RUNNING', 'SUCCEEDING', 'COMPLETED']);
  const raw = await rawApplication(cluster, attempt.name);
  expect(raw.status).toMatchObject({ applicationState: { state: 'COMPLETED' }, submissionID: expect.any(String), executionAttempts: 1 });
  const reasons = (await observe(cluster, attempt.name)).events.filter((e) => e.involvedObject.kind === 'SparkApplication').map((e) => e.reason);
  expect(reasons.indexOf('SparkDriverCompleted')).toBeLessThan(reasons.indexOf('SparkApplicationCompleted'));
  expect(cluster.simulator.stats).toMatchObject({ applicationsSeen: 1, submissions: 1, driverPodsCreated: 1, executorPodsCreated: 2, completed: 1, failed: 0 });
  await deleteForeground(cluster, attempt.name);
  await expectNothingLeft(cluster, attempt, undefined);
});

test('leaky: succeeds, and after foreground deletion exactly the two unowned stragglers with the attempt labels remain', async () => {
  const cluster = await startCluster({ scenario: 'leaky' });
  const attempt = await createAttempt(cluster);
  const { name } = attempt;
  await cluster.simulator.waitForStep(name, 'completed');
  const done = await observe(cluster, name);
  expect(classify(name, done, attempt)).toMatchObject({ kind: 'SUCCEEDED' });
  const planted = cluster.simulator.timeline.filter((e) => e.app === name && e.what === 'straggler').map((e) => e.detail);
  expect(planted).toEqual([`persistentvolumeclaims/${name}-driver-pvc-0`, `services/${name}-ui-svc`]);

  await deleteForeground(cluster, name);
  const left = await remaining(cluster, attemptSelector(name));
  expect(left).toEqual([`persistentvolumeclaims/${name}-driver-pvc-0`, `services/${name}-ui-svc`]);
  // Nothing else: the stragglers are all a label-selector cleanup has to remove.
  expect(await remaining(cluster)).toEqual(left);
  const claim = await cluster.core.readNamespacedPersistentVolumeClaim({ namespace: cluster.namespace, name: `${name}-driver-pvc-0` });
  const service = await cluster.core.readNamespacedService({ namespace: cluster.namespace, name: `${name}-ui-svc` });
  for (const object of [claim, service]) {
    expect(object.metadata?.ownerReferences).toBeUndefined();
    expect(object.metadata?.labels).toMatchObject(attempt.labels);
  }
  expect(cluster.simulator.stats.stragglers).toBe(2);
});

import { Watch } from '@kubernetes/client-node';
import { LocalSparkOperator, scenarioScript, type DriverRuntime } from '../../../local-cluster';
import { FaultProxy } from '../../support/fault-proxy';
import { createTestNamespace, deleteTestNamespace } from '../../support/local-plane';
import {
  SPARK,
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
  readApplication,
  useSimulatedClusters,
  type SimulatedCluster,
} from './harness';

// The real plane: namespaces, pods and garbage collection take their (short) time.
jest.setTimeout(60_000);

const startCluster = useSimulatedClusters();

/** A runtime that runs until it is aborted, recording that it was. */
function endlessDriver(): DriverRuntime & { readonly aborts: number } {
  const state = { aborts: 0 };
  return {
    get aborts() {
      return state.aborts;
    },
    run: (ctx) =>
      new Promise((_resolve, reject) => {
        ctx.log('working for ever');
        ctx.signal.addEventListener('abort', () => {
          state.aborts += 1;
          reject(ctx.signal.reason);
        });
      }),
  };
}

test('deleting a running application stops its driver and executors at once; the garbage collector removes everything', async () => {
  const driver = endlessDriver();
  const cluster = await startCluster({ driver });
  const attempt = await createAttempt(cluster, { spec: { job: 'normalize' } });
  await eventually(() => countOf(cluster, attempt.name, 'executor-running') === 2, 'both executors run');
  const { sparkApplicationId } = (await readApplication(cluster, attempt.name)).status;

  await deleteForeground(cluster, attempt.name);
  expect(driver.aborts).toBe(1);
  await expectNothingLeft(cluster, attempt, sparkApplicationId);
  const after = cluster.simulator.timeline.filter((e) => e.app === attempt.name).map((e) => e.what);
  expect(after.at(-1)).toBe('deleted');
  expect(after).not.toContain('completed');
  expect(cluster.simulator.stats.deleted).toBe(1);
});

test('stopping the simulator aborts running drivers and waits for them', async () => {
  const driver = endlessDriver();
  const cluster = await startCluster({ driver });
  const attempt = await createAttempt(cluster);
  await cluster.simulator.waitForStep(attempt.name, 'driver-running');
  await eventually(() => countOf(cluster, attempt.name, 'executor-running') === 2, 'both executors run');
  await cluster.simulator.stop();
  expect(driver.aborts).toBe(1);
  await expect(cluster.simulator.waitForStep(attempt.name, 'completed')).rejects.toThrow('the local spark-operator stopped');
});

test('a driver pod deleted under a running application fails it with "driver pod not found": a transient loss', async () => {
  const cluster = await startCluster({ driver: endlessDriver() });
  const attempt = await createAttempt(cluster);
  await eventually(() => countOf(cluster, attempt.name, 'executor-running') === 2, 'both executors run');
  await cluster.core.deleteNamespacedPod({ namespace: cluster.namespace, name: `${attempt.name}-driver` });
  await cluster.simulator.waitForStep(attempt.name, 'failed');
  const seen = await observe(cluster, attempt.name);
  expect(seen.app.status.applicationState).toEqual({ state: 'FAILED', errorMessage: 'driver pod not found' });
  expect(seen.driverPod).toBeUndefined();
  expect(classify(attempt.name, seen, attempt)).toMatchObject({ kind: 'TRANSIENT', reason: expect.stringMatching(/^driver lost/) });
  await deleteForeground(cluster, attempt.name);
  await expectNothingLeft(cluster, attempt, seen.app.status.sparkApplicationId);
});

test('an executor pod deleted by someone else is replaced with the next id; the application keeps running', async () => {
  const cluster = await startCluster({ driver: endlessDriver() });
  const attempt = await createAttempt(cluster, { resources: { executorInstances: 2 } });
  const { name } = attempt;
  await eventually(() => countOf(cluster, name, 'executor-running') === 2, 'both executors run');
  await cluster.core.deleteNamespacedPod({ namespace: cluster.namespace, name: `${name}-exec-1` });
  await eventually(() => countOf(cluster, name, 'executor-running') === 3, 'the replacement runs');
  expect(cluster.simulator.timeline.find((e) => e.app === name && e.what === 'executor-replaced')?.detail).toBe(`${name}-exec-1 -> ${name}-exec-3`);
  const seen = await observe(cluster, name);
  expect(seen.app.status.applicationState.state).toBe('RUNNING');
  expect(seen.app.status.executorState).toEqual({ [`${name}-exec-1`]: 'UNKNOWN', [`${name}-exec-2`]: 'RUNNING', [`${name}-exec-3`]: 'RUNNING' });
  expect(seen.executorPods.map((p) => p.metadata.name).sort()).toEqual([`${name}-exec-2`, `${name}-exec-3`]);
  await deleteForeground(cluster, name);
  await expectNothingLeft(cluster, attempt, seen.app.status.sparkApplicationId);
});

test('only the configured namespaces are reconciled; an operator started later adopts the applications already waiting', async () => {
  const cluster = await startCluster({});
  const otherNamespace = await createTestNamespace(cluster.kubeConfig, 'nj-operator-other');
  const other = new LocalSparkOperator({ kubeConfig: cluster.kubeConfig, namespaces: [otherNamespace] });
  try {
    const elsewhere = await createAttempt(cluster, { namespace: otherNamespace, job: 'normalize' });
    const here = await createAttempt(cluster);
    await cluster.simulator.waitForStep(here.name, 'completed');
    const untouched = (await cluster.custom.getNamespacedCustomObject({ ...SPARK, namespace: otherNamespace, name: elsewhere.name })) as { status?: unknown };
    expect(untouched.status).toBeUndefined();

    await other.start();
    await other.waitForStep(elsewhere.name, 'completed');
    expect(cluster.simulator.timeline.some((e) => e.app === elsewhere.name)).toBe(false);
  } finally {
    await other.stop();
    await deleteTestNamespace(cluster.kubeConfig, otherNamespace);
  }
});

test('a scenario function chooses per application; named scenarios can be reused inside it', async () => {
  const cluster = await startCluster({
    scenario: (app) => (app.labels['nightjar.io/job'] === 'normalize' ? scenarioScript('success', app) : scenarioScript({ name: 'driver-oom', minDriverMemoryMb: 99_999 }, app)),
  });
  const normalize = await createAttempt(cluster, { job: 'normalize' });
  const transform = await createAttempt(cluster, { job: 'transform' });
  await cluster.simulator.waitForStep(normalize.name, 'completed');
  await cluster.simulator.waitForStep(transform.name, 'failed');
  expect(classify(transform.name, await observe(cluster, transform.name), transform)).toMatchObject({ kind: 'OUT_OF_MEMORY', oomSide: 'driver' });
  expect(cluster.simulator.timeline.find((e) => e.app === transform.name && e.what === 'submitted')?.detail).toBe('driver-oom');
});

test('a driver pod that already exists makes spark-submit fail: SUBMISSION_FAILED, then FAILED, a transient failure', async () => {
  const cluster = await startCluster({});
  const name = attemptId('transform', 1);
  await cluster.core.createNamespacedPod({ namespace: cluster.namespace, body: { metadata: { name: `${name}-driver` }, spec: { containers: [{ name: 'x', image: 'x' }] } } });
  const attempt = await createAttempt(cluster);
  await cluster.simulator.waitForStep(name, 'failed');
  const raw = await rawApplication(cluster, name);
  expect(raw.status?.applicationState).toEqual({ state: 'FAILED', errorMessage: expect.stringMatching(/^failed to run spark-submit .*already exists/) });
  expect(cluster.simulator.timeline.some((e) => e.app === name && e.what === 'submission-failed')).toBe(true);
  expect(classify(name, await observe(cluster, name), attempt)).toMatchObject({ kind: 'TRANSIENT', reason: expect.stringMatching(/^submission failed/) });
  await cluster.core.deleteNamespacedPod({ namespace: cluster.namespace, name: `${name}-driver` });
  await deleteForeground(cluster, name);
  await expectNothingLeft(cluster, attempt, undefined);
});

test('a scenario function that throws is reported by stop(); an unknown scenario name is refused at once', async () => {
  const cluster = await startCluster({
    scenario: () => {
      throw new Error('no script for you');
    },
  });
  await createAttempt(cluster);
  await eventually(() => cluster.simulator.failures > 0, 'the operator met the failing scenario');
  await expect(cluster.simulator.stop()).rejects.toThrow(AggregateError);
  const given = { kubeConfig: cluster.kubeConfig, namespaces: [cluster.namespace] };
  expect(() => new LocalSparkOperator({ ...given, scenario: 'nope' as 'success' })).toThrow(/unknown scenario "nope"/);
  expect(() => new LocalSparkOperator({ ...given, timing: { runMs: -1 } })).toThrow(/runMs/);
});

/** Watches one application through the proxy, resuming from the last resourceVersion whenever the connection drops. */
async function watchUntilState(cluster: SimulatedCluster, proxy: FaultProxy, name: string, wanted: string, from: string): Promise<{ reconnects: number; states: string[] }> {
  const path = `/apis/${SPARK.group}/${SPARK.version}/namespaces/${cluster.namespace}/${SPARK.plural}`;
  const states: string[] = [];
  // Every connection, the first included, resumes from a known point: nothing is missed.
  let resourceVersion = from;
  for (let reconnects = 0; reconnects < 100; reconnects += 1) {
    let stop: AbortController | undefined;
    const found = await new Promise<boolean>((resolve, reject) => {
      new Watch(proxy.kubeConfig())
        .watch(
          path,
          { fieldSelector: `metadata.name=${name}`, resourceVersion },
          (_type, object: { metadata: { resourceVersion: string }; status?: { applicationState?: { state?: string } } }) => {
            resourceVersion = object.metadata.resourceVersion;
            const state = object.status?.applicationState?.state ?? '';
            if (states.at(-1) !== state) states.push(state);
            if (state === wanted) resolve(true);
          },
          () => resolve(false),
        )
        .then((controller) => {
          stop = controller;
        }, reject);
    });
    stop?.abort();
    if (found) return { reconnects, states };
  }
  throw new Error(`never saw ${wanted}`);
}

test('watches cut every few milliseconds by a proxy: a resuming watch still sees every state up to COMPLETED', async () => {
  const held = gate();
  const cluster = await startCluster({
    driver: {
      async run(ctx) {
        await held.opened;
        ctx.signal.throwIfAborted();
        return { exitCode: 0, reason: 'Completed' };
      },
    },
  });
  const proxy = new FaultProxy(cluster.kubeConfig);
  await proxy.start();
  let cut = 0;
  const cutter = setInterval(() => (cut += proxy.cutWatches()), 3);
  try {
    const listed = (await cluster.custom.listNamespacedCustomObject({ ...SPARK, namespace: cluster.namespace })) as { metadata: { resourceVersion: string } };
    const watching = watchUntilState(cluster, proxy, attemptId('transform', 1), 'COMPLETED', listed.metadata.resourceVersion);
    const attempt = await createAttempt(cluster);
    await cluster.simulator.waitForStep(attempt.name, 'driver-running');
    await eventually(() => cut >= 3, 'watches were cut');
    held.release();
    const { reconnects, states } = await watching;
    expect(reconnects).toBeGreaterThanOrEqual(1);
    expect(states).toEqual(['', 'SUBMITTED', 'RUNNING', 'SUCCEEDING', 'COMPLETED']);
  } finally {
    clearInterval(cutter);
    await proxy.stop();
  }
});

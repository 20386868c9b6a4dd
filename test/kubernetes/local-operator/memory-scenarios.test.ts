import { driverLog, classify, countOf, createAttempt, deleteForeground, eventually, expectNothingLeft, notFound, observe, useSimulatedClusters } from './harness';

// The real plane: namespaces, pods and garbage collection take their (short) time.
jest.setTimeout(60_000);

const startCluster = useSimulatedClusters();

describe('executor-oom', () => {
  test('executors short of memory die and are replaced for ever while the application stays RUNNING; the classifier counts them', async () => {
    const cluster = await startCluster({ scenario: { name: 'executor-oom', minExecutorMemoryMb: 2048 } });
    const attempt = await createAttempt(cluster, { resources: { executorMemoryMb: 1024, executorInstances: 2 } });
    const { name } = attempt;

    await eventually(() => countOf(cluster, name, 'executor-oom') >= 4, 'four executors died of OOM');
    const seen = await observe(cluster, name);
    // The point of this scenario: executor OOM never reaches the application's state or error message.
    expect(seen.app.status.applicationState).toEqual({ state: 'RUNNING' });
    expect(seen.app.status.executorState?.[`${name}-exec-1`]).toBe('FAILED');
    const failed = seen.events.filter((e) => e.reason === 'SparkExecutorFailed');
    expect(failed.length).toBeGreaterThanOrEqual(4);
    for (const event of failed) {
      expect(event).toMatchObject({ type: 'Warning', involvedObject: { kind: 'SparkApplication', name } });
      expect(event.message).toMatch(new RegExp(`^Executor ${name}-exec-\\d+ failed with ExitCode: 137, Reason: OOMKilled, Pod Message: $`));
    }
    // Spark replaces with the next executor id and deletes the dead pod.
    expect(cluster.simulator.timeline.some((e) => e.app === name && e.what === 'executor-replaced' && e.detail?.startsWith(`${name}-exec-`))).toBe(true);
    await eventually(() => notFound(cluster.core.readNamespacedPod({ namespace: cluster.namespace, name: `${name}-exec-1` })), 'the first dead executor is deleted');

    const counted = classify(name, seen, { submittedAt: attempt.submittedAt, executorOomLimit: 100 });
    expect(counted).toMatchObject({ kind: 'RUNNING' });
    expect(counted.kind === 'RUNNING' ? counted.executorOoms : -1).toBeGreaterThanOrEqual(4);
    expect(classify(name, seen, { submittedAt: attempt.submittedAt, executorOomLimit: 3 })).toMatchObject({ kind: 'OUT_OF_MEMORY', oomSide: 'executor' });
    expect(cluster.simulator.stats.executorOoms).toBeGreaterThanOrEqual(4);

    await deleteForeground(cluster, name);
    await expectNothingLeft(cluster, attempt, seen.app.status.sparkApplicationId);
    const deleted = cluster.simulator.timeline.findIndex((e) => e.app === name && e.what === 'deleted');
    expect(deleted).toBeGreaterThan(0);
    // Nothing happens to a deleted application any more.
    expect(cluster.simulator.timeline.slice(deleted + 1).filter((e) => e.app === name)).toEqual([]);
  });

  test('escalated executor memory on the next attempt makes it succeed', async () => {
    const cluster = await startCluster({ scenario: { name: 'executor-oom', minExecutorMemoryMb: 3072 } });
    const first = await createAttempt(cluster, { attempt: 1, resources: { executorMemoryMb: 2048 } });
    await cluster.simulator.waitForStep(first.name, 'executor-oom');
    await deleteForeground(cluster, first.name);

    const second = await createAttempt(cluster, { attempt: 2, resources: { executorMemoryMb: 4096 } });
    await cluster.simulator.waitForStep(second.name, 'completed');
    const done = await observe(cluster, second.name);
    expect(classify(second.name, done, second)).toMatchObject({ kind: 'SUCCEEDED' });
    expect(countOf(cluster, second.name, 'executor-oom')).toBe(0);
    // What a benchmark measures: from the first attempt's executor OOM to the next attempt's creation.
    const { timeline } = cluster.simulator;
    const oom = timeline.findIndex((e) => e.app === first.name && e.what === 'executor-oom');
    const created = timeline.findIndex((e) => e.app === second.name && e.what === 'created');
    expect(timeline[oom]).toMatchObject({ attempt: '1', at: expect.any(Number) });
    expect(timeline[created]).toMatchObject({ attempt: '2', at: expect.any(Number) });
    expect(created).toBeGreaterThan(oom);

    await deleteForeground(cluster, second.name);
    await expectNothingLeft(cluster, second, done.app.status.sparkApplicationId);
  });

  test('exit code 52 (the JVM OutOfMemoryError) counts as executor OOM too', async () => {
    const cluster = await startCluster({ scenario: { name: 'executor-oom', exitCode: 52 } });
    const attempt = await createAttempt(cluster, { resources: { executorMemoryMb: 1024, executorInstances: 1 } });
    await eventually(() => countOf(cluster, attempt.name, 'executor-oom') >= 2, 'two executors died');
    const seen = await observe(cluster, attempt.name);
    expect(seen.events.find((e) => e.reason === 'SparkExecutorFailed')?.message).toMatch(/failed with ExitCode: 52, Reason: Error, Pod Message: $/);
    expect(classify(attempt.name, seen, { submittedAt: attempt.submittedAt, executorOomLimit: 2 })).toMatchObject({ kind: 'OUT_OF_MEMORY', oomSide: 'executor' });
  });

  test('with abortAfterLosses Spark gives up: the application FAILS and is classified as executor OOM', async () => {
    const cluster = await startCluster({ scenario: { name: 'executor-oom', abortAfterLosses: 2 } });
    const attempt = await createAttempt(cluster, { resources: { executorMemoryMb: 1024, executorInstances: 1 } });
    await cluster.simulator.waitForStep(attempt.name, 'failed');
    const seen = await observe(cluster, attempt.name);
    expect(seen.app.status.applicationState).toEqual({ state: 'FAILED', errorMessage: 'driver container failed with ExitCode: 1, Reason: Error' });
    // A limit the executor count alone does not reach: the terminal state decides.
    expect(classify(attempt.name, seen, { submittedAt: attempt.submittedAt, executorOomLimit: 50 })).toMatchObject({ kind: 'OUT_OF_MEMORY', oomSide: 'executor' });
    const log = driverLog(cluster, `${attempt.name}-driver`);
    expect(log).toContain('Job aborted due to stage failure');
    await deleteForeground(cluster, attempt.name);
    await expectNothingLeft(cluster, attempt, seen.app.status.sparkApplicationId);
  });
});

describe('driver-oom', () => {
  test('a driver short of memory is OOMKilled: FAILED with the operator message, classified as driver OOM; more memory succeeds', async () => {
    const cluster = await startCluster({ scenario: { name: 'driver-oom', minDriverMemoryMb: 4096 } });
    const first = await createAttempt(cluster, { attempt: 1, resources: { driverMemoryMb: 2048 } });
    await cluster.simulator.waitForStep(first.name, 'failed');
    const failed = await observe(cluster, first.name);
    expect(failed.app.status.applicationState).toEqual({ state: 'FAILED', errorMessage: 'driver container failed with ExitCode: 137, Reason: OOMKilled' });
    expect(failed.app.status.terminationTime).toEqual(expect.any(String));
    expect(failed.driverPod?.status.phase).toBe('Failed');
    expect(failed.driverPod?.status.containerStatuses?.[0]).toMatchObject({ name: 'spark-kubernetes-driver', state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } });
    expect(failed.events.map((e) => e.reason)).toEqual(expect.arrayContaining(['SparkDriverFailed', 'SparkApplicationFailed']));
    expect(classify(first.name, failed, first)).toMatchObject({ kind: 'OUT_OF_MEMORY', oomSide: 'driver' });
    // Without the pod (already cleaned up), the error message alone says the same.
    const { driverPod: _driverPod, ...withoutPod } = failed;
    expect(classify(first.name, withoutPod, first)).toMatchObject({ kind: 'OUT_OF_MEMORY', oomSide: 'driver' });
    expect(cluster.simulator.stats.driverOoms).toBe(1);

    await deleteForeground(cluster, first.name);
    await expectNothingLeft(cluster, first, failed.app.status.sparkApplicationId);

    const second = await createAttempt(cluster, { attempt: 2, resources: { driverMemoryMb: 4096 } });
    await cluster.simulator.waitForStep(second.name, 'completed');
    expect(classify(second.name, await observe(cluster, second.name), second)).toMatchObject({ kind: 'SUCCEEDED' });
    await deleteForeground(cluster, second.name);
    await expectNothingLeft(cluster, second, undefined);
  });

  test('the OOM kill overrides the runtime: it is aborted and its success never happens', async () => {
    let aborted = false;
    let finished = false;
    const cluster = await startCluster({
      scenario: 'driver-oom',
      driver: {
        run: (ctx) =>
          new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
              finished = true;
              resolve({ exitCode: 0, reason: 'Completed' });
            }, 60_000);
            ctx.signal.addEventListener('abort', () => {
              aborted = true;
              clearTimeout(timer);
              reject(ctx.signal.reason);
            });
          }),
      },
    });
    const attempt = await createAttempt(cluster, { resources: { driverMemoryMb: 1024 } });
    await cluster.simulator.waitForStep(attempt.name, 'failed');
    expect(aborted).toBe(true);
    expect(finished).toBe(false);
    expect(countOf(cluster, attempt.name, 'driver-oom')).toBe(1);
  });
});

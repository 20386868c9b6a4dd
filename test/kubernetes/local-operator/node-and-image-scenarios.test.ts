import { EVICTION_MESSAGE } from '../../../local-cluster';
import {
  driverLog,
  classify,
  createAttempt,
  deleteForeground,
  eventually,
  expectNothingLeft,
  notFound,
  observe,
  useSimulatedClusters,
} from './harness';

// The real plane: namespaces, pods and garbage collection take their (short) time.
jest.setTimeout(60_000);

const startCluster = useSimulatedClusters();

const MINUTE = 60_000;

async function driverWaitingReason(cluster: Awaited<ReturnType<ReturnType<typeof useSimulatedClusters>>>, pod: string): Promise<string | undefined> {
  const read = await cluster.core.readNamespacedPod({ namespace: cluster.namespace, name: pod });
  return read.status?.containerStatuses?.[0]?.state?.waiting?.reason;
}

describe('image-pull-backoff', () => {
  test('the driver stays Pending pulling a missing image, the application SUBMITTED: a permanent failure', async () => {
    const image = 'registry.example.com/nightjar/spark:does-not-exist';
    const cluster = await startCluster({ scenario: 'image-pull-backoff', timing: { imagePullBackoffMs: 5 } });
    const attempt = await createAttempt(cluster, { image });
    const { name } = attempt;
    const driver = `${name}-driver`;

    await cluster.simulator.waitForStep(name, 'image-pull-backoff');
    await eventually(async () => (await driverWaitingReason(cluster, driver)) === 'ImagePullBackOff', 'the driver is in ImagePullBackOff');
    await eventually(async () => (await driverWaitingReason(cluster, driver)) === 'ErrImagePull', 'the kubelet tries again');
    const seen = await observe(cluster, name);
    expect(seen.app.status.applicationState).toEqual({ state: 'SUBMITTED' });
    expect(seen.driverPod?.status.phase).toBe('Pending');
    const podEvents = seen.events.filter((e) => e.involvedObject.kind === 'Pod' && e.involvedObject.name === driver);
    expect(podEvents.map((e) => e.reason)).toEqual(expect.arrayContaining(['Pulling', 'Failed', 'BackOff']));
    expect(podEvents.find((e) => e.message === 'Error: ErrImagePull')?.type).toBe('Warning');
    expect(podEvents.find((e) => e.message?.startsWith(`Failed to pull image "${image}"`))?.message).toContain('not found');
    // Repeated events are aggregated, as client-go's recorder does.
    await eventually(async () => {
      const again = await observe(cluster, name);
      return again.events.some((e) => e.reason === 'BackOff' && (e.count ?? 0) >= 2);
    }, 'a BackOff event was counted twice');

    const outcome = classify(name, seen, attempt);
    expect(outcome).toMatchObject({ kind: 'PERMANENT' });
    expect(outcome.kind === 'RUNNING' ? '' : outcome.reason).toMatch(/^driver container cannot start: (ImagePullBackOff|ErrImagePull)/);
    // No log line before the container starts.
    expect(driverLog(cluster, driver)).toBe('');

    await deleteForeground(cluster, name);
    await expectNothingLeft(cluster, attempt, seen.app.status.sparkApplicationId);
  });

  test('an unreachable registry reads as a passing trouble', async () => {
    const cluster = await startCluster({ scenario: { name: 'image-pull-backoff', registryUnavailable: true } });
    const attempt = await createAttempt(cluster);
    await cluster.simulator.waitForStep(attempt.name, 'image-pull-backoff');
    const seen = await observe(cluster, attempt.name);
    expect(classify(attempt.name, seen, attempt)).toMatchObject({ kind: 'TRANSIENT', reason: expect.stringMatching(/registry unavailable/) });
    await deleteForeground(cluster, attempt.name);
    await expectNothingLeft(cluster, attempt, seen.app.status.sparkApplicationId);
  });
});

describe('eviction', () => {
  test('the first attempt is evicted (transient), the second succeeds', async () => {
    const cluster = await startCluster({ scenario: { name: 'eviction', times: 1 } });
    const first = await createAttempt(cluster, { attempt: 1 });
    await cluster.simulator.waitForStep(first.name, 'failed');
    const evicted = await observe(cluster, first.name);
    expect(evicted.app.status.applicationState.state).toBe('FAILED');
    expect(evicted.driverPod?.status).toMatchObject({ phase: 'Failed', reason: 'Evicted', message: EVICTION_MESSAGE });
    expect(evicted.driverPod?.status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'DisruptionTarget', status: 'True' })]));
    expect(evicted.events.find((e) => e.reason === 'Evicted')).toMatchObject({
      type: 'Warning',
      message: 'The node was low on resource: memory.',
      involvedObject: { kind: 'Pod', name: `${first.name}-driver` },
    });
    expect(classify(first.name, evicted, first)).toMatchObject({ kind: 'TRANSIENT', reason: expect.stringMatching(/^driver pod evicted/) });
    await deleteForeground(cluster, first.name);
    await expectNothingLeft(cluster, first, evicted.app.status.sparkApplicationId);

    const second = await createAttempt(cluster, { attempt: 2 });
    await cluster.simulator.waitForStep(second.name, 'completed');
    expect(classify(second.name, await observe(cluster, second.name), second)).toMatchObject({ kind: 'SUCCEEDED' });
    expect(cluster.simulator.stats.evictions).toBe(1);
  });
});

describe('stuck-submitted', () => {
  test('the first attempt never gets a driver pod and is stuck once the limit passed; the second runs', async () => {
    const cluster = await startCluster({ scenario: { name: 'stuck-submitted', times: 1 } });
    const first = await createAttempt(cluster, { attempt: 1 });
    await cluster.simulator.waitForStep(first.name, 'stuck');
    // The second attempt's whole life passes while the first waits.
    const second = await createAttempt(cluster, { attempt: 2 });
    await cluster.simulator.waitForStep(second.name, 'completed');

    const stuck = await observe(cluster, first.name);
    expect(stuck.app.status.applicationState).toEqual({ state: 'SUBMITTED' });
    expect(stuck.app.status.driverInfo?.podName).toBe(`${first.name}-driver`);
    expect(stuck.driverPod).toBeUndefined();
    expect(await notFound(cluster.core.readNamespacedPod({ namespace: cluster.namespace, name: `${first.name}-driver` }))).toBe(true);
    const limit = 10 * MINUTE;
    expect(classify(first.name, stuck, { submittedAt: first.submittedAt, stuckAfterMs: limit, now: first.submittedAt + limit - 1 })).toMatchObject({ kind: 'RUNNING' });
    expect(classify(first.name, stuck, { submittedAt: first.submittedAt, stuckAfterMs: limit, now: first.submittedAt + limit + 1 })).toMatchObject({
      kind: 'TRANSIENT',
      reason: expect.stringMatching(/^stuck in SUBMITTED/),
    });
    expect(classify(second.name, await observe(cluster, second.name), second)).toMatchObject({ kind: 'SUCCEEDED' });

    await deleteForeground(cluster, first.name);
    await deleteForeground(cluster, second.name);
    await expectNothingLeft(cluster, first, undefined);
  });
});

describe('application-error', () => {
  test('the driver exits 1 with a Python traceback in its log: a permanent failure', async () => {
    const cluster = await startCluster({ scenario: { name: 'application-error', error: 'KeyError: missing column amount' } });
    const attempt = await createAttempt(cluster);
    await cluster.simulator.waitForStep(attempt.name, 'failed');
    const seen = await observe(cluster, attempt.name);
    expect(seen.app.status.applicationState).toEqual({ state: 'FAILED', errorMessage: 'driver container failed with ExitCode: 1, Reason: Error' });
    expect(seen.driverPod?.status.containerStatuses?.[0]?.state?.terminated).toEqual({ exitCode: 1, reason: 'Error' });
    expect(classify(attempt.name, seen, attempt)).toMatchObject({ kind: 'PERMANENT', exitCode: 1 });

    const tail = driverLog(cluster, `${attempt.name}-driver`, 9);
    const lines = tail.trimEnd().split('\n');
    expect(lines[0]).toBe('NIGHTJAR_ERROR {"error":"KeyError","message":"missing column amount","javaClass":null,"javaCauses":[],"outOfMemory":false}');
    expect(lines[1]).toBe('Traceback (most recent call last):');
    expect(lines[2]).toBe('  File "/opt/nightjar/spark/jobs/transform.py", line 212, in <module>');
    expect(lines.at(-1)).toBe('KeyError: missing column amount');

    await deleteForeground(cluster, attempt.name);
    await expectNothingLeft(cluster, attempt, seen.app.status.sparkApplicationId);
  });
});

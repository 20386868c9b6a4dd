import {
  classifyApplication,
  formatDuration,
  isTransientApiError,
  type ApplicationObservation,
} from '../../../src/spark/kubernetes/classify';
import { APPLICATION_STATES, parseEvent, parsePod, type KubeEvent, type Pod } from '../../../src/spark/kubernetes/status';

const APP = 'nj-20261120-transform-0a1b2c3d-a2';
const T0 = Date.parse('2026-11-21T02:00:00Z');
const MIN = 60_000;

// ---- fixtures, built through the same parsers the platform uses ---------------------------

interface ContainerEnd {
  readonly exitCode: number;
  readonly reason?: string;
}

function driver(status: {
  phase?: string;
  reason?: string;
  message?: string;
  terminated?: ContainerEnd;
  waiting?: { reason: string; message?: string };
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}): Pod {
  return pod(`${APP}-driver`, 'driver', 'spark-kubernetes-driver', status);
}

function executor(
  id: number,
  status: Parameters<typeof driver>[0] = {},
): Pod {
  return pod(executorName(id), 'executor', 'spark-kubernetes-executor', status);
}

const executorName = (id: number) => `${APP}-8f2a1c-exec-${id}`;

function pod(name: string, role: string, container: string, s: Parameters<typeof driver>[0]): Pod {
  return parsePod({
    metadata: { name, labels: { 'spark-role': role } },
    status: {
      phase: s.phase ?? (s.terminated ? 'Failed' : s.waiting ? 'Pending' : 'Running'),
      reason: s.reason,
      message: s.message,
      conditions: s.conditions,
      containerStatuses: [
        {
          name: container,
          state: s.terminated ? { terminated: s.terminated } : s.waiting ? { waiting: s.waiting } : { running: { startedAt: '2026-11-21T02:01:00Z' } },
        },
      ],
    },
  });
}

let eventSeq = 0;
function executorFailed(id: number, exitCode: number, reason: string, podMessage = '', extra: Record<string, unknown> = {}): KubeEvent {
  eventSeq += 1;
  return parseEvent({
    metadata: { name: `${APP}.${eventSeq}`, uid: `uid-${eventSeq}` },
    involvedObject: { kind: 'SparkApplication', name: APP },
    reason: 'SparkExecutorFailed',
    type: 'Warning',
    message: `Executor ${executorName(id)} failed with ExitCode: ${exitCode}, Reason: ${reason}, Pod Message: ${podMessage}`,
    ...extra,
  });
}

function podEvent(reason: string, podName: string, message: string): KubeEvent {
  return parseEvent({ involvedObject: { kind: 'Pod', name: podName }, reason, message, type: 'Warning' });
}

const base: ApplicationObservation = {
  app: { state: 'RUNNING' },
  executorPods: [],
  events: [],
  applicationName: APP,
  now: T0 + 2 * MIN,
  submittedAt: T0,
  stuckAfterMs: 10 * MIN,
  executorOomLimit: 3,
  executorOomSeen: 0,
};
const classify = (change: Partial<ApplicationObservation>) => classifyApplication({ ...base, ...change });

// ---- the table ---------------------------------------------------------------------------

describe('classifyApplication', () => {
  test('COMPLETED is SUCCEEDED, whatever was lost on the way', () => {
    const outcome = classify({ app: { state: 'COMPLETED' }, events: [executorFailed(1, 137, 'OOMKilled'), executorFailed(2, 137, 'OOMKilled'), executorFailed(3, 52, 'Error')] });
    expect(outcome).toMatchObject({ kind: 'SUCCEEDED', reason: 'application completed' });
  });

  describe('driver out of memory', () => {
    test.each<[string, Partial<ApplicationObservation>, number]>([
      ['the driver container was OOMKilled', { driverPod: driver({ terminated: { exitCode: 137, reason: 'OOMKilled' } }) }, 137],
      ['the error message says OOMKilled', { app: { state: 'FAILED', errorMessage: 'driver container failed with ExitCode: 137, Reason: OOMKilled' } }, 137],
      ['the error message says exit code 137', { app: { state: 'FAILED', errorMessage: 'driver container failed with ExitCode: 137, Reason: Error' } }, 137],
      ['the driver container exited 137', { app: { state: 'FAILING' }, driverPod: driver({ terminated: { exitCode: 137, reason: 'Error' } }) }, 137],
      ['the driver JVM exited 52', { app: { state: 'FAILED', errorMessage: 'driver container failed with ExitCode: 52, Reason: Error' } }, 52],
      [
        'OOMKilled even on an evicted pod',
        { driverPod: driver({ reason: 'Evicted', terminated: { exitCode: 137, reason: 'OOMKilled' } }) },
        137,
      ],
    ])('%s → OUT_OF_MEMORY on the driver', (_, change, exitCode) => {
      expect(classify(change)).toMatchObject({ kind: 'OUT_OF_MEMORY', oomSide: 'driver', exitCode });
    });

    test('a driver OOM beats executor OOMs seen before it', () => {
      const outcome = classify({
        app: { state: 'FAILED', errorMessage: 'driver container failed with ExitCode: 137, Reason: OOMKilled' },
        events: [executorFailed(1, 137, 'OOMKilled')],
      });
      expect(outcome).toMatchObject({ kind: 'OUT_OF_MEMORY', oomSide: 'driver' });
    });
  });

  describe('the node, not the job', () => {
    test.each<[string, Partial<ApplicationObservation>, RegExp]>([
      [
        'an evicted driver (even with exit 137)',
        { driverPod: driver({ reason: 'Evicted', message: 'The node was low on resource: memory. Threshold quantity: 100Mi.', terminated: { exitCode: 137, reason: 'Error' } }) },
        /^driver pod evicted: The node was low on resource: memory\.$/,
      ],
      ['a driver preempted by the kubelet', { driverPod: driver({ reason: 'Preempting', message: 'Preempted in order to admit critical pod', terminated: { exitCode: 143 } }) }, /^driver pod preempted/],
      [
        'a driver with a DisruptionTarget condition',
        { driverPod: driver({ conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' }] }) },
        /PreemptionByScheduler/,
      ],
      ['a Preempted event on the driver pod', { driverPod: driver({}), events: [podEvent('Preempted', `${APP}-driver`, 'Preempted by pod 1234 on node n1')] }, /^driver pod preempted/],
      ['a failed application whose executors were evicted', { app: { state: 'FAILED', errorMessage: 'driver container failed with ExitCode: 1, Reason: Error' }, executorPods: [executor(1, { reason: 'Evicted', terminated: { exitCode: 137, reason: 'Error' } })] }, /evicted or preempted/],
      ['a failed application after Evicted events on executors', { app: { state: 'FAILED' }, events: [podEvent('Evicted', executorName(4), 'The node was low on resource: ephemeral-storage.')] }, /evicted or preempted/],
      ['a driver that vanished', { app: { state: 'FAILED', errorMessage: 'driver pod not found' } }, /^driver lost/],
      ['a driver killed by SIGTERM', { app: { state: 'FAILED', errorMessage: 'driver container failed with ExitCode: 143, Reason: Error' } }, /signal \(exit code 143\)/],
    ])('%s → TRANSIENT', (_, change, reason) => {
      const outcome = classify(change);
      expect(outcome.kind).toBe('TRANSIENT');
      expect(outcome).toMatchObject({ reason: expect.stringMatching(reason) });
    });

    test('an evicted executor is no OOM, even when its container exited 137', () => {
      const outcome = classify({
        executorPods: [executor(1, { reason: 'Evicted', terminated: { exitCode: 137, reason: 'Error' } })],
        events: [executorFailed(2, 137, 'Error', 'The node was low on resource: memory. Container executor was using 4Gi.')],
        executorOomLimit: 1,
      });
      expect(outcome).toMatchObject({ kind: 'RUNNING', executorOoms: 0 });
    });

    test('while the application runs, executor evictions are Spark’s to absorb', () => {
      expect(classify({ events: [podEvent('Evicted', executorName(1), 'The node was low on resource: memory.')] })).toMatchObject({ kind: 'RUNNING' });
    });
  });

  describe('containers that can never start', () => {
    test.each<[string, Partial<ApplicationObservation>, RegExp]>([
      ['ImagePullBackOff on the driver', { app: { state: 'SUBMITTED' }, driverPod: driver({ waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "registry.example.com/nightjar/spark:4.0.9"' } }) }, /^driver container cannot start: ImagePullBackOff/],
      ['ErrImagePull on the driver', { app: { state: 'SUBMITTED' }, driverPod: driver({ waiting: { reason: 'ErrImagePull', message: 'manifest unknown' } }) }, /ErrImagePull/],
      ['InvalidImageName on the driver', { app: { state: 'SUBMITTED' }, driverPod: driver({ waiting: { reason: 'InvalidImageName' } }) }, /InvalidImageName/],
      [
        'a missing Secret key on the driver',
        { app: { state: 'SUBMITTED' }, driverPod: driver({ waiting: { reason: 'CreateContainerConfigError', message: 'couldn\'t find key password in Secret nightjar-batch/warehouse-credentials' } }) },
        /^driver container cannot start: CreateContainerConfigError/,
      ],
      ['a missing Secret key on an executor', { executorPods: [executor(1, { waiting: { reason: 'CreateContainerConfigError', message: 'secret "warehouse-credentials" not found' } })] }, /^executor container cannot start/],
    ])('%s → PERMANENT', (_, change, reason) => {
      expect(classify(change)).toMatchObject({ kind: 'PERMANENT', reason: expect.stringMatching(reason) });
    });

    test('a registry that is down is TRANSIENT, not a missing image', () => {
      const outcome = classify({
        app: { state: 'SUBMITTED' },
        driverPod: driver({ waiting: { reason: 'ErrImagePull', message: 'received unexpected HTTP status: 503 Service Unavailable' } }),
      });
      expect(outcome).toMatchObject({ kind: 'TRANSIENT', reason: expect.stringMatching(/registry unavailable/) });
    });
  });

  describe('executor out of memory', () => {
    test('below the limit the attempt keeps running and reports the count', () => {
      const outcome = classify({ events: [executorFailed(1, 137, 'OOMKilled'), executorFailed(2, 52, 'Error')] });
      expect(outcome).toEqual({ kind: 'RUNNING', executorOoms: 2, detail: 'RUNNING, 2/3 executor OOMs' });
    });

    test('at the limit the attempt is OUT_OF_MEMORY on the executors, and the reason names the count', () => {
      const outcome = classify({ events: [executorFailed(1, 137, 'OOMKilled'), executorFailed(2, 52, 'Error'), executorFailed(3, 137, 'OOMKilled')] });
      expect(outcome).toMatchObject({ kind: 'OUT_OF_MEMORY', oomSide: 'executor' });
      expect(outcome.kind !== 'RUNNING' && outcome.reason).toMatch(/^3 executors lost to out-of-memory \(limit 3\)/);
      expect(outcome.kind !== 'RUNNING' && outcome.reason).toContain(executorName(1));
    });

    test('executor pods still present count too: OOMKilled, exit 137 without a reason and exit 52', () => {
      const outcome = classify({
        executorPods: [
          executor(1, { terminated: { exitCode: 137, reason: 'OOMKilled' } }),
          executor(2, { terminated: { exitCode: 137 } }),
          executor(3, { terminated: { exitCode: 52, reason: 'Error' } }),
          executor(4, { terminated: { exitCode: 1, reason: 'Error' } }),
          executor(5, {}),
        ],
      });
      expect(outcome).toMatchObject({ kind: 'OUT_OF_MEMORY', oomSide: 'executor', reason: expect.stringMatching(/^3 executors/) });
    });

    // A SIGKILL from outside (a process killed by hand, its machine gone) reads 137 with reason
    // Error, as a kubelet reports it: Spark replaces the executor, the attempt goes on.
    test('an executor killed from outside (exit 137, reason Error) is no OOM, as a pod or as the operator\'s event', () => {
      const outcome = classify({
        executorPods: [executor(1, { terminated: { exitCode: 137, reason: 'Error' } })],
        events: [executorFailed(2, 137, 'Error')],
        executorOomLimit: 1,
      });
      expect(outcome).toMatchObject({ kind: 'RUNNING', executorOoms: 0 });
    });

    test('after a killed executor the application completes as a success, not an OOM', () => {
      const outcome = classify({ app: { state: 'COMPLETED' }, executorPods: [executor(1, { terminated: { exitCode: 137, reason: 'Error' } })], executorOomLimit: 1 });
      expect(outcome.kind).toBe('SUCCEEDED');
    });

    test('duplicate events, an aggregated event and the pod itself count one executor once', () => {
      const first = executorFailed(1, 137, 'OOMKilled');
      const outcome = classify({
        events: [first, first, executorFailed(1, 137, 'OOMKilled', '', { count: 5 }), executorFailed(1, 137, 'OOMKilled')],
        executorPods: [executor(1, { terminated: { exitCode: 137, reason: 'OOMKilled' } })],
        executorOomLimit: 2,
      });
      expect(outcome).toMatchObject({ kind: 'RUNNING', executorOoms: 1 });
    });

    test('the count carried from earlier polls is not added to the same executors seen again', () => {
      const events = [executorFailed(1, 137, 'OOMKilled'), executorFailed(2, 137, 'OOMKilled')];
      expect(classify({ events, executorOomSeen: 2 })).toMatchObject({ kind: 'RUNNING', executorOoms: 2 });
    });

    test('the count carried from earlier polls survives events that expired', () => {
      expect(classify({ events: [], executorOomSeen: 3 })).toMatchObject({ kind: 'OUT_OF_MEMORY', oomSide: 'executor' });
    });

    test('events of another application, normal events and other exits are not OOMs', () => {
      const outcome = classify({
        events: [
          parseEvent({
            involvedObject: { kind: 'SparkApplication', name: 'someone-else' },
            reason: 'SparkExecutorFailed',
            type: 'Warning',
            message: 'Executor someone-else-exec-1 failed with ExitCode: 137, Reason: OOMKilled, Pod Message: ',
          }),
          parseEvent({ involvedObject: { kind: 'SparkApplication', name: APP }, reason: 'SparkExecutorRunning', type: 'Normal', message: `Executor ${executorName(1)} is running` }),
          executorFailed(2, 1, 'Error'),
          executorFailed(3, 143, 'Error'),
        ],
        executorOomLimit: 1,
      });
      expect(outcome).toMatchObject({ kind: 'RUNNING', executorOoms: 0 });
    });

    test('a failed application that lost executors to OOM is OUT_OF_MEMORY on the executors, even below the limit', () => {
      const outcome = classify({
        app: { state: 'FAILED', errorMessage: 'driver container failed with ExitCode: 1, Reason: Error' },
        events: [executorFailed(1, 137, 'OOMKilled')],
      });
      expect(outcome).toMatchObject({ kind: 'OUT_OF_MEMORY', oomSide: 'executor', reason: expect.stringMatching(/after 1 executor/) });
    });
  });

  describe('submission', () => {
    const invalid =
      'failed to run spark-submit: Exception in thread "main" io.fabric8.kubernetes.client.KubernetesClientException: Failure executing: POST at: https://10.0.0.1/api/v1/namespaces/nightjar-batch/pods. Message: Pod "nj-driver" is invalid: spec.containers[0].resources.requests: Invalid value: "4": must be less than or equal to cpu limit.\n\tat io.fabric8.kubernetes.client.dsl.internal.OperationSupport.requestFailure(OperationSupport.java:682)';

    test.each<[string, Partial<ApplicationObservation>, string, RegExp]>([
      ['an invalid pod spec', { app: { state: 'SUBMISSION_FAILED', errorMessage: invalid } }, 'PERMANENT', /^submission rejected: failed to run spark-submit/],
      ['the same after the operator moved it on to FAILED', { app: { state: 'FAILED', errorMessage: invalid } }, 'PERMANENT', /^submission rejected/],
      [
        'a webhook that denies it',
        { app: { state: 'SUBMISSION_FAILED', errorMessage: 'failed to run spark-submit: admission webhook "policy.example.com" denied the request: privileged containers are not allowed' } },
        'PERMANENT',
        /denied the request/,
      ],
      [
        'an API server that is unreachable',
        { app: { state: 'SUBMISSION_FAILED', errorMessage: 'failed to run spark-submit: java.net.ConnectException: Failed to connect to /10.0.0.1:443: Connection refused' } },
        'TRANSIENT',
        /^submission failed/,
      ],
      [
        'the operator’s own spark-submit killed',
        { app: { state: 'SUBMISSION_FAILED', errorMessage: 'failed to run spark-submit: signal: killed (container OOMKilled)' } },
        'TRANSIENT',
        /^submission failed/,
      ],
      [
        'a namespace quota that is full for now',
        { app: { state: 'SUBMISSION_FAILED', errorMessage: 'failed to run spark-submit: pods "nj-driver" is forbidden: exceeded quota: batch-quota, requested: memory=4Gi' } },
        'TRANSIENT',
        /^submission refused for now/,
      ],
    ])('%s → %s', (_, change, kind, reason) => {
      expect(classify(change)).toMatchObject({ kind, reason: expect.stringMatching(reason) });
    });
  });

  describe('failed applications', () => {
    test('an application error is PERMANENT, with the driver exit code', () => {
      const outcome = classify({
        app: { state: 'FAILED', errorMessage: 'driver container failed with ExitCode: 1, Reason: Error' },
        driverPod: driver({ terminated: { exitCode: 1, reason: 'Error' } }),
      });
      expect(outcome).toMatchObject({
        kind: 'PERMANENT',
        reason: 'application failed: driver container failed with ExitCode: 1, Reason: Error',
        exitCode: 1,
      });
    });

    test('reasons are one line, short, and mask what looks like customer data', () => {
      const outcome = classify({
        app: { state: 'FAILED', errorMessage: `job failed for account DE89 3704 0044 0532 0130 00 of jane.doe@example.com\n${'\tat x.y(Z.java:1)\n'.repeat(40)}` },
      });
      expect(outcome.kind).toBe('PERMANENT');
      const reason = outcome.kind === 'RUNNING' ? '' : outcome.reason;
      expect(reason).not.toMatch(/\n/);
      expect(reason.length).toBeLessThanOrEqual(200);
      expect(reason).not.toContain('DE89');
      expect(reason).not.toContain('jane.doe');
      expect(outcome.kind !== 'RUNNING' && outcome.diagnostics.join('\n')).not.toContain('jane.doe');
    });

    test('diagnostics state the facts behind the decision', () => {
      const outcome = classify({
        app: { state: 'FAILED', errorMessage: 'driver container failed with ExitCode: 1, Reason: Error' },
        driverPod: driver({ terminated: { exitCode: 1, reason: 'Error' } }),
      });
      expect(outcome.kind !== 'RUNNING' && outcome.diagnostics).toEqual([
        'application state: FAILED',
        'error message: driver container failed with ExitCode: 1, Reason: Error',
        `driver pod ${APP}-driver: Failed`,
        'driver container terminated: exit code 1 (Error)',
      ]);
    });
  });

  describe('waiting too long', () => {
    test.each<[string, Partial<ApplicationObservation>, RegExp]>([
      ['SUBMITTED', { app: { state: 'SUBMITTED' }, now: T0 + 11 * MIN }, /^stuck in SUBMITTED for 11m$/],
      ['not yet submitted', { app: { state: '' }, now: T0 + 10 * MIN + 1000 }, /^stuck in NEW for 10m01s$/],
      ['PENDING_RERUN', { app: { state: 'PENDING_RERUN' }, now: T0 + 90 * MIN }, /^stuck in PENDING_RERUN for 1h30m$/],
      [
        'SUBMITTED with an unschedulable driver',
        {
          app: { state: 'SUBMITTED' },
          now: T0 + 30 * MIN,
          driverPod: parsePod({
            metadata: { name: `${APP}-driver` },
            status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/12 nodes are available: 12 Insufficient memory. preemption: not helpful.' }] },
          }),
        },
        /^stuck in SUBMITTED for 30m \(driver pod Unschedulable: 0\/12 nodes are available: 12 Insufficient memory\.\)$/,
      ],
    ])('%s past stuckAfterMs → TRANSIENT', (_, change, reason) => {
      expect(classify(change)).toMatchObject({ kind: 'TRANSIENT', reason: expect.stringMatching(reason) });
    });

    test('a short wait, or a long run, is still RUNNING', () => {
      expect(classify({ app: { state: 'SUBMITTED' }, now: T0 + 9 * MIN })).toEqual({ kind: 'RUNNING', executorOoms: 0, detail: 'SUBMITTED' });
      expect(classify({ app: { state: 'RUNNING' }, now: T0 + 300 * MIN })).toEqual({ kind: 'RUNNING', executorOoms: 0, detail: 'RUNNING' });
    });
  });

  test.each(APPLICATION_STATES.map((s) => [s]))('state "%s" with nothing else to go on has an answer', (state) => {
    const outcome = classify({ app: { state } });
    expect(['RUNNING', 'SUCCEEDED', 'PERMANENT', 'TRANSIENT']).toContain(outcome.kind);
  });
});

describe('isTransientApiError', () => {
  test.each([
    [429, true],
    [500, true],
    [503, true],
    [504, true],
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [409, false],
    [410, false],
    [422, false],
    [undefined, false],
  ])('%s → %s', (code, expected) => {
    expect(isTransientApiError(code)).toBe(expected);
  });
});

test('formatDuration writes what an operator reads', () => {
  expect([formatDuration(45_000), formatDuration(12 * MIN), formatDuration(65 * MIN), formatDuration(-1)]).toEqual(['45s', '12m', '1h05m', '0s']);
});

import {
  APPLICATION_STATES,
  KubeObjectShapeError,
  parseEvent,
  parsePod,
  parseSparkApplication,
  sparkRole,
} from '../../../src/spark/kubernetes/status';

const APP = 'nj-20261120-transform-0a1b2c3d-a2';

/** A RUNNING SparkApplication as the custom-objects API returns it (trimmed). */
const runningApp = {
  apiVersion: 'sparkoperator.k8s.io/v1beta2',
  kind: 'SparkApplication',
  metadata: {
    name: APP,
    namespace: 'nightjar-batch',
    uid: '5b0c7c3e-1f2a-4c39-9d55-0e1d2f3a4b5c',
    resourceVersion: '918273',
    labels: { 'app.kubernetes.io/managed-by': 'nightjar' },
    creationTimestamp: '2026-11-21T02:00:01Z',
  },
  spec: { type: 'Python', mode: 'cluster' },
  status: {
    applicationState: { state: 'RUNNING' },
    driverInfo: { podName: `${APP}-driver`, webUIPort: 4040, webUIServiceName: `${APP}-ui-svc` },
    executorState: { [`${APP}-8f2a1c-exec-1`]: 'RUNNING', [`${APP}-8f2a1c-exec-2`]: 'FAILED' },
    executionAttempts: 1,
    submissionAttempts: 1,
    lastSubmissionAttemptTime: '2026-11-21T02:00:02Z',
    terminationTime: null,
    sparkApplicationId: 'spark-3f1e2d4c5b6a',
    submissionID: '0f9e8d7c-6b5a-4321-8765-43210fedcba9',
  },
};

describe('SparkApplication status', () => {
  test('a running application parses to the fields Nightjar reads', () => {
    const app = parseSparkApplication(runningApp);
    expect(app.metadata.name).toBe(APP);
    expect(app.status).toEqual({
      applicationState: { state: 'RUNNING' },
      driverInfo: { podName: `${APP}-driver` },
      executorState: { [`${APP}-8f2a1c-exec-1`]: 'RUNNING', [`${APP}-8f2a1c-exec-2`]: 'FAILED' },
      executionAttempts: 1,
      submissionAttempts: 1,
      lastSubmissionAttemptTime: '2026-11-21T02:00:02Z',
      terminationTime: null,
      sparkApplicationId: 'spark-3f1e2d4c5b6a',
      submissionID: '0f9e8d7c-6b5a-4321-8765-43210fedcba9',
    });
  });

  test('a failed driver keeps its error message', () => {
    const app = parseSparkApplication({
      ...runningApp,
      status: {
        ...runningApp.status,
        applicationState: { state: 'FAILED', errorMessage: 'driver container failed with ExitCode: 137, Reason: OOMKilled' },
        terminationTime: '2026-11-21T02:14:09Z',
      },
    });
    expect(app.status.applicationState).toEqual({ state: 'FAILED', errorMessage: 'driver container failed with ExitCode: 137, Reason: OOMKilled' });
    expect(app.status.terminationTime).toBe('2026-11-21T02:14:09Z');
  });

  test('a just-created application without status reads as the new state ""', () => {
    const { status: _status, ...fresh } = runningApp;
    expect(parseSparkApplication(fresh).status.applicationState.state).toBe('');
    expect(parseSparkApplication({ ...runningApp, status: {} }).status.applicationState.state).toBe('');
  });

  test.each(APPLICATION_STATES.map((s) => [s]))('the operator state "%s" is understood', (state) => {
    const app = parseSparkApplication({ ...runningApp, status: { applicationState: { state } } });
    expect(app.status.applicationState.state).toBe(state);
  });

  test('a state from a newer operator reads as UNKNOWN instead of failing every poll', () => {
    const app = parseSparkApplication({
      ...runningApp,
      status: { applicationState: { state: 'HIBERNATING' }, executorState: { e1: 'DRAINING' } },
    });
    expect(app.status.applicationState.state).toBe('UNKNOWN');
    expect(app.status.executorState).toEqual({ e1: 'UNKNOWN' });
  });

  test.each<[string, unknown]>([
    ['a non-string state', { ...runningApp, status: { applicationState: { state: 42 } } }],
    ['a string count', { ...runningApp, status: { ...runningApp.status, submissionAttempts: '1' } }],
    ['a negative count', { ...runningApp, status: { ...runningApp.status, executionAttempts: -1 } }],
    ['executorState as a list', { ...runningApp, status: { ...runningApp.status, executorState: ['RUNNING'] } }],
    ['no metadata', { status: runningApp.status }],
    ['no name', { ...runningApp, metadata: { namespace: 'nightjar-batch' } }],
    ['not an object', 'SparkApplication'],
    ['null', null],
  ])('a malformed object (%s) is refused with a shape error', (_, value) => {
    expect(() => parseSparkApplication(value)).toThrow(KubeObjectShapeError);
  });

  test('the shape error says where the object is wrong', () => {
    expect(() => parseSparkApplication({ ...runningApp, status: { applicationState: { state: 42 } } })).toThrow(
      /SparkApplication .*status\.applicationState\.state/,
    );
  });
});

describe('pods', () => {
  const oomExecutor = {
    metadata: {
      name: `${APP}-8f2a1c-exec-2`,
      namespace: 'nightjar-batch',
      labels: { 'spark-role': 'executor', 'spark-exec-id': '2', 'spark-app-selector': 'spark-3f1e2d4c5b6a' },
    },
    spec: { containers: [{ name: 'spark-kubernetes-executor' }] },
    status: {
      phase: 'Failed',
      containerStatuses: [
        {
          name: 'spark-kubernetes-executor',
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: '2026-11-21T02:03:00Z' } },
          lastState: {},
        },
      ],
    },
  };

  test('an OOM-killed executor keeps exit code, reason and role', () => {
    const pod = parsePod(oomExecutor);
    expect(sparkRole(pod)).toBe('executor');
    expect(pod.metadata.labels?.['spark-exec-id']).toBe('2');
    expect(pod.status.phase).toBe('Failed');
    expect(pod.status.containerStatuses?.[0]?.state?.terminated).toEqual({ exitCode: 137, reason: 'OOMKilled' });
  });

  test('an evicted driver keeps its status reason and message, a waiting one its reason', () => {
    const evicted = parsePod({
      metadata: { name: `${APP}-driver`, labels: { 'spark-role': 'driver' } },
      status: { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory. ', containerStatuses: null },
    });
    expect(sparkRole(evicted)).toBe('driver');
    expect(evicted.status).toMatchObject({ reason: 'Evicted', message: 'The node was low on resource: memory. ' });
    const pulling = parsePod({
      metadata: { name: `${APP}-driver` },
      status: {
        phase: 'Pending',
        containerStatuses: [{ name: 'spark-kubernetes-driver', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } } }],
      },
    });
    expect(pulling.status.containerStatuses?.[0]?.state?.waiting?.reason).toBe('ImagePullBackOff');
    expect(sparkRole(pulling)).toBeUndefined();
  });

  test('a pod without status (just created) parses', () => {
    expect(parsePod({ metadata: { name: 'p' } }).status).toEqual({});
  });

  test.each<[string, unknown]>([
    ['an exit code as text', { ...oomExecutor, status: { containerStatuses: [{ name: 'x', state: { terminated: { exitCode: '137' } } }] } }],
    ['a container without name', { ...oomExecutor, status: { containerStatuses: [{ state: {} }] } }],
    ['labels as a list', { metadata: { name: 'p', labels: ['spark-role=driver'] } }],
  ])('a malformed pod (%s) is refused', (_, value) => {
    expect(() => parsePod(value)).toThrow(KubeObjectShapeError);
  });
});

describe('events', () => {
  const executorFailed = {
    metadata: { name: `${APP}.18a2b3c4d5e6f7a8`, namespace: 'nightjar-batch', uid: 'e1' },
    involvedObject: { kind: 'SparkApplication', name: APP, namespace: 'nightjar-batch', apiVersion: 'sparkoperator.k8s.io/v1beta2' },
    reason: 'SparkExecutorFailed',
    message: `Executor ${APP}-8f2a1c-exec-2 failed with ExitCode: 137, Reason: OOMKilled, Pod Message: `,
    type: 'Warning',
    count: 3,
    source: { component: 'spark-operator' },
    lastTimestamp: new Date('2026-11-21T02:04:00Z'),
  };

  test('an executor failure event keeps reason, message, type, count and subject', () => {
    expect(parseEvent(executorFailed)).toEqual({
      metadata: { name: `${APP}.18a2b3c4d5e6f7a8`, uid: 'e1' },
      involvedObject: { kind: 'SparkApplication', name: APP, namespace: 'nightjar-batch' },
      reason: 'SparkExecutorFailed',
      message: executorFailed.message,
      type: 'Warning',
      count: 3,
      lastTimestamp: '2026-11-21T02:04:00.000Z',
    });
  });

  test.each<[string, unknown]>([
    ['no involvedObject', { ...executorFailed, involvedObject: undefined }],
    ['a count as text', { ...executorFailed, count: 'three' }],
    ['a message as a list', { ...executorFailed, message: ['a'] }],
  ])('a malformed event (%s) is refused', (_, value) => {
    expect(() => parseEvent(value)).toThrow(KubeObjectShapeError);
  });
});

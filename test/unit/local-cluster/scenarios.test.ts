import type { StoredObject } from '../../../local-cluster';
import { parseSparkMemoryMb, readApplication, scenarioScript, type SimulatedApplication } from '../../../local-cluster';
import { buildSparkApplication } from '../../../src/spark/kubernetes/spark-application';
import { attemptInput, type AttemptOptions } from '../../kubernetes/local-operator/harness';

/** The SparkApplication of an attempt as the store would hold it. */
function stored(options: AttemptOptions = {}): SimulatedApplication {
  const body = buildSparkApplication(attemptInput(options));
  const object: StoredObject = {
    ...body,
    metadata: { ...body.metadata, labels: { ...body.metadata.labels }, uid: 'uid-1', resourceVersion: '7', creationTimestamp: '2026-11-21T02:00:00Z' },
    spec: body.spec as unknown as Record<string, unknown>,
  };
  return readApplication(object);
}

test.each<[unknown, number | undefined]>([
  ['2048m', 2048],
  ['4g', 4096],
  ['4G', 4096],
  ['1gb', 1024],
  ['512', 512],
  ['3Gi', 3072],
  ['2048k', 2],
  [1536, 1536],
  ['lots', undefined],
  ['', undefined],
  [undefined, undefined],
  [-1, undefined],
])('parseSparkMemoryMb(%p) is %p', (value, expected) => {
  expect(parseSparkMemoryMb(value)).toBe(expected);
});

test('readApplication reads what buildSparkApplication writes: attempt, memory, executors, labels, spec ConfigMap', () => {
  const app = stored({ attempt: 3, resources: { driverMemoryMb: 3072, executorMemoryMb: 6144, executorInstances: 4, memoryOverheadMb: 512 }, spec: {} });
  expect(app).toMatchObject({ attempt: 3, attemptLabel: '3', type: 'Python', sparkVersion: '4.0.1', image: 'registry.example.com/nightjar/spark:4.0.1-py3' });
  expect(app.driver).toMatchObject({ memoryMb: 3072, memoryOverheadMb: 512, cores: 1, serviceAccount: 'nightjar-spark' });
  expect(app.driver.configMaps).toEqual([{ name: `${app.name}-spec`, path: '/etc/nightjar/spec' }]);
  expect(app.executor).toMatchObject({ memoryMb: 6144, instances: 4 });
  expect(app.driver.labels).toMatchObject({ 'nightjar.io/attempt': '3', 'app.kubernetes.io/managed-by': 'nightjar' });
});

test('readApplication falls back to Spark defaults for a bare SparkApplication', () => {
  const app = readApplication({
    apiVersion: 'sparkoperator.k8s.io/v1beta2',
    kind: 'SparkApplication',
    metadata: { name: 'bare', namespace: 'ns', uid: 'u', resourceVersion: '1', creationTimestamp: '2026-11-21T02:00:00Z' },
    spec: { driver: { memory: 'plenty' }, executor: 'nonsense' },
  });
  expect(app).toMatchObject({ attempt: 1, driver: { memoryMb: 1024, cores: 1, configMaps: [] }, executor: { memoryMb: 1024, instances: 2 } });
  expect(app.attemptLabel).toBeUndefined();
});

describe('scenarioScript', () => {
  test('success lets the runtime decide and leaves nothing behind', () => {
    expect(scenarioScript('success', stored())).toEqual({ scenario: 'success', driver: { kind: 'runs' }, executors: { kind: 'healthy' }, stragglers: false });
  });

  test('executor-oom depends on executor memory against the minimum (2048 by default)', () => {
    expect(scenarioScript('executor-oom', stored({ resources: { executorMemoryMb: 2047 } })).executors).toEqual({ kind: 'oom', exitCode: 137 });
    expect(scenarioScript('executor-oom', stored({ resources: { executorMemoryMb: 2048 } })).executors).toEqual({ kind: 'healthy' });
    expect(scenarioScript({ name: 'executor-oom', minExecutorMemoryMb: 8192, exitCode: 52, abortAfterLosses: 4 }, stored({ resources: { executorMemoryMb: 4096 } })).executors).toEqual({
      kind: 'oom',
      exitCode: 52,
      abortAfterLosses: 4,
    });
  });

  test('driver-oom depends on driver memory against the minimum', () => {
    expect(scenarioScript('driver-oom', stored({ resources: { driverMemoryMb: 1024 } })).driver).toEqual({ kind: 'oom-killed' });
    expect(scenarioScript('driver-oom', stored({ resources: { driverMemoryMb: 2048 } })).driver).toEqual({ kind: 'runs' });
    expect(scenarioScript({ name: 'driver-oom', minDriverMemoryMb: 4096 }, stored({ resources: { driverMemoryMb: 2048 } })).driver).toEqual({ kind: 'oom-killed' });
  });

  test('eviction and stuck-submitted strike the first `times` attempts only', () => {
    expect(scenarioScript('eviction', stored({ attempt: 1 })).driver.kind).toBe('evicted');
    expect(scenarioScript('eviction', stored({ attempt: 2 })).driver.kind).toBe('runs');
    expect(scenarioScript({ name: 'eviction', times: 2 }, stored({ attempt: 2 })).driver.kind).toBe('evicted');
    expect(scenarioScript('stuck-submitted', stored({ attempt: 1 })).driver.kind).toBe('no-pod');
    expect(scenarioScript({ name: 'stuck-submitted', times: 3 }, stored({ attempt: 4 })).driver.kind).toBe('runs');
  });

  test('image-pull-backoff strikes every attempt, naming the image', () => {
    const script = scenarioScript('image-pull-backoff', stored({ attempt: 5, image: 'registry.example.com/nightjar/spark:gone' }));
    expect(script.driver).toEqual({ kind: 'image-pull-backoff', pullError: expect.stringMatching(/^rpc error: code = NotFound desc = failed to pull and unpack image "registry\.example\.com\/nightjar\/spark:gone".*: not found$/) as unknown });
    const down = scenarioScript({ name: 'image-pull-backoff', registryUnavailable: true }, stored());
    expect(down.driver.kind === 'image-pull-backoff' ? down.driver.pullError : '').toContain('i/o timeout');
  });

  test('application-error fails with the exit code and a traceback ending in the error', () => {
    const script = scenarioScript({ name: 'application-error', exitCode: 3, error: 'ZeroDivisionError: division by zero' }, stored());
    expect(script.driver.kind).toBe('fails');
    if (script.driver.kind !== 'fails') return;
    expect(script.driver.exitCode).toBe(3);
    expect(script.driver.logLines.at(-1)).toBe('ZeroDivisionError: division by zero');
  });

  test('leaky succeeds with stragglers', () => {
    expect(scenarioScript('leaky', stored())).toMatchObject({ driver: { kind: 'runs' }, stragglers: true });
  });
});

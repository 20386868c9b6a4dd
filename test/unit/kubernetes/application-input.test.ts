import type { SparkResources } from '../../../src/domain/spark/resources';
import { applicationInput } from '../../../src/spark/kubernetes/attempt-support';
import { DEFAULT_KUBERNETES_TIMINGS, type KubernetesPlatformSettings } from '../../../src/spark/kubernetes/settings';
import type { SparkAttemptRequest } from '../../../src/spark/platform';

const resources: SparkResources = {
  driverMemoryMb: 1024,
  driverCores: 1,
  executorMemoryMb: 1024,
  executorCores: 1,
  executorInstances: 2,
  memoryOverheadMb: null,
  shufflePartitions: 8,
};

const request: SparkAttemptRequest = {
  attemptId: 'nj-20261206-normalize-0a1b2c3d-a1',
  workflowId: 'nightjar-daily-2026-12-06-normalize',
  businessDate: '2026-12-06',
  job: 'normalize',
  attempt: 1,
  resources,
  mainFile: '/home/worker/spark/jobs/normalize.py',
  args: ['--spec', 'spec.json'],
  sparkConf: {},
  inputBytes: 1024,
};

const minimal: KubernetesPlatformSettings = {
  ...DEFAULT_KUBERNETES_TIMINGS,
  namespace: 'nightjar-batch',
  image: 'registry.example.com/nightjar/spark:4',
  serviceAccount: 'nightjar-spark',
  sparkVersion: '4.0.1',
  imageJobsDir: '/opt/nightjar/spark',
};

const attempt = {
  request,
  mainFile: 'local:///opt/nightjar/spark/jobs/normalize.py',
  specConfigMap: undefined,
  placement: {},
  annotations: { 'nightjar.io/attempt-id': request.attemptId },
};

describe('applicationInput: one attempt from the platform settings, for both submit paths', () => {
  test('the image path replaces the worker path of the entry point, and unset settings leave no field', () => {
    const input = applicationInput(minimal, undefined, attempt);
    expect(input).toEqual({
      request: { ...request, mainFile: attempt.mainFile },
      namespace: 'nightjar-batch',
      image: minimal.image,
      serviceAccount: 'nightjar-spark',
      mainApplicationFile: attempt.mainFile,
      placement: {},
      annotations: attempt.annotations,
      ttlSeconds: DEFAULT_KUBERNETES_TIMINGS.ttlSeconds,
      sparkVersion: '4.0.1',
      pythonVersion: '3',
    });
  });

  test('set settings, the spec ConfigMap and the JVM options by the input size are carried', () => {
    const settings: KubernetesPlatformSettings = {
      ...minimal,
      imagePullPolicy: 'Never',
      sparkConfConfigMap: 'spark-conf',
      secretEnv: [{ name: 'PW', secretName: 'warehouse', key: 'password' }],
      batchScheduler: { name: 'volcano', queue: 'nightly' },
      dataVolume: { claimName: 'nightjar-data', mountPath: '/var/lib/nightjar/data' },
    };
    const javaOptions = {
      driverJavaOptions: ['-Dnightjar.driver=1'],
      shortJob: { maxInputBytes: { normalize: 2048, transform: 4096 }, javaOptions: ['-XX:TieredStopAtLevel=1'] },
      longJob: { javaOptions: ['-XX:+UseParallelGC'] },
    };
    const small = applicationInput(settings, javaOptions, { ...attempt, specConfigMap: `${request.attemptId}-spec` });
    expect(small).toMatchObject({
      imagePullPolicy: 'Never',
      specConfigMap: `${request.attemptId}-spec`,
      sparkConfConfigMap: 'spark-conf',
      secretEnv: settings.secretEnv,
      batchScheduler: settings.batchScheduler,
      dataVolume: settings.dataVolume,
      javaOptions: { driver: ['-Dnightjar.driver=1', '-XX:TieredStopAtLevel=1'], executor: ['-XX:TieredStopAtLevel=1'] },
    });
    const large = applicationInput(settings, javaOptions, { ...attempt, request: { ...request, inputBytes: 10_000 } });
    expect(large.javaOptions).toEqual({ driver: ['-Dnightjar.driver=1', '-XX:+UseParallelGC'], executor: ['-XX:+UseParallelGC'] });
  });
});

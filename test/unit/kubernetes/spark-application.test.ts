import type { SparkResources } from '../../../src/domain/spark/resources';
import { isValidLabelValue } from '../../../src/spark/kubernetes/labels';
import {
  buildSparkApplication,
  RESOURCE_MAPPING,
  SPEC_MOUNT_FILE,
  SparkApplicationSpecError,
  type SparkApplicationInput,
} from '../../../src/spark/kubernetes/spark-application';
import type { SparkAttemptRequest } from '../../../src/spark/platform';

const ATTEMPT_ID = 'nj-20261120-transform-0a1b2c3d-a2';
const MAIN = 'local:///opt/nightjar/spark/jobs/transform.py';

const resources: SparkResources = {
  driverMemoryMb: 2048,
  driverCores: 1,
  executorMemoryMb: 4096,
  executorCores: 2,
  executorInstances: 3,
  memoryOverheadMb: 512,
  shufflePartitions: 64,
};

const request: SparkAttemptRequest = {
  attemptId: ATTEMPT_ID,
  workflowId: 'nightjar-daily-2026-11-20-transform',
  businessDate: '2026-11-20',
  job: 'transform',
  attempt: 2,
  resources,
  mainFile: MAIN,
  args: ['--spec', '/var/lib/nightjar/work/nj-20261120-transform-0a1b2c3d-a2/spec.json'],
  sparkConf: { 'spark.sql.adaptive.enabled': 'true' },
};

const input: SparkApplicationInput = {
  request,
  namespace: 'nightjar-batch',
  image: 'registry.example.com/nightjar/spark:4.0.1-py3',
  imagePullPolicy: 'IfNotPresent',
  serviceAccount: 'nightjar-spark',
  mainApplicationFile: MAIN,
  specConfigMap: `${ATTEMPT_ID}-spec`,
  sparkConfConfigMap: 'nightjar-spark-conf',
  secretEnv: [{ name: 'WAREHOUSE_PASSWORD', secretName: 'warehouse-credentials', key: 'password' }],
  placement: {
    nodeSelector: { 'nightjar.io/pool': 'batch' },
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule' }],
    priorityClassName: 'nightly-batch',
    locality: { topologyKey: 'topology.kubernetes.io/zone', values: ['eu-west-1a'], required: true },
  },
  batchScheduler: { name: 'volcano', queue: 'nightly' },
  ttlSeconds: 86400,
  sparkVersion: '4.0.1',
  pythonVersion: '3',
};

const labels = {
  'app.kubernetes.io/managed-by': 'nightjar',
  'nightjar.io/workflow-id': 'nightjar-daily-2026-11-20-transform',
  'nightjar.io/business-date': '2026-11-20',
  'nightjar.io/job': 'transform',
  'nightjar.io/attempt-id': ATTEMPT_ID,
  'nightjar.io/attempt': '2',
};

const zoneAffinity = {
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['eu-west-1a'] }] }],
    },
  },
};
const secretEnv = [{ name: 'WAREHOUSE_PASSWORD', valueFrom: { secretKeyRef: { name: 'warehouse-credentials', key: 'password' } } }];
const placement = {
  serviceAccount: 'nightjar-spark',
  env: secretEnv,
  nodeSelector: { 'nightjar.io/pool': 'batch' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule' }],
  affinity: zoneAffinity,
  priorityClassName: 'nightly-batch',
};

/** Builds with a changed copy of the reference input (`request` fields merge into the request). */
function build(change: Partial<Omit<SparkApplicationInput, 'request'>> & { request?: Partial<SparkAttemptRequest> } = {}) {
  const { request: requestChange, ...rest } = change;
  return buildSparkApplication({ ...input, ...rest, request: { ...request, ...requestChange } });
}

describe('buildSparkApplication', () => {
  test('the whole SparkApplication for one attempt', () => {
    expect(buildSparkApplication(input)).toEqual({
      apiVersion: 'sparkoperator.k8s.io/v1beta2',
      kind: 'SparkApplication',
      metadata: { name: ATTEMPT_ID, namespace: 'nightjar-batch', labels },
      spec: {
        type: 'Python',
        mode: 'cluster',
        sparkVersion: '4.0.1',
        pythonVersion: '3',
        image: 'registry.example.com/nightjar/spark:4.0.1-py3',
        imagePullPolicy: 'IfNotPresent',
        mainApplicationFile: MAIN,
        arguments: ['--spec', '/etc/nightjar/spec/spec.json'],
        sparkConf: { 'spark.sql.shuffle.partitions': '64', 'spark.sql.adaptive.enabled': 'true' },
        sparkConfigMap: 'nightjar-spark-conf',
        restartPolicy: { type: 'Never' },
        timeToLiveSeconds: 86400,
        batchScheduler: 'volcano',
        batchSchedulerOptions: { queue: 'nightly' },
        driver: {
          cores: 1,
          memory: '2048m',
          memoryOverhead: '512m',
          labels,
          ...placement,
          configMaps: [{ name: `${ATTEMPT_ID}-spec`, path: '/etc/nightjar/spec' }],
        },
        executor: {
          cores: 2,
          memory: '4096m',
          memoryOverhead: '512m',
          instances: 3,
          labels,
          ...placement,
        },
      },
    });
  });

  test('the name is the attempt id, so a retried submit finds (409) what the first one created', () => {
    expect(build().metadata.name).toBe(ATTEMPT_ID);
    expect(build()).toEqual(build());
  });

  test('labels are on the SparkApplication and on the driver and executor pods', () => {
    const app = build();
    expect(app.metadata.labels).toEqual(labels);
    expect(app.spec.driver.labels).toEqual(labels);
    expect(app.spec.executor.labels).toEqual(labels);
  });

  test('arguments are an array, passed element by element, never joined into a shell string', () => {
    const args = ['--spec', '/x/spec.json', '--note', 'two words; $(echo no)'];
    const app = build({ specConfigMap: undefined, request: { args } });
    expect(app.spec.arguments).toEqual(args);
  });

  test('with a spec ConfigMap, --spec points at the mounted file instead of the worker path', () => {
    expect(build().spec.arguments).toEqual(['--spec', SPEC_MOUNT_FILE]);
    expect(build({ request: { args: [] } }).spec.arguments).toEqual(['--spec', SPEC_MOUNT_FILE]);
    expect(build().spec.executor).not.toHaveProperty('configMaps');
  });

  test('memory is written in MiB strings; a null overhead leaves it to Spark', () => {
    const app = build({ request: { resources: { ...resources, memoryOverheadMb: null } } });
    expect(app.spec.driver).toMatchObject({ memory: '2048m', cores: 1 });
    expect(app.spec.executor).toMatchObject({ memory: '4096m', cores: 2, instances: 3 });
    expect(app.spec.driver).not.toHaveProperty('memoryOverhead');
    expect(app.spec.executor).not.toHaveProperty('memoryOverhead');
  });

  test('every SparkResources field is mapped (checked by the compiler, and here)', () => {
    const mapped: Record<keyof SparkResources, unknown> = RESOURCE_MAPPING;
    expect(Object.keys(mapped).sort()).toEqual(Object.keys(resources).sort());
    const grown = build({ request: { resources: { ...resources, executorMemoryMb: 8192, shufflePartitions: 128 } } });
    expect(grown.spec.executor.memory).toBe('8192m');
    expect(grown.spec.sparkConf['spark.sql.shuffle.partitions']).toBe('128');
  });

  test('the request sparkConf merges over the defaults', () => {
    const app = build({ request: { sparkConf: { 'spark.sql.shuffle.partitions': '7', 'spark.ui.enabled': 'false' } } });
    expect(app.spec.sparkConf).toEqual({ 'spark.sql.shuffle.partitions': '7', 'spark.ui.enabled': 'false' });
  });

  test("JVM options become the driver's and the executors' extraJavaOptions, under the request's own; none add nothing", () => {
    const javaOptions = { driver: ['-Xss4m', '-XX:+UseParallelGC'], executor: ['-XX:+UseParallelGC'] };
    const app = build({ javaOptions });
    expect(app.spec.sparkConf).toMatchObject({ 'spark.driver.extraJavaOptions': '-Xss4m -XX:+UseParallelGC', 'spark.executor.extraJavaOptions': '-XX:+UseParallelGC' });
    const own = build({ javaOptions, request: { sparkConf: { 'spark.executor.extraJavaOptions': '-XX:+UseG1GC' } } });
    expect(own.spec.sparkConf['spark.executor.extraJavaOptions']).toBe('-XX:+UseG1GC');
    expect(Object.keys(build({ javaOptions: { driver: [], executor: [] } }).spec.sparkConf)).not.toContain('spark.driver.extraJavaOptions');
    expect(Object.keys(build().spec.sparkConf).filter((k) => k.endsWith('extraJavaOptions'))).toEqual([]);
  });

  test('required locality is a hard node affinity on driver and executors', () => {
    const app = build();
    expect(app.spec.driver.affinity).toEqual(zoneAffinity);
    expect(app.spec.executor.affinity).toEqual(zoneAffinity);
  });

  test('preferred locality is a weighted soft node affinity on driver and executors', () => {
    const app = build({
      placement: { locality: { topologyKey: 'example.com/rack', values: ['r12', 'r13'], required: false } },
    });
    const preferred = {
      nodeAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 100, preference: { matchExpressions: [{ key: 'example.com/rack', operator: 'In', values: ['r12', 'r13'] }] } },
        ],
      },
    };
    expect(app.spec.driver.affinity).toEqual(preferred);
    expect(app.spec.executor.affinity).toEqual(preferred);
  });

  test('without placement the pods carry no affinity, tolerations, node selector or priority', () => {
    const app = build({ placement: undefined });
    for (const pod of [app.spec.driver, app.spec.executor]) {
      expect(pod).not.toHaveProperty('affinity');
      expect(pod).not.toHaveProperty('tolerations');
      expect(pod).not.toHaveProperty('nodeSelector');
      expect(pod).not.toHaveProperty('priorityClassName');
    }
  });

  test('a batch scheduler is named, with its queue when one is given', () => {
    expect(build({ batchScheduler: { name: 'yunikorn', queue: 'root.nightly' } }).spec).toMatchObject({
      batchScheduler: 'yunikorn',
      batchSchedulerOptions: { queue: 'root.nightly' },
    });
    const noQueue = build({ batchScheduler: { name: 'yunikorn' } }).spec;
    expect(noQueue.batchScheduler).toBe('yunikorn');
    expect(noQueue).not.toHaveProperty('batchSchedulerOptions');
    const none = build({ batchScheduler: undefined }).spec;
    expect(none).not.toHaveProperty('batchScheduler');
    expect(none).not.toHaveProperty('batchSchedulerOptions');
  });

  test('the operator never retries by itself: restartPolicy Never, and the object expires', () => {
    expect(build().spec.restartPolicy).toEqual({ type: 'Never' });
    expect(build({ ttlSeconds: 3600 }).spec.timeToLiveSeconds).toBe(3600);
  });

  test('long label values are shortened into valid labels everywhere', () => {
    const app = build({ request: { workflowId: `nightjar-daily-${'very-long-tenant-name-'.repeat(8)}2026-11-20` } });
    for (const set of [app.metadata.labels, app.spec.driver.labels, app.spec.executor.labels]) {
      expect(Object.values(set).every(isValidLabelValue)).toBe(true);
    }
    expect(app.metadata.labels['nightjar.io/workflow-id']).toHaveLength(63);
  });
});

describe('credentials travel by reference only', () => {
  const SECRET = 'hunter2-S3cr3t-value';

  test('secret environment variables are secretKeyRefs on driver and executors, with nothing else in them', () => {
    const app = build();
    for (const pod of [app.spec.driver, app.spec.executor]) {
      expect(pod.env).toEqual(secretEnv);
      for (const env of pod.env ?? []) expect(Object.keys(env).sort()).toEqual(['name', 'valueFrom']);
    }
  });

  test('an entry carrying a value is refused, and the error does not repeat it', () => {
    const leaky = [{ name: 'WAREHOUSE_PASSWORD', secretName: 'warehouse-credentials', key: 'password', value: SECRET }];
    const attempt = () => build({ secretEnv: leaky as unknown as SparkApplicationInput['secretEnv'] });
    expect(attempt).toThrow(SparkApplicationSpecError);
    expect(attempt).toThrow(/secretEnv\[0\]/);
    expect(attempt).not.toThrow(new RegExp(SECRET));
  });

  test.each(['spark.hadoop.fs.s3a.secret.key', 'spark.hadoop.fs.s3a.session.token', 'spark.kubernetes.authenticate.driver.oauthToken', 'spark.jdbc.password'])(
    'a credential in sparkConf (%s) is refused without echoing it',
    (key) => {
      const attempt = () => build({ request: { sparkConf: { [key]: SECRET } } });
      expect(attempt).toThrow(SparkApplicationSpecError);
      expect(attempt).toThrow(key);
      expect(attempt).not.toThrow(new RegExp(SECRET));
    },
  );

  test('no built object contains a secret value, whatever the references are called', () => {
    const json = JSON.stringify(build());
    expect(json).not.toContain(SECRET);
    expect(json).not.toMatch(/"value":"(?!batch")/); // the only plain value is the toleration's
  });
});

describe('invalid inputs name the field', () => {
  const long = 'x'.repeat(64);
  test.each<[string, Parameters<typeof build>[0]]>([
    ['namespace', { namespace: 'Nightjar_Batch' }],
    ['request.attemptId', { request: { attemptId: `nj-${long}` } }],
    ['request.attemptId', { request: { attemptId: 'NJ-Upper' } }],
    ['request.resources.driverMemoryMb', { request: { resources: { ...resources, driverMemoryMb: 0 } } }],
    ['request.resources.executorCores', { request: { resources: { ...resources, executorCores: 1.5 } } }],
    ['request.resources.executorInstances', { request: { resources: { ...resources, executorInstances: -1 } } }],
    ['request.resources.memoryOverheadMb', { request: { resources: { ...resources, memoryOverheadMb: 0 } } }],
    ['request.sparkConf["spark.executor.memory"]', { request: { sparkConf: { 'spark.executor.memory': '8g' } } }],
    ['mainApplicationFile', { mainApplicationFile: '/opt/nightjar/spark/jobs/transform.py' }],
    ['image', { image: 'registry.example.com/spark 4' }],
    ['imagePullPolicy', { imagePullPolicy: 'Sometimes' as never }],
    ['serviceAccount', { serviceAccount: '' }],
    ['specConfigMap', { specConfigMap: 'Spec_Map' }],
    ['secretEnv[0].name', { secretEnv: [{ name: 'WAREHOUSE-PASSWORD', secretName: 'warehouse-credentials', key: 'password' }] }],
    ['secretEnv[0].secretName', { secretEnv: [{ name: 'PW', secretName: 'Warehouse', key: 'password' }] }],
    [
      'secretEnv[1].name',
      {
        secretEnv: [
          { name: 'PW', secretName: 'a', key: 'k' },
          { name: 'PW', secretName: 'b', key: 'k' },
        ],
      },
    ],
    ['placement.nodeSelector["nightjar.io/pool"]', { placement: { nodeSelector: { 'nightjar.io/pool': 'batch pool' } } }],
    ['placement.nodeSelector["pool name"]', { placement: { nodeSelector: { 'pool name': 'batch' } } }],
    ['placement.tolerations[0].value', { placement: { tolerations: [{ key: 'dedicated', operator: 'Exists', value: 'batch' }] } }],
    ['placement.priorityClassName', { placement: { priorityClassName: 'Nightly' } }],
    ['placement.locality.values', { placement: { locality: { topologyKey: 'topology.kubernetes.io/zone', values: [], required: true } } }],
    ['placement.locality.topologyKey', { placement: { locality: { topologyKey: 'rack id', values: ['r1'], required: false } } }],
    ['batchScheduler.name', { batchScheduler: { name: 'kube-batch' as never } }],
    ['batchScheduler.queue', { batchScheduler: { name: 'volcano', queue: '' } }],
    ['ttlSeconds', { ttlSeconds: 0 }],
    ['sparkVersion', { sparkVersion: 'latest' }],
    ['pythonVersion', { pythonVersion: '3.11' as never }],
    ['javaOptions.driver[1]', { javaOptions: { driver: ['-Xss4m', '-XX:+UseSerialGC -Dx=1'], executor: [] } }],
    ['javaOptions.executor[0]', { javaOptions: { driver: [], executor: ['UseSerialGC'] } }],
  ])('%s', (field, change) => {
    const attempt = () => build(change);
    expect(attempt).toThrow(SparkApplicationSpecError);
    expect(attempt).toThrow(expect.objectContaining({ field, message: expect.stringContaining(field) }));
  });
});

describe('annotations and the shared data volume', () => {
  const withExtras: SparkApplicationInput = {
    ...input,
    annotations: { 'nightjar.io/workflow-id': 'nightjar-daily-2026-11-20', 'nightjar.io/attempt-id': ATTEMPT_ID },
    dataVolume: { claimName: 'nightjar-data', mountPath: '/var/lib/nightjar/data' },
  };

  test('annotations go on the SparkApplication and on both pod specs', () => {
    const app = buildSparkApplication(withExtras);
    expect(app.metadata.annotations).toEqual(withExtras.annotations);
    expect(app.spec.driver.annotations).toEqual(withExtras.annotations);
    expect(app.spec.executor.annotations).toEqual(withExtras.annotations);
  });

  test('the data volume is declared once and mounted at the same path in driver and executors', () => {
    const app = buildSparkApplication(withExtras);
    expect(app.spec.volumes).toEqual([{ name: 'nightjar-data', persistentVolumeClaim: { claimName: 'nightjar-data' } }]);
    expect(app.spec.driver.volumeMounts).toEqual([{ name: 'nightjar-data', mountPath: '/var/lib/nightjar/data' }]);
    expect(app.spec.executor.volumeMounts).toEqual([{ name: 'nightjar-data', mountPath: '/var/lib/nightjar/data' }]);
  });

  test('without them, no such fields appear', () => {
    const app = buildSparkApplication(input);
    expect(app.metadata.annotations).toBeUndefined();
    expect(app.spec.volumes).toBeUndefined();
    expect(app.spec.driver.volumeMounts).toBeUndefined();
  });

  test.each([
    ['dataVolume.claimName', { dataVolume: { claimName: 'Data_Claim', mountPath: '/data' } }],
    ['dataVolume.mountPath', { dataVolume: { claimName: 'data', mountPath: 'relative/path' } }],
    ['annotations["bad key!"]', { annotations: { 'bad key!': 'x' } }],
  ])('a bad %s is refused, naming the field', (field, patch) => {
    expect(() => buildSparkApplication({ ...input, ...patch } as SparkApplicationInput)).toThrow(SparkApplicationSpecError);
    try {
      buildSparkApplication({ ...input, ...patch } as SparkApplicationInput);
    } catch (e) {
      expect((e as SparkApplicationSpecError).field).toBe(field);
    }
  });
});

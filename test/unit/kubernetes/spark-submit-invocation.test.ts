import { buildSparkApplication } from '../../../src/spark/kubernetes/spark-application';
import { applicationStateOf } from '../../../src/spark/kubernetes/spark-submit/driver-state';
import { attemptPodOf } from '../../../src/spark/kubernetes/status';
import { launcherOptions, submitFailureKind } from '../../../src/spark/kubernetes/spark-submit/spark-submit-platform';
import { buildSubmitInvocation, SparkSubmitUnsupportedError } from '../../../src/spark/kubernetes/spark-submit/submit-invocation';
import { parsePod } from '../../../src/spark/kubernetes/status';

const attemptId = 'nj-20261204-transform-abc12345-a2';

function app(extra: Partial<Parameters<typeof buildSparkApplication>[0]> = {}) {
  return buildSparkApplication({
    request: {
      attemptId,
      workflowId: 'nightjar-daily-2026-12-04',
      businessDate: '2026-12-04',
      job: 'transform',
      attempt: 2,
      resources: { driverMemoryMb: 1024, driverCores: 1, executorMemoryMb: 2048, executorCores: 2, executorInstances: 3, memoryOverheadMb: 512, shufflePartitions: 16 },
      mainFile: 'local:///opt/nightjar/spark/jobs/transform.py',
      args: ['--spec', '/worker/tmp/spec.json'],
      sparkConf: { 'spark.sql.adaptive.enabled': 'true' },
    },
    namespace: 'nightly',
    image: 'registry.bank.example/nightjar-spark:1.0.0',
    serviceAccount: 'nightjar-spark',
    mainApplicationFile: 'local:///opt/nightjar/spark/jobs/transform.py',
    specConfigMap: `${attemptId}-spec`,
    secretEnv: [{ name: 'DB_PASSWORD', secretName: 'reporting', key: 'password' }],
    placement: { tolerations: [{ key: 'spark', operator: 'Exists', effect: 'NoSchedule' }], locality: { topologyKey: 'topology.kubernetes.io/zone', values: ['zone-b'], required: true } },
    ttlSeconds: 3600,
    sparkVersion: '4.3.0',
    ...extra,
  });
}

function confOf(args: readonly string[]): Record<string, string> {
  const conf: Record<string, string> = {};
  args.forEach((arg, i) => {
    if (args[i - 1] !== '--conf') return;
    const at = arg.indexOf('=');
    conf[arg.slice(0, at)] = arg.slice(at + 1);
  });
  return conf;
}

test('the invocation asks spark-submit for the same pods as the SparkApplication: resources, names, labels, templates', () => {
  const invocation = buildSubmitInvocation({
    app: app(),
    master: 'k8s://https://10.0.0.1:443',
    driverTemplatePath: '/tmp/x/driver.json',
    executorTemplatePath: '/tmp/x/executor.json',
    extraPodLabels: { 'nightjar.io/runtime': 'local' },
  });
  const conf = confOf(invocation.args);
  expect(invocation.args.slice(0, 6)).toEqual(['--master', 'k8s://https://10.0.0.1:443', '--deploy-mode', 'cluster', '--name', attemptId]);
  expect(invocation.args.slice(-3)).toEqual(['local:///opt/nightjar/spark/jobs/transform.py', '--spec', '/etc/nightjar/spec/spec.json']);
  expect(invocation.driverPodName).toBe(`${attemptId}-driver`);
  expect(conf).toMatchObject({
    'spark.kubernetes.driver.pod.name': `${attemptId}-driver`,
    'spark.kubernetes.namespace': 'nightly',
    'spark.driver.memory': '1024m',
    'spark.executor.memory': '2048m',
    'spark.executor.cores': '2',
    'spark.executor.instances': '3',
    'spark.executor.memoryOverhead': '512m',
    'spark.sql.shuffle.partitions': '16',
    'spark.sql.adaptive.enabled': 'true',
    'spark.kubernetes.authenticate.driver.serviceAccountName': 'nightjar-spark',
    'spark.kubernetes.submission.waitAppCompletion': 'false',
    'spark.kubernetes.executor.label.nightjar.io/attempt-id': attemptId,
    'spark.kubernetes.driver.label.nightjar.io/runtime': 'local',
  });
  const driver = invocation.driverTemplate as { spec: Record<string, unknown> & { containers: { name: string; env: unknown[]; volumeMounts: unknown[] }[]; volumes: unknown[] } };
  expect(driver.spec.containers[0]).toMatchObject({ name: 'spark-kubernetes-driver', env: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'reporting', key: 'password' } } }] });
  expect(driver.spec.volumes).toEqual([{ name: 'nightjar-spec', configMap: { name: `${attemptId}-spec` } }]);
  expect(driver.spec.affinity).toEqual({
    nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['zone-b'] }] }] } },
  });
  expect(driver.spec.tolerations).toEqual([{ key: 'spark', operator: 'Exists', effect: 'NoSchedule' }]);
  const executor = invocation.executorTemplate as { spec: { containers: { name: string }[]; volumes?: unknown[] } };
  expect(executor.spec.containers[0]?.name).toBe('spark-kubernetes-executor');
  expect(executor.spec.volumes).toBeUndefined();
  // Secrets travel by reference only: no value in the arguments.
  expect(invocation.args.join(' ')).not.toMatch(/password=/i);
});

test('what only the operator can do is refused by name', () => {
  const build = (extra: Partial<Parameters<typeof buildSparkApplication>[0]>) => () =>
    buildSubmitInvocation({ app: app(extra), master: 'k8s://https://x', driverTemplatePath: '/d', executorTemplatePath: '/e' });
  expect(build({ sparkConfConfigMap: 'spark-conf' })).toThrow(SparkSubmitUnsupportedError);
  expect(build({ batchScheduler: { name: 'volcano' } })).toThrow(/batch scheduler volcano/);
});

test('the driver pod reads as the operator would write the application state', () => {
  const pod = (status: object) => parsePod({ metadata: { name: 'd', labels: { 'spark-role': 'driver' } }, status });
  expect(applicationStateOf(pod({ phase: 'Pending' })).state).toBe('SUBMITTED');
  expect(applicationStateOf(pod({ phase: 'Running' })).state).toBe('RUNNING');
  expect(applicationStateOf(pod({ phase: 'Succeeded' })).state).toBe('COMPLETED');
  expect(applicationStateOf(pod({ phase: 'Failed', containerStatuses: [{ name: 'spark-kubernetes-driver', state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } }] }))).toEqual({
    state: 'FAILED',
    errorMessage: 'driver container failed with ExitCode: 137, Reason: OOMKilled',
  });
});

test('a pod record names role, node, phase and how its container ended; other pods are not recorded', () => {
  expect(
    attemptPodOf({
      metadata: { name: 'x-exec-1', labels: { 'spark-role': 'executor' } },
      spec: { nodeName: 'kwok-b1' },
      status: { phase: 'Failed', containerStatuses: [{ state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } }] },
    }),
  ).toEqual({ role: 'executor', name: 'x-exec-1', node: 'kwok-b1', phase: 'Failed', exitCode: 137, reason: 'OOMKilled' });
  expect(attemptPodOf({ metadata: { name: 'other', labels: {} } })).toBeUndefined();
});

test("spark-submit's failures are told apart: taken name, refusal, anything else", () => {
  expect(submitFailureKind('pods "a-driver" already exists')).toBe('exists');
  expect(submitFailureKind('Failure executing: POST ... Message: Forbidden! User cannot create resource "pods"')).toBe('refused');
  expect(submitFailureKind('java.net.ConnectException: Connection refused')).toBe('transient');
});

test("spark-submit's own JVM: the configured options, unless the worker's environment sets SPARK_SUBMIT_OPTS, which replaces them whole", () => {
  const configured = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];
  expect(launcherOptions(undefined, configured)).toEqual(configured);
  expect(launcherOptions('  ', configured)).toEqual(configured);
  // Never both: the JVM refuses two collectors.
  expect(launcherOptions(' -XX:+UseG1GC -Dproxy=on ', configured)).toEqual(['-XX:+UseG1GC -Dproxy=on']);
});

import type { StoredObject } from '../../../local-cluster';
import { buildOperatorSubmission, operatorDriverPodName } from '../../../local-cluster/operator-submission';
import { buildSparkApplication, DATA_VOLUME, SPEC_MOUNT_DIR } from '../../../src/spark/kubernetes/spark-application';
import { attemptInput } from '../../kubernetes/local-operator/harness';

const SUBMISSION = '6f1c2a9e-1111-4c4c-9d9d-0123456789ab';

/** A SparkApplication as the platform builds it, as the API server stores it. */
function stored(): StoredObject {
  const body = buildSparkApplication({
    ...attemptInput({ spec: { mode: 'ok' } }),
    placement: {
      locality: { topologyKey: 'topology.kubernetes.io/zone', values: ['zone-b'], required: true },
      tolerations: [{ key: 'batch', operator: 'Exists', effect: 'NoSchedule' }],
      priorityClassName: 'nightly',
    },
    secretEnv: [{ name: 'NIGHTJAR_FX_TOKEN', secretName: 'fx', key: 'token' }],
    dataVolume: { claimName: 'nightjar-data', mountPath: '/var/lib/nightjar' },
  });
  return {
    ...body,
    metadata: { ...body.metadata, labels: { ...body.metadata.labels }, uid: 'uid-1', resourceVersion: '7' },
    spec: body.spec as unknown as Record<string, unknown>,
  } as StoredObject;
}

function confOf(args: readonly string[]): Map<string, string> {
  const conf = new Map<string, string>();
  args.forEach((arg, i) => {
    if (arg !== '--conf') return;
    const pair = args[i + 1] ?? '';
    const at = pair.indexOf('=');
    conf.set(pair.slice(0, at), pair.slice(at + 1));
  });
  return conf;
}

const build = (app: StoredObject) =>
  buildOperatorSubmission({
    app,
    submissionId: SUBMISSION,
    master: 'k8s://https://127.0.0.1:6443',
    driverTemplatePath: '/tmp/s/driver.json',
    executorTemplatePath: '/tmp/s/executor.json',
    extraPodLabels: { 'nightjar.io/runtime': 'local' },
  });

test("the arguments are the operator's: cluster mode, the driver pod's name, resources, the operator's labels on both roles, the main file and its arguments last", () => {
  const app = stored();
  const spec = app.spec as { mainApplicationFile: string; arguments: string[]; driver: { memory: string }; executor: { memory: string } };
  const { args, driverPodName } = build(app);
  expect(args.slice(0, 6)).toEqual(['--master', 'k8s://https://127.0.0.1:6443', '--deploy-mode', 'cluster', '--name', app.metadata.name]);
  expect(args.slice(-1 - spec.arguments.length)).toEqual([spec.mainApplicationFile, ...spec.arguments]);
  expect(driverPodName).toBe(`${app.metadata.name}-driver`);
  const conf = confOf(args);
  expect(Object.fromEntries(conf)).toMatchObject({
    'spark.kubernetes.namespace': app.metadata.namespace,
    'spark.kubernetes.driver.pod.name': driverPodName,
    'spark.kubernetes.submission.waitAppCompletion': 'false',
    'spark.driver.memory': spec.driver.memory,
    'spark.executor.memory': spec.executor.memory,
    'spark.executor.instances': '2',
    'spark.kubernetes.authenticate.driver.serviceAccountName': 'nightjar-spark',
    'spark.kubernetes.driver.podTemplateFile': '/tmp/s/driver.json',
    'spark.kubernetes.executor.podTemplateFile': '/tmp/s/executor.json',
    'spark.kubernetes.driver.podTemplateContainerName': 'spark-kubernetes-driver',
    'spark.kubernetes.executor.podTemplateContainerName': 'spark-kubernetes-executor',
  });
  for (const role of ['driver', 'executor']) {
    expect(conf.get(`spark.kubernetes.${role}.label.sparkoperator.k8s.io/app-name`)).toBe(app.metadata.name);
    expect(conf.get(`spark.kubernetes.${role}.label.sparkoperator.k8s.io/launched-by-spark-operator`)).toBe('true');
    expect(conf.get(`spark.kubernetes.${role}.label.sparkoperator.k8s.io/submission-id`)).toBe(SUBMISSION);
    expect(conf.get(`spark.kubernetes.${role}.label.nightjar.io/attempt-id`)).toBe(app.metadata.name);
    expect(conf.get(`spark.kubernetes.${role}.label.nightjar.io/runtime`)).toBe('local');
  }
});

test("the templates carry the owner reference (the driver's as controller) and what the operator's webhook adds: volumes, env, affinity, tolerations", () => {
  const { driverTemplate, executorTemplate } = build(stored()) as unknown as {
    driverTemplate: { metadata: { ownerReferences: object[] }; spec: Record<string, unknown> & { volumes: { name: string }[]; containers: { volumeMounts: object[]; env: object[] }[] } };
    executorTemplate: { metadata: { ownerReferences: object[] }; spec: Record<string, unknown> & { volumes: { name: string }[] } };
  };
  expect(driverTemplate.metadata.ownerReferences).toEqual([
    { apiVersion: 'sparkoperator.k8s.io/v1beta2', kind: 'SparkApplication', name: 'nj-20261120-transform-0a1b2c3d-a1', uid: 'uid-1', controller: true, blockOwnerDeletion: true },
  ]);
  expect(executorTemplate.metadata.ownerReferences).toEqual([{ apiVersion: 'sparkoperator.k8s.io/v1beta2', kind: 'SparkApplication', name: 'nj-20261120-transform-0a1b2c3d-a1', uid: 'uid-1' }]);
  expect(driverTemplate.spec.volumes.map((v) => v.name)).toEqual(['nj-20261120-transform-0a1b2c3d-a1-spec-vol', DATA_VOLUME]);
  expect(driverTemplate.spec.containers[0]?.volumeMounts).toEqual(
    expect.arrayContaining([
      { name: 'nj-20261120-transform-0a1b2c3d-a1-spec-vol', mountPath: SPEC_MOUNT_DIR },
      { name: DATA_VOLUME, mountPath: '/var/lib/nightjar' },
    ]),
  );
  expect(driverTemplate.spec.containers[0]?.env).toEqual([{ name: 'NIGHTJAR_FX_TOKEN', valueFrom: { secretKeyRef: { name: 'fx', key: 'token' } } }]);
  // The spec ConfigMap is the driver's only.
  expect(executorTemplate.spec.volumes.map((v) => v.name)).toEqual([DATA_VOLUME]);
  for (const template of [driverTemplate, executorTemplate]) {
    expect(template.spec).toMatchObject({ priorityClassName: 'nightly', tolerations: [{ key: 'batch', operator: 'Exists', effect: 'NoSchedule' }] });
    expect(JSON.stringify(template.spec.affinity)).toContain('zone-b');
  }
});

test("the driver pod's name: spec.driver.podName, else the Spark property, else <app>-driver", () => {
  expect(operatorDriverPodName('app', {})).toBe('app-driver');
  expect(operatorDriverPodName('app', { sparkConf: { 'spark.kubernetes.driver.pod.name': 'from-conf' } })).toBe('from-conf');
  expect(operatorDriverPodName('app', { driver: { podName: 'from-spec' }, sparkConf: { 'spark.kubernetes.driver.pod.name': 'from-conf' } })).toBe('from-spec');
});

/**
 * A SparkApplication turned into what `spark-submit --deploy-mode cluster` needs, as the
 * spark-operator does it: the command's arguments (Spark properties for resources, labels,
 * image, names) and two pod templates (driver, executors) carrying what properties cannot
 * express well — affinity, tolerations, Secrets by reference, the spec ConfigMap and the data
 * volume. The SparkApplication is built (and validated) by `buildSparkApplication` first, so
 * both ways to run on Kubernetes ask for exactly the same pods. Pure: no I/O.
 */
import { DATA_VOLUME, SPEC_MOUNT_DIR, type SparkApplication, type SparkPodSpec } from '../spark-application';

export const DRIVER_CONTAINER = 'spark-kubernetes-driver';
export const EXECUTOR_CONTAINER = 'spark-kubernetes-executor';
const SPEC_VOLUME = 'nightjar-spec';

/** The driver pod's name for an attempt: fixed, so a retried submission finds the first one's pod. */
export function driverPodName(attemptId: string): string {
  return `${attemptId}-driver`;
}

export class SparkSubmitUnsupportedError extends Error {
  override readonly name = 'SparkSubmitUnsupportedError';
}

export interface SubmitInvocationInput {
  readonly app: SparkApplication;
  /** `k8s://https://…`: the API server spark-submit talks to. */
  readonly master: string;
  /** Where the two pod template files will be, on the machine that runs spark-submit. */
  readonly driverTemplatePath: string;
  readonly executorTemplatePath: string;
  /** Labels added to driver and executor pods beyond the attempt's (e.g. the local runtime's). */
  readonly extraPodLabels?: Readonly<Record<string, string>>;
  /** Spark properties for the submission client itself (credentials files of an in-cluster worker). */
  readonly submissionConf?: Readonly<Record<string, string>>;
}

export interface SubmitInvocation {
  readonly args: readonly string[];
  readonly driverTemplate: object;
  readonly executorTemplate: object;
  readonly driverPodName: string;
}

function prefixed(prefix: string, entries: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(entries ?? {}).map(([key, value]) => [`${prefix}${key}`, value]));
}

function resourceConf(role: 'driver' | 'executor', pod: SparkPodSpec): Record<string, string> {
  return {
    [`spark.${role}.cores`]: String(pod.cores),
    [`spark.${role}.memory`]: pod.memory,
    ...(pod.memoryOverhead !== undefined ? { [`spark.${role}.memoryOverhead`]: pod.memoryOverhead } : {}),
  };
}

function podTemplate(pod: SparkPodSpec, container: string, labels: Readonly<Record<string, string>>, specConfigMap: string | undefined, app: SparkApplication): object {
  const dataClaim = app.spec.volumes?.find((v) => v.name === DATA_VOLUME)?.persistentVolumeClaim.claimName;
  const volumes = [
    ...(specConfigMap !== undefined ? [{ name: SPEC_VOLUME, configMap: { name: specConfigMap } }] : []),
    ...(dataClaim !== undefined ? [{ name: DATA_VOLUME, persistentVolumeClaim: { claimName: dataClaim } }] : []),
  ];
  const mounts = [
    ...(specConfigMap !== undefined ? [{ name: SPEC_VOLUME, mountPath: SPEC_MOUNT_DIR, readOnly: true }] : []),
    ...(pod.volumeMounts ?? []).map((m) => ({ name: m.name, mountPath: m.mountPath })),
  ];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { labels: { ...labels }, ...(pod.annotations !== undefined ? { annotations: { ...pod.annotations } } : {}) },
    spec: {
      serviceAccountName: pod.serviceAccount,
      ...(pod.nodeSelector !== undefined ? { nodeSelector: { ...pod.nodeSelector } } : {}),
      ...(pod.tolerations !== undefined ? { tolerations: pod.tolerations.map((t) => ({ ...t })) } : {}),
      ...(pod.affinity !== undefined ? { affinity: pod.affinity } : {}),
      ...(pod.priorityClassName !== undefined ? { priorityClassName: pod.priorityClassName } : {}),
      ...(volumes.length > 0 ? { volumes } : {}),
      containers: [
        {
          name: container,
          ...(pod.env !== undefined ? { env: pod.env.map((e) => ({ name: e.name, valueFrom: { secretKeyRef: { ...e.valueFrom.secretKeyRef } } })) } : {}),
          ...(mounts.length > 0 ? { volumeMounts: mounts } : {}),
        },
      ],
    },
  };
}

export function buildSubmitInvocation(input: SubmitInvocationInput): SubmitInvocation {
  const { app } = input;
  const { spec } = app;
  if (spec.sparkConfigMap !== undefined) {
    throw new SparkSubmitUnsupportedError('a Spark configuration ConfigMap (NIGHTJAR_K8S_SPARK_CONF_CONFIGMAP) is applied by the spark-operator only; use the operator mode or put the properties in the job configuration');
  }
  if (spec.batchScheduler !== undefined) {
    throw new SparkSubmitUnsupportedError(`batch scheduler ${spec.batchScheduler} is set up by the spark-operator only; use the operator mode`);
  }
  const name = app.metadata.name;
  const driverPod = driverPodName(name);
  const specConfigMap = spec.driver.configMaps?.find((c) => c.path === SPEC_MOUNT_DIR)?.name;
  const driverLabels = { ...spec.driver.labels, ...input.extraPodLabels };
  const executorLabels = { ...spec.executor.labels, ...input.extraPodLabels };

  const conf: Record<string, string> = {
    // The job's own properties first: everything below is owned by typed fields and wins.
    ...spec.sparkConf,
    'spark.app.name': name,
    'spark.kubernetes.namespace': app.metadata.namespace,
    'spark.kubernetes.container.image': spec.image,
    ...(spec.imagePullPolicy !== undefined ? { 'spark.kubernetes.container.image.pullPolicy': spec.imagePullPolicy } : {}),
    'spark.kubernetes.authenticate.driver.serviceAccountName': spec.driver.serviceAccount,
    'spark.kubernetes.driver.pod.name': driverPod,
    'spark.kubernetes.executor.podNamePrefix': name,
    'spark.kubernetes.driver.podTemplateFile': input.driverTemplatePath,
    'spark.kubernetes.executor.podTemplateFile': input.executorTemplatePath,
    'spark.kubernetes.driver.podTemplateContainerName': DRIVER_CONTAINER,
    'spark.kubernetes.executor.podTemplateContainerName': EXECUTOR_CONTAINER,
    // Return once the driver pod exists: Nightjar awaits the pods on its own watches.
    'spark.kubernetes.submission.waitAppCompletion': 'false',
    // Failed executors stay until cleanup, so what killed them can be read (and counted) from the pods.
    'spark.kubernetes.executor.deleteOnTermination': 'false',
    ...(spec.pythonVersion !== undefined ? { 'spark.kubernetes.pyspark.pythonVersion': spec.pythonVersion } : {}),
    ...resourceConf('driver', spec.driver),
    ...resourceConf('executor', spec.executor),
    'spark.executor.instances': String(spec.executor.instances),
    ...prefixed('spark.kubernetes.driver.label.', driverLabels),
    ...prefixed('spark.kubernetes.executor.label.', executorLabels),
    ...prefixed('spark.kubernetes.driver.annotation.', spec.driver.annotations),
    ...prefixed('spark.kubernetes.executor.annotation.', spec.executor.annotations),
    ...input.submissionConf,
  };

  const args = [
    '--master',
    input.master,
    '--deploy-mode',
    'cluster',
    '--name',
    name,
    ...Object.entries(conf).flatMap(([key, value]) => ['--conf', `${key}=${value}`]),
    spec.mainApplicationFile,
    ...spec.arguments,
  ];
  return {
    args,
    driverPodName: driverPod,
    driverTemplate: podTemplate(spec.driver, DRIVER_CONTAINER, driverLabels, specConfigMap, app),
    executorTemplate: podTemplate(spec.executor, EXECUTOR_CONTAINER, executorLabels, undefined, app),
  };
}

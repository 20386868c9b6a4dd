/**
 * What the spark-operator hands to `spark-submit` for a SparkApplication: the command's arguments
 * in the operator's order (its option functions: master, deploy mode, name, namespace, image,
 * Python version, overhead factor, no waiting for completion, the spec's `sparkConf`, the driver
 * pod's name, the driver's and the executors' resources, labels and annotations, app-level node
 * selector, the pod template files, the main file and its arguments), and the two pod templates.
 *
 * The operator's templates carry the owner reference to the SparkApplication (the driver's as its
 * controller; the executors' without, so only the driver pod is the application's controlled
 * child); what its mutating webhook adds to pods at admission (ConfigMap and spec volumes, env,
 * affinity, tolerations, node selector, priority class) the stand-in has no webhook for, so it goes
 * into the same templates. Pure: no I/O.
 */
import { z } from 'zod';
import { OperatorLabel } from './spark-objects';
import type { StoredObject } from './kube';

export const DRIVER_CONTAINER = 'spark-kubernetes-driver';
export const EXECUTOR_CONTAINER = 'spark-kubernetes-executor';
/** Spark's property naming the driver pod; the operator reads it for `driverInfo.podName`. */
const DRIVER_POD_NAME_CONF = 'spark.kubernetes.driver.pod.name';
/** The label the operator puts on pods its webhook must mutate (no pod template in the spec). */
const MUTATED_BY_OPERATOR = 'sparkoperator.k8s.io/mutated-by-spark-operator';

const loose = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);
const strings = loose(z.record(z.string(), z.string()));
const scalar = loose(z.union([z.string(), z.number()]).transform(String));

const PodSpec = z.object({
  cores: loose(z.number()),
  coreLimit: loose(z.string()),
  memory: scalar,
  memoryOverhead: scalar,
  javaOptions: loose(z.string()),
  serviceAccount: loose(z.string()),
  labels: strings,
  annotations: strings,
  configMaps: loose(z.array(z.object({ name: z.string(), path: z.string() }))),
  env: loose(z.array(z.record(z.string(), z.unknown()))),
  envFrom: loose(z.array(z.record(z.string(), z.unknown()))),
  volumeMounts: loose(z.array(z.object({ name: z.string(), mountPath: z.string() }).passthrough())),
  nodeSelector: strings,
  tolerations: loose(z.array(z.unknown())),
  affinity: loose(z.record(z.string(), z.unknown())),
  priorityClassName: loose(z.string()),
  podName: loose(z.string()),
});

const Spec = z.object({
  mode: loose(z.string()),
  image: loose(z.string()),
  imagePullPolicy: loose(z.string()),
  pythonVersion: loose(z.string()),
  memoryOverheadFactor: scalar,
  mainApplicationFile: loose(z.string()),
  arguments: loose(z.array(z.string())),
  sparkConf: strings,
  hadoopConf: strings,
  nodeSelector: strings,
  volumes: loose(z.array(z.object({ name: z.string() }).passthrough())),
  driver: PodSpec.optional().catch(undefined),
  executor: PodSpec.extend({ instances: loose(z.number().int()), deleteOnTermination: loose(z.boolean()) }).optional().catch(undefined),
});

type PodSpecValue = z.infer<typeof PodSpec>;
type SpecValue = z.infer<typeof Spec>;

export interface OperatorSubmissionInput {
  /** The SparkApplication as stored (uid, labels and spec are read). */
  readonly app: StoredObject;
  /** The operator's `status.submissionID` for this run: a fresh UUID per submission. */
  readonly submissionId: string;
  /** `k8s://https://…` */
  readonly master: string;
  readonly driverTemplatePath: string;
  readonly executorTemplatePath: string;
  /**
   * Labels for driver and executor pods beyond the operator's: what the local plane's nodes need
   * (the local runtime's `nightjar.io/runtime` label).
   */
  readonly extraPodLabels?: Readonly<Record<string, string>>;
}

export interface OperatorSubmission {
  readonly args: readonly string[];
  readonly driverTemplate: object;
  readonly executorTemplate: object;
  readonly driverPodName: string;
}

/** `util.GetDriverPodName`: `spec.driver.podName`, else the Spark property, else `<app>-driver`. */
export function operatorDriverPodName(name: string, spec: Pick<SpecValue, 'driver' | 'sparkConf'>): string {
  const fromSpec = spec.driver?.podName;
  if (fromSpec !== undefined && fromSpec !== '') return fromSpec;
  const fromConf = spec.sparkConf?.[DRIVER_POD_NAME_CONF];
  if (fromConf !== undefined && fromConf !== '') return fromConf;
  return `${name}-driver`;
}

/** The spec as the stand-in reads it; fields of the wrong type read as absent. */
export function readSubmissionSpec(app: StoredObject): SpecValue {
  const parsed = Spec.safeParse(app.spec ?? {});
  return parsed.success ? parsed.data : Spec.parse({});
}

const conf = (key: string, value: string | number | boolean): string[] => ['--conf', `${key}=${String(value)}`];
const each = (template: string, entries: Readonly<Record<string, string>> | undefined): string[] =>
  Object.entries(entries ?? {}).flatMap(([key, value]) => conf(template.replace('%s', key), value));

function roleConf(role: 'driver' | 'executor', pod: PodSpecValue | undefined, image: string | undefined, appLabels: Readonly<Record<string, string>>, name: string, submissionId: string): string[] {
  const label = `spark.kubernetes.${role}.label.%s`;
  return [
    ...conf(label.replace('%s', OperatorLabel.appName), name),
    ...conf(label.replace('%s', OperatorLabel.launchedByOperator), 'true'),
    // No pod template in the spec: the operator marks the pod for its webhook.
    ...conf(label.replace('%s', MUTATED_BY_OPERATOR), 'true'),
    ...conf(label.replace('%s', OperatorLabel.submissionId), submissionId),
    ...(image !== undefined ? conf(`spark.kubernetes.${role}.container.image`, image) : []),
    ...(pod?.cores !== undefined ? conf(`spark.${role}.cores`, pod.cores) : []),
    ...(pod?.coreLimit !== undefined ? conf(`spark.kubernetes.${role}.limit.cores`, pod.coreLimit) : []),
    ...(pod?.memory !== undefined ? conf(`spark.${role}.memory`, pod.memory) : []),
    ...(pod?.memoryOverhead !== undefined ? conf(`spark.${role}.memoryOverhead`, pod.memoryOverhead) : []),
    ...(pod?.serviceAccount !== undefined ? conf(`spark.kubernetes.authenticate.${role}.serviceAccountName`, pod.serviceAccount) : []),
    ...(pod?.javaOptions !== undefined ? conf(`spark.${role}.extraJavaOptions`, pod.javaOptions) : []),
    ...each(label, appLabels),
    ...each(label, pod?.labels),
    ...each(`spark.kubernetes.${role}.annotation.%s`, pod?.annotations),
  ];
}

/** `getConfigMapVolumeName`: `<name>-vol` (the stand-in only meets names without dots). */
function configMapVolumeName(name: string): string {
  return `${name.replace(/\./g, '-').slice(0, 59)}-vol`;
}

function podTemplate(app: StoredObject, spec: SpecValue, pod: PodSpecValue | undefined, container: string, controller: boolean): object {
  const owner = {
    apiVersion: app.apiVersion,
    kind: app.kind,
    name: app.metadata.name,
    uid: app.metadata.uid,
    ...(controller ? { controller: true, blockOwnerDeletion: true } : {}),
  };
  const byName = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
  const mounted = (pod?.volumeMounts ?? []).filter((m) => byName.has(m.name));
  const configMaps = pod?.configMaps ?? [];
  const volumes = [
    ...configMaps.map((c) => ({ name: configMapVolumeName(c.name), configMap: { name: c.name } })),
    ...[...new Set(mounted.map((m) => m.name))].map((name) => byName.get(name)),
  ];
  const mounts = [...configMaps.map((c) => ({ name: configMapVolumeName(c.name), mountPath: c.path })), ...mounted];
  const nodeSelector = { ...spec.nodeSelector, ...pod?.nodeSelector };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { ownerReferences: [owner] },
    spec: {
      ...(Object.keys(nodeSelector).length > 0 ? { nodeSelector } : {}),
      ...(pod?.affinity !== undefined ? { affinity: pod.affinity } : {}),
      ...(pod?.tolerations !== undefined ? { tolerations: pod.tolerations } : {}),
      ...(pod?.priorityClassName !== undefined ? { priorityClassName: pod.priorityClassName } : {}),
      ...(volumes.length > 0 ? { volumes } : {}),
      containers: [
        {
          name: container,
          ...(pod?.env !== undefined ? { env: pod.env } : {}),
          ...(pod?.envFrom !== undefined ? { envFrom: pod.envFrom } : {}),
          ...(mounts.length > 0 ? { volumeMounts: mounts } : {}),
        },
      ],
    },
  };
}

export function buildOperatorSubmission(input: OperatorSubmissionInput): OperatorSubmission {
  const { app, submissionId } = input;
  const spec = readSubmissionSpec(app);
  const { name, namespace } = app.metadata;
  const driverPodName = operatorDriverPodName(name, spec);
  const appLabels = { ...app.metadata.labels };
  const extra = input.extraPodLabels ?? {};
  const args = [
    '--master',
    input.master,
    '--deploy-mode',
    spec.mode ?? 'cluster',
    '--name',
    name,
    ...conf('spark.kubernetes.namespace', namespace),
    ...(spec.image !== undefined ? conf('spark.kubernetes.container.image', spec.image) : []),
    ...(spec.imagePullPolicy !== undefined ? conf('spark.kubernetes.container.image.pullPolicy', spec.imagePullPolicy) : []),
    ...(spec.pythonVersion !== undefined ? conf('spark.kubernetes.pyspark.pythonVersion', spec.pythonVersion) : []),
    ...(spec.memoryOverheadFactor !== undefined ? conf('spark.kubernetes.memoryOverheadFactor', spec.memoryOverheadFactor) : []),
    // The operator never waits for the application: it follows the pods.
    ...conf('spark.kubernetes.submission.waitAppCompletion', 'false'),
    ...Object.entries(spec.sparkConf ?? {})
      .filter(([key]) => key !== DRIVER_POD_NAME_CONF)
      .flatMap(([key, value]) => conf(key, value)),
    ...Object.entries(spec.hadoopConf ?? {}).flatMap(([key, value]) => conf(`spark.hadoop.${key}`, value)),
    ...conf(DRIVER_POD_NAME_CONF, driverPodName),
    ...roleConf('driver', spec.driver, spec.image, appLabels, name, submissionId),
    ...(spec.executor?.instances !== undefined ? conf('spark.executor.instances', spec.executor.instances) : []),
    ...roleConf('executor', spec.executor, spec.image, appLabels, name, submissionId),
    ...(spec.executor?.deleteOnTermination !== undefined ? conf('spark.kubernetes.executor.deleteOnTermination', spec.executor.deleteOnTermination) : []),
    ...each('spark.kubernetes.driver.label.%s', extra),
    ...each('spark.kubernetes.executor.label.%s', extra),
    ...each('spark.kubernetes.node.selector.%s', spec.nodeSelector),
    ...conf('spark.kubernetes.driver.podTemplateFile', input.driverTemplatePath),
    ...conf('spark.kubernetes.driver.podTemplateContainerName', DRIVER_CONTAINER),
    ...conf('spark.kubernetes.executor.podTemplateFile', input.executorTemplatePath),
    ...conf('spark.kubernetes.executor.podTemplateContainerName', EXECUTOR_CONTAINER),
    ...(spec.mainApplicationFile !== undefined ? [spec.mainApplicationFile] : []),
    ...(spec.arguments ?? []),
  ];
  return {
    args,
    driverPodName,
    driverTemplate: podTemplate(app, spec, spec.driver, DRIVER_CONTAINER, true),
    executorTemplate: podTemplate(app, spec, spec.executor, EXECUTOR_CONTAINER, false),
  };
}

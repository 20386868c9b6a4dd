/**
 * The objects spark-submit, the Spark driver and the kubelet make for one application, built as
 * JSON bodies for the API server: pods, the driver's headless Service and ConfigMaps, the pod
 * statuses the kubelet reports, and the stragglers of the `leaky` scenario.
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { SparkPodLabel } from '../src/spark/kubernetes/status';
import type { SimulatedApplication, SimulatedPodSpec } from './application';
import type { KubeObject, OwnerReference, StoredObject } from './kube';

export const DRIVER_CONTAINER = 'spark-kubernetes-driver';
export const EXECUTOR_CONTAINER = 'spark-kubernetes-executor';

/** Labels the operator puts on the pods it launches. */
export const OperatorLabel = {
  appName: 'sparkoperator.k8s.io/app-name',
  submissionId: 'sparkoperator.k8s.io/submission-id',
  launchedByOperator: 'sparkoperator.k8s.io/launched-by-spark-operator',
} as const;

/** Spark's own labels beyond {@link SparkPodLabel}. */
export const SparkLabel = {
  appName: 'spark-app-name',
  resourceProfile: 'spark-exec-resourceprofile-id',
} as const;

const DRIVER_PORTS = [
  { name: 'driver-rpc-port', containerPort: 7078, protocol: 'TCP' },
  { name: 'blockmanager', containerPort: 7079, protocol: 'TCP' },
  { name: 'spark-ui', containerPort: 4040, protocol: 'TCP' },
];
const MIN_OVERHEAD_MB = 384;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** The names and ids of one spark-submit. */
export interface Submission {
  readonly app: SimulatedApplication;
  /** `spark-<32 hex>`, Spark's application id and the `spark-app-selector` label. */
  readonly appId: string;
  readonly submissionId: string;
  readonly driverPodName: string;
  readonly driverServiceName: string;
  readonly driverConfigMapName: string;
  readonly executorConfigMapName: string;
  readonly image: string;
}

/** 16 hex digits, as Spark's `KubernetesUtils.uniqueID` makes resource names unique. */
function uniqueId(): string {
  return randomBytes(8).toString('hex');
}

function resourcePrefix(appName: string): string {
  const raw = `${appName}-${uniqueId()}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/-+/g, '-');
  return raw.replace(/^-+/, '');
}

/** A Service name: the preferred one when it is a valid DNS-1035 label, else Spark's fallback. */
function serviceName(preferred: string, suffix: string): string {
  return preferred.length <= 63 && DNS1035_LABEL.test(preferred) ? preferred : `spark-${uniqueId()}${suffix}`;
}

export function newSubmission(app: SimulatedApplication): Submission {
  const prefix = resourcePrefix(app.name);
  return {
    app,
    appId: `spark-${randomBytes(16).toString('hex')}`,
    submissionId: randomUUID(),
    driverPodName: `${app.name}-driver`,
    driverServiceName: serviceName(`${prefix}-driver-svc`, '-driver-svc'),
    driverConfigMapName: `spark-drv-${uniqueId()}-conf-map`,
    executorConfigMapName: `spark-exec-${uniqueId()}-conf-map`,
    image: app.image,
  };
}

export function controllerReference(owner: StoredObject): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
}

/** Pod memory: the JVM's plus the overhead (given, or the factor's share, at least 384 MiB). */
function podMemory(spec: SimulatedPodSpec, app: SimulatedApplication): string {
  const factor = app.memoryOverheadFactor ?? (app.type === 'Python' || app.type === 'R' ? 0.4 : 0.1);
  const overhead = spec.memoryOverheadMb ?? Math.max(MIN_OVERHEAD_MB, Math.ceil(spec.memoryMb * factor));
  return `${Math.ceil(spec.memoryMb + overhead)}Mi`;
}

function operatorLabels(sub: Submission): Record<string, string> {
  return {
    [SparkLabel.appName]: sub.app.name.slice(0, 63).replace(/[^A-Za-z0-9]+$/, ''),
    [SparkPodLabel.appSelector]: sub.appId,
    [OperatorLabel.appName]: sub.app.name.slice(0, 63).replace(/[^A-Za-z0-9]+$/, ''),
    [OperatorLabel.submissionId]: sub.submissionId,
    [OperatorLabel.launchedByOperator]: 'true',
  };
}

/** What the operator's webhook adds from the SparkApplication's pod spec. */
function placement(spec: SimulatedPodSpec): Record<string, unknown> {
  return {
    ...(spec.nodeSelector === undefined ? {} : { nodeSelector: spec.nodeSelector }),
    ...(spec.tolerations === undefined ? {} : { tolerations: spec.tolerations }),
    ...(spec.affinity === undefined ? {} : { affinity: spec.affinity }),
    ...(spec.priorityClassName === undefined ? {} : { priorityClassName: spec.priorityClassName }),
  };
}

function container(name: string, sub: Submission, spec: SimulatedPodSpec, args: readonly string[], extra: Record<string, unknown>): Record<string, unknown> {
  const memory = podMemory(spec, sub.app);
  return {
    name,
    image: sub.image,
    ...(sub.app.imagePullPolicy === undefined ? {} : { imagePullPolicy: sub.app.imagePullPolicy }),
    args,
    resources: { requests: { cpu: String(spec.cores), memory }, limits: { memory } },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    ...extra,
  };
}

function configMapVolumes(spec: SimulatedPodSpec): { volumes: unknown[]; mounts: unknown[] } {
  return {
    volumes: spec.configMaps.map((cm) => ({ name: `${cm.name}-vol`, configMap: { name: cm.name } })),
    mounts: spec.configMaps.map((cm) => ({ name: `${cm.name}-vol`, mountPath: cm.path })),
  };
}

export function driverPodBody(sub: Submission, app: StoredObject): KubeObject {
  const { driver } = sub.app;
  const configMaps = configMapVolumes(driver);
  return {
    metadata: {
      name: sub.driverPodName,
      labels: { ...driver.labels, ...operatorLabels(sub), [SparkPodLabel.role]: 'driver' },
      ...(Object.keys(driver.annotations).length > 0 ? { annotations: { ...driver.annotations } } : {}),
      ownerReferences: [controllerReference(app)],
    },
    spec: {
      containers: [
        container(
          DRIVER_CONTAINER,
          sub,
          driver,
          ['driver', '--properties-file', '/opt/spark/conf/spark.properties', '--class', 'org.apache.spark.deploy.PythonRunner', sub.app.mainApplicationFile, ...sub.app.arguments],
          {
            ports: DRIVER_PORTS,
            env: [
              { name: 'SPARK_APPLICATION_ID', value: sub.appId },
              { name: 'SPARK_DRIVER_BIND_ADDRESS', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } },
              ...driver.env,
            ],
            volumeMounts: [{ name: 'spark-conf-volume-driver', mountPath: '/opt/spark/conf' }, ...configMaps.mounts, ...driver.volumeMounts],
          },
        ),
      ],
      volumes: [{ name: 'spark-conf-volume-driver', configMap: { name: sub.driverConfigMapName } }, ...configMaps.volumes, ...sub.app.volumes],
      restartPolicy: 'Never',
      ...(driver.serviceAccount === undefined ? {} : { serviceAccountName: driver.serviceAccount }),
      ...placement(driver),
    },
  };
}

export function executorPodName(app: SimulatedApplication, id: number): string {
  return `${app.name}-exec-${id}`;
}

export function executorPodBody(sub: Submission, driverPod: StoredObject, id: number): KubeObject {
  const { executor } = sub.app;
  return {
    metadata: {
      name: executorPodName(sub.app, id),
      labels: {
        ...executor.labels,
        ...operatorLabels(sub),
        [SparkPodLabel.role]: 'executor',
        [SparkPodLabel.executorId]: String(id),
        [SparkLabel.resourceProfile]: '0',
      },
      ...(Object.keys(executor.annotations).length > 0 ? { annotations: { ...executor.annotations } } : {}),
      ownerReferences: [controllerReference(driverPod)],
    },
    spec: {
      containers: [
        container(EXECUTOR_CONTAINER, sub, executor, ['executor'], {
          ports: [{ name: 'blockmanager', containerPort: 7079, protocol: 'TCP' }],
          env: [
            { name: 'SPARK_EXECUTOR_ID', value: String(id) },
            { name: 'SPARK_APPLICATION_ID', value: sub.appId },
            { name: 'SPARK_DRIVER_URL', value: `spark://CoarseGrainedScheduler@${sub.driverServiceName}.${sub.app.namespace}.svc:7078` },
            ...executor.env,
          ],
          volumeMounts: [{ name: 'spark-conf-volume-exec', mountPath: '/opt/spark/conf' }, ...executor.volumeMounts],
        }),
      ],
      volumes: [{ name: 'spark-conf-volume-exec', configMap: { name: sub.executorConfigMapName } }, ...sub.app.volumes],
      restartPolicy: 'Never',
      hostname: executorPodName(sub.app, id).slice(0, 63).replace(/[^a-z0-9]+$/, ''),
      ...(executor.serviceAccount === undefined ? {} : { serviceAccountName: executor.serviceAccount }),
      ...placement(executor),
    },
  };
}

/** The driver's headless Service, owned by the driver pod. */
export function driverServiceBody(sub: Submission, driverPod: StoredObject): KubeObject {
  return {
    metadata: { name: sub.driverServiceName, labels: { [SparkPodLabel.appSelector]: sub.appId }, ownerReferences: [controllerReference(driverPod)] },
    spec: {
      clusterIP: 'None',
      type: 'ClusterIP',
      selector: { [SparkPodLabel.appSelector]: sub.appId, [SparkPodLabel.role]: 'driver' },
      ports: [
        { name: 'driver-rpc-port', port: 7078, targetPort: 7078, protocol: 'TCP' },
        { name: 'blockmanager', port: 7079, targetPort: 7079, protocol: 'TCP' },
        { name: 'spark-ui', port: 4040, targetPort: 4040, protocol: 'TCP' },
      ],
    },
  };
}

/** The Spark configuration files Spark mounts into its pods, owned by the driver pod. */
export function sparkConfigMapBody(sub: Submission, driverPod: StoredObject, name: string): KubeObject {
  return {
    metadata: { name, labels: { [SparkPodLabel.appSelector]: sub.appId }, ownerReferences: [controllerReference(driverPod)] },
    data: {
      'spark.properties': [
        `spark.app.id=${sub.appId}`,
        `spark.app.name=${sub.app.name}`,
        `spark.kubernetes.namespace=${sub.app.namespace}`,
        `spark.kubernetes.driver.pod.name=${sub.driverPodName}`,
        `spark.driver.host=${sub.driverServiceName}.${sub.app.namespace}.svc`,
        `spark.executor.instances=${sub.app.executor.instances}`,
      ].join('\n'),
    },
  };
}

/** A PersistentVolumeClaim and a Service with the driver's labels and no owner. */
export function stragglerBodies(sub: Submission): { readonly claim: KubeObject; readonly service: KubeObject } {
  const labels = { ...sub.app.driver.labels, [OperatorLabel.appName]: operatorLabels(sub)[OperatorLabel.appName] ?? sub.app.name };
  return {
    claim: {
      metadata: { name: `${sub.driverPodName}-pvc-0`, labels },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } }, storageClassName: 'standard', volumeMode: 'Filesystem' },
      status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '10Gi' } },
    },
    service: {
      metadata: { name: serviceName(`${sub.app.name}-ui-svc`, '-ui-svc'), labels },
      spec: {
        type: 'ClusterIP',
        selector: { [SparkPodLabel.appSelector]: sub.appId, [SparkPodLabel.role]: 'driver' },
        ports: [{ name: 'spark-driver-ui-port', port: 4040, targetPort: 4040, protocol: 'TCP' }],
      },
    },
  };
}

// ---- pod statuses, as the kubelet reports them -------------------------------------------

function condition(type: string, status: 'True' | 'False', at: string, reason?: string, message?: string): Record<string, unknown> {
  return { type, status, lastTransitionTime: at, ...(reason === undefined ? {} : { reason }), ...(message === undefined ? {} : { message }) };
}

export function podIp(): string {
  return `10.244.${randomInt(1, 255)}.${randomInt(2, 255)}`;
}

export type ContainerState =
  | { readonly waiting: { readonly reason: string; readonly message?: string } }
  | { readonly running: { readonly startedAt: string } }
  | { readonly terminated: { readonly exitCode: number; readonly reason: string; readonly startedAt: string; readonly finishedAt: string; readonly message?: string } };

export interface PodStatusInput {
  readonly container: string;
  readonly image: string;
  readonly state: ContainerState;
  readonly at: string;
  readonly startTime: string;
  readonly podIP?: string;
  /** The InternalIP of the node the scheduler bound the pod to. */
  readonly hostIP?: string;
  /** `reason` and `message` of the pod itself (eviction). */
  readonly reason?: string;
  readonly message?: string;
  readonly disruption?: { readonly reason: string; readonly message: string };
  /** The container's runtime id once it was created (see {@link newContainerId}). */
  readonly containerId?: string;
}

export function newContainerId(): string {
  return `containerd://${randomBytes(32).toString('hex')}`;
}

/** The status of a single-container pod in the given container state. */
export function podStatus(input: PodStatusInput): Record<string, unknown> {
  const { state, at, container: name } = input;
  const running = 'running' in state;
  const terminated = 'terminated' in state ? state.terminated : undefined;
  const phase = running ? 'Running' : terminated === undefined ? 'Pending' : terminated.exitCode === 0 ? 'Succeeded' : 'Failed';
  const notReady = terminated === undefined ? ['ContainersNotReady', `containers with unready status: [${name}]`] : [terminated.exitCode === 0 ? 'PodCompleted' : 'PodFailed', undefined];
  return {
    phase,
    ...(input.reason === undefined ? {} : { reason: input.reason }),
    ...(input.message === undefined ? {} : { message: input.message }),
    conditions: [
      ...(input.disruption === undefined ? [] : [condition('DisruptionTarget', 'True', at, input.disruption.reason, input.disruption.message)]),
      condition('PodReadyToStartContainers', 'waiting' in state ? 'False' : 'True', at),
      condition('Initialized', 'True', at),
      running ? condition('Ready', 'True', at) : condition('Ready', 'False', at, notReady[0], notReady[1]),
      running ? condition('ContainersReady', 'True', at) : condition('ContainersReady', 'False', at, notReady[0], notReady[1]),
      condition('PodScheduled', 'True', at),
    ],
    ...(input.hostIP === undefined ? {} : { hostIP: input.hostIP, hostIPs: [{ ip: input.hostIP }] }),
    ...(input.podIP === undefined ? {} : { podIP: input.podIP, podIPs: [{ ip: input.podIP }] }),
    startTime: input.startTime,
    containerStatuses: [
      {
        name,
        state,
        ready: running,
        restartCount: 0,
        image: input.image,
        imageID: 'waiting' in state ? '' : `${input.image}@sha256:${'0'.repeat(64)}`,
        ...('waiting' in state || input.containerId === undefined ? {} : { containerID: input.containerId }),
        started: running,
      },
    ],
    qosClass: 'Burstable',
  };
}

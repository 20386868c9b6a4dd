import { ApiException, CoreV1Api, CustomObjectsApi, Watch, type KubeConfig } from '@kubernetes/client-node';
import type { SparkJobName, SparkResources } from '../../../src/domain/spark/resources';
import { classifyApplication, type ApplicationClassification } from '../../../src/spark/kubernetes/classify';
import { attemptLabels, attemptSelector } from '../../../src/spark/kubernetes/labels';
import { LocalSparkOperator, type SparkOperatorOptions, type TimelineWhat } from '../../../local-cluster';
import { createTestNamespace, deleteTestNamespace, planeKubeConfig } from '../../support/local-plane';
import { buildSparkApplication, type SparkApplicationInput } from '../../../src/spark/kubernetes/spark-application';
import { parseEvent, parsePod, parseSparkApplication, type KubeEvent, type Pod, type SparkApplicationObject } from '../../../src/spark/kubernetes/status';

export const SPARK = { group: 'sparkoperator.k8s.io', version: 'v1beta2', plural: 'sparkapplications' } as const;
export const SPARK_API_VERSION = `${SPARK.group}/${SPARK.version}`;
export const MAIN_FILE = 'local:///opt/nightjar/spark/jobs/transform.py';

export interface SimulatedCluster {
  /** The test's own namespace on the shared plane. */
  readonly namespace: string;
  /** The operator/kubelet stand-in under test. */
  readonly simulator: LocalSparkOperator;
  readonly kubeConfig: KubeConfig;
  readonly custom: CustomObjectsApi;
  readonly core: CoreV1Api;
}

/**
 * A namespace of its own on the real plane with the operator stand-in reconciling it, per
 * cluster, started inside a test and stopped after it: the stand-in first (its errors fail the
 * test), then the namespace is deleted.
 */
export function useSimulatedClusters(): (options?: Omit<SparkOperatorOptions, 'kubeConfig' | 'namespaces'>) => Promise<SimulatedCluster> {
  const started: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of started.splice(0)) await stop();
  });
  return async (options = {}) => {
    const kubeConfig = planeKubeConfig();
    const namespace = await createTestNamespace(kubeConfig, 'nj-operator');
    const simulator = new LocalSparkOperator({ kubeConfig, namespaces: [namespace], ...options });
    started.push(async () => {
      try {
        await simulator.stop();
      } finally {
        await deleteTestNamespace(kubeConfig, namespace);
      }
    });
    await simulator.start();
    return { namespace, simulator, kubeConfig, custom: kubeConfig.makeApiClient(CustomObjectsApi), core: kubeConfig.makeApiClient(CoreV1Api) };
  };
}

export interface AttemptOptions {
  readonly job?: SparkJobName;
  readonly attempt?: number;
  readonly resources?: Partial<SparkResources>;
  /** Give the driver a spec ConfigMap holding this spec (JSON), or this text. */
  readonly spec?: Record<string, unknown> | string;
  readonly namespace?: string;
  readonly image?: string;
}

export const BASE_RESOURCES: SparkResources = {
  driverMemoryMb: 2048,
  driverCores: 1,
  executorMemoryMb: 2048,
  executorCores: 1,
  executorInstances: 2,
  memoryOverheadMb: null,
  shufflePartitions: 8,
};

export function attemptId(job: SparkJobName, attempt: number): string {
  return `nj-20261120-${job}-0a1b2c3d-a${attempt}`;
}

export function attemptInput(options: AttemptOptions = {}): SparkApplicationInput {
  const job = options.job ?? 'transform';
  const attempt = options.attempt ?? 1;
  const id = attemptId(job, attempt);
  return {
    request: {
      attemptId: id,
      workflowId: `nightjar-daily-2026-11-20-${job}`,
      businessDate: '2026-11-20',
      job,
      attempt,
      resources: { ...BASE_RESOURCES, ...options.resources },
      mainFile: MAIN_FILE,
      args: ['--spec', `/var/lib/nightjar/work/${id}/spec.json`],
      sparkConf: {},
    },
    namespace: options.namespace ?? 'nightly',
    image: options.image ?? 'registry.example.com/nightjar/spark:4.0.1-py3',
    serviceAccount: 'nightjar-spark',
    mainApplicationFile: MAIN_FILE,
    ...(options.spec === undefined ? {} : { specConfigMap: `${id}-spec` }),
    ttlSeconds: 3600,
    sparkVersion: '4.0.1',
  };
}

export interface CreatedAttempt {
  readonly name: string;
  readonly uid: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Epoch ms just before the create call. */
  readonly submittedAt: number;
}

/**
 * Creates the attempt's SparkApplication through the custom-objects API, as the platform
 * would: the spec ConfigMap first (so the driver finds it), then the application, then the
 * ConfigMap's owner reference to the application (so deleting the application removes it).
 */
export async function createAttempt(cluster: SimulatedCluster, options: AttemptOptions = {}): Promise<CreatedAttempt> {
  const input = attemptInput({ namespace: cluster.namespace, ...options });
  const body = buildSparkApplication(input);
  const labels = attemptLabels(input.request);
  const namespace = input.namespace;
  if (options.spec !== undefined && input.specConfigMap !== undefined) {
    await cluster.core.createNamespacedConfigMap({
      namespace,
      body: {
        metadata: { name: input.specConfigMap, labels },
        data: { 'spec.json': typeof options.spec === 'string' ? options.spec : JSON.stringify(options.spec) },
      },
    });
  }
  const submittedAt = Date.now();
  const created = (await cluster.custom.createNamespacedCustomObject({ ...SPARK, namespace, body })) as { metadata: { name: string; uid: string } };
  if (input.specConfigMap !== undefined && options.spec !== undefined) {
    await cluster.core.patchNamespacedConfigMap({
      namespace,
      name: input.specConfigMap,
      body: [
        {
          op: 'add',
          path: '/metadata/ownerReferences',
          value: [{ apiVersion: SPARK_API_VERSION, kind: 'SparkApplication', name: created.metadata.name, uid: created.metadata.uid, controller: true, blockOwnerDeletion: true }],
        },
      ],
    });
  }
  return { name: created.metadata.name, uid: created.metadata.uid, namespace, labels, submittedAt };
}

export async function readApplication(cluster: SimulatedCluster, name: string, namespace = cluster.namespace): Promise<SparkApplicationObject> {
  return parseSparkApplication(await cluster.custom.getNamespacedCustomObject({ ...SPARK, namespace, name }));
}

/** The raw stored SparkApplication, for fields the platform's schema does not keep. */
export async function rawApplication(cluster: SimulatedCluster, name: string): Promise<{ status?: Record<string, unknown> }> {
  return (await cluster.custom.getNamespacedCustomObject({ ...SPARK, namespace: cluster.namespace, name })) as { status?: Record<string, unknown> };
}

export async function notFound(call: Promise<unknown>): Promise<boolean> {
  try {
    await call;
    return false;
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return true;
    throw error;
  }
}

export interface Observed {
  readonly app: SparkApplicationObject;
  readonly driverPod?: Pod;
  readonly executorPods: Pod[];
  readonly events: KubeEvent[];
}

/** What the platform would gather on one poll: the application, its pods and the Events about them. */
export async function observe(cluster: SimulatedCluster, name: string): Promise<Observed> {
  const app = await readApplication(cluster, name);
  const driverName = app.status.driverInfo?.podName;
  let driverPod: Pod | undefined;
  if (driverName !== undefined) {
    try {
      driverPod = parsePod(await cluster.core.readNamespacedPod({ namespace: cluster.namespace, name: driverName }));
    } catch (error) {
      if (!(error instanceof ApiException && error.code === 404)) throw error;
    }
  }
  const executors = await cluster.core.listNamespacedPod({ namespace: cluster.namespace, labelSelector: `spark-role=executor,sparkoperator.k8s.io/app-name=${name}` });
  const events = await cluster.core.listNamespacedEvent({ namespace: cluster.namespace });
  const mine = events.items.filter((e) => {
    const subject = e.involvedObject.name ?? '';
    return subject === name || subject === driverName || subject.startsWith(`${name}-exec-`);
  });
  return {
    app,
    ...(driverPod === undefined ? {} : { driverPod }),
    executorPods: executors.items.map((p) => parsePod(p)),
    events: mine.map((e) => parseEvent(e)),
  };
}

export interface ClassifyOptions {
  readonly submittedAt: number;
  readonly now?: number;
  readonly stuckAfterMs?: number;
  readonly executorOomLimit?: number;
  readonly executorOomSeen?: number;
}

export function classify(name: string, observed: Observed, options: ClassifyOptions): ApplicationClassification {
  return classifyApplication({
    app: {
      state: observed.app.status.applicationState.state,
      ...(observed.app.status.applicationState.errorMessage === undefined ? {} : { errorMessage: observed.app.status.applicationState.errorMessage }),
    },
    ...(observed.driverPod === undefined ? {} : { driverPod: observed.driverPod }),
    executorPods: observed.executorPods,
    events: observed.events,
    applicationName: name,
    now: options.now ?? Date.now(),
    submittedAt: options.submittedAt,
    stuckAfterMs: options.stuckAfterMs ?? 60 * 60 * 1000,
    executorOomLimit: options.executorOomLimit ?? 3,
    executorOomSeen: options.executorOomSeen ?? 0,
  });
}

/** Deletes the SparkApplication with foreground propagation and waits until it and its dependents are gone. */
export async function deleteForeground(cluster: SimulatedCluster, name: string): Promise<void> {
  await cluster.custom.deleteNamespacedCustomObject({ ...SPARK, namespace: cluster.namespace, name, propagationPolicy: 'Foreground' });
  await eventually(() => notFound(cluster.custom.getNamespacedCustomObject({ ...SPARK, namespace: cluster.namespace, name })), `${name} is gone`);
}

/** `kind/name` of the pods, services, configmaps and claims matching the selector (everything when none). */
export async function remaining(cluster: SimulatedCluster, labelSelector?: string): Promise<string[]> {
  const query = { namespace: cluster.namespace, ...(labelSelector === undefined ? {} : { labelSelector }) };
  const [pods, services, configMaps, claims] = await Promise.all([
    cluster.core.listNamespacedPod(query),
    cluster.core.listNamespacedService(query),
    cluster.core.listNamespacedConfigMap(query),
    cluster.core.listNamespacedPersistentVolumeClaim(query),
  ]);
  return [
    ...pods.items.map((o) => `pods/${o.metadata?.name ?? ''}`),
    ...services.items.map((o) => `services/${o.metadata?.name ?? ''}`),
    // kube-root-ca.crt is the controller-manager's, in every namespace.
    ...configMaps.items.filter((o) => o.metadata?.name !== 'kube-root-ca.crt').map((o) => `configmaps/${o.metadata?.name ?? ''}`),
    ...claims.items.map((o) => `persistentvolumeclaims/${o.metadata?.name ?? ''}`),
  ].sort();
}

/**
 * After deleting an attempt: nothing with its labels, nothing of its Spark application, nothing
 * at all, once the garbage collector and the kubelet (kwok, for pods given a grace period) are done.
 */
export async function expectNothingLeft(cluster: SimulatedCluster, attempt: CreatedAttempt, sparkApplicationId: string | undefined): Promise<void> {
  await eventually(async () => (await remaining(cluster)).length === 0, 'the namespace is empty', 30_000).catch(() => undefined);
  expect(await remaining(cluster, attemptSelector(attempt.name))).toEqual([]);
  if (sparkApplicationId !== undefined) expect(await remaining(cluster, `spark-app-selector=${sparkApplicationId}`)).toEqual([]);
  expect(await remaining(cluster)).toEqual([]);
}

/** Polls until the condition holds (bounded). */
export async function eventually(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export function countOf(cluster: SimulatedCluster, app: string, what: TimelineWhat): number {
  return cluster.simulator.timeline.filter((e) => e.app === app && e.what === what).length;
}

/** A driver runtime that keeps running until released, to look at a running application. */
export function gate(): { readonly release: () => void; readonly opened: Promise<void> } {
  let release: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { release, opened };
}

export interface StateRecording {
  /** `status.applicationState.state` of every change seen, consecutive repeats dropped ('' before the first status). */
  readonly states: string[];
  stop(): void;
}

/** Watches one SparkApplication and records the states it goes through. */
export async function recordStates(cluster: SimulatedCluster, name: string): Promise<StateRecording> {
  const states: string[] = [];
  const controller = await new Watch(cluster.kubeConfig).watch(
    `/apis/${SPARK.group}/${SPARK.version}/namespaces/${cluster.namespace}/${SPARK.plural}`,
    { fieldSelector: `metadata.name=${name}` },
    (_type, object: { status?: { applicationState?: { state?: string } } }) => {
      const state = object.status?.applicationState?.state ?? '';
      if (states.at(-1) !== state) states.push(state);
    },
    () => undefined,
  );
  return { states, stop: () => controller.abort() };
}

/** The driver's log as the stand-in kept it (the last `tailLines` lines when given), one string like `pods/log`. */
export function driverLog(cluster: SimulatedCluster, pod: string, tailLines?: number): string {
  const lines = cluster.simulator.driverLog(cluster.namespace, pod);
  return (tailLines === undefined ? lines : lines.slice(-tailLines)).map((line) => `${line}\n`).join('');
}

/**
 * What the fault matrix's rows for the control plane itself look at and change: the Spark pods
 * of a run's namespace (where the scheduler put them, whether they are being deleted), the
 * SparkApplications under deletion, and a kwok node made NotReady through kwok's chaos stage
 * (scripts/k8s.sh: a node labelled `node-not-ready.stage.kwok.x-k8s.io=true` reports Ready=False,
 * as a node whose kubelet lost its runtime does; the controller-manager then taints it and evicts
 * its pods once their toleration runs out).
 */
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { SPARK_GROUP, SPARK_PLURAL, SPARK_VERSION } from '../../src/spark/kubernetes/kube-api';
import { eventually, planeKubeConfig } from '../support/local-plane';

export const NOT_READY_LABEL = 'node-not-ready.stage.kwok.x-k8s.io';
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const core = () => planeKubeConfig().makeApiClient(CoreV1Api);

/** The pods of one Spark role (Spark's `spark-role` label) of a job's attempts in the namespace. */
async function sparkPods(namespace: string, job: 'normalize' | 'transform', role: 'driver' | 'executor'): Promise<V1Pod[]> {
  const pods = await core().listNamespacedPod({ namespace, labelSelector: `spark-role=${role}` });
  return pods.items.filter((p) => p.metadata?.name?.includes(`-${job}-`));
}

/** The driver pods of a job's attempts in the namespace. */
export const driverPods = (namespace: string, job: 'normalize' | 'transform') => sparkPods(namespace, job, 'driver');

/** The executor pods of a job's attempts in the namespace. */
export const executorPods = (namespace: string, job: 'normalize' | 'transform') => sparkPods(namespace, job, 'executor');

/** The pid of a running container the local runtime started (its container id is `local://<pid>`). */
export function containerPid(pod: V1Pod): number | undefined {
  const id = pod.status?.containerStatuses?.[0]?.containerID;
  const match = id === undefined ? null : /^local:\/\/(\d+)$/.exec(id);
  return match === null ? undefined : Number(match[1]);
}

/** SparkApplications of the namespace that wait to be deleted (a finalizer still holds them). */
export async function applicationsBeingDeleted(namespace: string): Promise<string[]> {
  const custom = planeKubeConfig().makeApiClient(CustomObjectsApi);
  const list = (await custom.listNamespacedCustomObject({ group: SPARK_GROUP, version: SPARK_VERSION, plural: SPARK_PLURAL, namespace })) as {
    items?: { metadata?: { name?: string; deletionTimestamp?: string; finalizers?: string[] } }[];
  };
  return (list.items ?? []).filter((a) => a.metadata?.deletionTimestamp !== undefined).map((a) => `${a.metadata?.name} (finalizers ${(a.metadata?.finalizers ?? []).join(',')})`);
}

/** Sets or removes the label of kwok's chaos stage: the node reports Ready=False while it is set. */
export async function setNodeNotReady(node: string, notReady: boolean): Promise<void> {
  await core().patchNode({ name: node, body: { metadata: { labels: { [NOT_READY_LABEL]: notReady ? 'true' : null } } } }, MERGE_PATCH);
}

/** The node's Ready condition ('True', 'False', 'Unknown') and its taints' keys. */
export async function nodeState(node: string): Promise<{ ready: string | undefined; taints: string[] }> {
  const n = await core().readNode({ name: node });
  return {
    ready: n.status?.conditions?.find((c) => c.type === 'Ready')?.status,
    taints: (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`),
  };
}

/** Takes kwok's chaos label off the node and waits until it reports Ready again. */
export async function restoreNodeReady(node: string): Promise<void> {
  await setNodeNotReady(node, false);
  await eventually(`${node} to be Ready again`, async () => ((await nodeState(node)).ready === 'True' ? true : undefined), 60_000, 500);
}

/**
 * Gives the node kwok's chaos label and waits until it reports Ready=False and the
 * controller-manager has tainted it NoExecute (the eviction's clock starts there); its taints.
 */
export async function makeNodeNotReady(node: string): Promise<string[]> {
  await setNodeNotReady(node, true);
  return eventually(`${node} to be NotReady and tainted`, async () => {
    const state = await nodeState(node);
    return state.ready === 'False' && state.taints.includes('node.kubernetes.io/not-ready:NoExecute') ? state.taints : undefined;
  }, 60_000, 500);
}

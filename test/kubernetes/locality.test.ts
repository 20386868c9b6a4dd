import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { OperatorLabel } from '../../local-cluster';
import type { LocalityInput } from '../../src/spark/kubernetes/spark-application';
import { eventually } from '../support/local-plane';
import { attemptRequest, awaitOptions, describeOnPlane, useCluster, type Cluster } from './harness';

// Locality as the real kube-scheduler applies it: the SparkApplication carries node affinity on
// the zone label; the operator stand-in copies it into the driver and executor pods it creates
// without a node; the scheduler binds them to kwok nodes of scripts/k8s.sh (zone-a: kwok-a1,
// kwok-a2; zone-b: kwok-b1, kwok-b2). What is checked is where the pods were bound.
jest.setTimeout(120_000);

const ZONE = 'topology.kubernetes.io/zone';

/** Node name → zone, from the nodes' labels. */
async function zonesOfNodes(kc: KubeConfig): Promise<Map<string, string>> {
  const nodes = await kc.makeApiClient(CoreV1Api).listNode();
  return new Map(nodes.items.map((n) => [n.metadata?.name ?? '', n.metadata?.labels?.[ZONE] ?? '']));
}

/** The zones the scheduler bound the driver and both executors to, read while the application runs. */
async function boundZones(cluster: Cluster, attemptId: string): Promise<{ driver: string; executors: string[] }> {
  const core = cluster.admin.makeApiClient(CoreV1Api);
  const zones = await zonesOfNodes(cluster.admin);
  return eventually(`the driver and two executors of ${attemptId} bound to nodes`, async () => {
    const pods = await core.listNamespacedPod({ namespace: cluster.namespace, labelSelector: `${OperatorLabel.appName}=${attemptId}` });
    const bound = pods.items.filter((p) => p.spec?.nodeName !== undefined && p.spec.nodeName !== '');
    const driver = bound.find((p) => p.metadata?.labels?.['spark-role'] === 'driver');
    const executors = bound.filter((p) => p.metadata?.labels?.['spark-role'] === 'executor');
    if (driver === undefined || executors.length < 2) return undefined;
    const zoneOf = (node: string | undefined) => zones.get(node ?? '') ?? `unknown node ${node ?? ''}`;
    return { driver: zoneOf(driver.spec?.nodeName), executors: executors.map((p) => zoneOf(p.spec?.nodeName)) };
  });
}

/** Marks the nodes unschedulable (as `kubectl cordon` does) for the body, and schedulable again after. */
async function cordoned<T>(kc: KubeConfig, nodes: readonly string[], body: () => Promise<T>): Promise<T> {
  const core = kc.makeApiClient(CoreV1Api);
  const set = (unschedulable: boolean) =>
    Promise.all(nodes.map((name) => core.patchNode({ name, body: [{ op: 'replace', path: '/spec/unschedulable', value: unschedulable }] })));
  await set(true);
  try {
    return await body();
  } finally {
    await set(false);
  }
}

describeOnPlane('locality by the real scheduler', () => {
  const cluster = useCluster();
  const inZoneB = (required: boolean): { locality: LocalityInput } => ({ locality: { topologyKey: ZONE, values: ['zone-b'], required } });

  test('required: a night whose feeds sit in zone B gets its driver and executors bound to zone-B nodes', async () => {
    const c = await cluster({ scenario: 'success', timing: { runMs: 2_000 } }, inZoneB(true));
    const request = await attemptRequest(c.dir);
    const handle = await c.platform.submit(request);
    expect(await boundZones(c, request.attemptId)).toEqual({ driver: 'zone-b', executors: ['zone-b', 'zone-b'] });
    expect((await c.platform.await(handle, awaitOptions())).kind).toBe('SUCCEEDED');
    expect((await c.platform.cleanup(request.attemptId)).remaining).toBe(0);
  });

  test('preferred: zone B while it has room; with zone B full (cordoned) the pods go to zone A and the job still runs', async () => {
    const c = await cluster({ scenario: 'success', timing: { runMs: 2_000 } }, inZoneB(false));
    const first = await attemptRequest(c.dir);
    const handle = await c.platform.submit(first);
    expect(await boundZones(c, first.attemptId)).toEqual({ driver: 'zone-b', executors: ['zone-b', 'zone-b'] });
    expect((await c.platform.await(handle, awaitOptions())).kind).toBe('SUCCEEDED');
    expect((await c.platform.cleanup(first.attemptId)).remaining).toBe(0);

    const zoneB = [...(await zonesOfNodes(c.admin)).entries()].filter(([, zone]) => zone === 'zone-b').map(([node]) => node);
    expect(zoneB.length).toBeGreaterThan(0);
    await cordoned(c.admin, zoneB, async () => {
      const second = await attemptRequest(c.dir);
      const running = await c.platform.submit(second);
      expect(await boundZones(c, second.attemptId)).toEqual({ driver: 'zone-a', executors: ['zone-a', 'zone-a'] });
      expect((await c.platform.await(running, awaitOptions())).kind).toBe('SUCCEEDED');
      expect((await c.platform.cleanup(second.attemptId)).remaining).toBe(0);
    });
  });
});

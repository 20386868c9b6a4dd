import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ClusterEvent, StoredObject } from '../../../src/spark/kubernetes/fake-api';
import { NAMESPACE, SPARK, customPath, eventually, openWatch, sparkApplication, useFakeCluster } from './harness';

const cluster = useFakeCluster();

function driverPodFor(app: StoredObject): Record<string, unknown> {
  const name = `${app.metadata.name}-driver`;
  return {
    metadata: {
      name,
      labels: { 'spark-role': 'driver', 'sparkoperator.k8s.io/app-name': app.metadata.name },
      ownerReferences: [{ apiVersion: app.apiVersion, kind: app.kind, name: app.metadata.name, uid: app.metadata.uid, controller: true }],
    },
    spec: { containers: [{ name: 'spark-kubernetes-driver', image: 'nightjar/spark:1' }] },
  };
}

test('a hook playing the operator reacts to a created SparkApplication; the client watches its status move', async () => {
  const { server, custom, core, kubeConfig } = cluster();
  server.store.on('ADDED', (event: ClusterEvent) => {
    if (event.resource !== 'sparkapplications') return;
    const pod = server.store.upsert('pods', event.namespace, driverPodFor(event.object));
    server.store.patchStatus('sparkapplications', event.namespace, event.object.metadata.name, {
      applicationState: { state: 'SUBMITTED' },
      driverInfo: { podName: pod.metadata.name },
    });
  });
  const watch = await openWatch(kubeConfig, customPath(), { resourceVersion: server.resourceVersion });

  await custom.createNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, body: sparkApplication('ingest') });
  await eventually(() => watch.events.length === 2, 'ADDED and MODIFIED arrived');
  expect(watch.events.map((e) => [e.type, e.object.status?.applicationState?.state])).toEqual([
    ['ADDED', undefined],
    ['MODIFIED', 'SUBMITTED'],
  ]);
  const driver = await core.readNamespacedPod({ namespace: NAMESPACE, name: 'ingest-driver' });
  expect(driver.metadata?.ownerReferences?.[0]?.name).toBe('ingest');
  watch.controller.abort();
  await watch.done;
});

test('upsert keeps a status given by the simulator, and replacing keeps uid and creationTimestamp', async () => {
  const { server } = cluster();
  const created = server.store.upsert('pods', NAMESPACE, { metadata: { name: 'p' }, spec: { containers: [] }, status: { phase: 'Running' } });
  expect(created.status).toEqual({ phase: 'Running' });
  const replaced = server.store.upsert('pods', NAMESPACE, { metadata: { name: 'p' }, spec: { containers: [] }, status: { phase: 'Succeeded' } });
  expect(replaced.metadata.uid).toBe(created.metadata.uid);
  expect(replaced.metadata.creationTimestamp).toBe(created.metadata.creationTimestamp);
  expect(Number(replaced.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
  expect(server.store.get('pods', NAMESPACE, 'p')?.status).toEqual({ phase: 'Succeeded' });
  expect(server.store.list('pods', NAMESPACE, { fieldSelector: 'status.phase=Succeeded' }).map((p) => p.metadata.name)).toEqual(['p']);
});

test('store writes are held to the same rules as HTTP writes', async () => {
  const { server } = cluster();
  expect(() => server.store.upsert('services', NAMESPACE, { metadata: { name: 'Not_A_Label' } })).toThrow(expect.objectContaining({ code: 422 }));
  expect(() => server.store.patchStatus('sparkapplications', NAMESPACE, 'missing', { applicationState: { state: 'RUNNING' } })).toThrow(
    expect.objectContaining({ code: 404 }),
  );
});

test('store.delete cascades through owner references like an HTTP delete', async () => {
  const { server } = cluster();
  const app = server.store.upsert('sparkapplications', NAMESPACE, sparkApplication('ingest'));
  server.store.upsert('pods', NAMESPACE, driverPodFor(app));
  expect(server.store.delete('sparkapplications', NAMESPACE, 'ingest')).toBe(true);
  await server.store.idle();
  expect(server.store.list('pods', NAMESPACE)).toEqual([]);
  expect(server.store.delete('sparkapplications', NAMESPACE, 'ingest')).toBe(false);
});

test('a status written through the client is seen by the store, and hooks see MODIFIED in commit order', async () => {
  const { server, custom } = cluster();
  const states: string[] = [];
  server.store.on('MODIFIED', (event) => void states.push(String((event.object.status as { applicationState?: { state?: string } }).applicationState?.state)));
  await custom.createNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, body: sparkApplication('ingest') });
  for (const state of ['SUBMITTED', 'RUNNING', 'COMPLETED']) {
    await custom.patchNamespacedCustomObjectStatus(
      { ...SPARK, namespace: NAMESPACE, name: 'ingest', body: { status: { applicationState: { state } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
  await server.store.idle();
  expect(states).toEqual(['SUBMITTED', 'RUNNING', 'COMPLETED']);
});

test('a hook that throws makes stop() reject with its error', async () => {
  const { server } = cluster();
  server.store.on('ADDED', () => {
    throw new Error('simulator bug');
  });
  server.store.upsert('configmaps', NAMESPACE, { metadata: { name: 'a' } });
  await server.store.idle();
  await expect(server.stop()).rejects.toMatchObject({ errors: [expect.objectContaining({ message: 'simulator bug' })] });
});

import type { V1OwnerReference } from '@kubernetes/client-node';
import { NAMESPACE, SPARK, rejectionOf, sparkApplication, statusOf, useFakeCluster } from './harness';

const cluster = useFakeCluster();

function ownedBy(owner: { apiVersion: string; kind: string; metadata: { name: string; uid: string } }): V1OwnerReference[] {
  return [{ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true }];
}

/** A SparkApplication with what Spark leaves behind: driver pod (owning an executor), config map, headless service. */
async function applicationWithDependents(name: string) {
  const { custom, core } = cluster();
  const app = await custom.createNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, body: sparkApplication(name) });
  const driver = await core.createNamespacedPod({
    namespace: NAMESPACE,
    body: {
      metadata: { name: `${name}-driver`, labels: { 'spark-role': 'driver', 'sparkoperator.k8s.io/app-name': name }, ownerReferences: ownedBy(app) },
      spec: { containers: [{ name: 'spark-kubernetes-driver', image: 'nightjar/spark:1' }] },
    },
  });
  await core.createNamespacedPod({
    namespace: NAMESPACE,
    body: {
      metadata: {
        name: `${name}-exec-1`,
        labels: { 'spark-role': 'executor', 'sparkoperator.k8s.io/app-name': name },
        ownerReferences: ownedBy({ apiVersion: 'v1', kind: 'Pod', metadata: { name: driver.metadata?.name ?? '', uid: driver.metadata?.uid ?? '' } }),
      },
      spec: { containers: [{ name: 'spark-kubernetes-executor', image: 'nightjar/spark:1' }] },
    },
  });
  await core.createNamespacedConfigMap({
    namespace: NAMESPACE,
    body: { metadata: { name: `spark-drv-${name}-conf-map`, ownerReferences: ownedBy(app) }, data: { 'spark.properties': '' } },
  });
  await core.createNamespacedService({
    namespace: NAMESPACE,
    body: { metadata: { name: `${name}-driver-svc`, ownerReferences: ownedBy(app) }, spec: { clusterIP: 'None', ports: [{ port: 7078 }] } },
  });
  return app;
}

async function namesLeft(): Promise<string[]> {
  const { core } = cluster();
  const [pods, configMaps, services] = await Promise.all([
    core.listNamespacedPod({ namespace: NAMESPACE }),
    core.listNamespacedConfigMap({ namespace: NAMESPACE }),
    core.listNamespacedService({ namespace: NAMESPACE }),
  ]);
  return [...pods.items, ...configMaps.items, ...services.items].map((o) => o.metadata?.name ?? '');
}

test('CoreV1Api creates, reads and lists pods with their initial status, selectors applied', async () => {
  const { core } = cluster();
  await applicationWithDependents('ingest');
  const driver = await core.readNamespacedPod({ namespace: NAMESPACE, name: 'ingest-driver' });
  expect(driver.kind).toBe('Pod');
  expect(driver.status?.phase).toBe('Pending');
  expect(driver.metadata?.generation).toBe(1);
  // client-node turns date-time strings into Date objects for built-in types.
  expect(driver.metadata?.creationTimestamp).toBeInstanceOf(Date);

  const executors = await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'spark-role=executor' });
  expect(executors.kind).toBe('PodList');
  expect(executors.items.map((p) => p.metadata?.name)).toEqual(['ingest-exec-1']);

  await core.patchNamespacedPodStatus({ namespace: NAMESPACE, name: 'ingest-exec-1', body: [{ op: 'replace', path: '/status/phase', value: 'Running' }] });
  const running = await core.listNamespacedPod({ namespace: NAMESPACE, fieldSelector: 'status.phase=Running' });
  expect(running.items.map((p) => p.metadata?.name)).toEqual(['ingest-exec-1']);
});

test('a service name must be a DNS-1035 label; a configmap update without resourceVersion is accepted', async () => {
  const { core } = cluster();
  const error = await rejectionOf(core.createNamespacedService({ namespace: NAMESPACE, body: { metadata: { name: '2024-06-28-driver-svc' }, spec: {} } }));
  expect(error.code).toBe(422);
  expect(statusOf(error).message).toContain('a DNS-1035 label must consist of lower case alphanumeric characters');

  await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: { metadata: { name: 'settings' }, data: { a: '1' } } });
  const replaced = await core.replaceNamespacedConfigMap({ namespace: NAMESPACE, name: 'settings', body: { metadata: { name: 'settings' }, data: { a: '2' } } });
  expect(replaced.data).toEqual({ a: '2' });
});

test('delete answers with the deleted object for pods and with a Success Status for custom resources', async () => {
  const { core, custom } = cluster();
  await core.createNamespacedPod({ namespace: NAMESPACE, body: { metadata: { name: 'lonely' }, spec: { containers: [] } } });
  const pod = await core.deleteNamespacedPod({ namespace: NAMESPACE, name: 'lonely' });
  expect(pod.metadata?.name).toBe('lonely');

  const app = await custom.createNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, body: sparkApplication('ingest') });
  const status = await custom.deleteNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, name: 'ingest' });
  expect(status).toEqual({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name: 'ingest', group: 'sparkoperator.k8s.io', kind: 'sparkapplications', uid: app.metadata.uid },
  });
  const gone = await rejectionOf(core.deleteNamespacedPod({ namespace: NAMESPACE, name: 'lonely' }));
  expect(gone.code).toBe(404);
});

test('foreground deletion keeps the owner, with a deletionTimestamp, until every dependent is gone, then removes it last', async () => {
  const { custom, core, server } = cluster();
  await applicationWithDependents('ingest');
  // A finalizer on the config map holds the deletion where a test can look at it.
  await core.patchNamespacedConfigMap({
    namespace: NAMESPACE,
    name: 'spark-drv-ingest-conf-map',
    body: [{ op: 'add', path: '/metadata/finalizers', value: ['nightjar.test/hold'] }],
  });
  const deletedOrder: string[] = [];
  server.store.on('DELETED', (event) => void deletedOrder.push(`${event.resource}/${event.object.metadata.name}`));

  const answer = await custom.deleteNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, name: 'ingest', propagationPolicy: 'Foreground' });
  expect(answer.metadata.deletionTimestamp).toEqual(expect.any(String));
  expect(answer.metadata.finalizers).toEqual(['foregroundDeletion']);

  await server.store.idle();
  expect(await namesLeft()).toEqual(['spark-drv-ingest-conf-map']);
  const held = await custom.getNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, name: 'ingest' });
  expect(held.metadata.deletionTimestamp).toBe(answer.metadata.deletionTimestamp);

  await core.patchNamespacedConfigMap({ namespace: NAMESPACE, name: 'spark-drv-ingest-conf-map', body: [{ op: 'remove', path: '/metadata/finalizers' }] });
  await server.store.idle();
  expect(await namesLeft()).toEqual([]);
  const error = await rejectionOf(custom.getNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, name: 'ingest' }));
  expect(error.code).toBe(404);
  expect(deletedOrder.indexOf('pods/ingest-exec-1')).toBeLessThan(deletedOrder.indexOf('pods/ingest-driver'));
  expect(deletedOrder.at(-1)).toBe('sparkapplications/ingest');
  expect([...deletedOrder].sort()).toEqual([
    'configmaps/spark-drv-ingest-conf-map',
    'pods/ingest-driver',
    'pods/ingest-exec-1',
    'services/ingest-driver-svc',
    'sparkapplications/ingest',
  ]);
});

test('background deletion removes the owner at once and its dependents right after', async () => {
  const { custom, server } = cluster();
  await applicationWithDependents('ingest');
  await custom.deleteNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, name: 'ingest', propagationPolicy: 'Background' });
  const error = await rejectionOf(custom.getNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, name: 'ingest' }));
  expect(error.code).toBe(404);
  await server.store.idle();
  expect(await namesLeft()).toEqual([]);
});

test('orphan deletion leaves the dependents, without the owner reference', async () => {
  const { custom, core, server } = cluster();
  await applicationWithDependents('ingest');
  await custom.deleteNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, name: 'ingest', propagationPolicy: 'Orphan' });
  await server.store.idle();
  expect((await namesLeft()).sort()).toEqual(['ingest-driver', 'ingest-driver-svc', 'ingest-exec-1', 'spark-drv-ingest-conf-map']);
  const driver = await core.readNamespacedPod({ namespace: NAMESPACE, name: 'ingest-driver' });
  expect(driver.metadata?.ownerReferences).toBeUndefined();
});

test('a dependent with a second live owner loses only the reference to the deleted one', async () => {
  const { custom, core, server } = cluster();
  const first = await custom.createNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, body: sparkApplication('first') });
  const second = await custom.createNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, body: sparkApplication('second') });
  const refs = [...ownedBy(first), { ...ownedBy(second)[0], controller: false } as V1OwnerReference];
  await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: { metadata: { name: 'shared', ownerReferences: refs } } });
  await custom.deleteNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, name: 'first' });
  await server.store.idle();
  const shared = await core.readNamespacedConfigMap({ namespace: NAMESPACE, name: 'shared' });
  expect(shared.metadata?.ownerReferences?.map((r) => r.name)).toEqual(['second']);
});

test('delete preconditions on uid and resourceVersion are enforced with a 409', async () => {
  const { core } = cluster();
  const pod = await core.createNamespacedPod({ namespace: NAMESPACE, body: { metadata: { name: 'p' }, spec: { containers: [] } } });
  const error = await rejectionOf(core.deleteNamespacedPod({ namespace: NAMESPACE, name: 'p', body: { preconditions: { uid: 'someone-else' } } }));
  expect(error.code).toBe(409);
  expect(statusOf(error).message).toContain(`Precondition failed: UID in precondition: someone-else, UID in object meta: ${pod.metadata?.uid}`);
  await expect(core.deleteNamespacedPod({ namespace: NAMESPACE, name: 'p', body: { preconditions: { uid: pod.metadata?.uid } } })).resolves.toBeDefined();
});

import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { FakeKubeApiServer } from '../../../src/spark/kubernetes/fake-api';
import { NAMESPACE, SPARK, customPath, eventually, openWatch, rejectionOf, sparkApplication, statusOf, useFakeCluster } from './harness';

const cluster = useFakeCluster();
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

async function lifecycle(name: string): Promise<void> {
  const { custom } = cluster();
  await custom.createNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, body: sparkApplication(name, { job: 'ingest' }) });
  await custom.patchNamespacedCustomObjectStatus(
    { ...SPARK, namespace: NAMESPACE, name, body: { status: { applicationState: { state: 'RUNNING' } } } },
    mergePatch,
  );
  await custom.deleteNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, name });
}

test('a watch from a resourceVersion replays ADDED, MODIFIED, DELETED in order, each with a newer resourceVersion', async () => {
  const { kubeConfig, server } = cluster();
  const from = server.resourceVersion;
  await lifecycle('ingest-20240628');

  const watch = await openWatch(kubeConfig, customPath(), { resourceVersion: from });
  await eventually(() => watch.events.length === 3, 'three events arrived');
  expect(watch.events.map((e) => [e.type, e.object.metadata.name])).toEqual([
    ['ADDED', 'ingest-20240628'],
    ['MODIFIED', 'ingest-20240628'],
    ['DELETED', 'ingest-20240628'],
  ]);
  expect(watch.events[1]?.object.status).toEqual({ applicationState: { state: 'RUNNING' } });
  const versions = watch.events.map((e) => Number(e.object.metadata.resourceVersion));
  expect(versions).toEqual([...versions].sort((a, b) => a - b));
  expect(new Set(versions).size).toBe(3);
  expect(String(versions.at(-1))).toBe(server.resourceVersion);
  watch.controller.abort();
  await watch.done;
});

test('a live watch sees changes as they happen; leaving or entering the label selector reads as DELETED or ADDED', async () => {
  const { kubeConfig, custom, server } = cluster();
  const watch = await openWatch(kubeConfig, customPath(), { resourceVersion: server.resourceVersion, labelSelector: 'stage=running' });
  await custom.createNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, body: sparkApplication('a', { stage: 'submitted' }) });
  await custom.createNamespacedCustomObject({ ...SPARK, namespace: 'other', body: sparkApplication('a', { stage: 'running' }) });
  const relabel = (stage: string) =>
    custom.patchNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, name: 'a', body: { metadata: { labels: { stage } } } }, mergePatch);
  await relabel('running');
  await custom.patchNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, name: 'a', body: { spec: { image: 'v2' } } }, mergePatch);
  await relabel('done');
  await eventually(() => watch.events.length === 3, 'three events arrived');
  expect(watch.events.map((e) => [e.type, e.object.metadata.labels.stage])).toEqual([
    ['ADDED', 'running'],
    ['MODIFIED', 'running'],
    ['DELETED', 'done'],
  ]);
  watch.controller.abort();
  await watch.done;
});

test('a watch without a resourceVersion starts with the current objects as ADDED events', async () => {
  const { kubeConfig, custom } = cluster();
  await custom.createNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, body: sparkApplication('a') });
  await custom.createNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, body: sparkApplication('b') });
  const watch = await openWatch(kubeConfig, customPath());
  await eventually(() => watch.events.length === 2, 'the current state arrived');
  expect(watch.events.map((e) => [e.type, e.object.metadata.name])).toEqual([
    ['ADDED', 'a'],
    ['ADDED', 'b'],
  ]);
  watch.controller.abort();
  await watch.done;
});

test('sendInitialEvents ends the initial state with a BOOKMARK annotated k8s.io/initial-events-end', async () => {
  const { kubeConfig, custom, server } = cluster();
  await custom.createNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, body: sparkApplication('a') });
  const watch = await openWatch(kubeConfig, customPath(), { sendInitialEvents: true, allowWatchBookmarks: true, resourceVersionMatch: 'NotOlderThan' });
  await eventually(() => watch.events.length === 2, 'state and bookmark arrived');
  expect(watch.events[1]).toEqual({
    type: 'BOOKMARK',
    object: {
      kind: 'SparkApplication',
      apiVersion: 'sparkoperator.k8s.io/v1beta2',
      metadata: { resourceVersion: server.resourceVersion, annotations: { 'k8s.io/initial-events-end': 'true' } },
    },
  });
  watch.controller.abort();
  await watch.done;
});

test('timeoutSeconds ends the stream cleanly; a watch on a named object sees only that object', async () => {
  const { kubeConfig, server } = cluster();
  const timed = await openWatch(kubeConfig, `/api/v1/namespaces/${NAMESPACE}/configmaps`, { resourceVersion: server.resourceVersion, timeoutSeconds: 1 });
  const single = await openWatch(kubeConfig, `/api/v1/namespaces/${NAMESPACE}/configmaps/wanted`, { resourceVersion: server.resourceVersion });
  server.store.upsert('configmaps', NAMESPACE, { metadata: { name: 'other' } });
  server.store.upsert('configmaps', NAMESPACE, { metadata: { name: 'wanted' } });
  await expect(timed.done).resolves.toBeNull();
  expect(timed.events.map((e) => e.object.metadata.name)).toEqual(['other', 'wanted']);
  expect(single.events.map((e) => e.object.metadata.name)).toEqual(['wanted']);
  single.controller.abort();
  await single.done;
});

test('cutWatches() drops the stream abruptly and the done callback fires', async () => {
  const { kubeConfig, server } = cluster();
  const watch = await openWatch(kubeConfig, customPath(), { resourceVersion: server.resourceVersion });
  await eventually(() => server.openWatches === 1, 'the watch is open');
  expect(server.cutWatches()).toBe(1);
  // The chunked body never got its terminating chunk: node-fetch, under client-node, says so.
  await expect(watch.done).resolves.toMatchObject({ message: 'Premature close' });
  expect(server.openWatches).toBe(0);
});

test('stop() ends open watches cleanly: the done callback fires', async () => {
  const { kubeConfig, server } = cluster();
  const watch = await openWatch(kubeConfig, `/api/v1/namespaces/${NAMESPACE}/pods`, { resourceVersion: server.resourceVersion });
  await eventually(() => server.openWatches === 1, 'the watch is open');
  await server.stop();
  await expect(watch.done).resolves.toBeNull();
});

test('a watch from an expired resourceVersion gets one ERROR event with a 410 Expired Status, and the stream ends', async () => {
  const { kubeConfig, server, custom } = cluster();
  const from = server.resourceVersion;
  await lifecycle('a');
  await lifecycle('b');
  server.expireResourceVersionsBefore(server.resourceVersion);

  const watch = await openWatch(kubeConfig, customPath(), { resourceVersion: from });
  const outcome = await watch.done;
  expect(outcome).toBeNull();
  expect(watch.events).toEqual([
    {
      type: 'ERROR',
      object: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${from} (${server.resourceVersion})`,
        reason: 'Expired',
        code: 410,
      },
    },
  ]);

  const list = await rejectionOf(custom.listNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, resourceVersion: from, resourceVersionMatch: 'Exact' }));
  expect(list.code).toBe(410);
  expect(statusOf(list).reason).toBe('Expired');
});

test('history past historyLimit expires by itself, as etcd compaction does', async () => {
  const small = new FakeKubeApiServer({ historyLimit: 2 });
  await small.start();
  try {
    const kubeConfig = small.kubeConfig();
    const path = `/api/v1/namespaces/${NAMESPACE}/configmaps`;
    const from = small.resourceVersion;
    for (const name of ['a', 'b', 'c']) small.store.upsert('configmaps', NAMESPACE, { metadata: { name } });

    const expiredWatch = await openWatch(kubeConfig, path, { resourceVersion: from });
    await expiredWatch.done;
    expect(expiredWatch.events.map((e) => [e.type, e.object.code])).toEqual([['ERROR', 410]]);

    const recent = await openWatch(kubeConfig, path, { resourceVersion: String(Number(small.resourceVersion) - 2) });
    await eventually(() => recent.events.length === 2, 'the retained changes arrived');
    expect(recent.events.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['ADDED', 'b'],
      ['ADDED', 'c'],
    ]);
  } finally {
    await small.stop();
  }
});

import { NAMESPACE, rejectionOf, statusOf, useFakeCluster } from './harness';

const cluster = useFakeCluster();

async function createPod(name: string, containers: string[] = ['spark-kubernetes-driver']): Promise<void> {
  await cluster().core.createNamespacedPod({
    namespace: NAMESPACE,
    body: { metadata: { name }, spec: { containers: containers.map((c) => ({ name: c, image: 'nightjar/spark:1' })) } },
  });
}

test('readNamespacedPodLog returns the appended lines as plain text, newline-terminated', async () => {
  const { server, core } = cluster();
  await createPod('ingest-driver');
  expect(server.podLogs.append(NAMESPACE, 'ingest-driver', 'starting')).toBe(true);
  server.podLogs.append(NAMESPACE, 'ingest-driver', 'stage 1\nstage 2');

  const text = await core.readNamespacedPodLog({ namespace: NAMESPACE, name: 'ingest-driver' });
  expect(text).toBe('starting\nstage 1\nstage 2\n');
  expect(server.podLogs.get(NAMESPACE, 'ingest-driver')).toBe(text);
});

test('tailLines keeps the last lines and limitBytes cuts what is returned', async () => {
  const { server, core } = cluster();
  await createPod('ingest-driver');
  for (const line of ['one', 'two', 'three', 'four']) server.podLogs.append(NAMESPACE, 'ingest-driver', line);

  await expect(core.readNamespacedPodLog({ namespace: NAMESPACE, name: 'ingest-driver', tailLines: 2 })).resolves.toBe('three\nfour\n');
  await expect(core.readNamespacedPodLog({ namespace: NAMESPACE, name: 'ingest-driver', tailLines: 0 })).resolves.toBe('');
  await expect(core.readNamespacedPodLog({ namespace: NAMESPACE, name: 'ingest-driver', tailLines: 2, limitBytes: 7 })).resolves.toBe('three\nf');

  const negative = await rejectionOf(core.readNamespacedPodLog({ namespace: NAMESPACE, name: 'ingest-driver', tailLines: -1 }));
  expect(negative.code).toBe(422);
  expect(statusOf(negative).message).toContain('tailLines: Invalid value: -1');
});

test('an empty log reads as an empty string', async () => {
  const { core } = cluster();
  await createPod('quiet-driver');
  await expect(core.readNamespacedPodLog({ namespace: NAMESPACE, name: 'quiet-driver' })).resolves.toBe('');
});

test('a missing pod answers 404 with a NotFound Status, and appending to it keeps nothing', async () => {
  const { server, core } = cluster();
  expect(server.podLogs.append(NAMESPACE, 'ghost-driver', 'boo')).toBe(false);
  const error = await rejectionOf(core.readNamespacedPodLog({ namespace: NAMESPACE, name: 'ghost-driver' }));
  expect(error.code).toBe(404);
  expect(statusOf(error)).toMatchObject({ reason: 'NotFound', message: 'pods "ghost-driver" not found', details: { name: 'ghost-driver', kind: 'pods' } });

  await createPod('ghost-driver');
  await expect(core.readNamespacedPodLog({ namespace: NAMESPACE, name: 'ghost-driver' })).resolves.toBe('');
});

test('the log is forgotten when the pod is deleted: a new pod of the same name starts empty', async () => {
  const { server, core } = cluster();
  await createPod('ingest-driver');
  server.podLogs.append(NAMESPACE, 'ingest-driver', 'first life');
  await core.deleteNamespacedPod({ namespace: NAMESPACE, name: 'ingest-driver' });
  expect(server.podLogs.get(NAMESPACE, 'ingest-driver')).toBe('');

  await createPod('ingest-driver');
  await expect(core.readNamespacedPodLog({ namespace: NAMESPACE, name: 'ingest-driver' })).resolves.toBe('');
});

test('containers are chosen by name; several containers need one, an unknown one is refused', async () => {
  const { server, core } = cluster();
  await createPod('sidecar-driver', ['spark-kubernetes-driver', 'log-shipper']);
  server.podLogs.append(NAMESPACE, 'sidecar-driver', 'driver line', 'spark-kubernetes-driver');
  server.podLogs.append(NAMESPACE, 'sidecar-driver', 'shipper line', 'log-shipper');

  await expect(core.readNamespacedPodLog({ namespace: NAMESPACE, name: 'sidecar-driver', container: 'log-shipper' })).resolves.toBe('shipper line\n');
  const unnamed = await rejectionOf(core.readNamespacedPodLog({ namespace: NAMESPACE, name: 'sidecar-driver' }));
  expect(unnamed.code).toBe(400);
  expect(statusOf(unnamed).message).toBe('a container name must be specified for pod sidecar-driver, choose one of: [spark-kubernetes-driver log-shipper]');
  const unknown = await rejectionOf(core.readNamespacedPodLog({ namespace: NAMESPACE, name: 'sidecar-driver', container: 'nope' }));
  expect(unknown.code).toBe(400);
  expect(statusOf(unknown).message).toBe('container nope is not valid for pod sidecar-driver');
  expect(() => server.podLogs.append(NAMESPACE, 'sidecar-driver', 'which one?')).toThrow(/container name must be specified/);
});

test('a container still waiting to start has no log yet: 400, as the kubelet answers', async () => {
  const { server, core } = cluster();
  await createPod('pulling-driver');
  server.store.patchStatus('pods', NAMESPACE, 'pulling-driver', {
    phase: 'Pending',
    containerStatuses: [{ name: 'spark-kubernetes-driver', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } }],
  });
  const error = await rejectionOf(core.readNamespacedPodLog({ namespace: NAMESPACE, name: 'pulling-driver' }));
  expect(error.code).toBe(400);
  expect(statusOf(error).message).toBe('container "spark-kubernetes-driver" in pod "pulling-driver" is waiting to start: trying and failing to pull image');
});

test('log reads are recorded as get pods/log and faults can target them', async () => {
  const { server, core } = cluster();
  await createPod('ingest-driver');
  server.podLogs.append(NAMESPACE, 'ingest-driver', 'hello');
  server.clearRequests();

  server.faults.next({ verb: 'get', resource: 'pods/log', status: 503 });
  expect((await rejectionOf(core.readNamespacedPodLog({ namespace: NAMESPACE, name: 'ingest-driver' }))).code).toBe(503);
  // A plain get of the pod is not a log read: the fault is used up, and would not have matched it anyway.
  await expect(core.readNamespacedPod({ namespace: NAMESPACE, name: 'ingest-driver' })).resolves.toBeDefined();
  await expect(core.readNamespacedPodLog({ namespace: NAMESPACE, name: 'ingest-driver', tailLines: 1 })).resolves.toBe('hello\n');

  expect(server.requests().map((r) => [r.verb, r.resource, r.name, r.status, r.fault])).toEqual([
    ['get', 'pods/log', 'ingest-driver', 503, 'status'],
    ['get', 'pods', 'ingest-driver', 200, undefined],
    ['get', 'pods/log', 'ingest-driver', 200, undefined],
  ]);
  expect(server.requests()[2]?.query).toEqual({ tailLines: '1' });
  expect(server.requestCounts()['get pods/log']).toBe(2);
});

test('a fault on pods/log does not hit plain pod reads, and a connection reset drops the log answer', async () => {
  const { server, core } = cluster();
  await createPod('ingest-driver');
  server.faults.next({ verb: 'get', resource: 'pods/log', status: 500 });
  await expect(core.readNamespacedPod({ namespace: NAMESPACE, name: 'ingest-driver' })).resolves.toBeDefined();
  expect(server.faults.pending).toBe(1);
  server.faults.clear();

  server.faults.resetConnection({ resource: 'pods/log', when: 'after' });
  await expect(core.readNamespacedPodLog({ namespace: NAMESPACE, name: 'ingest-driver' })).rejects.toThrow();
  expect(server.requests().at(-1)).toMatchObject({ resource: 'pods/log', status: 0, fault: 'reset-after' });
});

test('the log subresource is read-only and exists only for pods', async () => {
  const { server } = cluster();
  await createPod('ingest-driver');
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Authorization: `Bearer ${server.token}` };
  const put = await fetch(`${server.url}/api/v1/namespaces/${NAMESPACE}/pods/ingest-driver/log`, { method: 'PUT', headers, body: '{}' });
  expect(put.status).toBe(405);
  const services = await fetch(`${server.url}/api/v1/namespaces/${NAMESPACE}/services/any/log`, { headers });
  expect(services.status).toBe(404);
  const get = await fetch(`${server.url}/api/v1/namespaces/${NAMESPACE}/pods/ingest-driver/log`, { headers });
  expect(get.status).toBe(200);
  expect(get.headers.get('content-type')).toBe('text/plain');
});

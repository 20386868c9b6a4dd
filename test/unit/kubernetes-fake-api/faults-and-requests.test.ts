import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { FaultInjector, type FaultTarget } from '../../../src/spark/kubernetes/fake-api/faults';
import { NAMESPACE, SPARK, customPath, openWatch, rejectionOf, sparkApplication, statusOf, useFakeCluster } from './harness';

const cluster = useFakeCluster();

const create = (name: string) => cluster().custom.createNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, body: sparkApplication(name) });

test('an injected 429 surfaces as ApiException 429 with Retry-After; the retry succeeds and both creates are counted', async () => {
  const { server } = cluster();
  server.faults.next({ verb: 'create', resource: 'sparkapplications', status: 429, retryAfterSeconds: 2 });
  const error = await rejectionOf(create('ingest'));
  expect(error.code).toBe(429);
  expect(error.headers['retry-after']).toBe('2');
  expect(statusOf(error)).toMatchObject({ reason: 'TooManyRequests', code: 429, details: { retryAfterSeconds: 2 } });

  await expect(create('ingest')).resolves.toMatchObject({ metadata: { name: 'ingest' } });
  expect(server.requestCounts()['create sparkapplications']).toBe(2);
  expect(server.requests().map((r) => [r.verb, r.status, r.fault])).toEqual([
    ['create', 429, 'status'],
    ['create', 201, undefined],
  ]);
});

test('an injected 500 on a method and path pattern fails exactly `times` matching requests', async () => {
  const { server, custom } = cluster();
  await create('ingest');
  server.faults.next({ method: 'GET', pathPattern: /\/sparkapplications\/ingest$/, status: 500, times: 2 });
  const get = () => custom.getNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, name: 'ingest' });
  // The collection path does not match the pattern.
  await expect(custom.listNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE })).resolves.toMatchObject({ kind: 'SparkApplicationList' });
  expect((await rejectionOf(get())).code).toBe(500);
  const second = await rejectionOf(get());
  expect(statusOf(second)).toMatchObject({ reason: 'InternalError', code: 500 });
  await expect(get()).resolves.toMatchObject({ metadata: { name: 'ingest' } });
  expect(server.faults.pending).toBe(0);
});

test('an injected 503 on a watch reaches the done callback with its status code', async () => {
  const { server, kubeConfig } = cluster();
  server.faults.next({ verb: 'watch', status: 503 });
  const watch = await openWatch(kubeConfig, customPath(), { resourceVersion: server.resourceVersion });
  await expect(watch.done).resolves.toMatchObject({ statusCode: 503 });
  expect(watch.events).toEqual([]);
});

test('a connection reset after handling: the create happened, the client saw an error, and its retry gets 409', async () => {
  const { server, custom } = cluster();
  server.faults.resetConnection({ verb: 'create', when: 'after' });
  await expect(create('ingest')).rejects.toThrow();
  const retry = await rejectionOf(create('ingest'));
  expect(retry.code).toBe(409);
  await expect(custom.getNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, name: 'ingest' })).resolves.toBeDefined();
  expect(server.requests().map((r) => [r.verb, r.status, r.fault])).toEqual([
    ['create', 0, 'reset-after'],
    ['create', 409, undefined],
    ['get', 200, undefined],
  ]);
});

test('a connection reset before handling leaves nothing behind', async () => {
  const { server, custom } = cluster();
  server.faults.resetConnection({ verb: 'create', when: 'before' });
  await expect(create('ingest')).rejects.toThrow();
  expect((await rejectionOf(custom.getNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, name: 'ingest' }))).code).toBe(404);
});

test('a fault armed withinMs lapses unmet: faults armed faster than a client asks never pile up into a lasting outage', () => {
  let now = 0;
  const faults = new FaultInjector(() => now);
  const get: FaultTarget = { method: 'GET', path: `/apis/sparkoperator.k8s.io/v1beta2/namespaces/${NAMESPACE}/sparkapplications/a`, verb: 'get', resource: 'sparkapplications' };
  // A client polling every 2 s while a fault episode starts every 700 ms.
  let met = 0;
  let asked = 0;
  for (now = 0; now < 60_000; now += 700) {
    faults.next({ status: 503, times: 2, withinMs: 700 });
    if (now % 2_100 === 0) {
      asked += 1;
      if (faults.take(get)) met += 1;
    }
  }
  expect(faults.pending).toBeLessThanOrEqual(2);
  expect(met).toBe(asked); // every request within an episode still meets it

  // Without withinMs the same rhythm leaves a backlog that fails every request long after the episodes.
  const owed = new FaultInjector(() => now);
  for (now = 0; now < 60_000; now += 700) owed.next({ status: 503, times: 2 });
  expect(owed.pending).toBeGreaterThan(150);
  now += 3_600_000;
  expect(owed.take(get)).toEqual({ kind: 'status', status: 503 });
});

test('a lapsing fault fails requests until its time is up, then none; withinMs must be positive', () => {
  let now = 1_000;
  const faults = new FaultInjector(() => now);
  const target: FaultTarget = { method: 'GET', path: '/api/v1/namespaces/x/pods', verb: 'list', resource: 'pods' };
  faults.resetConnection({ when: 'before', times: 3, withinMs: 500 });
  expect(faults.take(target)).toEqual({ kind: 'reset', when: 'before' });
  now += 499;
  expect(faults.pending).toBe(2);
  expect(faults.take(target)).toEqual({ kind: 'reset', when: 'before' });
  now += 1;
  expect(faults.pending).toBe(0);
  expect(faults.take(target)).toBeUndefined();
  expect(() => faults.next({ status: 500, withinMs: 0 })).toThrow(/withinMs/);
});

test('the request counter keys by verb and resource, the status subresource and watches included', async () => {
  const { server, custom, core, kubeConfig } = cluster();
  await create('ingest');
  await custom.patchNamespacedCustomObjectStatus({
    ...SPARK,
    namespace: NAMESPACE,
    name: 'ingest',
    body: [{ op: 'add', path: '/status', value: { applicationState: { state: 'SUBMITTED' } } }],
  });
  await custom.getNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, name: 'ingest' });
  await core.listNamespacedPod({ namespace: NAMESPACE });
  const watch = await openWatch(kubeConfig, customPath(), { resourceVersion: server.resourceVersion });
  watch.controller.abort();
  await watch.done;
  expect(server.requestCounts()).toEqual({
    'create sparkapplications': 1,
    'patch sparkapplications/status': 1,
    'get sparkapplications': 1,
    'list pods': 1,
    'watch sparkapplications': 1,
  });
  server.clearRequests();
  expect(server.requests()).toEqual([]);
});

test('a request without the kubeconfig token is a 401 Unauthorized', async () => {
  const { server } = cluster();
  const stranger = new KubeConfig();
  stranger.loadFromOptions({
    clusters: [{ name: 'c', server: server.url, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'wrong' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const error = await rejectionOf(stranger.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: NAMESPACE }));
  expect(error.code).toBe(401);
});

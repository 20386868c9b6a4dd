import pino, { type Logger } from 'pino';
import {
  ResourceWatch,
  backoffDelayMs,
  type ResourceWatchEvent,
  type ResourceWatchOptions,
  type WatchedObject,
} from '../../../src/spark/kubernetes/resource-watch';
import { NAMESPACE, customPath, eventually, sparkApplication, useFakeCluster } from '../kubernetes-fake-api/harness';

interface App extends WatchedObject {
  readonly status?: { readonly applicationState?: { readonly state?: string } };
}

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly delayMs?: number;
  readonly [field: string]: unknown;
}

const started: ResourceWatch<App>[] = [];
// Declared before the fake cluster so that watches stop before the server does.
afterEach(async () => {
  await Promise.all(started.splice(0).map((watch) => watch.stop()));
});
const cluster = useFakeCluster();

function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

/** A started watch of the SparkApplications in the test namespace, with small deterministic backoff. */
function watchApps(options: Partial<ResourceWatchOptions> = {}): ResourceWatch<App> {
  const watch = new ResourceWatch<App>({
    kubeConfig: cluster().kubeConfig,
    path: customPath(),
    name: 'sparkapplications',
    backoff: { initialMs: 5, maxMs: 40, jitter: 0 },
    ...options,
  });
  started.push(watch);
  watch.start();
  return watch;
}

function recordChanges(watch: ResourceWatch<App>): Array<[ResourceWatchEvent<App>['type'], string | undefined]> {
  const seen: Array<[ResourceWatchEvent<App>['type'], string | undefined]> = [];
  watch.onChange((event) => seen.push([event.type, event.object.metadata?.name]));
  return seen;
}

function upsertApp(name: string, labels: Record<string, string> = {}): string {
  return cluster().server.store.upsert('sparkapplications', NAMESPACE, sparkApplication(name, labels)).metadata.resourceVersion ?? '';
}

function count(key: string): number {
  return cluster().server.requestCounts()[key] ?? 0;
}

function watchRequests(): Array<Readonly<Record<string, string>>> {
  return cluster()
    .server.requests()
    .filter((r) => r.verb === 'watch')
    .map((r) => r.query);
}

async function expectSynced(watch: ResourceWatch<App>): Promise<void> {
  await expect(watch.waitForSync(5000)).resolves.toBe(true);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('the initial list fills the cache as ADDED events, then watch events keep it current', async () => {
  upsertApp('a');
  upsertApp('b');
  const watch = new ResourceWatch<App>({ kubeConfig: cluster().kubeConfig, path: customPath(), name: 'apps' });
  started.push(watch);
  const seen = recordChanges(watch);
  watch.start();
  watch.start();
  await expectSynced(watch);
  expect(watch.list().map((o) => o.metadata?.name)).toEqual(['a', 'b']);
  expect(seen).toEqual([
    ['ADDED', 'a'],
    ['ADDED', 'b'],
  ]);

  const { store } = cluster().server;
  upsertApp('c');
  store.patchStatus('sparkapplications', NAMESPACE, 'a', { applicationState: { state: 'RUNNING' } });
  store.delete('sparkapplications', NAMESPACE, 'b');
  await eventually(() => seen.length === 5, 'three more changes arrived');
  expect(seen.slice(2)).toEqual([
    ['ADDED', 'c'],
    ['MODIFIED', 'a'],
    ['DELETED', 'b'],
  ]);
  expect(watch.get('a')?.status?.applicationState?.state).toBe('RUNNING');
  expect(watch.get('b')).toBeUndefined();
  expect(watch.list().map((o) => o.metadata?.name).sort()).toEqual(['a', 'c']);

  expect(watchRequests()).toEqual([
    expect.objectContaining({ watch: 'true', allowWatchBookmarks: 'true', timeoutSeconds: '290', resourceVersion: expect.stringMatching(/^\d+$/) }),
  ]);
  expect(watch.stats()).toMatchObject({ lists: 1, watchesOpened: 1, relists: 0, errors: 0, reconnects: 0, connected: true });
  expect(watch.stats().lastEventAt).toEqual(expect.any(Number));
});

test('a cut watch resumes from the last resourceVersion without relisting, and changes made meanwhile arrive', async () => {
  const watch = watchApps();
  const seen = recordChanges(watch);
  const syncChanges: boolean[] = [];
  watch.onSyncChange((synced) => syncChanges.push(synced));
  await expectSynced(watch);
  const lastSeen = upsertApp('a');
  await eventually(() => seen.length === 1, 'a arrived');

  const { server } = cluster();
  expect(server.cutWatches()).toBe(1);
  // Synchronous after the cut: the server has no watch open while these happen.
  upsertApp('b');
  server.store.patchStatus('sparkapplications', NAMESPACE, 'a', { applicationState: { state: 'RUNNING' } });
  server.store.delete('sparkapplications', NAMESPACE, 'b');

  await eventually(() => seen.length === 4, 'the changes made while disconnected arrived');
  expect(seen).toEqual([
    ['ADDED', 'a'],
    ['ADDED', 'b'],
    ['MODIFIED', 'a'],
    ['DELETED', 'b'],
  ]);
  expect(watchRequests().map((q) => q.resourceVersion)).toEqual([expect.any(String), lastSeen]);
  expect(count('list sparkapplications')).toBe(1);
  expect(watch.stats()).toMatchObject({ lists: 1, relists: 0, reconnects: 1, watchesOpened: 2, errors: 0 });
  // The watch had delivered events: an immediate resume, never reported as out of sync.
  expect(syncChanges).toEqual([true]);
});

test('a watch cut before it delivered anything resumes after a backoff, still without relisting', async () => {
  const { logger, lines } = capturingLogger();
  const watch = watchApps({ logger });
  await expectSynced(watch);
  await eventually(() => cluster().server.openWatches === 1, 'the watch is open');
  cluster().server.cutWatches();
  upsertApp('a');
  await eventually(() => watch.get('a') !== undefined, 'a arrived after the resume');
  expect(lines).toContainEqual(expect.objectContaining({ msg: 'the watch ended before delivering anything', delayMs: 5 }));
  expect(count('list sparkapplications')).toBe(1);
  expect(watch.stats()).toMatchObject({ relists: 0, reconnects: 1, errors: 1 });
});

test('an expired resourceVersion (ERROR 410) relists and emits DELETED for objects removed while disconnected', async () => {
  upsertApp('a');
  upsertApp('b');
  const watch = watchApps();
  await expectSynced(watch);
  const seen = recordChanges(watch);
  const { server } = cluster();

  server.cutWatches();
  server.store.delete('sparkapplications', NAMESPACE, 'b');
  server.store.patchStatus('sparkapplications', NAMESPACE, 'a', { applicationState: { state: 'RUNNING' } });
  upsertApp('c');
  server.expireResourceVersionsBefore(server.resourceVersion);

  await eventually(() => watch.stats().relists === 1 && watch.synced, 'the watch relisted and resynced');
  expect([...seen].sort()).toEqual([
    ['ADDED', 'c'],
    ['DELETED', 'b'],
    ['MODIFIED', 'a'],
  ]);
  expect(watch.list().map((o) => o.metadata?.name).sort()).toEqual(['a', 'c']);
  expect(watch.get('a')?.status?.applicationState?.state).toBe('RUNNING');
  expect(count('list sparkapplications')).toBe(2);
  // The watch after the relist starts from the relist's resourceVersion, which is not expired.
  expect(watchRequests().at(-1)?.resourceVersion).toBe(server.resourceVersion);

  upsertApp('d');
  await eventually(() => watch.get('d') !== undefined, 'd arrived on the new watch');
});

test('500s and a 429 on the list are retried with a growing, capped backoff until the list succeeds', async () => {
  const { server } = cluster();
  server.faults.next({ verb: 'list', resource: 'sparkapplications', status: 500, times: 3 });
  server.faults.next({ verb: 'list', resource: 'sparkapplications', status: 429 });
  upsertApp('a');
  const { logger, lines } = capturingLogger();
  const watch = watchApps({ logger, backoff: { initialMs: 5, maxMs: 20, jitter: 0 } });
  await expectSynced(watch);
  expect(watch.get('a')).toBeDefined();
  expect(count('list sparkapplications')).toBe(5);
  expect(lines.filter((l) => l.msg === 'list failed').map((l) => [l.statusCode, l.delayMs])).toEqual([
    [500, 5],
    [500, 10],
    [500, 20],
    [429, 20],
  ]);
  expect(watch.stats()).toMatchObject({ lists: 1, errors: 4, relists: 0 });
});

test('a list that keeps failing is retried forever, never faster than the backoff allows', async () => {
  const { server } = cluster();
  server.faults.next({ verb: 'list', resource: 'sparkapplications', status: 503, times: 10_000 });
  const { logger, lines } = capturingLogger();
  const began = Date.now();
  const watch = watchApps({ logger, backoff: { initialMs: 10, maxMs: 40, jitter: 0 } });
  await eventually(() => count('list sparkapplications') >= 6, 'six list attempts were made');
  const elapsed = Date.now() - began;
  const attempts = count('list sparkapplications');

  expect(lines.filter((l) => l.msg === 'list failed').slice(0, 5).map((l) => l.delayMs)).toEqual([10, 20, 40, 40, 40]);
  // Every attempt after the first waited its delay: 10 + 20 + 40 + 40 … milliseconds.
  expect(attempts).toBeLessThanOrEqual(3 + Math.ceil(Math.max(0, elapsed - 30) / 40) + 1);
  expect(watch.synced).toBe(false);
  await expect(watch.waitForSync(50)).resolves.toBe(false);
  expect(count('watch sparkapplications')).toBe(0);
});

test('Retry-After on a failed list lengthens the wait, and stop() cancels that wait', async () => {
  const { server } = cluster();
  server.faults.next({ verb: 'list', resource: 'sparkapplications', status: 429, retryAfterSeconds: 30 });
  const { logger, lines } = capturingLogger();
  const watch = watchApps({ logger, backoff: { initialMs: 5, maxMs: 60_000, jitter: 0 } });
  await eventually(() => lines.some((l) => l.msg === 'list failed'), 'the 429 was seen');
  expect(lines.find((l) => l.msg === 'list failed')?.delayMs).toBe(30_000);
  // Would hang for thirty seconds if stop() left the backoff timer running.
  await watch.stop();
  expect(count('list sparkapplications')).toBe(1);
});

test('500s, a 429 and a reset connection on the watch are retried from the same resourceVersion without relisting', async () => {
  const { server } = cluster();
  server.faults.next({ verb: 'watch', resource: 'sparkapplications', status: 500, times: 2 });
  server.faults.next({ verb: 'watch', resource: 'sparkapplications', status: 429 });
  server.faults.resetConnection({ verb: 'watch', resource: 'sparkapplications', when: 'before' });
  const { logger, lines } = capturingLogger();
  const watch = watchApps({ logger });
  const syncChanges: boolean[] = [];
  watch.onSyncChange((synced) => syncChanges.push(synced));
  await expectSynced(watch);

  expect(count('watch sparkapplications')).toBe(5);
  expect(count('list sparkapplications')).toBe(1);
  expect(new Set(watchRequests().map((q) => q.resourceVersion)).size).toBe(1);
  expect(lines.filter((l) => l.msg === 'watch request failed').map((l) => [l.statusCode, l.delayMs])).toEqual([
    [500, 5],
    [500, 10],
    [429, 20],
    [undefined, 40],
  ]);
  // Not synced until a watch stream opened.
  expect(syncChanges).toEqual([true]);
  expect(watch.stats()).toMatchObject({ lists: 1, relists: 0, errors: 4, watchesOpened: 1, reconnects: 4, connected: true });

  upsertApp('a');
  await eventually(() => watch.get('a') !== undefined, 'a arrived');
});

test('a watch that fails after a healthy one reports out of sync while it backs off, then in sync again', async () => {
  const watch = watchApps();
  const syncChanges: boolean[] = [];
  watch.onSyncChange((synced) => syncChanges.push(synced));
  await expectSynced(watch);
  upsertApp('a');
  await eventually(() => watch.get('a') !== undefined, 'a arrived');

  const { server } = cluster();
  server.faults.next({ verb: 'watch', resource: 'sparkapplications', status: 503 });
  server.cutWatches();
  await eventually(() => syncChanges.length === 3, 'the watch went down and came back');
  expect(syncChanges).toEqual([true, false, true]);
  expect(count('list sparkapplications')).toBe(1);
});

test('a label selector limits the cache; objects entering or leaving it read as ADDED or DELETED', async () => {
  upsertApp('a', { job: 'ingest' });
  upsertApp('b', { job: 'report' });
  const watch = watchApps({ labelSelector: 'job=ingest' });
  const seen = recordChanges(watch);
  await expectSynced(watch);
  expect(watch.list().map((o) => o.metadata?.name)).toEqual(['a']);

  const { store } = cluster().server;
  store.patch('sparkapplications', NAMESPACE, 'b', { metadata: { labels: { job: 'ingest' } } });
  store.patch('sparkapplications', NAMESPACE, 'a', { metadata: { labels: { job: 'report' } } });
  upsertApp('c', { job: 'report' });
  await eventually(() => seen.length === 3, 'the relabelling arrived');
  expect(seen).toEqual([
    ['ADDED', 'a'],
    ['ADDED', 'b'],
    ['DELETED', 'a'],
  ]);
  expect(watch.list().map((o) => o.metadata?.name)).toEqual(['b']);
  const requests = cluster().server.requests().filter((r) => r.verb === 'list' || r.verb === 'watch');
  expect(requests.map((r) => [r.verb, r.query.labelSelector])).toEqual([
    ['list', 'job=ingest'],
    ['watch', 'job=ingest'],
  ]);
});

test('a field selector is sent on the list and the watch', async () => {
  upsertApp('a');
  upsertApp('b');
  const watch = watchApps({ fieldSelector: 'metadata.name=b' });
  await expectSynced(watch);
  expect(watch.list().map((o) => o.metadata?.name)).toEqual(['b']);
  expect(watchRequests()[0]?.fieldSelector).toBe('metadata.name=b');
});

test('two hundred listeners share one list and one watch connection; a throwing listener is logged and harms nobody', async () => {
  const { logger, lines } = capturingLogger();
  const watch = watchApps({ logger });
  const received = Array.from({ length: 200 }, () => [] as string[]);
  watch.onChange(() => {
    throw new Error('listener bug');
  });
  watch.onChange(() => Promise.reject(new Error('async listener bug')));
  received.forEach((names) => watch.onChange((event) => names.push(`${event.type} ${event.object.metadata?.name}`)));
  watch.onSyncChange(() => {
    throw new Error('sync listener bug');
  });
  await expectSynced(watch);

  upsertApp('a');
  upsertApp('b');
  await eventually(() => received.every((names) => names.length === 2), 'every listener saw both');
  expect(new Set(received.map((names) => names.join(',')))).toEqual(new Set(['ADDED a,ADDED b']));
  expect(cluster().server.openWatches).toBe(1);
  expect(count('watch sparkapplications')).toBe(1);
  expect(count('list sparkapplications')).toBe(1);
  await eventually(() => lines.filter((l) => l.msg === 'resource watch listener failed').length === 5, 'the listener failures were logged');
  expect(watch.synced).toBe(true);
});

test('an unsubscribed listener hears nothing more', async () => {
  const watch = watchApps();
  const seen: string[] = [];
  const off = watch.onChange((event) => seen.push(event.object.metadata?.name ?? ''));
  await expectSynced(watch);
  upsertApp('a');
  await eventually(() => seen.length === 1, 'a arrived');
  off();
  upsertApp('b');
  await eventually(() => watch.get('b') !== undefined, 'b reached the cache');
  expect(seen).toEqual(['a']);
});

test('stop() closes the watch, cancels the backoff and makes no request afterwards; it is idempotent and final', async () => {
  const watch = watchApps();
  const syncChanges: boolean[] = [];
  watch.onSyncChange((synced) => syncChanges.push(synced));
  await expectSynced(watch);
  const { server } = cluster();

  await Promise.all([watch.stop(), watch.stop()]);
  await eventually(() => server.openWatches === 0, 'the server saw the watch close');
  const after = server.requests().length;
  upsertApp('a');
  server.cutWatches();
  await pause(100);
  expect(server.requests().length).toBe(after);
  expect(watch.get('a')).toBeUndefined();
  expect(watch.synced).toBe(false);
  expect(syncChanges).toEqual([true, false]);
  expect(watch.stats().connected).toBe(false);
  await expect(watch.waitForSync(1000)).resolves.toBe(false);
  await watch.stop();
  expect(() => watch.start()).toThrow('cannot be started again');
});

test('stop() during a failing list waits no backoff and leaves nothing behind', async () => {
  const { server } = cluster();
  server.faults.next({ verb: 'list', resource: 'sparkapplications', status: 500, times: 100 });
  const watch = watchApps({ backoff: { initialMs: 60_000, maxMs: 60_000, jitter: 0 } });
  const waiting = watch.waitForSync(60_000);
  await eventually(() => count('list sparkapplications') === 1, 'the list failed once');
  await watch.stop();
  await expect(waiting).resolves.toBe(false);
  await pause(50);
  expect(count('list sparkapplications')).toBe(1);
  expect(count('watch sparkapplications')).toBe(0);
});

test('the idle watchdog reconnects a watch on which nothing arrives, from the same resourceVersion', async () => {
  const { logger, lines } = capturingLogger();
  const watch = watchApps({ logger, idleTimeoutMs: 100 });
  await expectSynced(watch);
  const { server } = cluster();
  await eventually(() => count('watch sparkapplications') >= 3, 'the silent watch was replaced twice');
  expect(lines.filter((l) => l.msg === 'no event for 100 ms, reconnecting').length).toBeGreaterThanOrEqual(2);
  expect(new Set(watchRequests().map((q) => q.resourceVersion)).size).toBe(1);
  expect(count('list sparkapplications')).toBe(1);
  // Each abandoned stream gets closed: they do not pile up on the server.
  await eventually(() => server.openWatches === 1, 'only the current watch is open');

  upsertApp('a');
  await eventually(() => watch.get('a') !== undefined, 'a change still arrives');
});

test('bookmarks keep a quiet watch alive and move its resourceVersion forward', async () => {
  const watch = watchApps({ idleTimeoutMs: 1000 });
  await expectSynced(watch);
  const { server } = cluster();
  await eventually(() => server.openWatches === 1, 'the watch is open');
  // Changes elsewhere move the global resourceVersion, as they do on a real cluster.
  server.store.upsert('configmaps', NAMESPACE, { metadata: { name: 'unrelated' } });
  const bookmarked = server.resourceVersion;
  for (let i = 0; i < 30; i += 1) {
    server.sendBookmarks();
    await pause(50);
  }
  expect(count('watch sparkapplications')).toBe(1);
  expect(watch.stats().errors).toBe(0);

  server.cutWatches();
  await eventually(() => count('watch sparkapplications') === 2, 'the watch resumed');
  expect(watchRequests()[1]?.resourceVersion).toBe(bookmarked);
  expect(count('list sparkapplications')).toBe(1);
});

test('a server-side watch timeout ends the stream cleanly; the watch resumes at once and stays in sync', async () => {
  const watch = watchApps({ timeoutSeconds: 1 });
  const syncChanges: boolean[] = [];
  watch.onSyncChange((synced) => syncChanges.push(synced));
  await expectSynced(watch);
  await eventually(() => count('watch sparkapplications') === 2, 'the watch was renewed after its timeout', 5000);
  expect(watchRequests().map((q) => q.timeoutSeconds)).toEqual(['1', '1']);
  expect(watch.stats()).toMatchObject({ errors: 0, lists: 1, reconnects: 1 });
  expect(syncChanges).toEqual([true]);
});

test('pods are watched through the core API path the same way', async () => {
  const { server, kubeConfig } = cluster();
  server.store.upsert('pods', NAMESPACE, { metadata: { name: 'driver', labels: { 'spark-role': 'driver' } }, spec: { containers: [{ name: 'spark', image: 'x' }] } });
  const pods = new ResourceWatch({ kubeConfig, path: `/api/v1/namespaces/${NAMESPACE}/pods`, name: 'pods', labelSelector: 'spark-role=driver' });
  started.push(pods);
  pods.start();
  await expectSynced(pods);
  expect(pods.get('driver')?.metadata?.labels).toEqual({ 'spark-role': 'driver' });
});

test('backoffDelayMs doubles from initialMs up to maxMs and jitter only shortens it', () => {
  const backoff = { initialMs: 250, maxMs: 30_000, factor: 2, jitter: 0.2 };
  expect([1, 2, 3, 4, 8, 20, 200].map((n) => backoffDelayMs(n, backoff, 0))).toEqual([250, 500, 1000, 2000, 30_000, 30_000, 30_000]);
  expect(backoffDelayMs(1, backoff, 0.999)).toBeGreaterThanOrEqual(200);
  expect(backoffDelayMs(20, backoff, 0.5)).toBe(27_000);
});

test('the constructor rejects options that would make the loop misbehave', () => {
  const { kubeConfig } = cluster();
  const base = { kubeConfig, path: customPath(), name: 'x' };
  expect(() => new ResourceWatch({ ...base, path: 'apis/x' })).toThrow("must start with '/'");
  expect(() => new ResourceWatch({ ...base, timeoutSeconds: 0 })).toThrow('timeoutSeconds');
  expect(() => new ResourceWatch({ ...base, backoff: { initialMs: -1 } })).toThrow('backoff.initialMs');
  expect(() => new ResourceWatch({ ...base, backoff: { factor: 0.5 } })).toThrow('backoff.factor');
});

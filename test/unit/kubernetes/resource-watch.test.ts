import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { ResourceWatch, backoffDelayMs, type ResourceWatchEvent, type WatchedObject } from '../../../src/spark/kubernetes/resource-watch';

// The watch against a real server (resume after a cut and after an API server restart, relist
// after 410, faults, sharing) is tested on the local control plane: test/kubernetes/platform.test.ts,
// test/kubernetes/plane-restarts.test.ts and test/kubernetes/local-operator/lifecycle.test.ts.
// Here a scripted HTTP server plays what a real one does only when it wants to: a watch that stays
// silent, a bookmark, a 410 Gone.

test('backoffDelayMs doubles from initialMs up to maxMs and jitter only shortens it', () => {
  const backoff = { initialMs: 250, maxMs: 30_000, factor: 2, jitter: 0.2 };
  expect([1, 2, 3, 4, 8, 20, 200].map((n) => backoffDelayMs(n, backoff, 0))).toEqual([250, 500, 1000, 2000, 30_000, 30_000, 30_000]);
  expect(backoffDelayMs(1, backoff, 0.999)).toBeGreaterThanOrEqual(200);
  expect(backoffDelayMs(20, backoff, 0.5)).toBe(27_000);
});

test('the constructor rejects options that would make the loop misbehave', () => {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const base = { kubeConfig, path: '/apis/sparkoperator.k8s.io/v1beta2/namespaces/nightly/sparkapplications', name: 'x' };
  expect(() => new ResourceWatch({ ...base, path: 'apis/x' })).toThrow("must start with '/'");
  expect(() => new ResourceWatch({ ...base, timeoutSeconds: 0 })).toThrow('timeoutSeconds');
  expect(() => new ResourceWatch({ ...base, backoff: { initialMs: -1 } })).toThrow('backoff.initialMs');
  expect(() => new ResourceWatch({ ...base, backoff: { factor: 0.5 } })).toThrow('backoff.factor');
});

// ---- against a scripted server ---------------------------------------------------------------

const PATH = '/api/v1/namespaces/nightly/pods';

interface Request {
  readonly watch: boolean;
  readonly resourceVersion: string | null;
}

type WatchScript = (res: http.ServerResponse, n: number) => void;

/** An API server for one collection: lists come from `list`, the n-th watch (from 0) plays `watches[n]` (the last one repeats). */
async function scriptedServer(list: (n: number) => { resourceVersion: string; items: WatchedObject[] }, watches: WatchScript[]) {
  const requests: Request[] = [];
  const open = new Set<http.ServerResponse>();
  let lists = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    requests.push({ watch, resourceVersion: url.searchParams.get('resourceVersion') });
    if (!watch) {
      const { resourceVersion, items } = list(lists++);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion }, items }));
      return;
    }
    const n = requests.filter((r) => r.watch).length - 1;
    open.add(res);
    res.on('close', () => open.delete(res));
    (watches[n] ?? watches[watches.length - 1] ?? silent)(res, n);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return {
    kubeConfig,
    requests,
    watchRequests: () => requests.filter((r) => r.watch),
    async close() {
      for (const res of open) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const pod = (name: string, resourceVersion: string): WatchedObject => ({ metadata: { name, namespace: 'nightly', resourceVersion } });
/** Opens the stream as the API server does: headers at once, events later. */
function stream(res: http.ServerResponse): http.ServerResponse {
  if (!res.headersSent) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
  }
  return res;
}
const send = (res: http.ServerResponse, type: string, object: unknown) => stream(res).write(`${JSON.stringify({ type, object })}\n`);
/** An open stream on which nothing ever comes. */
const silent: WatchScript = (res) => void stream(res);
const FAST = { backoff: { initialMs: 10, maxMs: 50 } };

async function eventually(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('ResourceWatch against a scripted server', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function started(list: Parameters<typeof scriptedServer>[0], watches: WatchScript[], options: { idleTimeoutMs?: number } = {}) {
    const server = await scriptedServer(list, watches);
    const watch = new ResourceWatch<WatchedObject>({ kubeConfig: server.kubeConfig, path: PATH, name: 'pods', ...FAST, ...options });
    const events: ResourceWatchEvent<WatchedObject>[] = [];
    watch.onChange((e) => events.push(e));
    cleanups.push(() => server.close(), () => watch.stop());
    watch.start();
    return { server, watch, events };
  }

  test('the idle watchdog gives up a watch that stays silent and opens it again from the same resourceVersion, without listing again', async () => {
    const { server, watch } = await started(() => ({ resourceVersion: '10', items: [pod('a', '7')] }), [silent], { idleTimeoutMs: 300 });
    await eventually('three watch requests', () => server.watchRequests().length >= 3);
    expect(new Set(server.watchRequests().map((r) => r.resourceVersion))).toEqual(new Set(['10']));
    expect(server.requests.filter((r) => !r.watch)).toHaveLength(1);
    expect(watch.stats().errors).toBeGreaterThanOrEqual(2);
    expect(watch.list().map((o) => o.metadata?.name)).toEqual(['a']);
  });

  test('a quiet watch cut after more than a second is no failure: it resumes at once from where it was, the backoff untouched', async () => {
    const { server, watch } = await started(() => ({ resourceVersion: '10', items: [pod('a', '7')] }), [
      (res) => {
        stream(res);
        setTimeout(() => res.socket?.destroy(), 1_200);
      },
      silent,
    ]);
    await eventually('a second watch request', () => server.watchRequests().length >= 2);
    expect(server.watchRequests().map((r) => r.resourceVersion)).toEqual(['10', '10']);
    expect(watch.stats()).toMatchObject({ errors: 0, reconnects: 1, lists: 1 });
  });

  test('a bookmark advances the resourceVersion the next watch resumes from, and changes nothing in the cache', async () => {
    const { server, watch, events } = await started(
      () => ({ resourceVersion: '10', items: [pod('a', '7')] }),
      [
        (res) => {
          send(res, 'BOOKMARK', { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: '25' } });
          // The server's timeout: the stream ends cleanly after delivering the bookmark.
          setTimeout(() => res.end(), 20);
        },
        silent,
      ],
    );
    await eventually('a second watch request', () => server.watchRequests().length >= 2);
    expect(server.watchRequests().map((r) => r.resourceVersion).slice(0, 2)).toEqual(['10', '25']);
    expect(server.requests.filter((r) => !r.watch)).toHaveLength(1);
    expect(events.map((e) => `${e.type} ${e.object.metadata?.name}`)).toEqual(['ADDED a']);
    expect(watch.stats().errors).toBe(0);
  });

  test('410 Gone (an ERROR event) makes it list again: the cache is replaced, listeners hear what changed, the watch resumes from the new list', async () => {
    const { server, watch, events } = await started(
      (n) => (n === 0 ? { resourceVersion: '10', items: [pod('a', '7'), pod('b', '8')] } : { resourceVersion: '40', items: [pod('b', '33'), pod('c', '39')] }),
      [
        (res) => send(res, 'ERROR', { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410, message: 'too old resource version: 10 (30)' }),
        silent,
      ],
    );
    await eventually('a watch from the new list', () => server.watchRequests().length >= 2);
    expect(server.requests.map((r) => (r.watch ? `watch@${r.resourceVersion}` : 'list'))).toEqual(['list', 'watch@10', 'list', 'watch@40']);
    expect(events.map((e) => `${e.type} ${e.object.metadata?.name}`)).toEqual(['ADDED a', 'ADDED b', 'MODIFIED b', 'ADDED c', 'DELETED a']);
    expect(watch.list().map((o) => o.metadata?.name).sort()).toEqual(['b', 'c']);
    expect(watch.stats()).toMatchObject({ lists: 2, relists: 1 });
    await eventually('synced again', () => watch.synced);
  });

  test('a watch request answered HTTP 410 (no stream at all) also lists again', async () => {
    const { server, watch } = await started(
      (n) => ({ resourceVersion: n === 0 ? '10' : '50', items: [pod('a', n === 0 ? '7' : '45')] }),
      [
        (res) => {
          res.writeHead(410, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410 }));
        },
        silent,
      ],
    );
    await eventually('a watch from the new list', () => server.watchRequests().length >= 2);
    expect(server.requests.map((r) => (r.watch ? `watch@${r.resourceVersion}` : 'list'))).toEqual(['list', 'watch@10', 'list', 'watch@50']);
    expect(watch.get('a')?.metadata?.resourceVersion).toBe('45');
  });
});

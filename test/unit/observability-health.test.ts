import { startHealthServer, type HealthServer } from '../../src/observability/health';

let state = 'INITIALIZED';
let server: HealthServer;
beforeAll(async () => {
  server = await startHealthServer({ address: '127.0.0.1:0', workerState: () => state });
});
afterAll(() => server.close());

async function get(path: string, method = 'GET') {
  const res = await fetch(`http://${server.address}${path}`, { method });
  return { status: res.status, type: res.headers.get('content-type'), body: method === 'HEAD' ? '' : await res.text() };
}

test('/livez answers 200 whatever the worker does', async () => {
  for (const s of ['INITIALIZED', 'RUNNING', 'DRAINING', 'FAILED']) {
    state = s;
    expect((await get('/livez')).status).toBe(200);
  }
});

test('/readyz answers 200 only while the worker is RUNNING, 503 with the state otherwise', async () => {
  state = 'INITIALIZED';
  expect(await get('/readyz')).toEqual({ status: 503, type: 'application/json', body: JSON.stringify({ status: 'not ready', worker: 'INITIALIZED' }) });
  state = 'RUNNING';
  expect(await get('/readyz')).toEqual({ status: 200, type: 'application/json', body: JSON.stringify({ status: 'ready', worker: 'RUNNING' }) });
  state = 'DRAINING';
  expect(JSON.parse((await get('/readyz?verbose=1')).body)).toEqual({ status: 'not ready', worker: 'DRAINING' });
  expect((await get('/readyz', 'HEAD')).status).toBe(503);
});

test('other paths are 404 and other methods 405', async () => {
  expect((await get('/metrics')).status).toBe(404);
  expect((await get('/livez', 'POST')).status).toBe(405);
});

test('a taken port fails the start instead of serving nothing', async () => {
  await expect(startHealthServer({ address: server.address, workerState: () => 'RUNNING' })).rejects.toThrow(/EADDRINUSE/);
});

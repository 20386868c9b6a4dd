import http from 'node:http';
import { closeServer, listenOn } from '../infra/http-server';

export interface HealthServer {
  /** `host:port` actually bound (port 0 picks a free one). */
  readonly address: string;
  close(): Promise<void>;
}

export interface HealthOptions {
  /** `host:port` to listen on. */
  readonly address: string;
  /** The Temporal worker's state (`Worker.getState()`): ready only while RUNNING. */
  readonly workerState: () => string;
}

/**
 * Kubernetes probes: `/livez` answers 200 as long as the process serves requests, `/readyz`
 * 200 only while the worker polls its task queue (RUNNING), 503 before and while it drains.
 */
export async function startHealthServer(options: HealthOptions): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, body: Record<string, unknown>) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, { error: 'method not allowed' });
    if (path === '/livez') return reply(200, { status: 'alive' });
    if (path === '/readyz') {
      const state = options.workerState();
      return state === 'RUNNING' ? reply(200, { status: 'ready', worker: state }) : reply(503, { status: 'not ready', worker: state });
    }
    return reply(404, { error: 'not found', endpoints: ['/livez', '/readyz'] });
  });
  // Probes are short; do not let a stuck client hold shutdown.
  server.keepAliveTimeout = 1000;
  const at = options.address.lastIndexOf(':');
  const host = options.address.slice(0, at);
  const port = Number(options.address.slice(at + 1));
  const bound = await listenOn(server, port, host);
  return { address: `${host}:${bound.port}`, close: () => closeServer(server, 'all') };
}

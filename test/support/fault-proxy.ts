/**
 * A small HTTP proxy in front of the real API server, for the faults a real server does not
 * produce on demand: 429 and 5xx answers, connections reset before or after a request was
 * handled (a lost answer), watch connections cut mid-stream, and watches answered with 410 Gone
 * (the `ERROR` event a server sends for a resourceVersion it no longer has). It also records
 * every request by Kubernetes verb and resource, and counts open watch connections.
 *
 * Clients reach it over plain HTTP on loopback without credentials; it forwards with the
 * credentials of the kubeconfig it was given (TLS, client certificate or token).
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { FaultInjector, type FaultTarget, type KubeVerb } from './faults';

/** One request the proxy saw. */
export interface ProxiedRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly verb?: KubeVerb;
  /** Plural, with `/status` or `/log` for a subresource. */
  readonly resource?: string;
  readonly namespace?: string;
  readonly name?: string;
  /** The HTTP status the client got; 0 when its connection was dropped instead. */
  status: number;
  readonly fault?: 'status' | 'reset-before' | 'reset-after' | 'gone';
}

interface Parsed {
  readonly resource?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly verb?: KubeVerb;
}

/** `/api/v1/namespaces/ns/pods/name/status`, `/apis/g/v/namespaces/ns/plural/name` and the cluster-scoped forms. */
export function classify(method: string, path: string, query: URLSearchParams): Parsed {
  const parts = path.split('/').filter((p) => p.length > 0);
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) rest = parts.slice(2);
  else if (parts[0] === 'apis' && parts.length >= 3) rest = parts.slice(3);
  else return {};
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, sub] = rest;
  if (plural === undefined) return {};
  const resource = sub === undefined ? plural : `${plural}/${sub}`;
  const m = method.toUpperCase();
  const verb: KubeVerb | undefined =
    m === 'GET'
      ? query.get('watch') === 'true' || query.get('watch') === '1'
        ? 'watch'
        : name === undefined
          ? 'list'
          : 'get'
      : m === 'POST'
        ? 'create'
        : m === 'PUT'
          ? 'update'
          : m === 'PATCH'
            ? 'patch'
            : m === 'DELETE'
              ? name === undefined
                ? 'deletecollection'
                : 'delete'
              : undefined;
  return { resource, ...(namespace === undefined ? {} : { namespace }), ...(name === undefined ? {} : { name }), ...(verb === undefined ? {} : { verb }) };
}

function statusBody(code: number, reason: string, message: string, retryAfterSeconds?: number): string {
  return JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
    ...(retryAfterSeconds === undefined ? {} : { details: { retryAfterSeconds } }),
  });
}

const REASONS: Readonly<Record<number, string>> = { 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout' };

export class FaultProxy {
  readonly faults = new FaultInjector();
  private readonly log: ProxiedRequest[] = [];
  private readonly watches = new Set<{ client: http.ServerResponse; upstream: http.ClientRequest }>();
  private readonly sockets = new Set<Socket>();
  private server: http.Server | undefined;
  private upstream: URL | undefined;
  private tls: https.RequestOptions = {};
  private goneWatches = 0;
  private rewoundWatches = 0;
  private peakWatches = 0;

  constructor(private readonly target: KubeConfig) {}

  async start(): Promise<void> {
    const cluster = this.target.getCurrentCluster();
    if (cluster === null) throw new Error('the fault proxy needs a kubeconfig with a current cluster');
    this.upstream = new URL(cluster.server);
    const options: https.RequestOptions = {};
    await this.target.applyToHTTPSOptions(options);
    this.tls = options;
    const server = http.createServer((req, res) => this.handle(req, res));
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    this.cutWatches();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('the fault proxy is not started');
    return `http://127.0.0.1:${address.port}`;
  }

  /** A kubeconfig that reaches the API server through this proxy (no credentials needed). */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      // Plain HTTP on loopback: client-node asks for skipTLSVerify to allow it (there is no TLS to verify).
      clusters: [{ name: 'via-fault-proxy', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'via-fault-proxy' }],
      contexts: [{ name: 'via-fault-proxy', cluster: 'via-fault-proxy', user: 'via-fault-proxy' }],
      currentContext: 'via-fault-proxy',
    });
    return kc;
  }

  /** Every request so far, in order. */
  requests(): readonly ProxiedRequest[] {
    return [...this.log];
  }

  /** Counts keyed `verb resource`, e.g. `{ 'create sparkapplications': 1 }`. */
  requestCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of this.log) {
      if (r.verb === undefined || r.resource === undefined) continue;
      const key = `${r.verb} ${r.resource}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }

  clearRequests(): void {
    this.log.length = 0;
  }

  get openWatches(): number {
    return this.watches.size;
  }

  /** The most watch connections open at once since the last {@link resetPeak}. */
  get peakOpenWatches(): number {
    return this.peakWatches;
  }

  resetPeak(): void {
    this.peakWatches = this.watches.size;
  }

  /** Cuts every open watch connection mid-stream; returns how many. */
  cutWatches(): number {
    const open = [...this.watches];
    for (const watch of open) {
      watch.upstream.destroy();
      watch.client.socket?.destroy();
    }
    this.watches.clear();
    return open.length;
  }

  /**
   * Cuts the open watches and answers the next `times` watch requests (default: as many as were
   * open) with 410 Gone, as a server does when the resourceVersion a watch resumes from has
   * been compacted away: the clients must list again.
   */
  expireWatches(times?: number): number {
    const cut = this.cutWatches();
    this.goneWatches += times ?? cut;
    return cut;
  }

  /**
   * Cuts the open watches and sends the next `times` watch requests that resume from a
   * resourceVersion (default: as many as were open) on to the API server with resourceVersion 1,
   * long compacted away: the real server answers them 410 Gone itself.
   */
  rewindWatches(times?: number): number {
    const cut = this.cutWatches();
    this.rewoundWatches += times ?? cut;
    return cut;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const method = req.method ?? 'GET';
    const parsed = classify(method, url.pathname, url.searchParams);
    const target: FaultTarget = { method, path: url.pathname, verb: parsed.verb, resource: parsed.resource };
    const fault = this.faults.take(target);
    const entry: ProxiedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      ...parsed,
      status: 0,
      ...(fault === undefined ? {} : { fault: fault.kind === 'status' ? 'status' : fault.when === 'before' ? 'reset-before' : 'reset-after' }),
    };
    this.log.push(entry);

    if (fault?.kind === 'status') {
      req.resume();
      const code = fault.status;
      entry.status = code;
      res.writeHead(code, {
        'content-type': 'application/json',
        ...(fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) }),
      });
      res.end(statusBody(code, REASONS[code] ?? 'InternalError', `injected by the fault proxy: HTTP ${code}`, fault.retryAfterSeconds));
      return;
    }
    if (fault?.kind === 'reset' && fault.when === 'before') {
      req.resume();
      req.socket.destroy();
      return;
    }
    if (parsed.verb === 'watch' && this.goneWatches > 0 && url.searchParams.has('resourceVersion')) {
      this.goneWatches -= 1;
      req.resume();
      (entry as { fault?: string }).fault = 'gone';
      entry.status = 200;
      res.writeHead(200, { 'content-type': 'application/json' });
      const rv = url.searchParams.get('resourceVersion') ?? '';
      res.end(`${JSON.stringify({ type: 'ERROR', object: JSON.parse(statusBody(410, 'Expired', `too old resource version: ${rv}`)) })}\n`);
      return;
    }
    if (parsed.verb === 'watch' && this.rewoundWatches > 0 && url.searchParams.has('resourceVersion')) {
      this.rewoundWatches -= 1;
      url.searchParams.set('resourceVersion', '1');
    }
    this.forward(req, res, url, entry, fault?.kind === 'reset');
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, url: URL, entry: ProxiedRequest, loseAnswer: boolean): void {
    const upstreamUrl = this.upstream;
    if (upstreamUrl === undefined) throw new Error('the fault proxy is not started');
    const headers = { ...req.headers, host: upstreamUrl.host };
    delete headers.connection;
    const options: https.RequestOptions = {
      ...this.tls,
      protocol: upstreamUrl.protocol,
      hostname: upstreamUrl.hostname,
      port: upstreamUrl.port,
      method: req.method,
      path: `${url.pathname}${url.search}`,
      headers: { ...headers, ...(this.tls.headers ?? {}) },
    };
    const send = upstreamUrl.protocol === 'https:' ? https.request : http.request;
    const upstream = send(options, (answer) => {
      entry.status = answer.statusCode ?? 0;
      if (loseAnswer) {
        // The server has handled the request (its answer has begun); the client never learns how.
        entry.status = 0;
        upstream.destroy();
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      if (entry.verb === 'watch') {
        // A watch's headers go out at once, as the API server sends them, not with the first event.
        res.flushHeaders();
        const watch = { client: res, upstream };
        this.watches.add(watch);
        this.peakWatches = Math.max(this.peakWatches, this.watches.size);
        const forget = () => this.watches.delete(watch);
        answer.on('close', forget);
        res.on('close', () => {
          forget();
          upstream.destroy();
        });
      }
      // An answer cut short upstream (the API server killed, its connection gone) is cut short
      // for the client too: piping alone would leave the client's stream open, and silent.
      answer.on('close', () => {
        if (!answer.complete) res.socket?.destroy();
      });
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) {
        entry.status = 502;
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(statusBody(502, 'BadGateway', 'the fault proxy could not reach the API server'));
      } else {
        res.socket?.destroy();
      }
    });
    req.pipe(upstream);
  }
}

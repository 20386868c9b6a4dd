import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { ClusterStore } from './cluster-store';
import { FaultInjector, type ArmedFault, type KubeVerb } from './faults';
import { parseFieldSelector } from './field-selector';
import { isPlainObject, type PropagationPolicy, type StoredObject } from './kube-object';
import { parseLabelSelector } from './label-selector';
import { ObjectStore, type DeleteOptions, type PatchType } from './object-store';
import { PodLogs } from './pod-logs';
import { RequestLog, type RecordedRequest } from './request-log';
import { DEFAULT_RESOURCES, PODS, apiVersionOf, type ResourceType } from './resources';
import { resolveRoute, verbOf, type ResourceRoute } from './routes';
import {
  KubeApiError,
  badRequest,
  deleteSuccess,
  injected,
  methodNotAllowed,
  pathNotFound,
  namespaceNotFound,
  requestEntityTooLarge,
  unauthorized,
  unsupportedMediaType,
} from './status';
import { WatchStream } from './watch-stream';

export interface FakeKubeApiServerOptions {
  /** The bearer token clients must send; random by default. */
  readonly token?: string;
  /** The namespace of the kubeconfig's context. Default `default`. */
  readonly namespace?: string;
  /** How many changes watches can resume across before 410 Expired. Default 10 000. */
  readonly historyLimit?: number;
  /** Clock for creationTimestamp and deletionTimestamp. */
  readonly now?: () => Date;
  /** Further resource types to serve, beside SparkApplications and the core ones. */
  readonly extraResources?: readonly ResourceType[];
  /**
   * The namespaces that exist. When given, creating an object in any other namespace answers
   * 404 `namespaces "x" not found`, as the real server does; by default every namespace exists.
   */
  readonly namespaces?: readonly string[];
}

interface Answer {
  readonly code: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

const MAX_BODY_BYTES = 3 * 1024 * 1024;
const CONTEXT = 'nightjar-fake';

const PATCH_TYPES: Readonly<Record<string, PatchType>> = {
  'application/merge-patch+json': 'merge',
  'application/json-patch+json': 'json',
  'application/strategic-merge-patch+json': 'strategic',
};

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function errorAnswer(error: KubeApiError): Answer {
  const retry = error.status.details?.retryAfterSeconds;
  return { code: error.code, body: error.status, ...(retry === undefined ? {} : { headers: { 'Retry-After': String(retry) } }) };
}

/** Built-in list items carry no kind/apiVersion on the wire; custom resource items do. */
function listItem(resource: ResourceType, object: StoredObject): unknown {
  if (resource.custom) return object;
  const { apiVersion: _apiVersion, kind: _kind, ...rest } = object;
  return rest;
}

function optionalInteger(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw)) throw badRequest(`${name}: Invalid value: ${JSON.stringify(raw)}: must be an integer`);
  return Number(raw);
}

function optionalBoolean(query: URLSearchParams, name: string): boolean | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw badRequest(`${name}: Invalid value: ${JSON.stringify(raw)}: must be a boolean`);
}

function dryRunOf(query: URLSearchParams): boolean {
  const values = query.getAll('dryRun');
  if (values.some((v) => v !== 'All')) throw badRequest(`dryRun: Unsupported value: ${JSON.stringify(values.join(','))}: supported values: "All"`);
  return values.length > 0;
}

function propagationPolicyOf(value: unknown): PropagationPolicy | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (value === 'Foreground' || value === 'Background' || value === 'Orphan') return value;
  throw badRequest(`propagationPolicy: Unsupported value: ${JSON.stringify(value)}: supported values: "Foreground", "Background", "Orphan"`);
}

/**
 * An in-process Kubernetes API server on 127.0.0.1 speaking the real HTTP/JSON wire format, for
 * driving the real `@kubernetes/client-node`: SparkApplications (sparkoperator.k8s.io/v1beta2)
 * and core pods (with their `log` subresource), services, configmaps, events and
 * persistentvolumeclaims, all namespaced.
 *
 * Tests arm faults (`faults`), cut watches, expire resourceVersions and count requests; a
 * simulator plays the operator and the kubelet through `store` and writes container output
 * through `podLogs`.
 */
export class FakeKubeApiServer {
  readonly faults = new FaultInjector();
  readonly store: ClusterStore;
  /**
   * What `GET …/pods/{name}/log` serves: `podLogs.append(namespace, pod, line, container?)`
   * writes a container's output, `podLogs.get(…)` reads it back. Forgotten when the pod is deleted.
   */
  readonly podLogs: PodLogs;
  readonly token: string;
  private readonly namespaces: ReadonlySet<string> | undefined;
  private readonly objects: ObjectStore;
  private readonly log = new RequestLog();
  private readonly watches = new Set<WatchStream>();
  private readonly namespace: string;
  private server: Server | undefined;
  private address: string | undefined;

  constructor(options: FakeKubeApiServerOptions = {}) {
    this.token = options.token ?? randomBytes(16).toString('hex');
    this.namespace = options.namespace ?? 'default';
    this.namespaces = options.namespaces === undefined ? undefined : new Set(options.namespaces);
    this.objects = new ObjectStore([...DEFAULT_RESOURCES, ...(options.extraResources ?? [])], {
      ...(options.historyLimit === undefined ? {} : { historyLimit: options.historyLimit }),
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    this.store = new ClusterStore(this.objects);
    const pods = this.objects.resources.find((r) => r.group === PODS.group && r.plural === PODS.plural);
    this.podLogs = new PodLogs((namespace, name) => (pods ? this.objects.find(pods, namespace, name) : undefined));
    this.objects.subscribe((event) => {
      if (event.type === 'DELETED' && event.resource === pods) this.podLogs.clear(event.object.metadata.namespace, event.object.metadata.name);
    });
  }

  /** Listens on an ephemeral port of 127.0.0.1 (plain HTTP). */
  async start(): Promise<{ url: string }> {
    if (this.server) throw new Error('the fake API server is already started');
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    this.address = `127.0.0.1:${port}`;
    return { url: this.url };
  }

  get url(): string {
    if (!this.address) throw new Error('the fake API server is not started');
    return `http://${this.address}`;
  }

  /**
   * Ends every watch cleanly, closes every connection and stops background work. Rejects with an
   * AggregateError if a store hook or the garbage collector failed while the server ran.
   */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const watch of [...this.watches]) watch.end();
    this.store.close();
    this.objects.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    if (this.objects.backgroundErrors.length > 0) {
      throw new AggregateError(this.objects.backgroundErrors, 'the fake API server saw errors in store hooks or garbage collection');
    }
  }

  /**
   * A KubeConfig for this server, used exactly like one for a real cluster. The client is loaded
   * here, not with the server, so that the server (and the simulator on it) can run where the
   * ES-module-only client cannot be required, such as jest with VM modules.
   */
  kubeConfig(): KubeConfig {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { KubeConfig: Config } = require('@kubernetes/client-node') as typeof import('@kubernetes/client-node');
    const kubeConfig = new Config();
    kubeConfig.loadFromOptions({
      clusters: [{ name: CONTEXT, server: this.url, skipTLSVerify: true }],
      users: [{ name: CONTEXT, token: this.token }],
      contexts: [{ name: CONTEXT, cluster: CONTEXT, user: CONTEXT, namespace: this.namespace }],
      currentContext: CONTEXT,
    });
    return kubeConfig;
  }

  /** The same configuration as a kubeconfig file's content (JSON is YAML), for another process. */
  kubeConfigDocument(): Record<string, unknown> {
    return {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: CONTEXT, cluster: { server: this.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: CONTEXT, user: { token: this.token } }],
      contexts: [{ name: CONTEXT, context: { cluster: CONTEXT, user: CONTEXT, namespace: this.namespace } }],
      'current-context': CONTEXT,
    };
  }

  /** The current (global) resourceVersion. */
  get resourceVersion(): string {
    return String(this.objects.resourceVersion);
  }

  /** Every request so far, in arrival order. */
  requests(): readonly RecordedRequest[] {
    return this.log.all();
  }

  /** Request counts keyed `verb resource`, e.g. `requestCounts()['create sparkapplications']`. */
  requestCounts(): Record<string, number> {
    return this.log.counts();
  }

  clearRequests(): void {
    this.log.clear();
  }

  get openWatches(): number {
    return this.watches.size;
  }

  /** Drops every open watch connection abruptly; returns how many there were. */
  cutWatches(): number {
    const open = [...this.watches];
    for (const watch of open) watch.cut();
    return open.length;
  }

  /** Sends a BOOKMARK to every watch that asked for them (`allowWatchBookmarks=true`). */
  sendBookmarks(): void {
    for (const watch of this.watches) watch.bookmark();
  }

  /**
   * Forgets history before `resourceVersion`, as etcd compaction does: a watch resuming from an
   * older one gets an ERROR event with a 410 Expired Status, and so do exact-resourceVersion lists
   * and continue tokens.
   */
  expireResourceVersionsBefore(resourceVersion: string | number): void {
    this.objects.expireBefore(Number(resourceVersion));
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query = url.searchParams;
    const route = resolveRoute(url.pathname, this.objects.resources, this.address ?? '');
    const resourceRoute = route.kind === 'resource' ? route : undefined;
    const verb = resourceRoute ? verbOf(method, resourceRoute, query) : undefined;
    const record = (status: number, fault?: RecordedRequest['fault']): void =>
      this.log.record({
        method,
        path: url.pathname,
        query: Object.fromEntries(query),
        ...(verb ? { verb } : {}),
        ...(resourceRoute
          ? {
              resource: resourceRoute.subresource ? `${resourceRoute.resource.plural}/${resourceRoute.subresource}` : resourceRoute.resource.plural,
              ...(resourceRoute.namespace === undefined ? {} : { namespace: resourceRoute.namespace }),
              ...(resourceRoute.name === undefined ? {} : { name: resourceRoute.name }),
            }
          : {}),
        status,
        ...(fault ? { fault } : {}),
      });

    try {
      if (req.headers.authorization !== `Bearer ${this.token}`) return this.send(res, errorAnswer(unauthorized()), record);
      const fault: ArmedFault | undefined = this.faults.take({
        method,
        path: url.pathname,
        verb,
        resource: resourceRoute ? (resourceRoute.subresource ? `${resourceRoute.resource.plural}/${resourceRoute.subresource}` : resourceRoute.resource.plural) : undefined,
      });
      if (fault?.kind === 'status') {
        return this.send(res, errorAnswer(injected(fault.status, fault.retryAfterSeconds)), (status) => record(status, 'status'));
      }
      if (fault?.kind === 'reset' && fault.when === 'before') {
        record(0, 'reset-before');
        req.socket.destroy();
        return;
      }
      const body = await this.readBody(req);

      if (route.kind === 'document') return this.send(res, { code: 200, body: route.body }, record);
      if (route.kind === 'text') {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(route.body);
        record(200);
        return;
      }
      if (!resourceRoute) return this.send(res, errorAnswer(pathNotFound()), record);
      if (!verb) return this.send(res, errorAnswer(methodNotAllowed()), record);

      if (resourceRoute.subresource === 'log') {
        const text = this.readLog(resourceRoute, query);
        if (fault?.kind === 'reset') {
          record(0, 'reset-after');
          req.socket.destroy();
          return;
        }
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': String(Buffer.byteLength(text)), 'Cache-Control': 'no-cache, private' });
        res.end(text);
        record(200);
        return;
      }
      if (verb === 'watch') {
        const watch = this.openWatch(res, resourceRoute, query);
        record(200, fault ? 'reset-after' : undefined);
        if (fault) watch.cut();
        return;
      }
      const answer = this.dispatch(verb, resourceRoute, query, body, req.headers['content-type']);
      if (fault?.kind === 'reset') {
        record(0, 'reset-after');
        req.socket.destroy();
        return;
      }
      this.send(res, answer, record);
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const failure = error instanceof KubeApiError ? error : new KubeApiError({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `Internal error occurred: ${error instanceof Error ? error.message : String(error)}`,
        reason: 'InternalError',
        code: 500,
      });
      this.send(res, errorAnswer(failure), record);
    }
  }

  private send(res: ServerResponse, answer: Answer, record: (status: number) => void): void {
    const text = JSON.stringify(answer.body);
    res.writeHead(answer.code, {
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(text)),
      'Cache-Control': 'no-cache, private',
      ...answer.headers,
    });
    res.end(text);
    record(answer.code);
  }

  private async readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      size += buffer.length;
      if (size > MAX_BODY_BYTES) throw requestEntityTooLarge(MAX_BODY_BYTES);
      chunks.push(buffer);
    }
    return Buffer.concat(chunks);
  }

  private parseJson(body: Buffer): unknown {
    const text = body.toString('utf8');
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw badRequest(`the request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private dispatch(verb: Exclude<KubeVerb, 'watch'>, route: ResourceRoute, query: URLSearchParams, body: Buffer, contentType: string | undefined): Answer {
    const { resource } = route;
    const namespace = route.namespace ?? '';
    const name = route.name ?? '';
    const subresource = route.subresource === 'status' ? { subresource: 'status' as const } : {};
    switch (verb) {
      case 'get':
        return { code: 200, body: this.objects.get(resource, namespace, name) };
      case 'list': {
        const limit = optionalInteger(query, 'limit');
        const result = this.objects.list(resource, route.namespace, {
          labelSelector: parseLabelSelector(query.get('labelSelector')),
          fieldSelector: parseFieldSelector(query.get('fieldSelector'), resource),
          ...(query.get('resourceVersion') === null ? {} : { resourceVersion: query.get('resourceVersion') ?? '' }),
          ...(query.get('resourceVersionMatch') === null ? {} : { resourceVersionMatch: query.get('resourceVersionMatch') ?? '' }),
          ...(limit === undefined ? {} : { limit }),
          ...(query.get('continue') ? { continueToken: query.get('continue') ?? '' } : {}),
        });
        return {
          code: 200,
          body: {
            kind: resource.listKind,
            apiVersion: apiVersionOf(resource),
            metadata: {
              resourceVersion: result.resourceVersion,
              ...(result.continueToken ? { continue: result.continueToken } : {}),
              ...(result.remainingItemCount === undefined ? {} : { remainingItemCount: result.remainingItemCount }),
            },
            items: result.items.map((item) => listItem(resource, item)),
          },
        };
      }
      case 'create':
        this.requireJson(contentType);
        if (this.namespaces !== undefined && route.namespace !== undefined && !this.namespaces.has(route.namespace)) {
          throw namespaceNotFound(route.namespace);
        }
        return { code: 201, body: this.objects.create(resource, namespace, this.parseJson(body), { dryRun: dryRunOf(query) }) };
      case 'update':
        this.requireJson(contentType);
        return { code: 200, body: this.objects.replace(resource, namespace, name, this.parseJson(body), { dryRun: dryRunOf(query), ...subresource }) };
      case 'patch': {
        const type = this.patchTypeOf(resource, contentType);
        return { code: 200, body: this.objects.patch(resource, namespace, name, type, this.parseJson(body), { dryRun: dryRunOf(query), ...subresource }) };
      }
      case 'delete': {
        const options = this.deleteOptionsOf(query, body);
        const result = this.objects.delete(resource, namespace, name, options);
        if (!result.removed) return { code: 202, body: result.object };
        return {
          code: 200,
          body: resource.returnsDeletedObject ? result.object : deleteSuccess(resource, name, result.object.metadata.uid),
        };
      }
      case 'deletecollection': {
        const deleted = this.objects.deleteCollection(
          resource,
          namespace,
          {
            labelSelector: parseLabelSelector(query.get('labelSelector')),
            fieldSelector: parseFieldSelector(query.get('fieldSelector'), resource),
          },
          this.deleteOptionsOf(query, body),
        );
        return {
          code: 200,
          body: {
            kind: resource.listKind,
            apiVersion: apiVersionOf(resource),
            metadata: { resourceVersion: String(this.objects.resourceVersion) },
            items: deleted.map((item) => listItem(resource, item)),
          },
        };
      }
    }
  }

  /** The pod log as plain text; `follow`, `previous`, `sinceSeconds` and `timestamps` are not modelled. */
  private readLog(route: ResourceRoute, query: URLSearchParams): string {
    const container = query.get('container');
    const tailLines = optionalInteger(query, 'tailLines');
    const limitBytes = optionalInteger(query, 'limitBytes');
    return this.podLogs.read(route.namespace ?? '', route.name ?? '', {
      ...(container ? { container } : {}),
      ...(tailLines === undefined ? {} : { tailLines }),
      ...(limitBytes === undefined ? {} : { limitBytes }),
    });
  }

  private requireJson(contentType: string | undefined): void {
    const type = mediaType(contentType);
    if (type !== '' && type !== 'application/json') {
      throw unsupportedMediaType(
        `the body of the request was in an unknown format - accepted media types include: application/json (the fake API server does not read ${type})`,
      );
    }
  }

  private patchTypeOf(resource: ResourceType, contentType: string | undefined): PatchType {
    const type = mediaType(contentType);
    const patchType = PATCH_TYPES[type];
    if (patchType) return patchType;
    if (type === 'application/apply-patch+yaml' || type === 'application/apply-patch+cbor') {
      throw unsupportedMediaType('server-side apply is not supported by the fake API server');
    }
    const accepted = resource.custom
      ? 'application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml'
      : 'application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml';
    throw unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: ${accepted}`);
  }

  /** DeleteOptions from the body when it has them, else from the query string. */
  private deleteOptionsOf(query: URLSearchParams, body: Buffer): DeleteOptions {
    const parsed = this.parseJson(body);
    const options = isPlainObject(parsed) ? parsed : {};
    const orphan = options.orphanDependents ?? optionalBoolean(query, 'orphanDependents');
    const policy = propagationPolicyOf(options.propagationPolicy ?? query.get('propagationPolicy')) ?? (orphan === true ? 'Orphan' : undefined);
    const preconditions = isPlainObject(options.preconditions) ? options.preconditions : {};
    const dryRun = Array.isArray(options.dryRun) ? options.dryRun.includes('All') : dryRunOf(query);
    return {
      ...(policy ? { propagationPolicy: policy } : {}),
      preconditions: {
        ...(typeof preconditions.uid === 'string' ? { uid: preconditions.uid } : {}),
        ...(typeof preconditions.resourceVersion === 'string' ? { resourceVersion: preconditions.resourceVersion } : {}),
      },
      dryRun,
    };
  }

  private openWatch(res: ServerResponse, route: ResourceRoute, query: URLSearchParams): WatchStream {
    const { resource } = route;
    const fieldSelector = parseFieldSelector(query.get('fieldSelector'), resource);
    const resourceVersion = query.get('resourceVersion') ?? '';
    if (resourceVersion !== '' && !/^\d+$/.test(resourceVersion)) throw badRequest(`invalid resource version ${JSON.stringify(resourceVersion)}`);
    const sendInitialEvents = optionalBoolean(query, 'sendInitialEvents');
    const timeoutSeconds = optionalInteger(query, 'timeoutSeconds');
    const watch = new WatchStream(
      res,
      this.objects,
      {
        resource,
        ...(route.namespace === undefined ? {} : { namespace: route.namespace }),
        labelSelector: parseLabelSelector(query.get('labelSelector')),
        // A named path (`/watch/…/{name}`, or `…/{name}?watch=true`) watches that one object.
        fieldSelector: route.name === undefined ? fieldSelector : [...fieldSelector, { field: 'metadata.name', operator: '=', value: route.name }],
        resourceVersion,
        allowBookmarks: optionalBoolean(query, 'allowWatchBookmarks') === true,
        ...(sendInitialEvents === undefined ? {} : { sendInitialEvents }),
        ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
      },
      (stream) => this.watches.delete(stream),
    );
    this.watches.add(watch);
    watch.open();
    return watch;
  }
}

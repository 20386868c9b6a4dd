/**
 * A list+watch cache of one Kubernetes collection (one namespace, one resource type, optional
 * selectors), shared by every waiter in the process: 200 Spark attempts following their
 * SparkApplications cost one watch connection per resource type, not 200.
 *
 * client-node's informer is not used because it reconnects a cut watch at once with no backoff,
 * stops for good on any other error, and sends no `timeoutSeconds` (its `Watch` has no
 * client-side timeout either, so a half-open connection would hang forever). Here:
 * - a watch that ends cleanly or is cut resumes from the last resourceVersion, at once when it
 *   was healthy, after a backoff when it ended within a second without delivering anything;
 * - a successful list resets the backoff (the server is up);
 * - an ERROR event or 410 Gone means the resourceVersion is unusable: list again, replace the
 *   cache and tell listeners what changed meanwhile (synthetic ADDED, MODIFIED, DELETED);
 * - every other failure (429, 5xx, 403, refused or reset connections, a silent stream caught by
 *   the idle watchdog) is retried after a capped exponential backoff, forever while started.
 */
import { ApiException, HttpMethod, IsomorphicFetchHttpLibrary, RequestContext, Watch, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { z } from 'zod';

/** The least a watched object must carry. Anything else in it is kept as received. */
export interface WatchedObject {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
    readonly labels?: Readonly<Record<string, string>>;
  };
}

export interface ResourceWatchEvent<T> {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** For DELETED, the last state seen. */
  readonly object: T;
}

export interface ResourceWatchBackoff {
  /** Delay after the first failure. Default 250. */
  readonly initialMs?: number;
  /** Cap of the delay, Retry-After included. Default 30 000. */
  readonly maxMs?: number;
  /** Growth per consecutive failure. Default 2. */
  readonly factor?: number;
  /** Up to this fraction of each delay is taken off at random, so watchers do not retry in step. Default 0.2. */
  readonly jitter?: number;
}

export interface ResourceWatchOptions {
  readonly kubeConfig: KubeConfig;
  /** Collection path, e.g. `/api/v1/namespaces/nightly/pods`. Objects are keyed by name: one namespace. */
  readonly path: string;
  /** Names the watch in logs. */
  readonly name: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Server-side watch timeout. Default 290. */
  readonly timeoutSeconds?: number;
  /**
   * No event or bookmark (or no answer to a list) for this long: abort and try again. Default
   * `timeoutSeconds * 1000 + 30 000`, so a server that honours its timeout never trips it.
   */
  readonly idleTimeoutMs?: number;
  readonly backoff?: ResourceWatchBackoff;
  readonly logger?: Logger;
  /** Epoch milliseconds. */
  readonly now?: () => number;
}

export interface ResourceWatchStats {
  /** Successful lists, the first included. */
  readonly lists: number;
  /** Watch requests answered with an open stream. */
  readonly watchesOpened: number;
  /** Successful lists after the first. */
  readonly relists: number;
  /** Failed lists and watch requests, ERROR events, 410s, silent streams, watches that ended before delivering anything. */
  readonly errors: number;
  /** Watch requests after the first one. */
  readonly reconnects: number;
  /** When the last event or bookmark arrived (epoch milliseconds). */
  readonly lastEventAt?: number;
  /** A watch stream is open. */
  readonly connected: boolean;
}

/** The delay before retrying after `failures` consecutive failures (≥ 1); `random` is in [0, 1). */
export function backoffDelayMs(failures: number, backoff: Required<ResourceWatchBackoff>, random: number): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * backoff.factor ** Math.max(0, failures - 1));
  return Math.round(base * (1 - backoff.jitter * random));
}

/**
 * A watch that ends without delivering anything counts as healthy only after this long open (or
 * half its server-side timeout, when shorter): a server or proxy that closes every watch at once
 * must not be reconnected in a tight loop. One second, as client-go's reflector ("very short
 * watch"): a quiet collection's watch cut by the network after a few seconds is no failure, and
 * counting it as one grew the backoff to its cap while the server was fine.
 */
const HEALTHY_WATCH_MS = 1_000;

const DEFAULT_BACKOFF: Required<ResourceWatchBackoff> = { initialMs: 250, maxMs: 30_000, factor: 2, jitter: 0.2 };

const namedObjectSchema = z.object({ metadata: z.object({ name: z.string().min(1), resourceVersion: z.string().optional() }) });
const listSchema = z.object({
  metadata: z.object({ resourceVersion: z.string().min(1) }),
  items: z.array(z.unknown()).nullish(),
});
const bookmarkSchema = z.object({ metadata: z.object({ resourceVersion: z.string().min(1) }) });
const statusSchema = z.object({ code: z.number().optional(), reason: z.string().optional(), message: z.string().optional() });

type WatchEnd =
  /** The stream ended cleanly or was cut. */
  | { readonly kind: 'ended'; readonly healthy: boolean; readonly error: unknown }
  /** An ERROR event or 410 Gone: the resourceVersion is unusable. */
  | { readonly kind: 'relist'; readonly reason: string }
  /** The watch request failed before a stream opened. */
  | { readonly kind: 'failed'; readonly error: unknown }
  /** Nothing arrived for idleTimeoutMs. */
  | { readonly kind: 'idle' }
  | { readonly kind: 'stopped' };

function statusCodeOf(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  if (typeof error === 'object' && error !== null && 'statusCode' in error && typeof error.statusCode === 'number') return error.statusCode;
  return undefined;
}

/** Retry-After in milliseconds, when a failed list carried one in seconds. */
function retryAfterMsOf(error: unknown): number | undefined {
  if (!(error instanceof ApiException)) return undefined;
  const headers = error.headers as Record<string, string> | undefined;
  const value = headers?.['retry-after'];
  return value !== undefined && /^\d+$/.test(value.trim()) ? Number(value.trim()) * 1000 : undefined;
}

function positive(name: string, value: number | undefined, integer = false): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new Error(`ResourceWatch ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${value}`);
  }
}

export class ResourceWatch<T extends WatchedObject = WatchedObject> {
  private readonly kubeConfig: KubeConfig;
  private readonly path: string;
  private readonly labelSelector: string | undefined;
  private readonly fieldSelector: string | undefined;
  private readonly timeoutSeconds: number;
  private readonly idleTimeoutMs: number;
  private readonly healthyAfterMs: number;
  private readonly backoff: Required<ResourceWatchBackoff>;
  private readonly log: Logger | undefined;
  private readonly now: () => number;

  private readonly objects = new Map<string, T>();
  private readonly changeListeners = new Set<(event: ResourceWatchEvent<T>) => void>();
  private readonly syncListeners = new Set<(synced: boolean) => void>();
  /** Pending `waitForSync` calls: resolved with true on sync, false on stop. */
  private readonly syncWaiters = new Set<(synced: boolean) => void>();

  private state: 'new' | 'running' | 'stopped' = 'new';
  private loop: Promise<void> | undefined;
  /** Aborts the request in flight or ends the backoff sleep; set by whichever is under way. */
  private interrupt: (() => void) | undefined;
  private resourceVersion: string | undefined;
  private isSynced = false;
  private isConnected = false;
  /** Consecutive failures since the last healthy sign; drives the backoff. */
  private failures = 0;
  private watchRequests = 0;
  private counts = { lists: 0, watchesOpened: 0, relists: 0, errors: 0, reconnects: 0 };
  private lastEventAt: number | undefined;

  constructor(options: ResourceWatchOptions) {
    if (!options.path.startsWith('/')) throw new Error(`ResourceWatch path must start with '/', got ${JSON.stringify(options.path)}`);
    positive('timeoutSeconds', options.timeoutSeconds, true);
    positive('idleTimeoutMs', options.idleTimeoutMs);
    positive('backoff.initialMs', options.backoff?.initialMs);
    positive('backoff.maxMs', options.backoff?.maxMs);
    const factor = options.backoff?.factor ?? DEFAULT_BACKOFF.factor;
    const jitter = options.backoff?.jitter ?? DEFAULT_BACKOFF.jitter;
    if (!(factor >= 1)) throw new Error(`ResourceWatch backoff.factor must be at least 1, got ${factor}`);
    if (!(jitter >= 0 && jitter <= 1)) throw new Error(`ResourceWatch backoff.jitter must be between 0 and 1, got ${jitter}`);

    this.kubeConfig = options.kubeConfig;
    this.path = options.path;
    this.labelSelector = options.labelSelector;
    this.fieldSelector = options.fieldSelector;
    this.timeoutSeconds = options.timeoutSeconds ?? 290;
    this.idleTimeoutMs = options.idleTimeoutMs ?? this.timeoutSeconds * 1000 + 30_000;
    this.healthyAfterMs = Math.min(HEALTHY_WATCH_MS, (this.timeoutSeconds * 1000) / 2);
    this.backoff = {
      initialMs: options.backoff?.initialMs ?? DEFAULT_BACKOFF.initialMs,
      maxMs: options.backoff?.maxMs ?? DEFAULT_BACKOFF.maxMs,
      factor,
      jitter,
    };
    this.log = options.logger?.child({ watch: options.name, path: options.path });
    this.now = options.now ?? Date.now;
  }

  /** Lists, then watches, until `stop()`. Calling it again while started does nothing. */
  start(): void {
    if (this.state === 'running') return;
    if (this.state === 'stopped') throw new Error('a stopped ResourceWatch cannot be started again');
    this.state = 'running';
    this.loop = this.run().catch((error: unknown) => {
      // run() handles its own failures; reaching this is a bug, and the cache would go stale silently.
      this.log?.error({ err: error }, 'resource watch loop crashed');
      this.state = 'stopped';
      this.setSynced(false);
    });
  }

  /** Aborts the request in flight and cancels the backoff; resolves once nothing is left running. */
  async stop(): Promise<void> {
    if (this.state === 'new') this.state = 'stopped';
    if (this.state === 'running') {
      this.state = 'stopped';
      this.interrupt?.();
      this.setSynced(false);
    }
    for (const waiter of [...this.syncWaiters]) waiter(false);
    await this.loop;
  }

  /** True after a successful list while the watch is up; false while disconnected or backing off. */
  get synced(): boolean {
    return this.isSynced;
  }

  get(name: string): T | undefined {
    return this.objects.get(name);
  }

  list(): T[] {
    return [...this.objects.values()];
  }

  /** Resolves true once synced, false after `timeoutMs` or on `stop()`. */
  waitForSync(timeoutMs: number): Promise<boolean> {
    if (this.isSynced) return Promise.resolve(true);
    if (this.state === 'stopped') return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const finish = (synced: boolean): void => {
        clearTimeout(timer);
        this.syncWaiters.delete(finish);
        resolve(synced);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.syncWaiters.add(finish);
    });
  }

  /** Every change of the cache, in order. Returns the unsubscribe function. */
  onChange(listener: (event: ResourceWatchEvent<T>) => void): () => void {
    this.changeListeners.add(listener);
    return () => {
      this.changeListeners.delete(listener);
    };
  }

  /** Called on every change of `synced`, so waiters can poll while the watch is down. */
  onSyncChange(listener: (synced: boolean) => void): () => void {
    this.syncListeners.add(listener);
    return () => {
      this.syncListeners.delete(listener);
    };
  }

  stats(): ResourceWatchStats {
    return {
      ...this.counts,
      ...(this.lastEventAt === undefined ? {} : { lastEventAt: this.lastEventAt }),
      connected: this.isConnected,
    };
  }

  // ---- the loop -----------------------------------------------------------------------------

  private async run(): Promise<void> {
    let mustList = true;
    while (this.state === 'running') {
      if (mustList) {
        if (!(await this.listAndReplace())) continue;
        mustList = false;
      }
      const end = await this.watchOnce();
      if (this.state !== 'running' || end.kind === 'stopped') return;
      switch (end.kind) {
        case 'ended':
          if (end.healthy) {
            this.failures = 0;
            this.log?.debug({ err: end.error ?? undefined, resourceVersion: this.resourceVersion }, 'watch ended, resuming');
          } else {
            await this.failed('the watch ended before delivering anything', end.error);
          }
          break;
        case 'relist':
          mustList = true;
          await this.failed(`relisting: ${end.reason}`, undefined);
          break;
        case 'failed':
          if (statusCodeOf(end.error) === 410) mustList = true;
          await this.failed(mustList ? 'watch answered 410 Gone, relisting' : 'watch request failed', end.error);
          break;
        case 'idle':
          await this.failed(`no event for ${this.idleTimeoutMs} ms, reconnecting`, undefined);
          break;
      }
    }
  }

  /** Counts the failure, marks the cache unsynced and sleeps the backoff (cut short by `stop()`). */
  private async failed(message: string, error: unknown): Promise<void> {
    this.counts.errors += 1;
    this.failures += 1;
    this.setSynced(false);
    const backoff = backoffDelayMs(this.failures, this.backoff, Math.random());
    const delayMs = Math.min(this.backoff.maxMs, Math.max(backoff, retryAfterMsOf(error) ?? 0));
    this.log?.warn({ err: error, statusCode: statusCodeOf(error), failures: this.failures, delayMs }, message);
    await this.sleep(delayMs);
  }

  private sleep(ms: number): Promise<void> {
    if (this.state !== 'running') return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.interrupt = undefined;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.interrupt = wake;
    });
  }

  // ---- list ---------------------------------------------------------------------------------

  /** Lists the collection and replaces the cache; false when the list failed (after the backoff) or the watch stopped. */
  private async listAndReplace(): Promise<boolean> {
    const controller = new AbortController();
    this.interrupt = () => controller.abort();
    const watchdog = setTimeout(() => controller.abort(), this.idleTimeoutMs);
    let listed: { items: T[]; resourceVersion: string } | undefined;
    let failure: unknown;
    try {
      listed = await this.fetchList(controller.signal);
    } catch (error) {
      failure = error;
    } finally {
      clearTimeout(watchdog);
      this.interrupt = undefined;
    }
    if (this.state !== 'running') return false;
    if (!listed) {
      await this.failed('list failed', failure);
      return false;
    }
    this.counts.lists += 1;
    // A server that answered a whole list is up: what failed before (a 410, cut watches) no
    // longer says how long to wait, and the next failure starts the backoff again.
    this.failures = 0;
    if (this.counts.lists > 1) {
      this.counts.relists += 1;
      this.log?.info({ resourceVersion: listed.resourceVersion, items: listed.items.length }, 'relisted');
    }
    this.resourceVersion = listed.resourceVersion;
    this.replace(listed.items);
    return true;
  }

  private async fetchList(signal: AbortSignal): Promise<{ items: T[]; resourceVersion: string }> {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const request = new RequestContext(`${cluster.server}${this.path}`, HttpMethod.GET);
    if (this.labelSelector) request.setQueryParam('labelSelector', this.labelSelector);
    if (this.fieldSelector) request.setQueryParam('fieldSelector', this.fieldSelector);
    request.setHeaderParam('Accept', 'application/json');
    await this.kubeConfig.applySecurityAuthentication(request);
    request.setSignal(signal);
    const response = await new IsomorphicFetchHttpLibrary().send(request).toPromise();
    const text = await response.body.text();
    if (response.httpStatusCode !== 200) {
      throw new ApiException(response.httpStatusCode, `list ${this.path} answered HTTP ${response.httpStatusCode}`, text, response.headers);
    }
    const list = listSchema.parse(JSON.parse(text));
    const items: T[] = [];
    for (const item of list.items ?? []) {
      if (namedObjectSchema.safeParse(item).success) items.push(item as T);
      else this.log?.warn({ item }, 'list item without metadata.name ignored');
    }
    return { items, resourceVersion: list.metadata.resourceVersion };
  }

  /** Replaces the cache with a fresh list and emits what changed since the previous state. */
  private replace(items: readonly T[]): void {
    const previous = new Map(this.objects);
    this.objects.clear();
    for (const item of items) this.objects.set(nameOf(item), item);
    const events: ResourceWatchEvent<T>[] = [];
    for (const [name, object] of this.objects) {
      const before = previous.get(name);
      if (!before) events.push({ type: 'ADDED', object });
      else if (!sameVersion(before, object)) events.push({ type: 'MODIFIED', object });
    }
    for (const [name, object] of previous) {
      if (!this.objects.has(name)) events.push({ type: 'DELETED', object });
    }
    for (const event of events) this.emit(event);
  }

  // ---- watch --------------------------------------------------------------------------------

  /**
   * One watch request, from the last resourceVersion, until it ends. client-node's `Watch` hands
   * back its AbortController only once the response headers arrived; a watchdog covers the wait
   * for them as well as silence on an open stream.
   */
  private watchOnce(): Promise<WatchEnd> {
    // A listener of the relist may have stopped the watch.
    if (this.state !== 'running') return Promise.resolve({ kind: 'stopped' });
    if (this.watchRequests > 0) this.counts.reconnects += 1;
    this.watchRequests += 1;
    return new Promise<WatchEnd>((resolve) => {
      let settled = false;
      let controller: AbortController | undefined;
      let abortedFor: WatchEnd | undefined;
      let openedAt = 0;
      let events = 0;

      const finish = (end: WatchEnd): void => {
        if (settled) return;
        settled = true;
        clearTimeout(watchdog);
        this.interrupt = undefined;
        if (this.isConnected) this.isConnected = false;
        resolve(end);
      };
      const abort = (end: WatchEnd): void => {
        abortedFor ??= end;
        controller?.abort();
      };
      const watchdog = setTimeout(() => {
        abort({ kind: 'idle' });
        // A connection still waiting for headers cannot be aborted yet: give it up now, and
        // abort it once client-node hands its controller back.
        finish({ kind: 'idle' });
      }, this.idleTimeoutMs);
      this.interrupt = () => abort({ kind: 'stopped' });

      const onEvent = (type: string, object: unknown): void => {
        if (settled || abortedFor) return;
        watchdog.refresh();
        if (type === 'ERROR') {
          const status = statusSchema.safeParse(object);
          const detail = status.success ? `${status.data.code ?? '?'} ${status.data.reason ?? ''} ${status.data.message ?? ''}`.trim() : 'no Status';
          abort({ kind: 'relist', reason: `watch ERROR event (${detail})` });
          return;
        }
        events += 1;
        this.failures = 0;
        this.lastEventAt = this.now();
        this.apply(type, object);
      };

      const onDone = (error: unknown): void => {
        if (abortedFor) return finish(abortedFor);
        if (controller === undefined) return finish({ kind: 'failed', error: error ?? new Error('the watch ended before it opened') });
        const healthy = events > 0 || this.now() - openedAt >= this.healthyAfterMs;
        finish({ kind: 'ended', healthy, error });
      };

      const query: Record<string, string | number | boolean | undefined> = {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: this.timeoutSeconds,
        labelSelector: this.labelSelector,
        fieldSelector: this.fieldSelector,
      };
      new Watch(this.kubeConfig)
        .watch(
          this.path,
          query,
          (type, object) => {
            // client-node swallows what this callback throws: log it here instead.
            try {
              onEvent(type, object);
            } catch (error) {
              this.log?.error({ err: error, type }, 'watch event handling failed');
            }
          },
          onDone,
        )
        .then(
          (opened) => {
            if (settled || abortedFor) {
              opened.abort();
              return;
            }
            controller = opened;
            openedAt = this.now();
            this.counts.watchesOpened += 1;
            this.isConnected = true;
            this.setSynced(true);
          },
          (error: unknown) => finish({ kind: 'failed', error }),
        );
    });
  }

  /** Applies one watch event to the cache and tells listeners. */
  private apply(type: string, object: unknown): void {
    if (type === 'BOOKMARK') {
      const bookmark = bookmarkSchema.safeParse(object);
      if (bookmark.success) this.resourceVersion = bookmark.data.metadata.resourceVersion;
      return;
    }
    if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') {
      this.log?.warn({ type }, 'unknown watch event type ignored');
      return;
    }
    const parsed = namedObjectSchema.safeParse(object);
    if (!parsed.success) {
      this.log?.warn({ type }, 'watch event without metadata.name ignored');
      return;
    }
    const { name, resourceVersion } = parsed.data.metadata;
    if (resourceVersion) this.resourceVersion = resourceVersion;
    const current = object as T;
    const before = this.objects.get(name);
    if (type === 'DELETED') {
      if (!before) return;
      this.objects.delete(name);
      this.emit({ type: 'DELETED', object: current });
      return;
    }
    if (before && sameVersion(before, current)) return;
    this.objects.set(name, current);
    this.emit({ type: before ? 'MODIFIED' : 'ADDED', object: current });
  }

  // ---- listeners ----------------------------------------------------------------------------

  private emit(event: ResourceWatchEvent<T>): void {
    for (const listener of [...this.changeListeners]) {
      this.call(() => listener(event), { type: event.type, name: nameOf(event.object) });
    }
  }

  private setSynced(synced: boolean): void {
    if (this.isSynced === synced) return;
    this.isSynced = synced;
    this.log?.debug({ synced }, synced ? 'watch synced' : 'watch not synced');
    for (const listener of [...this.syncListeners]) this.call(() => listener(synced), { synced });
    if (synced) for (const waiter of [...this.syncWaiters]) waiter(true);
  }

  /** Runs a listener; what it throws or rejects with is logged, never passed on to the watch. */
  private call(listener: () => unknown, context: Record<string, unknown>): void {
    try {
      const result = listener();
      if (result instanceof Promise) result.catch((error: unknown) => this.log?.error({ ...context, err: error }, 'resource watch listener failed'));
    } catch (error) {
      this.log?.error({ ...context, err: error }, 'resource watch listener failed');
    }
  }
}

function nameOf(object: WatchedObject): string {
  return object.metadata?.name ?? '';
}

function sameVersion(a: WatchedObject, b: WatchedObject): boolean {
  const version = a.metadata?.resourceVersion;
  return version !== undefined && version === b.metadata?.resourceVersion;
}

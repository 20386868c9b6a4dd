import type { ServerResponse } from 'node:http';
import type { FieldSelector } from './field-selector';
import type { StoredObject } from './kube-object';
import type { LabelSelector } from './label-selector';
import type { ObjectStore, StoreEvent } from './object-store';
import { apiVersionOf, type ResourceType } from './resources';
import { expired, type KubeStatus } from './status';

export interface WatchSpec {
  readonly resource: ResourceType;
  /** Undefined: every namespace. */
  readonly namespace?: string;
  readonly labelSelector: LabelSelector;
  readonly fieldSelector: FieldSelector;
  /** Already checked to be empty, '0' or a number. */
  readonly resourceVersion?: string;
  readonly allowBookmarks: boolean;
  /** The `sendInitialEvents` parameter, when given. */
  readonly sendInitialEvents?: boolean;
  readonly timeoutSeconds?: number;
}

type WireEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/**
 * One open watch: newline-delimited `{"type":…,"object":…}` on a chunked 200 response, as the API
 * server streams it. Selector semantics follow the watch cache: an object that stops matching is
 * sent as DELETED, one that starts matching as ADDED.
 */
export class WatchStream {
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(
    private readonly response: ServerResponse,
    private readonly store: ObjectStore,
    private readonly spec: WatchSpec,
    private readonly onDispose: (stream: WatchStream) => void,
  ) {}

  open(): void {
    const { response, spec } = this;
    response.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    response.flushHeaders();
    response.on('close', () => this.dispose());

    const from = spec.resourceVersion;
    const fromStart = from === undefined || from === '' || from === '0';
    const sendState = fromStart ? spec.sendInitialEvents !== false : spec.sendInitialEvents === true;
    if (sendState) {
      const state = this.store.list(spec.resource, spec.namespace, { labelSelector: spec.labelSelector, fieldSelector: spec.fieldSelector });
      for (const object of state.items) this.write('ADDED', object);
      if (spec.sendInitialEvents && spec.allowBookmarks) this.write('BOOKMARK', this.bookmarkObject(state.resourceVersion, true));
    } else {
      const rv = Number(from);
      const missed = this.store.eventsAfter(rv);
      if (!missed) {
        // The API server answers 200 and then a single ERROR event carrying the 410 Status.
        const status: KubeStatus = expired(`too old resource version: ${rv} (${this.store.oldestRetainedResourceVersion})`).status;
        this.write('ERROR', status);
        this.end();
        return;
      }
      for (const event of missed) this.deliver(event);
    }
    this.unsubscribe = this.store.subscribe((event) => this.deliver(event));
    if (spec.timeoutSeconds !== undefined && spec.timeoutSeconds > 0) {
      this.timer = setTimeout(() => this.end(), spec.timeoutSeconds * 1000);
    }
  }

  /** Sends a BOOKMARK at the current resourceVersion, if the client asked for bookmarks. */
  bookmark(): void {
    if (this.spec.allowBookmarks && !this.disposed) this.write('BOOKMARK', this.bookmarkObject(String(this.store.resourceVersion), false));
  }

  /** Ends the stream cleanly (the terminating chunk is sent), as the server does at a watch timeout. */
  end(): void {
    if (!this.response.writableEnded) this.response.end();
    this.dispose();
  }

  /** Drops the connection mid-stream, as a restarting API server or a broken load balancer does. */
  cut(): void {
    this.response.socket?.destroy();
    this.response.destroy();
    this.dispose();
  }

  private deliver(event: StoreEvent): void {
    if (this.disposed || event.resource !== this.spec.resource) return;
    const now = this.inScope(event.object);
    const before = this.inScope(event.previous);
    switch (event.type) {
      case 'ADDED':
        if (now) this.write('ADDED', event.object);
        break;
      case 'MODIFIED':
        if (now) this.write(before ? 'MODIFIED' : 'ADDED', event.object);
        else if (before) this.write('DELETED', event.object);
        break;
      case 'DELETED':
        if (now || before) this.write('DELETED', event.object);
        break;
    }
  }

  private inScope(object: StoredObject | undefined): boolean {
    if (!object) return false;
    if (this.spec.namespace !== undefined && object.metadata.namespace !== this.spec.namespace) return false;
    return this.store.matches(object, this.spec.labelSelector, this.spec.fieldSelector);
  }

  private bookmarkObject(resourceVersion: string, initialEventsEnd: boolean): unknown {
    return {
      kind: this.spec.resource.kind,
      apiVersion: apiVersionOf(this.spec.resource),
      metadata: {
        resourceVersion,
        ...(initialEventsEnd ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {}),
      },
    };
  }

  private write(type: WireEventType, object: unknown): void {
    if (this.response.writableEnded || this.response.destroyed) return;
    this.response.write(`${JSON.stringify({ type, object })}\n`);
  }

  private dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    this.onDispose(this);
  }
}

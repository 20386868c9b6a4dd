import { clone, type KubeObject, type PropagationPolicy, type StoredObject } from './kube-object';
import { parseFieldSelector } from './field-selector';
import { parseLabelSelector } from './label-selector';
import type { ObjectStore, StoreEvent, WatchEventType } from './object-store';
import { apiVersionOf } from './resources';

/** A change, as a simulator's hook receives it. */
export interface ClusterEvent {
  readonly type: WatchEventType;
  /** The resource's plural, e.g. `sparkapplications`, `pods`. */
  readonly resource: string;
  readonly namespace: string;
  readonly object: StoredObject;
}

export type ClusterListener = (event: ClusterEvent) => void | Promise<void>;

/**
 * The cluster's state for code that plays the operator or the kubelet. Writes here go through the
 * same rules and emit the same watch events as HTTP calls, with a controller's privileges: a
 * status given to `upsert` is kept, and updates need no resourceVersion.
 *
 * Hooks run after the write that triggered them has been answered (as a controller reacts to a
 * watch event, not inside the API call), one at a time in commit order; errors they throw are
 * kept and rethrown by `FakeKubeApiServer.stop()`.
 */
export class ClusterStore {
  private readonly listeners = new Map<WatchEventType, Set<ClusterListener>>();
  private readonly queue: ClusterEvent[] = [];
  private draining = false;
  private closed = false;

  constructor(private readonly objects: ObjectStore) {
    objects.subscribe((event) => this.enqueue(event));
  }

  get resourceVersion(): string {
    return String(this.objects.resourceVersion);
  }

  /** Creates the object, or replaces the stored one keeping its uid and creationTimestamp. */
  upsert(plural: string, namespace: string, object: KubeObject): StoredObject {
    const resource = this.objects.resourceByPlural(plural);
    const body: KubeObject = { apiVersion: apiVersionOf(resource), kind: resource.kind, ...clone(object) };
    const name = body.metadata?.name;
    if (name && this.objects.find(resource, namespace, name)) {
      const metadata = { ...body.metadata };
      delete metadata.resourceVersion;
      return this.objects.replace(resource, namespace, name, { ...body, metadata }, { privileged: true });
    }
    return this.objects.create(resource, namespace, body, { privileged: true });
  }

  get(plural: string, namespace: string, name: string): StoredObject | undefined {
    return this.objects.find(this.objects.resourceByPlural(plural), namespace, name);
  }

  /** Objects of one resource, in one namespace or (namespace undefined) all of them. */
  list(plural: string, namespace?: string, selectors: { labelSelector?: string; fieldSelector?: string } = {}): StoredObject[] {
    const resource = this.objects.resourceByPlural(plural);
    return this.objects.list(resource, namespace, {
      labelSelector: parseLabelSelector(selectors.labelSelector),
      fieldSelector: parseFieldSelector(selectors.fieldSelector, resource),
    }).items;
  }

  /** False when there was nothing to delete. Dependents go as the propagation policy says (default Background). */
  delete(plural: string, namespace: string, name: string, options: { propagationPolicy?: PropagationPolicy } = {}): boolean {
    const resource = this.objects.resourceByPlural(plural);
    if (!this.objects.find(resource, namespace, name)) return false;
    this.objects.delete(resource, namespace, name, options);
    return true;
  }

  /** Merges `status` into the object's status (JSON merge patch semantics: `null` removes a field). */
  patchStatus(plural: string, namespace: string, name: string, status: Record<string, unknown>): StoredObject {
    const resource = this.objects.resourceByPlural(plural);
    return this.objects.patch(resource, namespace, name, 'merge', { status }, { subresource: 'status', privileged: true });
  }

  /** A JSON merge patch of the whole object (spec, metadata, finalizers...). */
  patch(plural: string, namespace: string, name: string, mergePatch: Record<string, unknown>): StoredObject {
    const resource = this.objects.resourceByPlural(plural);
    return this.objects.patch(resource, namespace, name, 'merge', mergePatch, { privileged: true });
  }

  /** Calls `listener` for every change of this type; returns the unsubscribe function. */
  on(type: WatchEventType, listener: ClusterListener): () => void {
    const set = this.listeners.get(type) ?? new Set<ClusterListener>();
    this.listeners.set(type, set);
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Resolves once hooks and garbage collection have nothing left to do. */
  async idle(): Promise<void> {
    while (!this.closed && (this.draining || this.queue.length > 0 || this.objects.busy)) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.listeners.clear();
  }

  private enqueue(event: StoreEvent): void {
    if (this.closed || (this.listeners.get(event.type)?.size ?? 0) === 0) return;
    this.queue.push({
      type: event.type,
      resource: event.resource.plural,
      namespace: event.object.metadata.namespace,
      object: clone(event.object),
    });
    if (!this.draining) {
      this.draining = true;
      setImmediate(() => void this.drain());
    }
  }

  private async drain(): Promise<void> {
    try {
      for (let event = this.queue.shift(); event && !this.closed; event = this.queue.shift()) {
        for (const listener of [...(this.listeners.get(event.type) ?? [])]) {
          try {
            await listener(event);
          } catch (error) {
            this.objects.backgroundErrors.push(error);
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }
}

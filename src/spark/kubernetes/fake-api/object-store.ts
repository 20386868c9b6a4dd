import { randomInt, randomUUID } from 'node:crypto';
import { matchesFields, type FieldSelector } from './field-selector';
import {
  FOREGROUND_DELETION_FINALIZER,
  clone,
  deepEqual,
  isPlainObject,
  rfc3339,
  type KubeObject,
  type ObjectMeta,
  type PropagationPolicy,
  type StoredObject,
} from './kube-object';
import { matchesLabels, type LabelSelector } from './label-selector';
import { PatchApplyError, PatchFormatError, applyJsonPatch, applyMergePatch } from './patch';
import { apiVersionOf, type ResourceType } from './resources';
import {
  OBJECT_MODIFIED,
  alreadyExists,
  badRequest,
  conflict,
  expired,
  invalid,
  notFound,
  tooLargeResourceVersion,
  unprocessablePatch,
  unsupportedMediaType,
  type FieldError,
} from './status';
import { validateObjectMeta } from './validation';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One committed change. Objects in events are never mutated after the commit. */
export interface StoreEvent {
  readonly type: WatchEventType;
  readonly resource: ResourceType;
  readonly resourceVersion: number;
  readonly object: StoredObject;
  /** The object before this change (MODIFIED and DELETED). */
  readonly previous?: StoredObject;
}

export interface ListQuery {
  readonly labelSelector?: LabelSelector;
  readonly fieldSelector?: FieldSelector;
  readonly resourceVersion?: string;
  readonly resourceVersionMatch?: string;
  readonly limit?: number;
  readonly continueToken?: string;
}

export interface ListResult {
  readonly items: StoredObject[];
  readonly resourceVersion: string;
  readonly continueToken?: string;
  readonly remainingItemCount?: number;
}

export interface WriteOptions {
  readonly dryRun?: boolean;
  readonly subresource?: 'status';
  /**
   * A controller's write through the store API rather than a client's through HTTP: `.status` is
   * kept as given, and no resourceVersion is demanded on update.
   */
  readonly privileged?: boolean;
}

export interface DeleteOptions {
  readonly propagationPolicy?: PropagationPolicy;
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
  readonly dryRun?: boolean;
}

export interface DeleteResult {
  readonly object: StoredObject;
  /** False when finalizers (or a foreground deletion) keep the object, now carrying a deletionTimestamp. */
  readonly removed: boolean;
}

export type PatchType = 'merge' | 'json' | 'strategic';

export interface ObjectStoreOptions {
  /** How many changes are kept for watches that resume from a resourceVersion. Default 10 000. */
  readonly historyLimit?: number;
  readonly now?: () => Date;
}

const GENERATE_NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const CONTINUE_TOO_OLD =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.';

type MutableObject = KubeObject & { metadata: ObjectMeta };

function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** apiVersion, kind, metadata first, as the API server writes objects. */
function canonical(object: MutableObject): StoredObject {
  const { apiVersion, kind, metadata, ...rest } = object;
  return { apiVersion, kind, metadata, ...rest } as StoredObject;
}

/** Everything but metadata and status: what `metadata.generation` counts changes of. */
function specOf(object: KubeObject): Record<string, unknown> {
  const { metadata: _metadata, status: _status, ...rest } = object;
  return rest;
}

function parseResourceVersion(value: string): number {
  if (!/^\d+$/.test(value)) throw badRequest(`invalid resource version ${JSON.stringify(value)}`);
  return Number(value);
}

function checkMetadataShape(metadata: Record<string, unknown>): void {
  for (const field of ['name', 'generateName', 'namespace', 'resourceVersion', 'uid']) {
    if (metadata[field] !== undefined && typeof metadata[field] !== 'string') {
      throw badRequest(`json: cannot unmarshal ${typeof metadata[field]} into Go struct field ObjectMeta.metadata.${field} of type string`);
    }
  }
  for (const field of ['labels', 'annotations']) {
    const map = metadata[field];
    if (map === undefined || map === null) continue;
    if (!isPlainObject(map) || Object.values(map).some((v) => typeof v !== 'string')) {
      throw badRequest(`json: cannot unmarshal into Go struct field ObjectMeta.metadata.${field} of type map[string]string`);
    }
  }
  const finalizers = metadata.finalizers;
  if (finalizers !== undefined && finalizers !== null && (!Array.isArray(finalizers) || finalizers.some((f) => typeof f !== 'string'))) {
    throw badRequest('json: cannot unmarshal into Go struct field ObjectMeta.metadata.finalizers of type []string');
  }
  const owners = metadata.ownerReferences;
  if (owners !== undefined && owners !== null && (!Array.isArray(owners) || owners.some((o) => !isPlainObject(o)))) {
    throw badRequest('json: cannot unmarshal into Go struct field ObjectMeta.metadata.ownerReferences of type []v1.OwnerReference');
  }
}

function ownerReferenceErrors(metadata: ObjectMeta): FieldError[] {
  const errors: FieldError[] = [];
  let controllers = 0;
  for (const ref of metadata.ownerReferences ?? []) {
    for (const field of ['apiVersion', 'kind', 'name', 'uid'] as const) {
      if (typeof ref[field] !== 'string' || ref[field] === '') {
        errors.push({ type: 'FieldValueInvalid', field: `metadata.ownerReferences.${field}`, value: ref[field] ?? '', detail: `${field} must not be empty` });
      }
    }
    if (ref.controller === true) controllers += 1;
  }
  if (controllers > 1) {
    errors.push({ type: 'FieldValueInvalid', field: 'metadata.ownerReferences', value: metadata.ownerReferences, detail: 'Only one reference can have Controller set to true' });
  }
  return errors;
}

/**
 * The state of the fake cluster and the rules of the real API server's registry: a global
 * resourceVersion, optimistic concurrency, the status subresource, generation, finalizers and
 * owner-reference garbage collection, and a bounded history that watches resume from (and
 * expire out of, with 410, as etcd compaction does).
 */
export class ObjectStore {
  /** Like etcd's revision, never 0: resourceVersion "0" means "any version" to the API. */
  private revision = 1;
  private readonly tables = new Map<ResourceType, Map<string, StoredObject>>();
  private history: StoreEvent[] = [];
  /** Resuming from a resourceVersion below this is answered 410 Expired. */
  private expiredBefore = 0;
  private readonly subscribers = new Set<(event: StoreEvent) => void>();
  private gcPending: NodeJS.Immediate | undefined;
  private closed = false;
  private readonly historyLimit: number;
  private readonly now: () => Date;
  /** Errors thrown by subscribers or the garbage collector, kept for whoever stops the server. */
  readonly backgroundErrors: unknown[] = [];

  constructor(
    readonly resources: readonly ResourceType[],
    options: ObjectStoreOptions = {},
  ) {
    this.historyLimit = options.historyLimit ?? 10_000;
    this.now = options.now ?? (() => new Date());
    for (const resource of resources) this.tables.set(resource, new Map());
  }

  get resourceVersion(): number {
    return this.revision;
  }

  /** True while garbage collection is scheduled but has not run. */
  get busy(): boolean {
    return this.gcPending !== undefined;
  }

  resourceByPlural(plural: string): ResourceType {
    const resource = this.resources.find((r) => r.plural === plural);
    if (!resource) throw new Error(`the fake API server does not serve ${JSON.stringify(plural)}`);
    return resource;
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }

  close(): void {
    this.closed = true;
    if (this.gcPending) clearImmediate(this.gcPending);
    this.gcPending = undefined;
    this.subscribers.clear();
  }

  // ---- reads --------------------------------------------------------------------------------

  find(resource: ResourceType, namespace: string, name: string): StoredObject | undefined {
    const found = this.table(resource).get(keyOf(namespace, name));
    return found ? clone(found) : undefined;
  }

  get(resource: ResourceType, namespace: string, name: string): StoredObject {
    return clone(this.require(resource, namespace, name));
  }

  list(resource: ResourceType, namespace: string | undefined, query: ListQuery = {}): ListResult {
    let at = this.revision;
    let after: string | undefined;
    if (query.continueToken) {
      const token = this.decodeContinue(query.continueToken);
      if (token.rv < this.expiredBefore) throw expired(CONTINUE_TOO_OLD);
      at = token.rv;
      after = token.after;
    } else if (query.resourceVersion && query.resourceVersion !== '0') {
      const requested = parseResourceVersion(query.resourceVersion);
      if (requested > this.revision) throw tooLargeResourceVersion(requested, this.revision);
      if (query.resourceVersionMatch === 'Exact') {
        if (requested < this.expiredBefore) throw expired('The resourceVersion for the provided list is too old.');
        at = requested;
      }
    }
    const matching = [...this.snapshotAt(resource, at).entries()]
      .filter(([, object]) => namespace === undefined || object.metadata.namespace === namespace)
      .filter(([, object]) => this.matches(object, query.labelSelector, query.fieldSelector))
      .filter(([key]) => after === undefined || key > after)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const limit = query.limit && query.limit > 0 ? query.limit : matching.length;
    const page = matching.slice(0, limit);
    const rest = matching.length - page.length;
    const last = page[page.length - 1];
    const selective = (query.labelSelector?.length ?? 0) + (query.fieldSelector?.length ?? 0) > 0;
    return {
      items: page.map(([, object]) => clone(object)),
      resourceVersion: String(at),
      ...(rest > 0 && last ? { continueToken: this.encodeContinue(at, last[0]) } : {}),
      ...(rest > 0 && !selective ? { remainingItemCount: rest } : {}),
    };
  }

  matches(object: StoredObject, labels: LabelSelector | undefined, fields: FieldSelector | undefined): boolean {
    return matchesLabels(labels ?? [], object.metadata.labels) && matchesFields(fields ?? [], object);
  }

  /** The changes after `resourceVersion`, or undefined when they are no longer retained. */
  eventsAfter(resourceVersion: number): StoreEvent[] | undefined {
    if (resourceVersion < this.expiredBefore) return undefined;
    return this.history.filter((event) => event.resourceVersion > resourceVersion);
  }

  get oldestRetainedResourceVersion(): number {
    return this.expiredBefore;
  }

  /** Drops history: resuming a watch (or an exact list) from below `resourceVersion` answers 410. */
  expireBefore(resourceVersion: number): void {
    this.expiredBefore = Math.max(this.expiredBefore, resourceVersion);
    this.history = this.history.filter((event) => event.resourceVersion > this.expiredBefore);
  }

  // ---- writes -------------------------------------------------------------------------------

  create(resource: ResourceType, namespace: string, body: unknown, options: WriteOptions = {}): StoredObject {
    const object = this.decode(resource, namespace, body);
    const metadata = object.metadata;
    if (!metadata.name && typeof metadata.generateName === 'string' && metadata.generateName !== '') {
      metadata.name = metadata.generateName + Array.from({ length: 5 }, () => GENERATE_NAME_ALPHABET[randomInt(GENERATE_NAME_ALPHABET.length)]).join('');
    }
    if (metadata.resourceVersion) {
      if (!options.privileged) throw badRequest('resourceVersion should not be set on objects to be created');
      delete metadata.resourceVersion;
    }
    const errors = [...validateObjectMeta(resource, metadata), ...ownerReferenceErrors(metadata)];
    if (errors.length > 0) throw invalid(resource, metadata.name ?? '', errors);
    const name = metadata.name ?? '';
    if (this.table(resource).has(keyOf(namespace, name))) throw alreadyExists(resource, name);

    metadata.uid = randomUUID();
    metadata.creationTimestamp = rfc3339(this.now());
    delete metadata.deletionTimestamp;
    delete metadata.deletionGracePeriodSeconds;
    if (resource.tracksGeneration) metadata.generation = 1;
    else delete metadata.generation;
    if (resource.statusSubresource && !options.privileged) {
      if (resource.initialStatus) object.status = clone(resource.initialStatus);
      else delete object.status;
    }
    const stored = canonical(object);
    if (options.dryRun) return clone(stored);
    return this.commit('ADDED', resource, stored, undefined);
  }

  replace(resource: ResourceType, namespace: string, name: string, body: unknown, options: WriteOptions = {}): StoredObject {
    const current = this.require(resource, namespace, name);
    const incoming = this.decode(resource, namespace, body);
    const bodyName = incoming.metadata.name ?? '';
    if (bodyName !== name) throw badRequest(`the name of the object (${bodyName}) does not match the name on the URL (${name})`);
    const requested = incoming.metadata.resourceVersion;
    if (requested === undefined || requested === '') {
      // Custom resources refuse unconditional updates; most built-in types accept them.
      if (resource.custom && !options.privileged) {
        throw invalid(resource, name, [
          { type: 'FieldValueInvalid', field: 'metadata.resourceVersion', renderedValue: '0x0', detail: 'must be specified for an update' },
        ]);
      }
    } else if (requested !== current.metadata.resourceVersion) {
      throw conflict(resource, name, OBJECT_MODIFIED);
    }
    return this.update(resource, current, incoming, options);
  }

  patch(
    resource: ResourceType,
    namespace: string,
    name: string,
    type: PatchType,
    patch: unknown,
    options: WriteOptions = {},
  ): StoredObject {
    if (type === 'strategic' && resource.custom) {
      throw unsupportedMediaType(
        'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
      );
    }
    const current = this.require(resource, namespace, name);
    if (type !== 'json' && !isPlainObject(patch)) throw badRequest('the merge patch must be a JSON object');
    let patched: unknown;
    try {
      // Strategic merge patch is served as a JSON merge patch: lists are replaced, not merged by key.
      patched = type === 'json' ? applyJsonPatch(current, patch) : applyMergePatch(current, patch);
    } catch (error) {
      if (error instanceof PatchFormatError) throw badRequest(error.message);
      if (error instanceof PatchApplyError) throw unprocessablePatch(error.message);
      throw error;
    }
    const incoming = this.decode(resource, namespace, patched);
    const patchedName = incoming.metadata.name ?? '';
    if (patchedName !== name) throw badRequest(`the name of the object (${patchedName}) does not match the name on the URL (${name})`);
    const requested = incoming.metadata.resourceVersion;
    if (requested && requested !== current.metadata.resourceVersion) throw conflict(resource, name, OBJECT_MODIFIED);
    return this.update(resource, current, incoming, options);
  }

  delete(resource: ResourceType, namespace: string, name: string, options: DeleteOptions = {}): DeleteResult {
    const current = this.require(resource, namespace, name);
    const { uid, resourceVersion } = options.preconditions ?? {};
    if (uid && uid !== current.metadata.uid) {
      throw conflict(resource, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${current.metadata.uid}`);
    }
    if (resourceVersion && resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(
        resource,
        name,
        `Precondition failed: ResourceVersion in precondition: ${resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
      );
    }
    const policy = options.propagationPolicy ?? 'Background';
    const finalizers = [...(current.metadata.finalizers ?? [])];
    if (policy === 'Foreground' && !finalizers.includes(FOREGROUND_DELETION_FINALIZER)) finalizers.push(FOREGROUND_DELETION_FINALIZER);
    if (options.dryRun) return { object: clone(current), removed: finalizers.length === 0 };

    if (current.metadata.deletionTimestamp) {
      // Already being deleted: only a switch to foreground changes anything.
      if (finalizers.length === (current.metadata.finalizers ?? []).length) return { object: clone(current), removed: false };
      const next = clone(current) as MutableObject;
      next.metadata.finalizers = finalizers;
      return { object: this.commit('MODIFIED', resource, canonical(next), current), removed: false };
    }
    if (policy === 'Orphan') this.orphanDependentsOf(current);
    if (finalizers.length === 0) return { object: this.commit('DELETED', resource, clone(current), current), removed: true };

    const next = clone(current) as MutableObject;
    next.metadata.finalizers = finalizers;
    next.metadata.deletionTimestamp = rfc3339(this.now());
    next.metadata.deletionGracePeriodSeconds = 0;
    if (resource.tracksGeneration) next.metadata.generation = (current.metadata.generation ?? 0) + 1;
    return { object: this.commit('MODIFIED', resource, canonical(next), current), removed: false };
  }

  deleteCollection(resource: ResourceType, namespace: string, query: ListQuery, options: DeleteOptions = {}): StoredObject[] {
    const { items } = this.list(resource, namespace, { labelSelector: query.labelSelector, fieldSelector: query.fieldSelector });
    return items.map((item) => this.delete(resource, namespace, item.metadata.name, options).object);
  }

  // ---- internals ----------------------------------------------------------------------------

  private table(resource: ResourceType): Map<string, StoredObject> {
    const table = this.tables.get(resource);
    if (!table) throw new Error(`the fake API server does not serve ${resource.plural}`);
    return table;
  }

  private require(resource: ResourceType, namespace: string, name: string): StoredObject {
    const found = this.table(resource).get(keyOf(namespace, name));
    if (!found) throw notFound(resource, name);
    return found;
  }

  /** A request body as an object of this resource, or the 400/422 the API server would answer. */
  private decode(resource: ResourceType, namespace: string, body: unknown): MutableObject {
    if (!isPlainObject(body)) throw badRequest('the body of the request must be a JSON object');
    const object = clone(body) as KubeObject;
    const expectedApiVersion = apiVersionOf(resource);
    const metadata = object.metadata ?? {};
    if (!isPlainObject(metadata)) throw badRequest('json: cannot unmarshal into Go struct field .metadata of type v1.ObjectMeta');
    checkMetadataShape(metadata);
    if (resource.custom) {
      if (typeof object.kind !== 'string' || object.kind === '') throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
      const errors: FieldError[] = [];
      if (object.kind !== resource.kind) errors.push({ type: 'FieldValueInvalid', field: 'kind', value: object.kind, detail: `must be ${resource.kind}` });
      if (object.apiVersion !== expectedApiVersion) {
        errors.push({ type: 'FieldValueInvalid', field: 'apiVersion', value: object.apiVersion ?? '', detail: `must be ${expectedApiVersion}` });
      }
      if (errors.length > 0) throw invalid(resource, typeof metadata.name === 'string' ? metadata.name : '', errors);
    } else {
      if (object.apiVersion && object.apiVersion !== expectedApiVersion) {
        throw badRequest(`the API version in the data (${object.apiVersion}) does not match the expected API version (${expectedApiVersion})`);
      }
      if (object.kind && object.kind !== resource.kind) {
        throw badRequest(`the object provided is unrecognized (must be of type ${resource.kind}): kind ${JSON.stringify(object.kind)}`);
      }
      object.apiVersion = expectedApiVersion;
      object.kind = resource.kind;
    }
    if (metadata.namespace && metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    metadata.namespace = namespace;
    for (const field of ['labels', 'annotations', 'finalizers', 'ownerReferences']) {
      if (metadata[field] === null) delete metadata[field];
    }
    object.metadata = metadata;
    return object as MutableObject;
  }

  private update(resource: ResourceType, current: StoredObject, incoming: MutableObject, options: WriteOptions): StoredObject {
    let next: MutableObject;
    if (options.subresource === 'status') {
      next = clone(current) as MutableObject;
      if ('status' in incoming) next.status = incoming.status;
      else delete next.status;
    } else {
      next = incoming;
      if (resource.statusSubresource && !options.privileged) {
        if ('status' in current) next.status = clone(current.status);
        else delete next.status;
      }
    }
    const was = current.metadata;
    const metadata = next.metadata;
    metadata.name = was.name;
    metadata.namespace = was.namespace;
    metadata.uid = was.uid;
    metadata.creationTimestamp = was.creationTimestamp;
    metadata.resourceVersion = was.resourceVersion;
    for (const field of ['deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
      if (was[field] === undefined) delete metadata[field];
      else metadata[field] = was[field] as never;
    }
    const errors = [...validateObjectMeta(resource, metadata), ...ownerReferenceErrors(metadata)];
    if (was.deletionTimestamp) {
      const added = (metadata.finalizers ?? []).filter((f) => !(was.finalizers ?? []).includes(f));
      if (added.length > 0) {
        errors.push({
          type: 'FieldValueForbidden',
          field: 'metadata.finalizers',
          detail: `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`,
        });
      }
    }
    if (errors.length > 0) throw invalid(resource, was.name, errors);
    if (resource.tracksGeneration && !deepEqual(specOf(current), specOf(next))) metadata.generation = (was.generation ?? 0) + 1;
    if (metadata.finalizers?.length === 0) delete metadata.finalizers;

    const stored = canonical(next);
    // A write that changes nothing is not a write: no new resourceVersion, no watch event.
    if (deepEqual(stored, current)) return clone(current);
    if (options.dryRun) return clone(stored);
    if (metadata.deletionTimestamp && (metadata.finalizers ?? []).length === 0) return this.commit('DELETED', resource, stored, current);
    return this.commit('MODIFIED', resource, stored, current);
  }

  private commit(type: WatchEventType, resource: ResourceType, object: StoredObject, previous: StoredObject | undefined): StoredObject {
    if (this.closed) throw new Error('the fake API server has been stopped');
    this.revision += 1;
    object.metadata.resourceVersion = String(this.revision);
    const key = keyOf(object.metadata.namespace, object.metadata.name);
    if (type === 'DELETED') this.table(resource).delete(key);
    else this.table(resource).set(key, object);
    const event: StoreEvent = { type, resource, resourceVersion: this.revision, object, ...(previous ? { previous } : {}) };
    this.history.push(event);
    while (this.history.length > this.historyLimit) {
      const dropped = this.history.shift();
      if (dropped) this.expiredBefore = Math.max(this.expiredBefore, dropped.resourceVersion);
    }
    for (const subscriber of [...this.subscribers]) {
      try {
        subscriber(event);
      } catch (error) {
        this.backgroundErrors.push(error);
      }
    }
    // Only deletions and objects that reference owners (or are being deleted) can give the collector work.
    if (type === 'DELETED' || object.metadata.ownerReferences?.length || object.metadata.deletionTimestamp) this.scheduleGarbageCollection();
    return clone(object);
  }

  /** The objects of one resource as they were at `resourceVersion`, undoing later changes. */
  private snapshotAt(resource: ResourceType, resourceVersion: number): Map<string, StoredObject> {
    const snapshot = new Map(this.table(resource));
    if (resourceVersion >= this.revision) return snapshot;
    for (let i = this.history.length - 1; i >= 0; i -= 1) {
      const event = this.history[i];
      if (!event || event.resourceVersion <= resourceVersion) break;
      if (event.resource !== resource) continue;
      const key = keyOf(event.object.metadata.namespace, event.object.metadata.name);
      if (event.type === 'ADDED' || !event.previous) snapshot.delete(key);
      else snapshot.set(key, event.previous);
    }
    return snapshot;
  }

  private encodeContinue(rv: number, after: string): string {
    return Buffer.from(JSON.stringify({ rv, after })).toString('base64url');
  }

  private decodeContinue(token: string): { rv: number; after: string } {
    try {
      const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
      if (isPlainObject(parsed) && typeof parsed.rv === 'number' && typeof parsed.after === 'string') return { rv: parsed.rv, after: parsed.after };
    } catch {
      // fall through to the API server's answer for a token it did not issue
    }
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }

  private orphanDependentsOf(owner: StoredObject): void {
    for (const [resource, table] of this.tables) {
      for (const dependent of [...table.values()]) {
        const refs = dependent.metadata.ownerReferences ?? [];
        if (!refs.some((ref) => ref.uid === owner.metadata.uid)) continue;
        const next = clone(dependent) as MutableObject;
        next.metadata.ownerReferences = refs.filter((ref) => ref.uid !== owner.metadata.uid);
        if (next.metadata.ownerReferences.length === 0) delete next.metadata.ownerReferences;
        this.commit('MODIFIED', resource, canonical(next), dependent);
      }
    }
  }

  // ---- garbage collection -------------------------------------------------------------------
  //
  // Like the real garbage collector it runs after the request that caused it has been answered,
  // so a client sees a background-deleted owner's pods for a moment, and a foreground-deleted
  // owner (with its deletionTimestamp) until every dependent is gone.

  private scheduleGarbageCollection(): void {
    if (this.gcPending || this.closed) return;
    this.gcPending = setImmediate(() => {
      this.gcPending = undefined;
      try {
        for (let step = 0; step < 10_000 && this.collectOne(); step += 1);
      } catch (error) {
        this.backgroundErrors.push(error);
      }
    });
  }

  /** Makes one garbage-collection change; false when there is nothing left to do. */
  private collectOne(): boolean {
    const byUid = new Map<string, { resource: ResourceType; object: StoredObject }>();
    for (const [resource, table] of this.tables) {
      for (const object of table.values()) byUid.set(object.metadata.uid, { resource, object });
    }
    const deletingInForeground = (uid: string): boolean => {
      const owner = byUid.get(uid)?.object;
      return Boolean(owner?.metadata.deletionTimestamp && owner.metadata.finalizers?.includes(FOREGROUND_DELETION_FINALIZER));
    };
    for (const { resource, object } of byUid.values()) {
      const { namespace, name } = object.metadata;
      const refs = object.metadata.ownerReferences ?? [];
      if (refs.length > 0) {
        const live = refs.filter((ref) => byUid.get(ref.uid)?.object.metadata.namespace === namespace);
        if (live.length === 0) {
          if (!object.metadata.deletionTimestamp) {
            this.delete(resource, namespace, name, { propagationPolicy: 'Background' });
            return true;
          }
        } else if (live.length < refs.length) {
          const next = clone(object) as MutableObject;
          next.metadata.ownerReferences = live;
          this.commit('MODIFIED', resource, canonical(next), object);
          return true;
        } else if (!object.metadata.deletionTimestamp && live.some((ref) => deletingInForeground(ref.uid))) {
          this.delete(resource, namespace, name, { propagationPolicy: 'Foreground' });
          return true;
        }
      }
      if (deletingInForeground(object.metadata.uid)) {
        const hasDependents = [...byUid.values()].some((d) => d.object.metadata.ownerReferences?.some((ref) => ref.uid === object.metadata.uid));
        if (!hasDependents) {
          const next = clone(object) as MutableObject;
          next.metadata.finalizers = (object.metadata.finalizers ?? []).filter((f) => f !== FOREGROUND_DELETION_FINALIZER);
          this.update(resource, object, next, { privileged: true });
          return true;
        }
      }
    }
    return false;
  }
}

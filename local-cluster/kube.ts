/**
 * The writes the operator and kubelet stand-ins make, through the real `@kubernetes/client-node`
 * against a real API server: create, read, delete, and merge-patches of objects and of their
 * `status` subresource (the way the spark-operator writes a SparkApplication's status and the
 * kubelet a pod's).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { SPARK_GROUP, SPARK_PLURAL, SPARK_VERSION } from '../src/spark/kubernetes/kube-api';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** Any Kubernetes object as JSON: what a client sends. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

/** An object as the server returns it: type and identity filled in. */
export interface StoredObject extends KubeObject {
  apiVersion: string;
  kind: string;
  metadata: NonNullable<KubeObject['metadata']> & {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
  };
}

/** The kinds the stand-ins write. */
export type Plural = 'sparkapplications' | 'pods' | 'services' | 'configmaps' | 'persistentvolumeclaims' | 'events';

const KIND: Readonly<Record<Plural, { apiVersion: string; kind: string }>> = {
  sparkapplications: { apiVersion: `${SPARK_GROUP}/${SPARK_VERSION}`, kind: 'SparkApplication' },
  pods: { apiVersion: 'v1', kind: 'Pod' },
  services: { apiVersion: 'v1', kind: 'Service' },
  configmaps: { apiVersion: 'v1', kind: 'ConfigMap' },
  persistentvolumeclaims: { apiVersion: 'v1', kind: 'PersistentVolumeClaim' },
  events: { apiVersion: 'v1', kind: 'Event' },
};

/** The object is gone (404), or being deleted: the caller's work on it is over. */
export class Gone extends Error {
  constructor(what: string) {
    super(`${what} is gone`);
    this.name = 'Gone';
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function codeOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/** client-node turns timestamps into Date objects; the stand-ins read the wire format. */
function wire<T>(value: T): StoredObject {
  return JSON.parse(JSON.stringify(value)) as StoredObject;
}

const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Errors of a client that reached no API server, or none that answered in time. */
const UNREACHABLE = /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|socket hang up|other side closed|fetch failed|network/i;

/**
 * Trouble a controller rides out by trying again (client-go's controllers requeue with a
 * backoff): the API server restarting or overloaded (refused or reset connections, 429, 5xx —
 * etcd away answers 500 or 503 from a running API server).
 */
export function isPassingTrouble(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined) return code === 429 || code >= 500;
  if (!(error instanceof Error)) return false;
  const cause = (error as { cause?: unknown }).cause;
  const causeText = cause instanceof Error ? `${(cause as { code?: string }).code ?? ''} ${cause.message}` : '';
  return UNREACHABLE.test(`${(error as { code?: string }).code ?? ''} ${error.message} ${causeText}`);
}

/** How long the stand-ins keep trying one call through passing trouble: longer than a restart of the plane's components takes. */
export const PASSING_TROUBLE_BUDGET_MS = 120_000;
const RETRY_FIRST_MS = 200;
const RETRY_MAX_MS = 3_000;

/** The calls of the stand-ins in one namespace. A 404 on anything but `get` throws {@link Gone}. */
export class KubeWriter {
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;

  constructor(
    kubeConfig: KubeConfig,
    readonly namespace: string,
  ) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async get(plural: Plural, name: string): Promise<StoredObject | undefined> {
    try {
      return wire(await this.retrying(() => this.read(plural, name)));
    } catch (error) {
      if (codeOf(error) === 404) return undefined;
      throw error;
    }
  }

  async create(plural: Plural, body: KubeObject): Promise<StoredObject> {
    const namespace = this.namespace;
    const full = { ...KIND[plural], ...body, metadata: { ...body.metadata, namespace } };
    const name = body.metadata?.name;
    let tried = false;
    return this.gone(`${plural}/${name ?? '?'}`, async () => {
      // A create retried after a lost answer may find its own object: the first try went through.
      if (tried && name !== undefined) {
        const existing = await this.read(plural, name).catch(() => undefined);
        if (existing !== undefined) return existing;
      }
      tried = true;
      switch (plural) {
        case 'sparkapplications':
          return this.custom.createNamespacedCustomObject({ group: SPARK_GROUP, version: SPARK_VERSION, plural: SPARK_PLURAL, namespace, body: full });
        case 'pods':
          return this.core.createNamespacedPod({ namespace, body: full as never });
        case 'services':
          return this.core.createNamespacedService({ namespace, body: full as never });
        case 'configmaps':
          return this.core.createNamespacedConfigMap({ namespace, body: full as never });
        case 'persistentvolumeclaims':
          return this.core.createNamespacedPersistentVolumeClaim({ namespace, body: full as never });
        case 'events':
          return this.core.createNamespacedEvent({ namespace, body: full as never });
      }
    });
  }

  /** A JSON merge patch of the object itself (metadata, spec, or an Event's fields). */
  async patch(plural: 'events' | 'pods', name: string, body: Record<string, unknown>): Promise<StoredObject> {
    const namespace = this.namespace;
    return this.gone(`${plural}/${name}`, () =>
      plural === 'events'
        ? this.core.patchNamespacedEvent({ name, namespace, body }, MERGE_PATCH)
        : this.core.patchNamespacedPod({ name, namespace, body }, MERGE_PATCH),
    );
  }

  /**
   * A JSON merge patch of the `status` subresource: maps merge (a SparkApplication's
   * `executorState` gains entries), lists are replaced (a pod's `containerStatuses`).
   */
  async patchStatus(plural: 'sparkapplications' | 'pods', name: string, status: Record<string, unknown>): Promise<StoredObject> {
    const namespace = this.namespace;
    const body = { status };
    return this.gone(`${plural}/${name}`, () =>
      plural === 'pods'
        ? this.core.patchNamespacedPodStatus({ name, namespace, body }, MERGE_PATCH)
        : this.custom.patchNamespacedCustomObjectStatus({ group: SPARK_GROUP, version: SPARK_VERSION, plural: SPARK_PLURAL, namespace, name, body }, MERGE_PATCH),
    );
  }

  /** Deletes with the server's defaults (a bound pod gets its grace period, as Spark's deletes do). */
  async delete(plural: 'pods', name: string): Promise<void> {
    await this.gone(`${plural}/${name}`, () => this.core.deleteNamespacedPod({ name, namespace: this.namespace }));
  }

  private read(plural: Plural, name: string): Promise<unknown> {
    const namespace = this.namespace;
    switch (plural) {
      case 'sparkapplications':
        return this.custom.getNamespacedCustomObject({ group: SPARK_GROUP, version: SPARK_VERSION, plural: SPARK_PLURAL, namespace, name });
      case 'pods':
        return this.core.readNamespacedPod({ name, namespace });
      case 'services':
        return this.core.readNamespacedService({ name, namespace });
      case 'configmaps':
        return this.core.readNamespacedConfigMap({ name, namespace });
      case 'persistentvolumeclaims':
        return this.core.readNamespacedPersistentVolumeClaim({ name, namespace });
      case 'events':
        return this.core.readNamespacedEvent({ name, namespace });
    }
  }

  private async gone(what: string, run: () => Promise<unknown>): Promise<StoredObject> {
    try {
      return wire(await this.retrying(run));
    } catch (error) {
      if (codeOf(error) === 404) throw new Gone(what);
      throw error;
    }
  }

  /** `call`, tried again through passing trouble with a capped backoff, up to {@link PASSING_TROUBLE_BUDGET_MS}. */
  private async retrying<T>(call: () => Promise<T>): Promise<T> {
    const giveUpAt = Date.now() + PASSING_TROUBLE_BUDGET_MS;
    for (let pause = RETRY_FIRST_MS; ; pause = Math.min(RETRY_MAX_MS, pause * 2)) {
      try {
        return await call();
      } catch (error) {
        if (!isPassingTrouble(error) || Date.now() + pause > giveUpAt) throw error;
        await sleep(pause);
      }
    }
  }
}

/** A node's InternalIP, for `status.hostIP` of the pods bound to it; cached per node. */
export class NodeAddresses {
  private readonly known = new Map<string, Promise<string | undefined>>();
  private readonly core: CoreV1Api;

  constructor(kubeConfig: KubeConfig) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  of(node: string): Promise<string | undefined> {
    let address = this.known.get(node);
    if (address === undefined) {
      address = this.core
        .readNode({ name: node })
        .then((n) => n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address)
        .catch(() => undefined);
      this.known.set(node, address);
    }
    return address;
  }
}

/**
 * The few Kubernetes calls the Spark platform and the janitor make, on top of the real
 * `@kubernetes/client-node`: SparkApplications (custom objects) and the core objects a Spark
 * attempt leaves behind. Every failure becomes a {@link KubeCallError} that says which call
 * failed, with the HTTP code and whether waiting and trying again can help.
 */
import { ApiException, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { isTransientApiError } from './classify';

export const SPARK_GROUP = 'sparkoperator.k8s.io';
export const SPARK_VERSION = 'v1beta2';
export const SPARK_PLURAL = 'sparkapplications';

/** Core kinds a Spark attempt can leave behind (besides its SparkApplication). */
export const ATTEMPT_OBJECT_KINDS = ['Pod', 'Service', 'ConfigMap', 'PersistentVolumeClaim'] as const;
export type AttemptObjectKind = (typeof ATTEMPT_OBJECT_KINDS)[number];
export type ManagedKind = 'SparkApplication' | AttemptObjectKind;
export const MANAGED_KINDS: readonly ManagedKind[] = ['SparkApplication', ...ATTEMPT_OBJECT_KINDS];

export type PropagationPolicy = 'Foreground' | 'Background' | 'Orphan';

/** Just what Nightjar reads of any object's metadata. */
export interface ObjectRef {
  readonly kind: ManagedKind;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly creationTimestamp?: string;
  /** Set when a delete was accepted and the object is going (finalizers, graceful termination). */
  readonly deletionTimestamp?: string;
}

/** A Kubernetes call that failed. `code` is the HTTP status (undefined: no answer at all). */
export class KubeCallError extends Error {
  readonly code: number | undefined;
  readonly transient: boolean;
  readonly call: string;
  constructor(call: string, code: number | undefined, detail: string, options?: { cause?: unknown }) {
    super(`Kubernetes ${call} failed${code === undefined ? '' : ` (HTTP ${code})`}: ${detail}`, options);
    this.name = 'KubeCallError';
    this.call = call;
    this.code = code;
    // No answer (refused, reset, timed out) is as transient as a 503.
    this.transient = code === undefined || isTransientApiError(code);
  }
}

function describe(error: unknown): { code: number | undefined; detail: string } {
  if (error instanceof ApiException) {
    const code = typeof error.code === 'number' ? error.code : undefined;
    let detail = `HTTP ${code ?? '?'}`;
    try {
      const body = JSON.parse(String(error.body)) as { message?: unknown; reason?: unknown };
      if (typeof body.message === 'string') detail = body.message;
      else if (typeof body.reason === 'string') detail = body.reason;
    } catch {
      // not a Status body
    }
    return { code, detail };
  }
  const e = error as { code?: unknown; message?: unknown };
  const sysCode = typeof e.code === 'string' ? `${e.code}: ` : '';
  return { code: undefined, detail: `${sysCode}${typeof e.message === 'string' ? e.message : String(error)}` };
}

/** The HTTP status of a failed call (undefined: no answer). */
export function statusCodeOf(error: unknown): number | undefined {
  if (error instanceof KubeCallError) return error.code;
  if (error instanceof ApiException) return typeof error.code === 'number' ? error.code : undefined;
  return undefined;
}

async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const { code, detail } = describe(error);
    throw new KubeCallError(what, code, detail, { cause: error });
  }
}

/** `undefined` instead of a 404. */
async function unlessNotFound<T>(what: string, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call(what, run);
  } catch (error) {
    if (error instanceof KubeCallError && error.code === 404) return undefined;
    throw error;
  }
}

interface RawObject {
  metadata?: {
    name?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string | Date;
    deletionTimestamp?: string | Date;
  };
}

function refOf(kind: ManagedKind, raw: RawObject): ObjectRef {
  const m = raw.metadata ?? {};
  const time = (t: string | Date | undefined) => (t === undefined ? undefined : t instanceof Date ? t.toISOString() : t);
  const created = time(m.creationTimestamp);
  const deleting = time(m.deletionTimestamp);
  return {
    kind,
    name: m.name ?? '',
    labels: m.labels ?? {},
    annotations: m.annotations ?? {},
    ...(created !== undefined ? { creationTimestamp: created } : {}),
    ...(deleting !== undefined ? { deletionTimestamp: deleting } : {}),
  };
}

export interface ListOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

/** The namespace-scoped calls Nightjar makes. One instance per namespace. */
export class KubeApi {
  readonly namespace: string;
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;

  constructor(kubeConfig: KubeConfig, namespace: string) {
    this.namespace = namespace;
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  private get spark() {
    return { group: SPARK_GROUP, version: SPARK_VERSION, namespace: this.namespace, plural: SPARK_PLURAL };
  }

  /** Creates the SparkApplication; `created: false` with the stored one when the name exists (409). */
  async createSparkApplication(body: object): Promise<{ created: boolean; object: unknown }> {
    const name = (body as RawObject).metadata?.name ?? '';
    try {
      const object: unknown = await call(`create SparkApplication ${name}`, () => this.custom.createNamespacedCustomObject({ ...this.spark, body }));
      return { created: true, object };
    } catch (error) {
      if (!(error instanceof KubeCallError) || error.code !== 409) throw error;
      const existing = await this.getSparkApplication(name);
      // Gone between the 409 and the read (a cleanup raced us): let the caller retry.
      if (existing === undefined) throw new KubeCallError(`create SparkApplication ${name}`, 409, 'exists but vanished before it could be read');
      return { created: false, object: existing };
    }
  }

  getSparkApplication(name: string): Promise<unknown> {
    return unlessNotFound(`get SparkApplication ${name}`, () => this.custom.getNamespacedCustomObject({ ...this.spark, name }));
  }

  /** Creates the ConfigMap; `created: false` with the stored one when the name exists (409). */
  async createConfigMap(body: { metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; data: Record<string, string> }): Promise<{ created: boolean; object: { data?: Record<string, string>; metadata?: RawObject['metadata'] } }> {
    const name = body.metadata.name;
    try {
      const object = await call(`create ConfigMap ${name}`, () => this.core.createNamespacedConfigMap({ namespace: this.namespace, body }));
      return { created: true, object };
    } catch (error) {
      if (!(error instanceof KubeCallError) || error.code !== 409) throw error;
      const existing = await unlessNotFound(`get ConfigMap ${name}`, () => this.core.readNamespacedConfigMap({ name, namespace: this.namespace }));
      if (existing === undefined) throw new KubeCallError(`create ConfigMap ${name}`, 409, 'exists but vanished before it could be read');
      return { created: false, object: existing };
    }
  }

  async listPods(options: ListOptions): Promise<unknown[]> {
    const list = await call('list pods', () => this.core.listNamespacedPod({ namespace: this.namespace, ...options }));
    return list.items;
  }

  async listEvents(options: ListOptions): Promise<unknown[]> {
    const list = await call('list events', () => this.core.listNamespacedEvent({ namespace: this.namespace, ...options }));
    return list.items;
  }

  /** The last lines of a container's log, or undefined when the pod is gone or has no log yet. */
  async podLogTail(pod: string, container: string, lines: number): Promise<string | undefined> {
    try {
      return await unlessNotFound(`read log of pod ${pod}`, () =>
        this.core.readNamespacedPodLog({ name: pod, namespace: this.namespace, container, tailLines: lines }),
      );
    } catch (error) {
      // 400: the container has not started (no log yet).
      if (error instanceof KubeCallError && error.code === 400) return undefined;
      throw error;
    }
  }

  /** Objects of one kind carrying the labels, as references. */
  async list(kind: ManagedKind, options: ListOptions): Promise<ObjectRef[]> {
    const ns = this.namespace;
    const items: RawObject[] = await (async (): Promise<RawObject[]> => {
      switch (kind) {
        case 'SparkApplication': {
          const list = (await call('list SparkApplications', () =>
            this.custom.listNamespacedCustomObject({ ...this.spark, ...options }),
          )) as { items?: RawObject[] };
          return list.items ?? [];
        }
        case 'Pod':
          return (await call('list pods', () => this.core.listNamespacedPod({ namespace: ns, ...options }))).items;
        case 'Service':
          return (await call('list services', () => this.core.listNamespacedService({ namespace: ns, ...options }))).items;
        case 'ConfigMap':
          return (await call('list configmaps', () => this.core.listNamespacedConfigMap({ namespace: ns, ...options }))).items;
        case 'PersistentVolumeClaim':
          return (await call('list persistentvolumeclaims', () => this.core.listNamespacedPersistentVolumeClaim({ namespace: ns, ...options }))).items;
      }
    })();
    return items.map((raw) => refOf(kind, raw));
  }

  /** Deletes one object; false when it was already gone. */
  async delete(kind: ManagedKind, name: string, propagationPolicy: PropagationPolicy = 'Background'): Promise<boolean> {
    const ns = this.namespace;
    const what = `delete ${kind} ${name}`;
    const done = await unlessNotFound(what, async () => {
      switch (kind) {
        case 'SparkApplication':
          await this.custom.deleteNamespacedCustomObject({ ...this.spark, name, propagationPolicy });
          break;
        case 'Pod':
          await this.core.deleteNamespacedPod({ name, namespace: ns, propagationPolicy });
          break;
        case 'Service':
          await this.core.deleteNamespacedService({ name, namespace: ns, propagationPolicy });
          break;
        case 'ConfigMap':
          await this.core.deleteNamespacedConfigMap({ name, namespace: ns, propagationPolicy });
          break;
        case 'PersistentVolumeClaim':
          await this.core.deleteNamespacedPersistentVolumeClaim({ name, namespace: ns, propagationPolicy });
          break;
      }
      return true;
    });
    return done === true;
  }
}

/** Collection paths for watches. */
export function collectionPath(namespace: string, kind: 'SparkApplication' | 'Pod' | 'Event'): string {
  const ns = encodeURIComponent(namespace);
  switch (kind) {
    case 'SparkApplication':
      return `/apis/${SPARK_GROUP}/${SPARK_VERSION}/namespaces/${ns}/${SPARK_PLURAL}`;
    case 'Pod':
      return `/api/v1/namespaces/${ns}/pods`;
    case 'Event':
      return `/api/v1/namespaces/${ns}/events`;
  }
}

import { isPlainObject, type StoredObject } from './kube-object';
import { PODS } from './resources';
import { KubeApiError, badRequest, notFound } from './status';

/** What `GET …/pods/{name}/log` reads, from its query string. */
export interface PodLogQuery {
  readonly container?: string;
  /** Only the last lines. */
  readonly tailLines?: number;
  /** At most this many bytes, counted from the start of what is returned. */
  readonly limitBytes?: number;
}

/** A 422 about PodLogOptions, worded as the API server's validation words it. */
function invalidLogOption(pod: string, field: string, value: number, detail: string): KubeApiError {
  const message = `${field}: Invalid value: ${value}: ${detail}`;
  return new KubeApiError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `PodLogOptions ${JSON.stringify(pod)} is invalid: ${message}`,
    reason: 'Invalid',
    details: { name: pod, kind: 'PodLogOptions', causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: ${value}: ${detail}`, field }] },
    code: 422,
  });
}

function containerNames(pod: StoredObject): string[] {
  const spec = pod.spec;
  if (!isPlainObject(spec) || !Array.isArray(spec.containers)) return [];
  return spec.containers.flatMap((c: unknown) => (isPlainObject(c) && typeof c.name === 'string' ? [c.name] : []));
}

/** The waiting reason of the container, when the kubelet reports it has not started. */
function waitingReason(pod: StoredObject, container: string): string | undefined {
  const status = pod.status;
  if (!isPlainObject(status) || !Array.isArray(status.containerStatuses)) return undefined;
  const entry: unknown = status.containerStatuses.find((c: unknown) => isPlainObject(c) && c.name === container);
  if (!isPlainObject(entry) || !isPlainObject(entry.state) || !isPlainObject(entry.state.waiting)) return undefined;
  const reason = entry.state.waiting.reason;
  return typeof reason === 'string' && reason !== '' ? reason : 'ContainerCreating';
}

/**
 * The containers' output of the pods, as the kubelet would serve it through the API server.
 * Kept beside the objects (a log is not part of the Pod) and forgotten when the pod is deleted,
 * so a pod re-created under the same name starts with an empty log.
 */
export class PodLogs {
  /** `namespace/pod` → container → lines. */
  private readonly logs = new Map<string, Map<string, string[]>>();

  constructor(private readonly findPod: (namespace: string, name: string) => StoredObject | undefined) {}

  /**
   * Appends output of one container (the pod's only container when not named); text with
   * newlines counts as several lines. False, and nothing kept, when the pod does not exist.
   */
  append(namespace: string, pod: string, line: string, container?: string): boolean {
    const object = this.findPod(namespace, pod);
    if (!object) return false;
    const name = this.resolveContainer(object, container);
    const byContainer = this.logs.get(`${namespace}/${pod}`) ?? new Map<string, string[]>();
    this.logs.set(`${namespace}/${pod}`, byContainer);
    const lines = byContainer.get(name) ?? [];
    byContainer.set(name, lines);
    lines.push(...line.replace(/\r?\n$/, '').split(/\r?\n/));
    return true;
  }

  /** The whole log of one container, '' when it wrote nothing (or the pod does not exist). */
  get(namespace: string, pod: string, container?: string): string {
    const object = this.findPod(namespace, pod);
    if (!object) return '';
    const lines = this.logs.get(`${namespace}/${pod}`)?.get(this.resolveContainer(object, container)) ?? [];
    return lines.map((l) => `${l}\n`).join('');
  }

  /** Forgets the pod's output. */
  clear(namespace: string, pod: string): void {
    this.logs.delete(`${namespace}/${pod}`);
  }

  /** What the log subresource answers, or the error the API server would answer instead. */
  read(namespace: string, pod: string, query: PodLogQuery): string {
    const object = this.findPod(namespace, pod);
    if (!object) throw notFound(PODS, pod);
    if (query.tailLines !== undefined && query.tailLines < 0) {
      throw invalidLogOption(pod, 'tailLines', query.tailLines, 'must be greater than or equal to 0');
    }
    if (query.limitBytes !== undefined && query.limitBytes < 1) {
      throw invalidLogOption(pod, 'limitBytes', query.limitBytes, 'must be greater than 0');
    }
    const container = this.resolveContainer(object, query.container);
    const waiting = waitingReason(object, container);
    if (waiting !== undefined) {
      const why = waiting === 'ImagePullBackOff' ? 'trying and failing to pull image' : waiting === 'ErrImagePull' ? "image can't be pulled" : waiting;
      throw badRequest(`container ${JSON.stringify(container)} in pod ${JSON.stringify(pod)} is waiting to start: ${why}`);
    }
    let lines = this.logs.get(`${namespace}/${pod}`)?.get(container) ?? [];
    if (query.tailLines !== undefined) lines = query.tailLines === 0 ? [] : lines.slice(-query.tailLines);
    const text = lines.map((l) => `${l}\n`).join('');
    if (query.limitBytes === undefined) return text;
    const bytes = Buffer.from(text, 'utf8');
    return bytes.length <= query.limitBytes ? text : bytes.subarray(0, query.limitBytes).toString('utf8');
  }

  /**
   * The container a request means: the named one, which must exist in the pod, or the only one.
   * A pod without containers in its spec keeps its output under ''.
   */
  private resolveContainer(pod: StoredObject, container: string | undefined): string {
    const names = containerNames(pod);
    const podName = pod.metadata.name;
    if (container !== undefined && container !== '') {
      if (names.length > 0 && !names.includes(container)) throw badRequest(`container ${container} is not valid for pod ${podName}`);
      return container;
    }
    if (names.length > 1) throw badRequest(`a container name must be specified for pod ${podName}, choose one of: [${names.join(' ')}]`);
    return names[0] ?? '';
  }
}

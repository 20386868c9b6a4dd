import { rfc3339 } from './clock';
import type { KubeWriter, StoredObject } from './kube';

export type EventType = 'Normal' | 'Warning';

/** Who reports an event: `spark-operator`, `kubelet` (with its node), `default-scheduler`. */
export interface EventSource {
  readonly component: string;
  readonly host?: string;
}

export interface EventInput {
  /** The object the event is about. */
  readonly involved: StoredObject;
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
  readonly source: EventSource;
  /** e.g. `spec.containers{spark-kubernetes-driver}` for container events. */
  readonly fieldPath?: string;
}

/**
 * Writes core/v1 Events the way client-go's event recorder does: named `<object>.<hex time>`,
 * and a repeat of the same event (same object, type, reason, message and source) bumps `count`
 * and `lastTimestamp` of the first one instead of making a new one.
 */
export class EventRecorder {
  private readonly seen = new Map<string, string>();
  private sequence = 0;

  constructor(
    private readonly api: KubeWriter,
    private readonly now: () => Date,
  ) {}

  async record(input: EventInput): Promise<StoredObject> {
    const { involved } = input;
    const namespace = involved.metadata.namespace;
    const key = JSON.stringify([involved.metadata.uid, input.type, input.reason, input.message, input.source.component, input.fieldPath ?? '']);
    const at = rfc3339(this.now());
    const existingName = this.seen.get(key);
    const existing = existingName === undefined ? undefined : await this.api.get('events', existingName);
    if (existing !== undefined && existingName !== undefined) {
      const count = typeof existing.count === 'number' ? existing.count : 1;
      return this.api.patch('events', existingName, { count: count + 1, lastTimestamp: at });
    }
    const name = `${involved.metadata.name}.${this.uniqueSuffix()}`;
    this.seen.set(key, name);
    return this.api.create('events', {
      metadata: { name, namespace },
      involvedObject: {
        kind: involved.kind,
        namespace,
        name: involved.metadata.name,
        uid: involved.metadata.uid,
        apiVersion: involved.apiVersion,
        resourceVersion: involved.metadata.resourceVersion,
        ...(input.fieldPath === undefined ? {} : { fieldPath: input.fieldPath }),
      },
      reason: input.reason,
      message: input.message,
      source: { component: input.source.component, ...(input.source.host === undefined ? {} : { host: input.source.host }) },
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
      type: input.type,
      reportingComponent: input.source.component,
      reportingInstance: input.source.host ?? '',
    });
  }

  /** Nanoseconds since the epoch in hex, as client-go names events, made unique per recorder. */
  private uniqueSuffix(): string {
    this.sequence = (this.sequence + 1) % 1_000_000;
    return (BigInt(this.now().getTime()) * 1_000_000n + BigInt(this.sequence)).toString(16);
  }
}

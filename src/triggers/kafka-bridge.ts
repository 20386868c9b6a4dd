/**
 * The Kafka door for feed arrivals: consumes `FeedArrival` events from a topic in a consumer group
 * and hands each valid one to `deliver` (in production, Temporal's signal-with-start).
 *
 * Guarantees:
 * - At least once. A record's offset is committed only after `deliver` resolved for it, and records
 *   are handled one at a time in the order the consumer receives them, so every earlier record of
 *   its partition is settled too. A crash between `deliver` and the commit redelivers; the workflow
 *   side de-duplicates.
 * - Poison never blocks. A record that is not a feed arrival, or that `deliver` permanently refuses,
 *   goes to the dead-letter topic (original key, value and headers, plus the reason and the source
 *   topic, partition and offset) and then its offset is committed.
 * - Transient failures (Temporal or the dead-letter topic unavailable) are retried with capped
 *   exponential backoff, without committing and without moving on, so partition order holds.
 * - `stop()` lets the record in hand finish (a delivery that resolves is committed; one that keeps
 *   failing is left uncommitted for the next owner), then leaves the group and closes the clients.
 *
 * Log lines carry the record's coordinates and the arrival's feed, business date and tenant, never
 * the value itself.
 */
import './kafka-runtime';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Admin,
  Consumer,
  ProduceAcks,
  Producer,
  findErrorBy,
  type Message,
  type MessagesStream,
} from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { FeedArrival } from '../domain/triggers';
import { backoffDelay, settleRecord, type BackoffOptions, DEFAULT_BACKOFF } from './kafka-message';

export {
  DLQ_HEADERS,
  DEFAULT_BACKOFF,
  backoffDelay,
  decodeFeedArrival,
  deadLetterHeaders,
  settleRecord,
  type BackoffOptions,
  type DeadLetter,
  type InboundRecord,
  type RecordSettling,
} from './kafka-message';

/**
 * Thrown by `deliver` when retrying cannot help (the workflow for that date already completed and
 * refuses the signal, say): the record is dead-lettered with this message as the reason. Any error
 * with `permanent: true` counts the same, so a deliverer need not import this class.
 */
export class PermanentDeliveryError extends Error {
  readonly permanent = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentDeliveryError';
  }
}

/** True for a `PermanentDeliveryError`, or any error flagged `permanent: true`, or one caused by such. */
export function isPermanentDeliveryError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === 'object' && depth < 5; depth += 1) {
    if (e instanceof PermanentDeliveryError || (e as { permanent?: unknown }).permanent === true) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

export interface KafkaBridgeOptions {
  /** Bootstrap brokers, `host:port`. */
  readonly brokers: readonly string[];
  /** Where feed arrivals are published. */
  readonly topic: string;
  /** Where records that are not feed arrivals, or that `deliver` refuses for good, go. */
  readonly dlqTopic: string;
  readonly groupId: string;
  readonly clientId: string;
  /** Hands one arrival on; rejects to retry (transient) or with a permanent error to dead-letter. */
  readonly deliver: (arrival: FeedArrival) => Promise<void>;
  readonly logger: Logger;
  /** Between delivery retries, dead-letter retries and consumer reconnections. */
  readonly backoff?: Partial<BackoffOptions>;
  /** Widens what counts as a permanent delivery failure (beyond `isPermanentDeliveryError`). */
  readonly isPermanent?: (error: unknown) => boolean;
}

type Stream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;
type ConsumedRecord = Message<Buffer, Buffer, Buffer, Buffer>;

const STOPPED = Symbol('stopped');

/** The group member: offsets are the bridge's to commit, never the client's. */
const CONSUMER_TUNING = {
  autocommit: false,
  sessionTimeout: 30_000,
  rebalanceTimeout: 60_000,
  heartbeatInterval: 3_000,
  // Long-poll briefly so a stop does not wait on an idle fetch.
  maxWaitTime: 1_000,
  // Records wait here while one is retried; feed arrivals are few and small.
  highWaterMark: 64,
} as const;

/** Every stream resumes from the group's committed offsets. */
const STREAM_TUNING = {
  autocommit: false,
  mode: 'committed',
  // A new group starts at the beginning: arrivals published before the bridge first ran count.
  fallbackMode: 'earliest',
} as const;

export class KafkaBridge {
  private readonly backoff: BackoffOptions;
  private readonly log: Logger;
  private consumer?: Consumer<Buffer, Buffer, Buffer, Buffer>;
  private producer?: Producer<Buffer, Buffer, Buffer, Buffer>;
  private loop?: Promise<void>;
  private stopping = false;
  private stopPromise?: Promise<void>;
  private readonly stopRequested = new AbortController();
  private readonly stopped: Promise<typeof STOPPED>;

  constructor(private readonly options: KafkaBridgeOptions) {
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.log = options.logger.child({ component: 'kafka-bridge', topic: options.topic, groupId: options.groupId });
    this.stopped = new Promise((resolve) => {
      this.stopRequested.signal.addEventListener('abort', () => resolve(STOPPED), { once: true });
    });
  }

  /** Joins the group and starts consuming; resolves once the first stream is open. */
  async start(): Promise<void> {
    if (this.loop || this.stopping) throw new Error('a KafkaBridge starts once');
    const { brokers, clientId, groupId } = this.options;
    const bootstrapBrokers = [...brokers];
    this.producer = new Producer({ clientId: `${clientId}-dlq`, bootstrapBrokers, acks: ProduceAcks.ALL });
    this.consumer = new Consumer({ clientId, groupId, bootstrapBrokers, ...CONSUMER_TUNING });
    // A failed rejoin is emitted as 'error'; unheard, it would end the process. The group's own
    // retry continues, and a stream that breaks is reopened by the loop.
    this.consumer.on('error', (error: unknown) => this.log.warn({ error: errorText(error) }, 'kafka consumer error'));
    let stream: Stream;
    try {
      stream = await this.openStream();
    } catch (error) {
      await this.closeClients();
      throw error;
    }
    this.log.info({ dlqTopic: this.options.dlqTopic }, 'kafka bridge started');
    this.loop = this.run(stream);
  }

  /** Finishes the record in hand, commits, leaves the group and closes. Safe to call twice. */
  stop(): Promise<void> {
    this.stopPromise ??= (async () => {
      this.stopping = true;
      this.stopRequested.abort();
      try {
        await this.loop;
      } finally {
        await this.closeClients();
        this.log.info('kafka bridge stopped');
      }
    })();
    return this.stopPromise;
  }

  // --- consuming ---------------------------------------------------------------------------------

  private openStream(): Promise<Stream> {
    return this.consumer!.consume({ topics: [this.options.topic], ...STREAM_TUNING });
  }

  /** Keeps a stream open until stop, reopening it (from the committed offsets) when it breaks. */
  private async run(first: Stream): Promise<void> {
    let stream: Stream | undefined = first;
    let failures = 0;
    while (!this.stopping) {
      try {
        stream ??= await this.openStream();
        const handled = await this.drain(stream);
        if (handled > 0) failures = 0;
        if (this.stopping) break;
        failures += 1;
        this.log.warn('kafka stream ended; reopening');
      } catch (error) {
        failures += 1;
        this.log.warn({ error: errorText(error), failures }, 'kafka stream failed; reopening from the committed offsets');
      }
      await this.closeStream(stream);
      stream = undefined;
      await this.pause(backoffDelay(failures, this.backoff));
    }
    await this.closeStream(stream);
  }

  /**
   * Handles records one at a time until stop or the stream ends; returns how many it settled.
   * After a rebalance the stream may hand over records of a partition again from its committed
   * offset; those this stream already settled are skipped, so each is delivered once per stream.
   */
  private async drain(stream: Stream): Promise<number> {
    const iterator = stream[Symbol.asyncIterator]();
    const nextOffset = new Map<string, bigint>();
    let settled = 0;
    while (!this.stopping) {
      const step = await Promise.race([iterator.next(), this.stopped]);
      if (step === STOPPED || step.done) break;
      const record = step.value as ConsumedRecord;
      const partitionKey = `${record.topic}\u0000${record.partition}`;
      const expected = nextOffset.get(partitionKey);
      if (expected !== undefined && record.offset < expected) continue;
      if (!(await this.handle(record))) break;
      nextOffset.set(partitionKey, record.offset + 1n);
      settled += 1;
    }
    return settled;
  }

  /** Settles one record (see `settleRecord`) with this bridge's deliverer, dead-letter topic and backoff. */
  private handle(record: ConsumedRecord): Promise<boolean> {
    return settleRecord(record, {
      deliver: this.options.deliver,
      isPermanent: (error) => isPermanentDeliveryError(error) || this.options.isPermanent?.(error) === true,
      publishDeadLetter: async (message) => {
        await this.producer!.send({ messages: [{ topic: this.options.dlqTopic, ...message }] });
      },
      pause: (ms) => this.pause(ms),
      stopping: () => this.stopping,
      backoff: this.backoff,
      log: this.log,
    });
  }

  // --- plumbing ----------------------------------------------------------------------------------

  /** Waits, unless stop comes first; false when stopped. */
  private async pause(ms: number): Promise<boolean> {
    if (this.stopping) return false;
    try {
      await sleep(ms, undefined, { signal: this.stopRequested.signal });
      return true;
    } catch {
      return false;
    }
  }

  private async closeStream(stream: Stream | undefined): Promise<void> {
    if (!stream) return;
    try {
      await stream.close();
    } catch (error) {
      this.log.warn({ error: errorText(error) }, 'closing the kafka stream failed');
    }
  }

  private async closeClients(): Promise<void> {
    const results = await Promise.allSettled([this.consumer?.close(true), this.producer?.close()]);
    for (const result of results) {
      if (result.status === 'rejected') this.log.warn({ error: errorText(result.reason) }, 'closing a kafka client failed');
    }
  }
}

/**
 * Creates the topics that do not exist yet (idempotent; a concurrent creator is not an error) and
 * waits until each partition has a leader, so producers and consumers can use them at once.
 */
export async function ensureTopics(
  brokers: readonly string[],
  topics: readonly string[],
  options: { partitions?: number; replicas?: number; clientId?: string; timeoutMs?: number } = {},
): Promise<void> {
  const admin = new Admin({ clientId: options.clientId ?? 'nightjar-admin', bootstrapBrokers: [...brokers] });
  try {
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(topics)].filter((t) => !existing.has(t));
    if (missing.length > 0) {
      try {
        await admin.createTopics({ topics: missing, partitions: options.partitions ?? 1, replicas: options.replicas ?? 1 });
      } catch (error) {
        if (!(error instanceof Error) || !findErrorBy(error, 'apiId', 'TOPIC_ALREADY_EXISTS')) throw error;
      }
    }
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      const metadata = await admin.metadata({ topics: [...topics], forceUpdate: true });
      const ready = topics.every((t) => {
        const topic = metadata.topics.get(t);
        return topic !== undefined && topic.partitions.every((p) => p.leader >= 0);
      });
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')} have no leader yet on ${brokers.join(',')}`);
      await sleep(100);
    }
  } finally {
    await admin.close();
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

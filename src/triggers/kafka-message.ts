/**
 * What the Kafka bridge reads and what it dead-letters, free of the Kafka client: turning a record's
 * value into a `FeedArrival` (or the reason it is not one), the headers a dead letter carries, and
 * settling one record through injected delivery, dead-letter and commit functions.
 */
import type { Logger } from 'pino';
import { FeedArrivalSchema, describeIssues, type FeedArrival } from '../domain/triggers';

/** Capped exponential backoff: attempt n waits min(maxMs, initialMs × multiplier^(n-1)). */
export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
}

export const DEFAULT_BACKOFF = { initialMs: 250, maxMs: 30_000, multiplier: 2 } as const satisfies BackoffOptions;

export function backoffDelay(attempt: number, backoff: BackoffOptions): number {
  const exponent = Math.max(0, attempt - 1);
  return Math.min(backoff.maxMs, Math.round(backoff.initialMs * backoff.multiplier ** exponent));
}


/** Headers added to every dead letter, beside the original record's own headers. */
export const DLQ_HEADERS = {
  reason: 'nightjar-dlq-reason',
  sourceTopic: 'nightjar-source-topic',
  sourcePartition: 'nightjar-source-partition',
  sourceOffset: 'nightjar-source-offset',
} as const;

/** Long enough for five schema issues; a header is not the place for more. */
const MAX_REASON_LENGTH = 1000;

export type DecodedArrival = { readonly ok: true; readonly arrival: FeedArrival } | { readonly ok: false; readonly reason: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A record value as a feed arrival. The reasons name what is wrong and which field, never echo the
 * value (they end up in logs and headers).
 */
export function decodeFeedArrival(value: Buffer | null | undefined): DecodedArrival {
  if (!value || value.length === 0) {
    return { ok: false, reason: 'the value is empty' };
  }
  let text: string;
  try {
    text = utf8.decode(value);
  } catch {
    return { ok: false, reason: 'the value is not UTF-8 text' };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's own message quotes part of the value; the reason stays generic.
    return { ok: false, reason: 'the value is not valid JSON' };
  }
  const parsed = FeedArrivalSchema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, reason: `not a feed arrival: ${describeIssues(parsed.error)}` };
  }
  return { ok: true, arrival: parsed.data };
}

export interface RecordSource {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

/**
 * The dead letter's headers: the original ones (a header without a value keeps its name with an
 * empty value), then the reason and where the record came from. Original headers that use one of
 * the bridge's names are replaced, so a re-dead-lettered record carries one reason, the latest.
 */
export function deadLetterHeaders(
  original: Iterable<readonly [Buffer | undefined, Buffer | undefined]>,
  source: RecordSource,
  reason: string,
): Map<Buffer, Buffer> {
  const ours: Record<string, string> = {
    [DLQ_HEADERS.reason]: truncate(reason, MAX_REASON_LENGTH),
    [DLQ_HEADERS.sourceTopic]: source.topic,
    [DLQ_HEADERS.sourcePartition]: String(source.partition),
    [DLQ_HEADERS.sourceOffset]: source.offset.toString(),
  };
  const replaced = new Set(Object.keys(ours));
  const headers = new Map<Buffer, Buffer>();
  for (const [key, value] of original) {
    if (!key || replaced.has(key.toString('utf8'))) continue;
    headers.set(key, value ?? Buffer.alloc(0));
  }
  for (const [key, value] of Object.entries(ours)) {
    headers.set(Buffer.from(key, 'utf8'), Buffer.from(value, 'utf8'));
  }
  return headers;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Thrown out of a stream's loop so the bridge reopens it from the committed offsets. */
class CommitFailed extends Error {
  constructor(source: RecordSource, cause: unknown) {
    super(`committing ${source.topic}[${source.partition}]@${source.offset} failed: ${errorText(cause)}`, { cause });
    this.name = 'CommitFailed';
  }
}

/** One consumed record, as much of it as settling needs. */
export interface InboundRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly key?: Buffer | null;
  readonly value?: Buffer | null;
  readonly headerEntries: Iterable<readonly [Buffer | undefined, Buffer | undefined]>;
  commit(): void | Promise<void>;
}

/** A dead letter as published: the original key and value, the original headers plus the bridge's. */
export interface DeadLetter {
  readonly key?: Buffer;
  readonly value?: Buffer;
  readonly headers: Map<Buffer, Buffer>;
}

/** What settling a record needs from the bridge. */
export interface RecordSettling {
  readonly deliver: (arrival: FeedArrival) => Promise<void>;
  /** True when retrying a delivery cannot help: the record is dead-lettered instead. */
  readonly isPermanent: (error: unknown) => boolean;
  /** Publishes one dead letter; rejects while the topic is unavailable (it is retried). */
  readonly publishDeadLetter: (message: DeadLetter) => Promise<void>;
  /** Waits between retries; false when stopped first. */
  readonly pause: (ms: number) => Promise<boolean>;
  readonly stopping: () => boolean;
  readonly backoff: BackoffOptions;
  readonly log: Logger;
}

/**
 * Settles one record: a feed arrival is delivered (retried until it is, or refused for good), a
 * record that is not one, or that is refused, is dead-lettered with the reason; then the offset is
 * committed. Resolves false when stopped before the record was settled (left uncommitted); rejects
 * only when the commit fails, so the stream is reopened from the committed offsets.
 */
export async function settleRecord(record: InboundRecord, s: RecordSettling): Promise<boolean> {
  const source: RecordSource = { topic: record.topic, partition: record.partition, offset: record.offset };
  const at = { partition: record.partition, offset: record.offset.toString() };
  const leftForStop = (fields: object): false => {
    s.log.info(fields, 'feed arrival left uncommitted (stopping); it will be redelivered');
    return false;
  };
  const decoded = decodeFeedArrival(record.value);
  if (!decoded.ok) {
    if (!(await deadLetter(record, source, decoded.reason, s))) return leftForStop(at);
    await commit(record, source);
    s.log.warn({ ...at, reason: decoded.reason }, 'feed arrival dead-lettered');
    return true;
  }

  const { feed, businessDate, tenant } = decoded.arrival;
  const fields = { ...at, feed, businessDate, tenant };
  for (let attempt = 1; ; attempt += 1) {
    try {
      await s.deliver(decoded.arrival);
      await commit(record, source);
      s.log.info({ ...fields, attempts: attempt }, 'feed arrival delivered');
      return true;
    } catch (error) {
      if (error instanceof CommitFailed) throw error;
      if (s.isPermanent(error)) {
        const reason = `delivery refused: ${errorText(error)}`;
        if (!(await deadLetter(record, source, reason, s))) return leftForStop(fields);
        await commit(record, source);
        s.log.warn({ ...fields, reason }, 'feed arrival dead-lettered');
        return true;
      }
      if (s.stopping()) return leftForStop(fields);
      const delayMs = backoffDelay(attempt, s.backoff);
      s.log.warn({ ...fields, attempt, delayMs, error: errorText(error) }, 'feed arrival delivery failed; retrying');
      if (!(await s.pause(delayMs))) return leftForStop(fields);
    }
  }
}

/** Publishes the dead letter, retrying while the topic is unavailable. False if stopped first. */
async function deadLetter(record: InboundRecord, source: RecordSource, reason: string, s: RecordSettling): Promise<boolean> {
  const headers = deadLetterHeaders(record.headerEntries, source, reason);
  for (let attempt = 1; ; attempt += 1) {
    try {
      await s.publishDeadLetter({ key: record.key ?? undefined, value: record.value ?? undefined, headers });
      return true;
    } catch (error) {
      if (s.stopping()) return false;
      const delayMs = backoffDelay(attempt, s.backoff);
      s.log.warn({ partition: source.partition, offset: source.offset.toString(), attempt, delayMs, error: errorText(error) }, 'dead-lettering failed; retrying');
      if (!(await s.pause(delayMs))) return false;
    }
  }
}

async function commit(record: InboundRecord, source: RecordSource): Promise<void> {
  try {
    await record.commit();
  } catch (error) {
    throw new CommitFailed(source, error);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

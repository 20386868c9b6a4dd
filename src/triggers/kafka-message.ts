/**
 * What the Kafka bridge reads and what it dead-letters, as pure functions: turning a record's value
 * into a `FeedArrival` (or the reason it is not one), and the headers a dead letter carries.
 */
import { FeedArrivalSchema, describeIssues, type FeedArrival } from '../domain/triggers';

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

/** The real broker of scripts/kafka.sh, and small helpers to publish, read and inspect it. */
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin, Consumer, ProduceAcks, Producer, type Message } from '@platformatic/kafka';
import type { FeedArrivalInput } from '../../src/domain/triggers';
import '../../src/triggers/kafka-runtime';

/** The brokers the tests use; a missing variable fails the tests with the way to fix it. */
export function testBrokers(): string[] {
  const value = process.env.NIGHTJAR_TEST_KAFKA_BROKERS?.trim();
  if (!value) {
    throw new Error(
      'NIGHTJAR_TEST_KAFKA_BROKERS is not set: these tests need the real Kafka broker. Start it with\n' +
        '  export NIGHTJAR_TEST_KAFKA_BROKERS="$(bash scripts/kafka.sh start | tail -n 1)"\n' +
        'and run the tests again (npm test does this by itself).',
    );
  }
  return value.split(',').map((b) => b.trim());
}

let counter = 0;
/** A topic or group name no other test (or earlier run) uses. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

export function arrival(overrides: Partial<FeedArrivalInput> & { eventId: string }): FeedArrivalInput {
  return {
    businessDate: '2026-11-20',
    tenant: 'bank-a',
    feed: 'transactions',
    uri: `file:///data/landing/2026-11-20/transactions-${overrides.eventId}.csv`,
    ...overrides,
  };
}

export interface OutgoingRecord {
  readonly value: string | Buffer | null;
  readonly key?: string;
  readonly partition?: number;
  readonly headers?: Record<string, string>;
}

export async function publish(brokers: string[], topic: string, records: readonly OutgoingRecord[]): Promise<void> {
  const producer = new Producer({ clientId: uniqueName('test-producer'), bootstrapBrokers: brokers, acks: ProduceAcks.ALL });
  try {
    // One send per record: the order within a partition is the order given.
    for (const r of records) {
      await producer.send({
        messages: [
          {
            topic,
            partition: r.partition ?? 0,
            key: r.key === undefined ? undefined : Buffer.from(r.key),
            value: r.value === null ? undefined : Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value),
            headers: r.headers ? new Map(Object.entries(r.headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)])) : undefined,
          },
        ],
      });
    }
  } finally {
    await producer.close();
  }
}

export const json = (value: unknown): string => JSON.stringify(value);

/** The group's committed offset per partition of the topic (partitions without a commit are absent). */
export async function committedOffsets(brokers: string[], groupId: string, topic: string): Promise<Map<number, bigint>> {
  const admin = new Admin({ clientId: uniqueName('test-admin'), bootstrapBrokers: brokers });
  try {
    const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
    const offsets = new Map<number, bigint>();
    for (const t of group?.topics ?? []) {
      if (t.name !== topic) continue;
      for (const p of t.partitions) if (p.committedOffset >= 0n) offsets.set(p.partitionIndex, p.committedOffset);
    }
    return offsets;
  } finally {
    await admin.close();
  }
}

export async function groupState(brokers: string[], groupId: string): Promise<{ state: string; members: number }> {
  const admin = new Admin({ clientId: uniqueName('test-admin'), bootstrapBrokers: brokers });
  try {
    const group = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
    return { state: group?.state ?? 'Unknown', members: group?.members.size ?? 0 };
  } finally {
    await admin.close();
  }
}

export type ReadRecord = Message<Buffer, Buffer, Buffer, Buffer>;

/** Reads the first `count` records of a topic (all partitions) from the beginning. */
export async function readTopic(brokers: string[], topic: string, count: number, timeoutMs = 20_000): Promise<ReadRecord[]> {
  const consumer = new Consumer({ clientId: uniqueName('test-reader'), groupId: uniqueName('test-reader'), bootstrapBrokers: brokers, maxWaitTime: 500 });
  const records: ReadRecord[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    const timer = setTimeout(() => void stream.close(), timeoutMs);
    try {
      for await (const record of stream) {
        records.push(record as ReadRecord);
        if (records.length >= count) break;
      }
    } finally {
      clearTimeout(timer);
    }
    if (records.length < count) throw new Error(`read ${records.length} of ${count} records from ${topic} within ${timeoutMs} ms`);
    return records;
  } finally {
    await consumer.close(true);
  }
}

/** Polls until `check` holds; the bound only turns a hang into a failure naming what was awaited. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

export function header(record: ReadRecord, name: string): string | undefined {
  for (const [k, v] of record.headerEntries) if (k.toString() === name) return v.toString();
  return undefined;
}

/** A pino logger whose JSON lines the test can read. */
export function memoryLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, lines };
}

/**
 * The Kafka → Temporal feed-arrival bridge against a real broker (scripts/kafka.sh). `deliver` is a
 * recording fake; everything else — group membership, commits, the dead-letter topic — is Kafka's.
 */
import type { FeedArrival } from '../../src/domain/triggers';
import { DLQ_HEADERS, KafkaBridge, PermanentDeliveryError, ensureTopics, type KafkaBridgeOptions } from '../../src/triggers/kafka-bridge';
import {
  arrival,
  committedOffsets,
  groupState,
  header,
  json,
  memoryLogger,
  publish,
  readTopic,
  testBrokers,
  uniqueName,
  waitFor,
} from './kafka-helpers';

jest.setTimeout(45_000);

let brokers: string[];
const running: KafkaBridge[] = [];

beforeAll(() => {
  brokers = testBrokers();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((b) => b.stop()));
});

interface Setup {
  topic: string;
  dlqTopic: string;
  groupId: string;
}

async function setup(partitions = 1): Promise<Setup> {
  const topic = uniqueName('feed-arrivals');
  const dlqTopic = `${topic}-dlq`;
  await ensureTopics(brokers, [topic], { partitions });
  await ensureTopics(brokers, [dlqTopic]);
  return { topic, dlqTopic, groupId: uniqueName('bridge') };
}

async function startBridge(
  s: Setup,
  deliver: (a: FeedArrival) => Promise<void>,
  extra: Partial<KafkaBridgeOptions> = {},
): Promise<KafkaBridge> {
  const bridge = new KafkaBridge({
    brokers,
    topic: s.topic,
    dlqTopic: s.dlqTopic,
    groupId: s.groupId,
    clientId: uniqueName('nightjar-bridge'),
    deliver,
    logger: memoryLogger().logger,
    backoff: { initialMs: 20, maxMs: 200 },
    ...extra,
  });
  running.push(bridge);
  await bridge.start();
  return bridge;
}

/** A deliver fake that records the event ids it accepted, in order. */
function recorder() {
  const delivered: string[] = [];
  const deliver = async (a: FeedArrival) => {
    delivered.push(a.eventId ?? '?');
  };
  return { delivered, deliver };
}

test('delivers valid arrivals in order per partition and commits them, so the next member of the group resumes after them', async () => {
  const s = await setup(2);
  const first = [0, 1, 2].flatMap((i) => [0, 1].map((p) => ({ partition: p, id: `p${p}-${i}` })));
  await publish(brokers, s.topic, first.map(({ partition, id }) => ({ partition, key: `k${partition}`, value: json(arrival({ eventId: id })) })));

  const { delivered, deliver } = recorder();
  const { logger, lines } = memoryLogger();
  const bridge = await startBridge(s, deliver, { logger });
  await waitFor('six deliveries', () => delivered.length >= 6);
  for (const p of [0, 1]) {
    expect(delivered.filter((id) => id.startsWith(`p${p}-`))).toEqual([`p${p}-0`, `p${p}-1`, `p${p}-2`]);
  }
  await bridge.stop();
  expect(await committedOffsets(brokers, s.groupId, s.topic)).toEqual(new Map([[0, 3n], [1, 3n]]));

  // One line per outcome, with the arrival's coordinates and no value (the URI stands for it).
  const outcomes = lines().filter((l) => l.msg === 'feed arrival delivered');
  expect(outcomes).toHaveLength(6);
  expect(outcomes[0]).toMatchObject({ feed: 'transactions', businessDate: '2026-11-20', tenant: 'bank-a', attempts: 1 });
  expect(JSON.stringify(lines())).not.toContain('file:///data/landing');

  await publish(brokers, s.topic, [{ partition: 1, value: json(arrival({ eventId: 'p1-3' })) }]);
  const next = recorder();
  await startBridge(s, next.deliver);
  await waitFor('the new arrival', () => next.delivered.length >= 1);
  expect(next.delivered).toEqual(['p1-3']);
});

test('dead-letters poison records with the reason and their origin, and delivers the records after them', async () => {
  const s = await setup();
  await publish(brokers, s.topic, [
    { value: json(arrival({ eventId: 'before' })) },
    { key: 'not-json', value: 'feed=transactions;date=2026-11-20', headers: { 'x-sender': 'core-banking' } },
    { key: 'unknown-feed', value: json({ ...arrival({ eventId: 'x1' }), feed: 'mortgages' }) },
    { key: 'bad-date', value: json(arrival({ eventId: 'x2', businessDate: '2026-02-30' })) },
    { key: 'empty', value: null },
    { value: json(arrival({ eventId: 'after' })) },
  ]);

  const { delivered, deliver } = recorder();
  await startBridge(s, deliver);
  await waitFor('the arrival after the poison', () => delivered.includes('after'));
  expect(delivered).toEqual(['before', 'after']);

  const letters = await readTopic(brokers, s.dlqTopic, 4);
  const byKey = new Map(letters.map((r) => [r.key?.toString(), r]));
  expect([...byKey.keys()].sort()).toEqual(['bad-date', 'empty', 'not-json', 'unknown-feed']);

  const notJson = byKey.get('not-json')!;
  expect(notJson.value.toString()).toBe('feed=transactions;date=2026-11-20');
  expect(header(notJson, DLQ_HEADERS.reason)).toBe('the value is not valid JSON');
  expect(header(notJson, 'x-sender')).toBe('core-banking');
  expect(header(notJson, DLQ_HEADERS.sourceTopic)).toBe(s.topic);
  expect(header(notJson, DLQ_HEADERS.sourcePartition)).toBe('0');
  expect(header(notJson, DLQ_HEADERS.sourceOffset)).toBe('1');

  expect(header(byKey.get('unknown-feed')!, DLQ_HEADERS.reason)).toMatch(/^not a feed arrival: feed: /);
  expect(header(byKey.get('bad-date')!, DLQ_HEADERS.reason)).toMatch(/^not a feed arrival: businessDate: /);
  expect(header(byKey.get('empty')!, DLQ_HEADERS.reason)).toBe('the value is empty');
  expect(header(byKey.get('empty')!, DLQ_HEADERS.sourceOffset)).toBe('4');

  await waitFor('the commit of every record', async () => (await committedOffsets(brokers, s.groupId, s.topic)).get(0) === 6n);
});

test('retries a transient delivery failure without committing or moving on; after a restart the record is delivered, not lost', async () => {
  const s = await setup();
  await publish(brokers, s.topic, [{ value: json(arrival({ eventId: 'a' })) }, { value: json(arrival({ eventId: 'b' })) }]);

  const attempts: string[] = [];
  const temporalDown = async (a: FeedArrival) => {
    attempts.push(a.eventId ?? '?');
    throw new Error('14 UNAVAILABLE: Temporal is not reachable');
  };
  const { logger, lines } = memoryLogger();
  const first = await startBridge(s, temporalDown, { logger });
  await waitFor('three attempts', () => attempts.length >= 3);
  expect(new Set(attempts)).toEqual(new Set(['a']));
  expect(lines().filter((l) => l.msg === 'feed arrival delivery failed; retrying')[0]).toMatchObject({ attempt: 1, offset: '0' });
  expect(await committedOffsets(brokers, s.groupId, s.topic)).toEqual(new Map());

  await first.stop();
  expect(new Set(attempts)).toEqual(new Set(['a']));
  expect(await committedOffsets(brokers, s.groupId, s.topic)).toEqual(new Map());

  // Temporal is back after one more failure: the restarted bridge retries, then delivers in order.
  const delivered: string[] = [];
  let failuresLeft = 1;
  await startBridge(s, async (a) => {
    if (failuresLeft > 0) {
      failuresLeft -= 1;
      throw new Error('14 UNAVAILABLE: Temporal is not reachable');
    }
    delivered.push(a.eventId ?? '?');
  });
  await waitFor('both arrivals', () => delivered.length >= 2);
  expect(delivered).toEqual(['a', 'b']);
  await waitFor('the commit of both', async () => (await committedOffsets(brokers, s.groupId, s.topic)).get(0) === 2n);
});

test('dead-letters an arrival that deliver permanently refuses, and delivers the next one', async () => {
  const s = await setup();
  await publish(brokers, s.topic, [
    { key: 'refused-class', value: json(arrival({ eventId: 'completed-night' })) },
    { key: 'refused-flag', value: json(arrival({ eventId: 'flagged' })) },
    { value: json(arrival({ eventId: 'fine' })) },
  ]);

  const delivered: string[] = [];
  await startBridge(s, async (a) => {
    if (a.eventId === 'completed-night') throw new PermanentDeliveryError('workflow nightjar-daily-2026-11-20 already completed');
    if (a.eventId === 'flagged') throw Object.assign(new Error('tenant bank-a is suspended'), { permanent: true });
    delivered.push(a.eventId ?? '?');
  });
  await waitFor('the arrival after the refused ones', () => delivered.length >= 1);
  expect(delivered).toEqual(['fine']);

  const letters = await readTopic(brokers, s.dlqTopic, 2);
  const reasons = new Map(letters.map((r) => [r.key?.toString(), header(r, DLQ_HEADERS.reason)]));
  expect(reasons).toEqual(
    new Map([
      ['refused-class', 'delivery refused: workflow nightjar-daily-2026-11-20 already completed'],
      ['refused-flag', 'delivery refused: tenant bank-a is suspended'],
    ]),
  );
  await waitFor('the commit of all three', async () => (await committedOffsets(brokers, s.groupId, s.topic)).get(0) === 3n);
});

test('stop finishes the delivery in hand, commits it, leaves the group and takes nothing more', async () => {
  const s = await setup();
  await publish(brokers, s.topic, [{ value: json(arrival({ eventId: 'in-hand' })) }, { value: json(arrival({ eventId: 'next' })) }]);

  const started: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const bridge = await startBridge(s, async (a) => {
    started.push(a.eventId ?? '?');
    await gate;
  });
  await waitFor('the delivery to start', () => started.length === 1);
  expect((await groupState(brokers, s.groupId)).members).toBe(1);

  let stopped = false;
  const stopping = bridge.stop().then(() => (stopped = true));
  await new Promise((resolve) => setImmediate(resolve));
  expect(stopped).toBe(false);
  release();
  await stopping;
  await bridge.stop();

  expect(started).toEqual(['in-hand']);
  expect(await committedOffsets(brokers, s.groupId, s.topic)).toEqual(new Map([[0, 1n]]));
  expect(await groupState(brokers, s.groupId)).toEqual({ state: 'Empty', members: 0 });

  const next = recorder();
  await startBridge(s, next.deliver);
  await waitFor('the next arrival', () => next.delivered.length >= 1);
  expect(next.delivered).toEqual(['next']);
});

/**
 * Random Kafka records through the bridge's record handling (`settleRecord`) with a recording
 * deliverer and dead-letter producer: a feed arrival is delivered exactly once and committed, every
 * other record is dead-lettered with a reason (its key, value and headers kept) and committed, and
 * nothing throws out of the handler.
 */
import { Writable } from 'node:stream';
import fc from 'fast-check';
import pino from 'pino';
import { FeedArrivalSchema, type FeedArrival } from '../../src/domain/triggers';
import { DEFAULT_BACKOFF, DLQ_HEADERS, settleRecord, type DeadLetter, type InboundRecord, type RecordSettling } from '../../src/triggers/kafka-message';
import { anyJson, corruptFeedArrival, feedArrival, fuzz } from './arbitraries';

/** What a deliverer throws when retrying cannot help (the bridge's PermanentDeliveryError needs the Kafka client). */
class Refused extends Error {
  readonly permanent = true;
}

const silent = pino({ level: 'silent' }, new Writable({ write: (_c, _e, cb) => cb() }));

interface Harness {
  readonly settling: RecordSettling;
  readonly delivered: FeedArrival[];
  readonly deadLetters: DeadLetter[];
}

/** A deliverer that fails `transient` times then accepts, or refuses for good when `refuse` is set. */
function harness(opts: { transient?: number; refuse?: boolean; dlqDown?: number } = {}): Harness {
  const delivered: FeedArrival[] = [];
  const deadLetters: DeadLetter[] = [];
  let transient = opts.transient ?? 0;
  let dlqDown = opts.dlqDown ?? 0;
  return {
    delivered,
    deadLetters,
    settling: {
      deliver: async (arrival) => {
        if (opts.refuse) throw new Refused('the night already completed');
        if (transient-- > 0) throw new Error('temporal unavailable');
        delivered.push(arrival);
      },
      isPermanent: (error) => error instanceof Refused,
      publishDeadLetter: async (message) => {
        if (dlqDown-- > 0) throw new Error('dead-letter topic unavailable');
        deadLetters.push(message);
      },
      pause: async () => true,
      stopping: () => false,
      backoff: DEFAULT_BACKOFF,
      log: silent,
    },
  };
}

const buf = (b: Uint8Array) => Buffer.from(b);
const headerEntries = fc.array(fc.tuple(fc.option(fc.uint8Array({ maxLength: 20 }).map(buf), { nil: undefined }), fc.option(fc.uint8Array({ maxLength: 40 }).map(buf), { nil: undefined })), { maxLength: 6 });

/** Record values that are not feed arrivals: bytes, invalid UTF-8, invalid JSON, JSON of the wrong shape. */
const badValue: fc.Arbitrary<Buffer | null> = fc.oneof(
  fc.constant(null),
  fc.constant(Buffer.alloc(0)),
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map(buf),
  fc.constantFrom(Buffer.from([0xff, 0xfe, 0x7b]), Buffer.from([0xc3, 0x28]), Buffer.from('{"feed":'), Buffer.from("{'feed': 'payments'}"), Buffer.from('NaN')),
  anyJson.map((v) => Buffer.from(JSON.stringify(v) ?? 'undefined')),
  corruptFeedArrival.map((c) => Buffer.from(JSON.stringify(c.value))),
).filter((v) => !isArrival(v));

function isArrival(value: Buffer | null): boolean {
  try {
    return value !== null && FeedArrivalSchema.safeParse(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(value))).success;
  } catch {
    return false;
  }
}

function record(value: Buffer | null, key: Buffer | null, headers: [Buffer | undefined, Buffer | undefined][], offset: bigint): InboundRecord & { commits: number } {
  const r = {
    topic: 'feed-arrivals',
    partition: 0,
    offset,
    key,
    value,
    headerEntries: headers,
    commits: 0,
    commit: async () => {
      r.commits += 1;
    },
  };
  return r;
}

const key = fc.option(fc.uint8Array({ maxLength: 30 }).map(buf), { nil: null });
const offset = fc.bigInt({ min: 0n, max: 2n ** 62n });

test('a record that is not a feed arrival is dead-lettered with a reason, its key, value and headers kept, and committed; nothing is delivered', async () => {
  await fc.assert(
    fc.asyncProperty(badValue, key, headerEntries, offset, fc.nat({ max: 2 }), async (value, k, headers, at, dlqDown) => {
      const h = harness({ dlqDown });
      const r = record(value, k, headers, at);
      await expect(settleRecord(r, h.settling)).resolves.toBe(true);
      expect(h.delivered).toEqual([]);
      expect(h.deadLetters).toHaveLength(1);
      const [letter] = h.deadLetters;
      expect(letter!.value).toEqual(value === null ? undefined : value);
      expect(letter!.key).toEqual(k === null ? undefined : k);
      const named = new Map([...letter!.headers].map(([hk, hv]) => [hk.toString('utf8'), hv.toString('utf8')]));
      expect(named.get(DLQ_HEADERS.reason)).toMatch(/^(the value is empty|the value is not UTF-8 text|the value is not valid JSON|not a feed arrival: .+)$/);
      expect(named.get(DLQ_HEADERS.sourceOffset)).toBe(at.toString());
      expect(r.commits).toBe(1);
    }),
    fuzz('kafka-settle-invalid', 1500),
  );
});

test('a feed arrival is delivered exactly once (after transient failures) and committed; never dead-lettered', async () => {
  await fc.assert(
    fc.asyncProperty(feedArrival, key, headerEntries, offset, fc.nat({ max: 3 }), async (arrival, k, headers, at, transient) => {
      const h = harness({ transient });
      const r = record(Buffer.from(JSON.stringify(arrival)), k, headers, at);
      await expect(settleRecord(r, h.settling)).resolves.toBe(true);
      expect(h.delivered).toEqual([FeedArrivalSchema.parse(arrival)]);
      expect(h.deadLetters).toEqual([]);
      expect(r.commits).toBe(1);
    }),
    fuzz('kafka-settle-valid', 1500),
  );
});

test('a feed arrival refused for good is dead-lettered with the refusal as the reason', async () => {
  await fc.assert(
    fc.asyncProperty(feedArrival, headerEntries, async (arrival, headers) => {
      const h = harness({ refuse: true });
      const r = record(Buffer.from(JSON.stringify(arrival)), null, headers, 7n);
      await expect(settleRecord(r, h.settling)).resolves.toBe(true);
      expect(h.delivered).toEqual([]);
      const reason = [...h.deadLetters[0]!.headers].find(([hk]) => hk.toString('utf8') === DLQ_HEADERS.reason)![1].toString('utf8');
      expect(reason).toBe('delivery refused: the night already completed');
      expect(r.commits).toBe(1);
    }),
    fuzz('kafka-settle-refused', 300),
  );
});

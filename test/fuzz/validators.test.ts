/**
 * Every schema and validator a message passes through, fed thousands of random and malformed
 * values: they never throw anything but their typed refusal, always accept what the rules allow
 * (and give it back unchanged), and refuse everything else with a reason that names the field.
 */
import { ApplicationFailure } from '@temporalio/common';
import fc from 'fast-check';
import { z } from 'zod';
import { FailureType } from '../../src/common/failures';
import { refusalMessage } from '../../src/domain/night-story';
import type { StepName } from '../../src/domain/pipeline';
import { FeedArrivalSchema, describeIssues } from '../../src/domain/triggers';
import { DLQ_HEADERS, deadLetterHeaders, decodeFeedArrival } from '../../src/triggers/kafka-message';
import { FeedArrivalBodySchema, StartNightBodySchema } from '../../src/triggers/openapi';
import {
  MAX_NOTE_LENGTH,
  readHoldRequest,
  readReleaseRequest,
  resolveStepRefusal,
  validateResolveStep,
  type ParkedStep,
  type ResolveAction,
} from '../../src/workflows/messages';
import {
  anyJson,
  anyValue,
  corruptFeedArrival,
  feedArrival,
  feedName,
  fuzz,
  isoTimestamp,
  jsonRoundTrip,
  keyArb,
  nastyString,
  notA,
  resourcesOverride,
  sparkOverrides,
  specialNumber,
  withOwnKey,
} from './arbitraries';

const RUNS = 2000;

/** A reason fit for a log line or a header: one short line. */
function expectOneShortLine(reason: string, max = 1200): void {
  expect(reason.length).toBeGreaterThan(0);
  expect(reason.length).toBeLessThanOrEqual(max);
  expect(reason).not.toMatch(/[\u0000-\u001f\u007f]/);
}

// ---- FeedArrivalSchema: HTTP bodies, Kafka records and the feedArrived signal ------------------

describe('FeedArrivalSchema', () => {
  test('accepts every arrival built from its rules and gives it back unchanged (tenant defaulted)', () => {
    fc.assert(
      fc.property(feedArrival, (arrival) => {
        const parsed = FeedArrivalSchema.parse(jsonRoundTrip(arrival));
        expect(parsed).toEqual({ tenant: 'default', ...arrival });
        expect(FeedArrivalSchema.parse(jsonRoundTrip(parsed))).toEqual(parsed);
      }),
      fuzz('feed-arrival-valid', RUNS),
    );
  });

  test('never throws from safeParse on any value, and a refusal is a ZodError described in one short line', () => {
    fc.assert(
      fc.property(anyValue, (value) => {
        const result = FeedArrivalSchema.safeParse(value);
        if (!result.success) {
          expect(result.error).toBeInstanceOf(z.ZodError);
          expectOneShortLine(describeIssues(result.error));
          expect(() => FeedArrivalSchema.parse(value)).toThrow(z.ZodError);
        }
      }),
      fuzz('feed-arrival-anything', RUNS),
    );
  });

  test('refuses an arrival with one thing wrong, naming the field', () => {
    fc.assert(
      fc.property(corruptFeedArrival, ({ value, field, how }) => {
        const result = FeedArrivalSchema.safeParse(value);
        expect(result.success).toBe(false);
        const reason = describeIssues((result as { error: z.ZodError }).error);
        expectOneShortLine(reason);
        expect(reason).toContain(how === 'unexpected field' ? '(root): unexpected field(s) ' : `${field}: `);
      }),
      fuzz('feed-arrival-corrupt', RUNS),
    );
  });

  test('names unexpected keys clipped and without control characters, however long or odd', () => {
    fc.assert(
      fc.property(feedArrival, fc.array(fc.oneof(keyArb, nastyString), { minLength: 1, maxLength: 40 }), (arrival, keys) => {
        let value: Record<string, unknown> = { ...arrival };
        for (const key of keys) if (!Object.hasOwn(FeedArrivalSchema.shape, key)) value = withOwnKey(value, key, 1);
        const result = FeedArrivalSchema.safeParse(value);
        if (Object.keys(value).length === Object.keys(arrival).length) return;
        expect(result.success).toBe(false);
        expectOneShortLine(describeIssues((result as { error: z.ZodError }).error), 600);
      }),
      fuzz('feed-arrival-odd-keys', RUNS),
    );
  });
});

// ---- the HTTP API's bodies ---------------------------------------------------------------------

describe('HTTP request bodies', () => {
  test('StartNightBodySchema accepts per-job resource overrides and gives them back unchanged', () => {
    fc.assert(
      fc.property(fc.option(sparkOverrides, { nil: undefined }), (overrides) => {
        const body = overrides === undefined ? {} : { sparkOverrides: overrides };
        expect(StartNightBodySchema.parse(jsonRoundTrip(body))).toEqual(body);
      }),
      fuzz('start-night-valid', RUNS),
    );
  });

  const badResource = fc.oneof(specialNumber.filter((n) => !(Number.isSafeInteger(n) && n > 0)), notA('number'), fc.integer({ max: 0 }), fc.double({ noInteger: true, noNaN: true }));

  test('StartNightBodySchema refuses a bad resource value, an unknown job or an unknown resource, naming the field', () => {
    const corrupt = fc.oneof(
      fc.tuple(fc.constantFrom('normalize', 'transform'), fc.constantFrom('driverMemoryMb', 'executorCores', 'executorInstances', 'shufflePartitions'), badResource).map(([job, key, bad]) => ({
        body: { sparkOverrides: { [job]: { [key]: bad } } },
        field: `sparkOverrides.${job}.${key}`,
      })),
      fc.tuple(keyArb.filter((k) => k !== 'normalize' && k !== 'transform'), resourcesOverride).map(([job, r]) => ({ body: { sparkOverrides: withOwnKey({}, job, r) }, field: 'sparkOverrides' })),
      fc.tuple(fc.constantFrom('normalize', 'transform'), keyArb.filter((k) => !['driverMemoryMb', 'driverCores', 'executorMemoryMb', 'executorCores', 'executorInstances', 'memoryOverheadMb', 'shufflePartitions'].includes(k))).map(([job, key]) => ({
        body: { sparkOverrides: { [job]: withOwnKey({}, key, 1) } },
        field: `sparkOverrides.${job}`,
      })),
      notA('object').map((v) => ({ body: { sparkOverrides: v }, field: 'sparkOverrides' })),
      fc.tuple(keyArb.filter((k) => k !== 'sparkOverrides'), fc.jsonValue({ maxDepth: 1 })).map(([key, v]) => ({ body: withOwnKey({}, key, v), field: '(root)' })),
    );
    fc.assert(
      fc.property(corrupt, ({ body, field }) => {
        const sent = JSON.parse(JSON.stringify(body)) as unknown;
        // NaN and Infinity arrive as null over JSON: still wrong.
        const result = StartNightBodySchema.safeParse(sent);
        expect(result.success).toBe(false);
        const reason = describeIssues((result as { error: z.ZodError }).error);
        expectOneShortLine(reason);
        expect(reason).toContain(`${field}: `);
      }),
      fuzz('start-night-corrupt', RUNS),
    );
  });

  test('FeedArrivalBodySchema accepts an arrival without the path fields, and never throws on anything', () => {
    fc.assert(
      fc.property(feedArrival, fc.subarray(['businessDate', 'tenant', 'feed'] as const), anyJson, (arrival, drop, junk) => {
        const body: Record<string, unknown> = { ...arrival };
        for (const f of drop) delete body[f];
        expect(FeedArrivalBodySchema.safeParse(jsonRoundTrip(body)).success).toBe(true);
        const refused = FeedArrivalBodySchema.safeParse(junk);
        if (!refused.success) expectOneShortLine(describeIssues(refused.error));
      }),
      fuzz('feed-body', RUNS),
    );
  });
});

// ---- the Kafka record value --------------------------------------------------------------------

describe('decodeFeedArrival', () => {
  test('decodes every valid arrival written as UTF-8 JSON', () => {
    fc.assert(
      // A leading byte-order mark is dropped by the decoder; JSON allows white space around the value.
      fc.property(feedArrival, fc.constantFrom('', '\ufeff', ' ', '\ufeff\n'), fc.constantFrom('', ' ', '\r\n'), (arrival, before, after) => {
        const decoded = decodeFeedArrival(Buffer.from(`${before}${JSON.stringify(arrival)}${after}`, 'utf8'));
        expect(decoded).toEqual({ ok: true, arrival: FeedArrivalSchema.parse(arrival) });
      }),
      fuzz('kafka-decode-valid', RUNS),
    );
  });

  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.constantFrom(new Uint8Array([0xff, 0xfe]), new Uint8Array([0xc3, 0x28]), new Uint8Array([0xed, 0xa0, 0x80]), new Uint8Array([0x7b, 0x80, 0x7d])),
    anyJson.map((v) => new TextEncoder().encode(JSON.stringify(v) ?? 'undefined')),
    corruptFeedArrival.map((c) => new TextEncoder().encode(JSON.stringify(c.value))),
    fc.string({ unit: 'binary', maxLength: 200 }).map((s) => new TextEncoder().encode(s)),
  );

  test('never throws on any bytes; a refusal is one short line that does not quote the value', () => {
    fc.assert(
      fc.property(fc.option(bytes, { nil: null }), (raw) => {
        const value = raw === null ? null : Buffer.from(raw);
        const decoded = decodeFeedArrival(value);
        if (decoded.ok) {
          expect(FeedArrivalSchema.safeParse(JSON.parse(value!.toString('utf8'))).success).toBe(true);
          return;
        }
        expectOneShortLine(decoded.reason, 1000);
        expect(decoded.reason).toMatch(/^(the value is empty|the value is not UTF-8 text|the value is not valid JSON|not a feed arrival: .+)$/);
      }),
      fuzz('kafka-decode-anything', RUNS),
    );
  });

  test('never quotes a field value in the reason', () => {
    const secret = fc.stringMatching(/^[A-Z]{4}[0-9]{12}$/);
    fc.assert(
      fc.property(feedArrival, fc.constantFrom('businessDate', 'tenant', 'feed', 'uri', 'sha256', 'arrivedAt'), secret, (arrival, field, account) => {
        const decoded = decodeFeedArrival(Buffer.from(JSON.stringify({ ...arrival, [field]: `${account} ${account}` })));
        expect(decoded.ok).toBe(false);
        expect((decoded as { reason: string }).reason).not.toContain(account);
      }),
      fuzz('kafka-decode-no-echo', RUNS),
    );
  });

  test('deadLetterHeaders keeps every original header but the bridge’s own, and adds one reason and the source', () => {
    const buf = fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b));
    const ours = fc.constantFrom(...Object.values(DLQ_HEADERS)).map((k) => Buffer.from(k));
    const entry = fc.tuple(fc.option(fc.oneof(buf, ours), { nil: undefined }), fc.option(buf, { nil: undefined }));
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 20 }), nastyString, fc.nat(), fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), (original, reason, partition, offset) => {
        const headers = deadLetterHeaders(original, { topic: 'feeds', partition, offset }, reason);
        const names = [...headers.keys()].map((k) => k.toString('utf8'));
        for (const name of Object.values(DLQ_HEADERS)) expect(names.filter((n) => n === name)).toHaveLength(1);
        const kept = original.filter(([k]) => k !== undefined && !(Object.values(DLQ_HEADERS) as string[]).includes(k.toString('utf8')));
        expect(headers.size).toBe(kept.length + 4);
        const reasonHeader = [...headers].find(([k]) => k.toString('utf8') === DLQ_HEADERS.reason)![1].toString('utf8');
        expect(reasonHeader.length).toBeLessThanOrEqual(1000);
      }),
      fuzz('kafka-dead-letter-headers', RUNS),
    );
  });
});

// ---- the workflow's message validators ---------------------------------------------------------

const STEPS: readonly StepName[] = ['ingest', 'normalize', 'transform', 'export'];

/** A step parked the way the workflow parks one: ingest names its feed and may be skippable. */
const parked: fc.Arbitrary<ParkedStep> = fc.constantFrom(...STEPS).chain((step) =>
  fc.record({
    step: fc.constant(step),
    ...(step === 'ingest' ? { feed: feedName } : {}),
    error: fc.record({ type: fc.constantFrom('FeedRejected', 'SparkJobFailed', 'FeedNotFound'), message: fc.string() }),
    since: isoTimestamp,
    actions: step === 'ingest' ? fc.constantFrom<ResolveAction[]>(['retry', 'abort'], ['retry', 'skip', 'abort']) : fc.constant<ResolveAction[]>(['retry', 'abort']),
  }) as fc.Arbitrary<ParkedStep>,
);

const note = fc.string({ maxLength: MAX_NOTE_LENGTH });

/** A decision the parked step accepts. */
const validDecision = (p: ParkedStep) =>
  fc.constantFrom(...p.actions).chain((action) =>
    fc.record(
      {
        step: fc.constant(p.step),
        ...(p.feed ? { feed: fc.constant(p.feed) } : {}),
        action: fc.constant(action),
        ...(action === 'retry' && (p.step === 'normalize' || p.step === 'transform') ? { overrides: resourcesOverride } : {}),
        reason: note,
        by: note,
      },
      { requiredKeys: p.feed ? ['step', 'feed', 'action'] : ['step', 'action'] },
    ),
  );

/** A decision with one thing wrong, and the words its refusal must contain. */
const corruptDecision = (p: ParkedStep): fc.Arbitrary<{ req: unknown; says: RegExp }> =>
  validDecision(p).chain((valid) =>
    fc.oneof(
      fc.oneof(notA('string'), fc.constantFrom(...STEPS, 'finalize', 'Normalize', '').filter((s) => s !== p.step)).map((bad) => ({ req: { ...valid, step: bad }, says: /the night waits on step/ })),
      fc.oneof(notA('string').filter((v) => jsonRoundTrip(v) != null), feedName.filter((f) => f !== p.feed)).map((bad) => ({ req: { ...valid, feed: bad }, says: /the night waits on feed/ })),
      fc.oneof(notA('string'), fc.constantFrom('restart', 'RETRY', 'retry ', '', 'constructor', 'toString')).map((bad) => ({ req: { ...valid, action: bad }, says: /unknown action/ })),
      ...(['retry', 'skip', 'abort'] as const)
        .filter((a) => !p.actions.includes(a))
        .map((a) => fc.constant({ req: { ...valid, action: a }, says: /is not allowed for|overrides apply only/ })),
      fc.oneof(notA('object'), fc.record({ driverMemoryMb: fc.oneof(fc.integer({ max: 0 }), fc.double({ noInteger: true, noNaN: true }), notA('number')) }), fc.constant({ driverMemory: 4096 }), fc.constant({ memoryOverheadMb: -1 })).map((bad) => ({
        req: { ...valid, overrides: bad },
        says: /overrides/,
      })),
      fc.tuple(fc.constantFrom('reason', 'by'), fc.oneof(notA('string').filter((v) => jsonRoundTrip(v) != null), fc.nat({ max: 1000 }).map((n) => 'r'.repeat(MAX_NOTE_LENGTH + 1 + n)))).map(([f, bad]) => ({
        req: { ...valid, [f]: bad },
        says: new RegExp(`${f} must be a string`),
      })),
      keyArb.filter((k) => !['step', 'feed', 'action', 'overrides', 'reason', 'by'].includes(k)).map((k) => ({ req: withOwnKey(valid, k, 1), says: /unexpected field\(s\)/ })),
    ),
  );

describe('resolveStep validator', () => {
  test('accepts every decision the parked step allows, and refuses it only while another is being applied', () => {
    fc.assert(
      fc.property(
        parked.chain((p) => fc.tuple(fc.constant(p), validDecision(p))),
        ([p, req]) => {
          expect(resolveStepRefusal(jsonRoundTrip(req), p, false)).toBeUndefined();
          expect(() => validateResolveStep(jsonRoundTrip(req), p, false)).not.toThrow();
          expect(resolveStepRefusal(req, p, true)).toBe('a decision is already being applied');
          expect(resolveStepRefusal(req, undefined, false)).toBe('no step is waiting for a decision');
        },
      ),
      fuzz('resolve-valid', RUNS),
    );
  });

  test('refuses a decision with one thing wrong, saying what', () => {
    fc.assert(
      fc.property(
        parked.chain((p) => fc.tuple(fc.constant(p), corruptDecision(p))),
        ([p, { req, says }]) => {
          const sent = jsonRoundTrip(req);
          const why = resolveStepRefusal(sent, p, false);
          expect(why).toMatch(says);
          expectOneShortLine(why!, 600);
        },
      ),
      fuzz('resolve-corrupt', RUNS),
    );
  });

  test('on any value at all it never throws but its InvalidInput failure, whose message is one short line', () => {
    fc.assert(
      fc.property(fc.option(parked, { nil: undefined }), fc.boolean(), anyValue, (p, deciding, req) => {
        const why = resolveStepRefusal(req, p, deciding);
        let thrown: unknown;
        try {
          validateResolveStep(req, p, deciding);
        } catch (err) {
          thrown = err;
        }
        if (why === undefined) {
          expect(thrown).toBeUndefined();
          return;
        }
        expect(thrown).toBeInstanceOf(ApplicationFailure);
        expect(thrown).toMatchObject({ type: FailureType.InvalidInput, nonRetryable: true, message: refusalMessage(why, p) });
        expectOneShortLine(why, 600);
      }),
      fuzz('resolve-anything', RUNS),
    );
  });
});

describe('holdExport and releaseExport payloads', () => {
  test('a well-formed hold is kept as sent', () => {
    const reason = fc.string({ minLength: 1, maxLength: MAX_NOTE_LENGTH }).filter((s) => s.trim() !== '');
    fc.assert(
      fc.property(fc.record({ reason, by: fc.string({ minLength: 1, maxLength: MAX_NOTE_LENGTH }) }, { requiredKeys: ['reason'] }), (hold) => {
        expect(readHoldRequest(jsonRoundTrip(hold))).toEqual({ hold });
      }),
      fuzz('hold-valid', RUNS),
    );
  });

  test('any other value still holds, with a short string reason, and says what was wrong', () => {
    fc.assert(
      fc.property(anyValue, (raw) => {
        const { hold, problem } = readHoldRequest(raw);
        expect(typeof hold.reason).toBe('string');
        expect(hold.reason.trim()).not.toBe('');
        expect(hold.reason.length).toBeLessThanOrEqual(MAX_NOTE_LENGTH);
        if (hold.by !== undefined) expect(typeof hold.by).toBe('string');
        const wellFormed = typeof raw === 'object' && raw !== null && hold.reason === (raw as { reason?: unknown }).reason && Object.keys(raw).every((k) => k === 'reason' || (k === 'by' && hold.by !== undefined));
        if (!wellFormed) expectOneShortLine(problem ?? '', 600);
      }),
      fuzz('hold-anything', RUNS),
    );
  });

  test('a release never throws; by is kept only when it is a short string', () => {
    fc.assert(
      fc.property(fc.oneof(anyValue, fc.record({ by: fc.oneof(fc.string({ maxLength: MAX_NOTE_LENGTH }), notA('string')) }, { requiredKeys: [] })), (raw) => {
        const release = readReleaseRequest(raw);
        if (release.by !== undefined) {
          expect(release.by).toBe((raw as { by: unknown }).by);
          expect(release.by.length).toBeLessThanOrEqual(MAX_NOTE_LENGTH);
        }
        if (release.problem !== undefined) expectOneShortLine(release.problem, 600);
      }),
      fuzz('release-anything', RUNS),
    );
  });
});

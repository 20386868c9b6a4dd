/**
 * Shared arbitraries for the property tests: values built from the schemas' own rules (always
 * accepted), and the malformed ones every door must refuse (wrong types, poison keys, huge and
 * unicode strings, impossible dates, special numbers, deep nesting).
 */
import fc from 'fast-check';
import { FEED_NAMES, type FeedName } from '../../src/domain/feeds/catalog';
import { DEFAULT_ESCALATION } from '../../src/domain/spark/escalation';
import { SPARK_RESOURCE_LIMITS, type SparkResources } from '../../src/domain/spark/resources';
import type { FeedArrivalInput } from '../../src/domain/triggers';

// ---- runs and seeds ----------------------------------------------------------------------------

/**
 * fast-check parameters for one property: a fixed seed derived from its name (so CI is
 * reproducible), or `FUZZ_SEED` to explore others. On failure fast-check prints the seed and the
 * shrunk counterexample's path; rerun with `FUZZ_SEED=<seed>` to replay it.
 */
export function fuzz(name: string, numRuns: number): { seed: number; numRuns: number; endOnFailure: boolean } {
  const override = process.env['FUZZ_SEED'];
  let seed = 0x6e6a;
  for (const ch of name) seed = (Math.imul(seed, 31) + ch.charCodeAt(0)) | 0;
  if (override !== undefined && override.trim() !== '') {
    const parsed = Number(override);
    if (!Number.isInteger(parsed)) throw new Error(`FUZZ_SEED must be an integer, got '${override}'`);
    seed = parsed;
  }
  return { seed, numRuns, endOnFailure: false };
}

// ---- malformed building blocks -----------------------------------------------------------------

/** Keys that trip code treating parsed JSON as an ordinary object. */
export const POISON_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'toJSON', '__defineGetter__'] as const;

export const keyArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.constantFrom(...POISON_KEYS) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
);

/** Impossible or mis-written calendar dates. */
export const badDates = [
  '2025-02-30',
  '2025-02-29',
  '2100-02-29',
  '2026-13-01',
  '2026-00-10',
  '2026-04-31',
  '2026-01-00',
  '2026-1-05',
  '20260105',
  ' 2026-01-05',
  '2026-01-05 ',
  '2026-01-05T00:00:00Z',
  '２０２６-01-05',
  '2026/01/05',
  '',
] as const;

/** Strings no field accepts as they are: control characters, unicode look-alikes, huge ones. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '\n', '\u202e', '\ud800', 'null', 'undefined', 'NaN', '../../etc/passwd', '%2e%2e%2f', '<script>', "'; drop table nights; --"),
  fc.nat({ max: 200_000 }).map((n) => 'x'.repeat(n + 3000)),
  fc.constantFrom(...badDates),
);

/** Numbers that are not ordinary finite values. */
export const specialNumber: fc.Arbitrary<number> = fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 0, -1, 0.5, 1e308, Number.MAX_SAFE_INTEGER + 2, -Number.MAX_SAFE_INTEGER);

/** Arrays or objects nested `depth` deep (iteratively built: recursion would be the test's problem). */
export function nested(depth: number, kind: 'array' | 'object'): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = kind === 'array' ? [value] : { a: value };
  return value;
}
export const deepValue: fc.Arbitrary<unknown> = fc.tuple(fc.integer({ min: 50, max: 3000 }), fc.constantFrom('array' as const, 'object' as const)).map(([d, k]) => nested(d, k));

/** An object whose own keys include prototype-pollution names, e.g. `{"__proto__": {...}, "toString": 1}`. */
export const poisonObject: fc.Arbitrary<Record<string, unknown>> = fc
  .uniqueArray(fc.constantFrom(...POISON_KEYS), { minLength: 1, maxLength: 4 })
  .chain((keys) =>
    fc
      .array(fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.constant(null), fc.constant({ polluted: true })), { minLength: keys.length, maxLength: keys.length })
      // JSON.parse is the only way to get an own `__proto__` key, as a payload converter builds it.
      .map((values) => JSON.parse(`{${keys.map((k, i) => `${JSON.stringify(k)}:${JSON.stringify(values[i])}`).join(',')}}`) as Record<string, unknown>),
  );

/** Anything at all, weighted towards the shapes that break hand-written checks. */
export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.anything({ key: keyArb, maxDepth: 3, withNullPrototype: true, withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withBoxedValues: true }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: nastyString },
  { weight: 1, arbitrary: specialNumber },
  { weight: 1, arbitrary: deepValue },
  { weight: 1, arbitrary: poisonObject },
);

/** Anything JSON can carry (what arrives through a payload converter or a request body). */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: nastyString },
  { weight: 1, arbitrary: deepValue },
  { weight: 2, arbitrary: poisonObject },
);

/** A value that is not of the given JSON type (for "wrong type" corruptions). */
export function notA(type: 'string' | 'number' | 'object'): fc.Arbitrary<unknown> {
  return fc.oneof(fc.jsonValue({ maxDepth: 2 }), specialNumber, poisonObject).filter((v) => {
    if (type === 'object') return v === null || typeof v !== 'object' || Array.isArray(v);
    return typeof v !== type;
  });
}

// ---- valid values, from the schemas' rules -----------------------------------------------------

export const feedName: fc.Arbitrary<FeedName> = fc.constantFrom(...FEED_NAMES);

/** A real calendar date, YYYY-MM-DD (years 1900-2199; test/unit/bounds.test.ts covers the years 0-99). */
export const businessDate: fc.Arbitrary<string> = fc
  .date({ min: new Date(Date.UTC(1900, 0, 1)), max: new Date(Date.UTC(2199, 11, 31)), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));

export const tenant: fc.Arbitrary<string> = fc.stringMatching(/^[a-z0-9](?:[-a-z0-9]{0,30}[a-z0-9])?$/);

export const fileUri: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom('file', 's3', 's3a', 'gs', 'abfs', 'abfss', 'hdfs'), fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789/._-%~'.split('')), minLength: 1, maxLength: 200 }))
  .map(([scheme, rest]) => `${scheme}://${rest}`);

export const sha256Hex: fc.Arbitrary<string> = fc.stringMatching(/^[0-9a-f]{64}$/);

export const isoTimestamp: fc.Arbitrary<string> = fc
  .tuple(fc.date({ min: new Date(Date.UTC(1970, 0, 1)), max: new Date(Date.UTC(2199, 11, 31)), noInvalidDate: true }), fc.constantFrom('Z', '+00:00', '+05:30', '-08:00'), fc.boolean())
  .map(([d, offset, millis]) => {
    const iso = d.toISOString();
    return `${millis ? iso.slice(0, 23) : iso.slice(0, 19)}${offset}`;
  });

export const eventId: fc.Arbitrary<string> = fc.string({ minLength: 1, maxLength: 200 });

/** A feed arrival every door accepts. */
export const feedArrival: fc.Arbitrary<FeedArrivalInput> = fc.record(
  { businessDate, tenant, feed: feedName, uri: fileUri, sha256: sha256Hex, eventId, arrivedAt: isoTimestamp },
  { requiredKeys: ['businessDate', 'feed', 'uri'] },
);

const upTo = (max: number) => fc.integer({ min: 1, max });
const L = SPARK_RESOURCE_LIMITS;

/** Some resources of one job (an operator's override), each within the limits no door exceeds. */
export const resourcesOverride: fc.Arbitrary<Partial<SparkResources>> = fc.record(
  {
    driverMemoryMb: upTo(L.memoryMb),
    driverCores: upTo(L.cores),
    executorMemoryMb: upTo(L.memoryMb),
    executorCores: upTo(L.cores),
    executorInstances: upTo(L.executorInstances),
    memoryOverheadMb: fc.option(upTo(L.memoryMb), { nil: null }),
    shufflePartitions: upTo(L.shufflePartitions),
  },
  { requiredKeys: [] },
);

export const sparkOverrides = fc.record({ normalize: resourcesOverride, transform: resourcesOverride }, { requiredKeys: [] });

const between = (min: number, max: number) => fc.integer({ min, max });

/** Some resources of one job within the default escalation caps: what a door admits with the default configuration. */
export const admittedResourcesOverride: fc.Arbitrary<Partial<SparkResources>> = fc.record(
  {
    driverMemoryMb: between(256, DEFAULT_ESCALATION.maxDriverMemoryMb),
    driverCores: upTo(L.cores),
    executorMemoryMb: between(256, DEFAULT_ESCALATION.maxExecutorMemoryMb),
    executorCores: upTo(L.cores),
    executorInstances: upTo(L.executorInstances),
    memoryOverheadMb: fc.option(upTo(DEFAULT_ESCALATION.maxExecutorMemoryMb), { nil: null }),
    shufflePartitions: upTo(L.shufflePartitions),
  },
  { requiredKeys: [] },
);

export const admittedSparkOverrides = fc.record({ normalize: admittedResourcesOverride, transform: admittedResourcesOverride }, { requiredKeys: [] });

// ---- malformed values, one corruption of a valid one -------------------------------------------

/** What was broken, so the test can check that the refusal names it. */
export interface Corruption<T> {
  readonly value: T;
  /** The field the refusal must name; `(root)` for the whole value. */
  readonly field: string;
  readonly how: 'wrong value' | 'missing' | 'unexpected field';
}

const FEED_ARRIVAL_BAD_VALUES: Record<keyof FeedArrivalInput, fc.Arbitrary<unknown>> = {
  businessDate: fc.oneof(fc.constantFrom(...badDates), notA('string'), nastyString.filter((s) => !/^\d{4}-\d{2}-\d{2}$/.test(s))),
  tenant: fc.oneof(notA('string'), fc.constantFrom('', '-acme', 'acme-', 'ACME', 'a_b', 'a'.repeat(33), 'acmé', 'a b', '../x', '__proto__'), nastyString.filter((s) => !/^[a-z0-9](?:[-a-z0-9]{0,30}[a-z0-9])?$/.test(s))),
  feed: fc.oneof(notA('string'), fc.constantFrom('', 'Payments', 'payments ', 'fx-rates', 'constructor', '__proto__', 'toString'), nastyString),
  uri: fc.oneof(notA('string'), fc.constantFrom('', 'http://x/y', 'ftp://x', 'file://', 'file:// x', '/data/x.csv', 'file://a b', 'FILE://x'), fc.nat({ max: 5000 }).map((n) => `file://${'a'.repeat(2049 + n)}`)),
  sha256: fc.oneof(notA('string'), fc.constantFrom('', 'ABCDEF'.repeat(11).slice(0, 64), 'a'.repeat(63), 'a'.repeat(65), 'g'.repeat(64))),
  eventId: fc.oneof(notA('string'), fc.constant(''), fc.nat({ max: 1000 }).map((n) => 'e'.repeat(201 + n))),
  arrivedAt: fc.oneof(notA('string'), fc.constantFrom('2025-02-30T00:00:00Z', '2026-03-31', '2026-03-31T25:00:00Z', '2026-03-31T23:59:60Z', '2026-03-31T12:00:00', 'yesterday', '1711929600', '2026-03-31T12:00:00+24:00', '')),
};

/** A feed arrival with exactly one thing wrong: a field's value, a required field missing, or a field too many. */
export const corruptFeedArrival: fc.Arbitrary<Corruption<Record<string, unknown>>> = fc.oneof(
  fc
    .tuple(feedArrival, fc.constantFrom(...(Object.keys(FEED_ARRIVAL_BAD_VALUES) as (keyof FeedArrivalInput)[])))
    .chain(([valid, field]) => FEED_ARRIVAL_BAD_VALUES[field].map((bad) => ({ value: jsonRoundTrip({ ...valid, [field]: bad }), field, how: 'wrong value' as const })))
    // A value that does not survive JSON (undefined, NaN → null) may turn into a valid one.
    .filter((c) => c.value !== undefined && Object.hasOwn(c.value, c.field)),
  fc.tuple(feedArrival, fc.constantFrom('businessDate', 'feed', 'uri')).map(([valid, field]) => {
    const value: Record<string, unknown> = { ...valid };
    delete value[field];
    return { value, field, how: 'missing' as const };
  }),
  fc
    .tuple(feedArrival, keyArb.filter((k) => !['businessDate', 'tenant', 'feed', 'uri', 'sha256', 'eventId', 'arrivedAt'].includes(k)), fc.jsonValue({ maxDepth: 1 }))
    .map(([valid, key, v]) => ({ value: withOwnKey(valid, key, v), field: '(root)', how: 'unexpected field' as const })),
);

/** `value` with an own property `key` (even `__proto__`), as JSON.parse would build it. */
export function withOwnKey(value: object, key: string, v: unknown): Record<string, unknown> {
  const copy = { ...value } as Record<string, unknown>;
  Object.defineProperty(copy, key, { value: v === undefined ? null : v, enumerable: true, writable: true, configurable: true });
  return copy;
}

/** What a JSON payload converter would deliver (undefined for what JSON cannot carry). */
export function jsonRoundTrip<T>(value: T): T {
  const text = JSON.stringify(value);
  return (text === undefined ? undefined : JSON.parse(text)) as T;
}

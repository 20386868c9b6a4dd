import { z } from 'zod';
import { addDays, daysBetween, isBusinessDate } from '../../src/domain/business-date';
import {
  businessDateOutsideWindow,
  businessDateRange,
  businessDateRangePattern,
  businessDateWithin,
  isRfc3339Timestamp,
  sparkOverridesWithin,
  sparkResourcesOverrideWithin,
} from '../../src/domain/bounds';
import { SparkResourcesOverrideSchema } from '../../src/domain/spark/resources';
import { FeedArrivalSchema } from '../../src/domain/triggers';

describe('calendar dates in any year', () => {
  test.each([
    ['0000-02-29', true], // year 0 is a leap year in the proleptic Gregorian calendar
    ['0004-02-29', true],
    ['0050-01-31', true],
    ['0099-12-31', true],
    ['0100-02-29', false],
    ['0001-02-29', false],
    ['1900-02-29', false],
    ['2000-02-29', true],
    ['9999-12-31', true],
    ['2026-02-30', false],
  ])('%s is a calendar date: %s', (date, expected) => {
    expect(isBusinessDate(date)).toBe(expected);
  });

  test('addDays and daysBetween work across the years 0-99 too', () => {
    expect(addDays('0099-12-31', 1)).toBe('0100-01-01');
    expect(addDays('0004-03-01', -1)).toBe('0004-02-29');
    expect(daysBetween('0000-01-01', '0001-01-01')).toBe(366);
  });
});

describe('the business-date window', () => {
  const window = { pastDays: 10, futureDays: 1 };
  const today = '2026-03-05';

  test('accepts the edges and refuses one day past them, naming the range', () => {
    expect(businessDateRange(window, today)).toEqual({ from: '2026-02-23', to: '2026-03-06' });
    expect(businessDateOutsideWindow('2026-02-23', window, today)).toBeUndefined();
    expect(businessDateOutsideWindow('2026-03-06', window, today)).toBeUndefined();
    expect(businessDateOutsideWindow('2026-02-22', window, today)).toMatch(/between 2026-02-23 and 2026-03-06/);
    expect(businessDateOutsideWindow('9999-12-31', window, today)).toMatch(/between/);
    const schema = businessDateWithin(window, today);
    expect(schema.safeParse('2026-02-30').error?.issues[0]?.message).toMatch(/calendar date/);
    expect(schema.safeParse('0050-01-01').success).toBe(false);
  });

  test('a window reaching the years 0-99 accepts their dates', () => {
    expect(businessDateWithin({ pastDays: 800_000, futureDays: 0 }, today).safeParse('0050-02-28').success).toBe(true);
  });

  test('the pattern matches exactly the calendar dates of the window, over year ends and leap days', () => {
    const from = '2023-11-28';
    const to = '2026-01-03';
    const re = new RegExp(businessDateRangePattern(from, to));
    // every date from a week before to a week after, and every impossible day of each month
    for (let d = addDays(from, -7); d <= addDays(to, 7); d = addDays(d, 1)) {
      expect([d, re.test(d)]).toEqual([d, d >= from && d <= to]);
    }
    for (const bad of ['2024-02-30', '2025-02-29', '2024-04-31', '2024-00-10', '2024-13-01', '2024-01-00', '2024-1-01', '２０２４-01-01']) {
      expect([bad, re.test(bad)]).toEqual([bad, false]);
    }
    expect(re.test('2024-02-29')).toBe(true);
  });
});

describe('Spark overrides within the caps', () => {
  const caps = { maxDriverMemoryMb: 8192, maxExecutorMemoryMb: 16384, maxExecutorInstances: 20 };

  test('a value at the cap passes; one above it is refused naming the cap', () => {
    const schema = sparkResourcesOverrideWithin(caps);
    expect(schema.safeParse({ driverMemoryMb: 8192, executorInstances: 20 }).success).toBe(true);
    const refused = schema.safeParse({ driverMemoryMb: 8193 });
    expect(refused.error?.issues[0]).toMatchObject({ path: ['driverMemoryMb'], message: 'must be at most 8192 (the driver memory cap)' });
    expect(schema.safeParse({ executorInstances: 21 }).success).toBe(false);
    expect(schema.safeParse({ driverMemoryMb: 128 }).success).toBe(false);
  });

  test('per job, each job its own caps', () => {
    const schema = sparkOverridesWithin({ normalize: caps, transform: { ...caps, maxExecutorMemoryMb: 32768 } });
    expect(schema.safeParse({ transform: { executorMemoryMb: 32768 } }).success).toBe(true);
    expect(schema.safeParse({ normalize: { executorMemoryMb: 32768 } }).success).toBe(false);
    expect(schema.safeParse({ spark: {} }).success).toBe(false);
  });

  test('without configuration, absurd numbers are still refused everywhere', () => {
    expect(SparkResourcesOverrideSchema.safeParse({ driverMemoryMb: Number.MAX_SAFE_INTEGER }).success).toBe(false);
    expect(SparkResourcesOverrideSchema.safeParse({ executorInstances: 9_007_199_254_740_991 }).success).toBe(false);
  });
});

describe('RFC 3339 timestamps', () => {
  test.each([
    ['2026-03-31T23:14:05Z', true],
    ['2026-03-31t23:14:05z', true],
    ['2026-03-31T23:14:05.250+01:00', true],
    ['2026-03-31T23:14Z', false],
    ['2026-03-31T23:14:05', false],
    ['2026-02-30T00:00:00Z', false],
    ['2026-03-31 23:14:05Z', false],
    ['2026-03-31T24:00:00Z', false],
  ])('%s: %s', (value, ok) => {
    expect(isRfc3339Timestamp(value)).toBe(ok);
    expect(FeedArrivalSchema.safeParse({ businessDate: '2026-03-31', feed: 'payments', uri: 'file:///x', arrivedAt: value }).success).toBe(ok);
  });

  test('the JSON Schema of a feed arrival says date-time and counts characters as JSON Schema does', () => {
    const schema = z.toJSONSchema(FeedArrivalSchema, { io: 'input' }) as { properties: Record<string, Record<string, unknown>> };
    expect(schema.properties['arrivedAt']).toMatchObject({ type: 'string', format: 'date-time' });
    expect(schema.properties['eventId']).toMatchObject({ minLength: 1, maxLength: 200 });
    const astral = '😀'.repeat(150); // 150 code points, 300 UTF-16 units
    expect(FeedArrivalSchema.safeParse({ businessDate: '2026-03-31', feed: 'payments', uri: 'file:///x', eventId: astral }).success).toBe(true);
  });
});

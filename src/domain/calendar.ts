/**
 * Business calendars: which calendar dates are business dates for a region, and the wall-clock
 * arithmetic a nightly T+1 run needs in the region's time zone. Holidays come from configuration.
 *
 * Pure and deterministic (zod and @date-fns/tz only): workflow code imports it. Dates are
 * YYYY-MM-DD strings, instants are ISO 8601 strings in UTC (`…Z`).
 */
import { TZDate, tzOffset } from '@date-fns/tz';
import { z } from 'zod';
import { addDays, BusinessDate, isBusinessDate } from './business-date';

export interface BusinessCalendar {
  /** A name for logs and docs, e.g. 'EU-TARGET', 'UK', 'US'. */
  readonly region: string;
  /** IANA time zone, e.g. 'Europe/Brussels'. */
  readonly timeZone: string;
  /** ISO weekdays (1 Monday … 7 Sunday) that are never business days. */
  readonly weekend: readonly number[];
  /** Dates (YYYY-MM-DD) that are not business days although they are not weekend days. */
  readonly holidays: readonly string[];
}

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** No real calendar goes this long without a business day: a longer search means a broken calendar. */
const MAX_DAYS_WITHOUT_BUSINESS_DAY = 366;

// An IANA name such as 'UTC', 'Europe/Brussels', 'America/Argentina/Buenos_Aires' or 'Etc/GMT+1'.
// Offsets such as '+01:00' are refused: the Temporal server only loads zone names.
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;

// Zone names already resolved (only zones the runtime knows: a few hundred at most). A formatter
// holds several KiB of native memory until it is collected, and every date computation checks its zone.
const resolvedZones = new Map<string, string>();

/**
 * The zone name the runtime resolves `name` to, or undefined when it does not know the zone.
 * `Intl.supportedValuesOf` may be missing in the workflow sandbox; constructing a formatter is not.
 */
function resolveTimeZone(name: string): string | undefined {
  const known = resolvedZones.get(name);
  if (known !== undefined) return known;
  if (!IANA_NAME.test(name)) return undefined;
  try {
    const resolved = new Intl.DateTimeFormat('en', { timeZone: name }).resolvedOptions().timeZone;
    resolvedZones.set(name, resolved);
    return resolved;
  } catch {
    return undefined;
  }
}

/** An IANA time zone name the runtime knows, spelt with its canonical capitalisation. */
export const TimeZoneSchema = z.string().superRefine((name, ctx) => {
  const resolved = resolveTimeZone(name);
  if (resolved === undefined) {
    ctx.addIssue({ code: 'custom', message: `'${name}' is not an IANA time zone name (e.g. 'Europe/Brussels', 'America/New_York', 'UTC')` });
  } else if (resolved !== name && resolved.toLowerCase() === name.toLowerCase()) {
    // Intl forgives the case; the Temporal server (Go's time.LoadLocation) does not.
    ctx.addIssue({ code: 'custom', message: `'${name}' must be spelt '${resolved}'` });
  }
});

const WALL_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** A wall-clock time of day, 24-hour `HH:MM` (00:00 to 23:59). */
export const WallClockTimeSchema = z.string().regex(WALL_TIME, 'must be a 24-hour time written as HH:MM (00:00 to 23:59)');

const IsoWeekday = z
  .number({ message: 'ISO weekdays are whole numbers from 1 (Monday) to 7 (Sunday)' })
  .int('ISO weekdays are whole numbers from 1 (Monday) to 7 (Sunday)')
  .min(1, 'ISO weekdays are whole numbers from 1 (Monday) to 7 (Sunday)')
  .max(7, 'ISO weekdays are whole numbers from 1 (Monday) to 7 (Sunday)');

const sortedUnique = <T extends string | number>(values: readonly T[]): T[] => [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * A business calendar from configuration. Refuses unknown fields, unknown time zones, weekdays
 * outside 1–7, a weekend of all seven days and holidays that are not real dates; the output's
 * weekend and holidays are sorted and deduplicated. Every issue's path names the field.
 */
export const BusinessCalendarSchema = z.strictObject({
  region: z.string().trim().min(1, 'must name the region, e.g. EU-TARGET').max(64, 'at most 64 characters'),
  timeZone: TimeZoneSchema,
  weekend: z
    .array(IsoWeekday)
    .default([6, 7])
    .transform(sortedUnique)
    .refine((days) => days.length < 7, 'a weekend of all seven days leaves no business day'),
  holidays: z.array(BusinessDate).default([]).transform(sortedUnique),
}) satisfies z.ZodType<BusinessCalendar>;

export type BusinessCalendarInput = z.input<typeof BusinessCalendarSchema>;

function requireDate(date: string, what = 'date'): void {
  if (!isBusinessDate(date)) throw new RangeError(`${what} '${date}' is not a calendar date written as YYYY-MM-DD`);
}

/** ISO weekday of a date: 1 Monday … 7 Sunday. */
function isoWeekday(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay() || 7;
}

function isBusinessDayUnchecked(cal: BusinessCalendar, date: string): boolean {
  return !cal.weekend.includes(isoWeekday(date)) && !cal.holidays.includes(date);
}

/** True when `date` is neither a weekend day nor a holiday of the calendar. */
export function isBusinessDay(cal: BusinessCalendar, date: string): boolean {
  requireDate(date);
  return isBusinessDayUnchecked(cal, date);
}

/** The last business date strictly before `date`. */
export function previousBusinessDay(cal: BusinessCalendar, date: string): string {
  requireDate(date);
  let candidate = date;
  for (let i = 0; i < MAX_DAYS_WITHOUT_BUSINESS_DAY; i += 1) {
    candidate = addDays(candidate, -1);
    if (isBusinessDayUnchecked(cal, candidate)) return candidate;
  }
  throw new RangeError(`calendar ${cal.region} has no business day in the ${MAX_DAYS_WITHOUT_BUSINESS_DAY} days before ${date}`);
}

/** Every business date from `from` to `to`, both included, ascending; empty when `from` is after `to`. */
export function businessDatesBetween(cal: BusinessCalendar, from: string, to: string): string[] {
  requireDate(from, 'from');
  requireDate(to, 'to');
  const dates: string[] = [];
  for (let date = from; date <= to; date = addDays(date, 1)) {
    if (isBusinessDayUnchecked(cal, date)) dates.push(date);
  }
  return dates;
}

// An instant written with its offset: a string without one would be read in the host's zone.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/i;

function toEpochMs(instant: Date | number | string): number {
  if (typeof instant === 'string' && !ISO_INSTANT.test(instant)) {
    throw new RangeError(`instant '${instant}' must be an ISO 8601 date-time with Z or an offset, e.g. 2026-03-29T01:30:00Z`);
  }
  const ms = instant instanceof Date ? instant.getTime() : typeof instant === 'number' ? instant : Date.parse(instant);
  if (!Number.isFinite(ms)) throw new RangeError(`instant '${String(instant)}' is not a valid point in time`);
  return ms;
}

function requireTimeZone(timeZone: string): void {
  if (resolveTimeZone(timeZone) === undefined) throw new RangeError(`'${timeZone}' is not an IANA time zone name`);
}

/** The calendar date in the calendar's zone at an instant. */
export function localDate(cal: BusinessCalendar, instant: Date | number | string): string {
  requireTimeZone(cal.timeZone);
  const local = new TZDate(toEpochMs(instant), cal.timeZone);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(local.getFullYear(), 4)}-${pad(local.getMonth() + 1)}-${pad(local.getDate())}`;
}

/**
 * The UTC instant (ISO string, Z) of the wall-clock time `hhmm` (HH:MM) on `date` in `timeZone`.
 *
 * DST:
 * - a time that does not exist (spring forward) is moved forward by the gap: 02:30 on
 *   2026-03-29 in Europe/Brussels is 03:30 CEST, 2026-03-29T01:30:00.000Z;
 * - an ambiguous time (fall back) takes its first occurrence, still on the summer offset: 02:30 on
 *   2026-10-25 in Europe/Brussels is 02:30 CEST, 2026-10-25T00:30:00.000Z (not 01:30Z, CET).
 *
 * The offsets come from @date-fns/tz; the gap and overlap rules are applied here because
 * TZDate's wall-clock constructor resolves them differently depending on the host's own zone,
 * and workflow code must give the same answer on every worker.
 */
export function wallTimeToInstant(date: string, hhmm: string, timeZone: string): string {
  requireDate(date);
  const time = WALL_TIME.exec(hhmm);
  if (!time) throw new RangeError(`time '${hhmm}' is not a 24-hour time written as HH:MM`);
  requireTimeZone(timeZone);
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  // The wall-clock fields read as if they were UTC; subtracting the zone's offset gives the instant.
  const wall = Date.UTC(y, m - 1, d, Number(time[1]), Number(time[2]));
  const offsetAt = (ms: number) => tzOffset(timeZone, new Date(ms));
  // Offsets a day either side: DST transitions are months apart, so these are the offsets in force
  // before and after any transition on this date.
  const before = offsetAt(wall - DAY_MS);
  const after = offsetAt(wall + DAY_MS);
  const candidates = [wall - before * MINUTE_MS, wall - after * MINUTE_MS]
    // A candidate is a real occurrence when the zone's offset at that instant is the one assumed.
    .filter((instant) => instant + offsetAt(instant) * MINUTE_MS === wall)
    .sort((a, b) => a - b);
  // No occurrence: the time falls in a gap. Read with the offset in force before the gap, it lands
  // after the gap, later by the gap's length.
  const instant = candidates[0] ?? wall - before * MINUTE_MS;
  return new Date(instant).toISOString();
}

/**
 * The business dates a nightly run on local date `runDate` owes: every business date in
 * [runDate - lookbackDays, runDate - 1], ascending (the caller then drops those already completed).
 * A run on a weekend/holiday therefore owes the business dates not yet processed — normally none,
 * so it does nothing; the first run after a holiday owes every business date since, in order.
 */
export function datesOwed(cal: BusinessCalendar, runDate: string, lookbackDays: number): string[] {
  requireDate(runDate, 'runDate');
  if (!Number.isInteger(lookbackDays) || lookbackDays < 0) {
    throw new RangeError(`lookbackDays must be a whole number of days, 0 or more (got ${lookbackDays})`);
  }
  if (lookbackDays === 0) return [];
  return businessDatesBetween(cal, addDays(runDate, -lookbackDays), addDays(runDate, -1));
}

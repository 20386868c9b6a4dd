/**
 * What a door accepts, bounded: the business dates a trigger may name (a window around today in
 * the tenant's zone) and the Spark resources an override may ask for (the caps escalation grows
 * to, never beyond). The HTTP API, the Kafka bridge, the CLI and the planner build their checks
 * from these functions, so every door refuses the same things with the same words. Pure (zod only).
 */
import { z } from 'zod';
import { addDays, BusinessDate, isBusinessDate } from './business-date';
import type { EscalationPolicy } from './spark/escalation';
import { SPARK_JOBS, SPARK_RESOURCE_LIMITS, type SparkJobName } from './spark/resources';

/** How many days before and after today (in the tenant's zone) a trigger may name. */
export interface BusinessDateWindow {
  readonly pastDays: number;
  readonly futureDays: number;
}

/** Two years back covers a backfill of the bank's recent archive; one day ahead covers a sender east of the tenant's zone. */
export const DEFAULT_BUSINESS_DATE_WINDOW: BusinessDateWindow = { pastDays: 731, futureDays: 1 };

const FIRST_DATE = '0000-01-01';
const LAST_DATE = '9999-12-31';

/** A date held to the years YYYY can write (a negative year starts with '-', a year past 9999 is longer). */
function clampDate(date: string): string {
  if (date.startsWith('-')) return FIRST_DATE;
  return date.length > LAST_DATE.length ? LAST_DATE : date;
}

/** The first and last business date a trigger may name on `today`. */
export function businessDateRange(window: BusinessDateWindow, today: string): { readonly from: string; readonly to: string } {
  return { from: clampDate(addDays(today, -window.pastDays)), to: clampDate(addDays(today, window.futureDays)) };
}

/** Why `date` is outside the window, or undefined when it is inside (assumes a calendar date). */
export function businessDateOutsideWindow(date: string, window: BusinessDateWindow, today: string): string | undefined {
  const { from, to } = businessDateRange(window, today);
  if (date >= from && date <= to) return undefined;
  return `must be between ${from} and ${to} (${window.pastDays} days before to ${window.futureDays} after today, ${today})`;
}

/** A calendar date inside the window of `today`. */
export function businessDateWithin(window: BusinessDateWindow, today: string) {
  return z.string().superRefine((value, ctx) => {
    if (!isBusinessDate(value)) {
      ctx.addIssue({ code: 'custom', message: 'must be a calendar date written as YYYY-MM-DD' });
      return;
    }
    const outside = businessDateOutsideWindow(value, window, today);
    if (outside !== undefined) ctx.addIssue({ code: 'custom', message: outside });
  });
}

// ---- the window as a regular expression (for the OpenAPI document) -----------------------------

const pad2 = (n: number) => String(n).padStart(2, '0');
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const monthLength = (y: number, m: number) => [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] as number;

/** Two-digit numbers lo..hi (1 ≤ lo ≤ hi ≤ 31), ASCII digits only. */
function twoDigitRange(lo: number, hi: number): string {
  const parts: string[] = [];
  for (let tens = Math.floor(lo / 10); tens <= Math.floor(hi / 10); tens += 1) {
    const a = tens === Math.floor(lo / 10) ? lo % 10 : 0;
    const b = tens === Math.floor(hi / 10) ? hi % 10 : 9;
    parts.push(`${tens}${a === b ? a : `[${a}-${b}]`}`);
  }
  return parts.length === 1 ? (parts[0] as string) : `(?:${parts.join('|')})`;
}

function wholeYear(leap: boolean): string {
  return `(?:(?:0[13578]|1[02])-${twoDigitRange(1, 31)}|(?:0[469]|11)-${twoDigitRange(1, 30)}|02-${twoDigitRange(1, leap ? 29 : 28)})`;
}

/**
 * A regular expression (anchored, ASCII digits, ECMAScript and Python alike) matching exactly the
 * calendar dates from `from` to `to`: JSON Schema cannot compare dates, but it can match this.
 */
export function businessDateRangePattern(from: string, to: string): string {
  const [fy, fm, fd] = from.split('-').map(Number) as [number, number, number];
  const [ty, tm, td] = to.split('-').map(Number) as [number, number, number];
  const alternatives: string[] = [];
  const fullYears: Record<'leap' | 'common', string[]> = { leap: [], common: [] };
  for (let y = fy; y <= ty; y += 1) {
    const year = String(y).padStart(4, '0');
    const firstMonth = y === fy ? fm : 1;
    const lastMonth = y === ty ? tm : 12;
    const whole = firstMonth === 1 && lastMonth === 12 && (y !== fy || fd === 1) && (y !== ty || td === 31);
    if (whole) {
      fullYears[isLeap(y) ? 'leap' : 'common'].push(year);
      continue;
    }
    for (let m = firstMonth; m <= lastMonth; m += 1) {
      const lo = y === fy && m === fm ? fd : 1;
      const hi = y === ty && m === tm ? td : monthLength(y, m);
      alternatives.push(`${year}-${pad2(m)}-${twoDigitRange(lo, hi)}`);
    }
  }
  for (const kind of ['leap', 'common'] as const) {
    const years = fullYears[kind];
    if (years.length > 0) alternatives.push(`(?:${years.join('|')})-${wholeYear(kind === 'leap')}`);
  }
  return `^(?:${alternatives.join('|')})$`;
}

// ---- Spark overrides within the caps -----------------------------------------------------------

/** The caps an override of one job is held to: the same numbers escalation stops at. */
export type OverrideCaps = Pick<EscalationPolicy, 'maxDriverMemoryMb' | 'maxExecutorMemoryMb' | 'maxExecutorInstances' | 'maxShufflePartitions'>;

/** Smallest memory an override may ask for (as for the configured sizes). */
export const MIN_OVERRIDE_MEMORY_MB = 256;

function bounded(min: number, max: number, what: string) {
  return z
    .number()
    .int()
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max} (${what})`);
}

/** Some resources of one job, each within the job's caps. */
export function sparkResourcesOverrideWithin(caps: OverrideCaps) {
  const L = SPARK_RESOURCE_LIMITS;
  return z.strictObject({
    driverMemoryMb: bounded(MIN_OVERRIDE_MEMORY_MB, caps.maxDriverMemoryMb, 'the driver memory cap'),
    driverCores: bounded(1, L.cores, 'cores per pod'),
    executorMemoryMb: bounded(MIN_OVERRIDE_MEMORY_MB, caps.maxExecutorMemoryMb, 'the executor memory cap'),
    executorCores: bounded(1, L.cores, 'cores per pod'),
    executorInstances: bounded(1, caps.maxExecutorInstances ?? L.executorInstances, caps.maxExecutorInstances === undefined ? 'executors' : 'the executor count cap'),
    memoryOverheadMb: bounded(1, Math.max(caps.maxDriverMemoryMb, caps.maxExecutorMemoryMb), 'the larger memory cap').nullable(),
    shufflePartitions: bounded(1, caps.maxShufflePartitions ?? L.shufflePartitions, caps.maxShufflePartitions === undefined ? 'shuffle partitions' : 'the shuffle partitions cap'),
  }).partial();
}

/** Per-job overrides for one night, each job within its own caps. */
export function sparkOverridesWithin(caps: Readonly<Record<SparkJobName, OverrideCaps>>) {
  const shape = Object.fromEntries(SPARK_JOBS.map((job) => [job, sparkResourcesOverrideWithin(caps[job])])) as Record<SparkJobName, ReturnType<typeof sparkResourcesOverrideWithin>>;
  return z.strictObject(shape).partial();
}

// ---- timestamps --------------------------------------------------------------------------------

const RFC3339 = /^([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9])(\.[0-9]+)?([Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$/;

/**
 * True for an RFC 3339 `date-time`: seconds required, a real calendar date, `Z` or an offset. A leap
 * second (`:60`) is refused: no JavaScript `Date` can hold it, and no sender needs it for an arrival.
 */
export function isRfc3339Timestamp(value: string): boolean {
  const m = RFC3339.exec(value);
  return m !== null && isBusinessDate(m[1] as string);
}

/** An RFC 3339 timestamp (`2026-03-31T23:14:05Z`, `2026-03-31T23:14:05.250+01:00`). */
export const Rfc3339Timestamp = z
  .string()
  .refine(isRfc3339Timestamp, { message: 'must be an RFC 3339 timestamp with seconds and a zone, e.g. 2026-03-31T23:14:05Z' })
  .meta({ format: 'date-time' });

export { BusinessDate };

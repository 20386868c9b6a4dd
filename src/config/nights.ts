import { z } from 'zod';
import { DEFAULT_BUSINESS_DATE_WINDOW, type BusinessDateWindow } from '../domain/bounds';
import { BusinessDate } from '../domain/business-date';
import type { BusinessCalendar } from '../domain/calendar';
import { FEED_NAMES, type FeedName } from '../domain/feeds/catalog';
import { list, positive, problem } from './parsers';

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Whose nights, in which calendar, waiting how long for which feeds, scheduled when. */
export const NightsEnv = z.object({
  NIGHTJAR_TENANT: z.string().regex(/^[a-z0-9](?:[-a-z0-9]{0,30}[a-z0-9])?$/, 'expected 1-32 lower-case letters, digits or -').default('default'),
  NIGHTJAR_TIME_ZONE: z.string().refine(isTimeZone, 'expected an IANA time zone such as Europe/Brussels').default('UTC'),
  NIGHTJAR_CALENDAR_REGION: z.string().min(1).default('default'),
  NIGHTJAR_WEEKEND: z
    .string()
    .regex(/^[1-7](?:,[1-7])*$/, 'expected ISO weekdays 1-7 separated by commas, e.g. 6,7')
    .transform((s) => [...new Set(s.split(',').map(Number))].sort())
    .default([6, 7]),
  NIGHTJAR_HOLIDAYS: list.pipe(z.array(BusinessDate)).default([]),
  NIGHTJAR_OPTIONAL_FEEDS: list.pipe(z.array(z.enum(FEED_NAMES, { message: `expected feed names: ${FEED_NAMES.join(', ')}` }))).default([]),
  NIGHTJAR_FEED_DEADLINE_HOURS: z.coerce.number().positive().max(72).default(4),
  NIGHTJAR_FEED_POLL_SECONDS: positive.default(60),
  NIGHTJAR_FEED_ROOTS: list.pipe(z.array(z.string().regex(/^\//, 'expected absolute directory paths'))).optional(),
  NIGHTJAR_SCHEDULE_TIME: z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (24-hour)').optional(),
  NIGHTJAR_SCHEDULE_CATCHUP_SECONDS: positive.default(12 * 3600),
  NIGHTJAR_SCHEDULE_LOOKBACK_DAYS: positive.max(366).default(10),
  NIGHTJAR_BUSINESS_DATE_PAST_DAYS: positive.max(36_600).default(DEFAULT_BUSINESS_DATE_WINDOW.pastDays),
  NIGHTJAR_BUSINESS_DATE_FUTURE_DAYS: z.coerce.number({ message: 'expected a number' }).int().min(0).max(3660).default(DEFAULT_BUSINESS_DATE_WINDOW.futureDays),
});
type Env = z.output<typeof NightsEnv>;

export interface FeedsConfig {
  readonly optional: readonly FeedName[];
  readonly deadlineHours: number;
  readonly pollSeconds: number;
  /** Directories, besides the data directory, that announced feed files may be read from. */
  readonly roots: readonly string[];
}

/** The nightly schedule, upserted at worker start when a time is configured. */
export interface ScheduleConfig {
  readonly time: string;
  readonly catchupWindowSeconds: number;
  readonly lookbackDays: number;
}

/** Variables that only make sense together. */
export function checkNightsEnv(env: Env, ctx: z.RefinementCtx): void {
  if (env.NIGHTJAR_SCHEDULE_LOOKBACK_DAYS > env.NIGHTJAR_BUSINESS_DATE_PAST_DAYS) {
    problem(
      ctx,
      'NIGHTJAR_SCHEDULE_LOOKBACK_DAYS',
      `must not reach further back than NIGHTJAR_BUSINESS_DATE_PAST_DAYS (${env.NIGHTJAR_BUSINESS_DATE_PAST_DAYS}): the nightly trigger would owe dates no door accepts`,
    );
  }
}

export function nightsConfig(e: Env): { tenant: string; businessDates: BusinessDateWindow; calendar: BusinessCalendar; feeds: FeedsConfig; schedule?: ScheduleConfig } {
  return {
    tenant: e.NIGHTJAR_TENANT,
    businessDates: { pastDays: e.NIGHTJAR_BUSINESS_DATE_PAST_DAYS, futureDays: e.NIGHTJAR_BUSINESS_DATE_FUTURE_DAYS },
    calendar: { region: e.NIGHTJAR_CALENDAR_REGION, timeZone: e.NIGHTJAR_TIME_ZONE, weekend: e.NIGHTJAR_WEEKEND, holidays: [...new Set(e.NIGHTJAR_HOLIDAYS)].sort() },
    feeds: { optional: e.NIGHTJAR_OPTIONAL_FEEDS, deadlineHours: e.NIGHTJAR_FEED_DEADLINE_HOURS, pollSeconds: e.NIGHTJAR_FEED_POLL_SECONDS, roots: e.NIGHTJAR_FEED_ROOTS ?? [] },
    ...(e.NIGHTJAR_SCHEDULE_TIME !== undefined
      ? { schedule: { time: e.NIGHTJAR_SCHEDULE_TIME, catchupWindowSeconds: e.NIGHTJAR_SCHEDULE_CATCHUP_SECONDS, lookbackDays: e.NIGHTJAR_SCHEDULE_LOOKBACK_DAYS } }
      : {}),
  };
}

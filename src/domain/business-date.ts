import { z } from 'zod';

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * The UTC midnight of a calendar date, for any year 0000-9999. `Date.UTC` maps the years 0-99 to
 * 1900-1999, so the year is set on its own (proleptic Gregorian calendar, as ISO 8601 counts).
 */
function utcMidnight(year: number, monthIndex: number, day: number): Date {
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, day);
  return date;
}

function isoDate(date: Date): string {
  const y = date.getUTCFullYear();
  return `${String(y).padStart(4, '0')}-${String(date.getUTCMonth() + 1).padStart(2, '0')}-${String(date.getUTCDate()).padStart(2, '0')}`;
}

/** True when `value` is a real calendar date written as YYYY-MM-DD (no Feb 30), in any year 0000-9999. */
export function isBusinessDate(value: string): boolean {
  const m = ISO_DATE.exec(value);
  if (!m) return false;
  const [, y, mo, d] = m.map(Number) as [number, number, number, number];
  const date = utcMidnight(y, mo - 1, d);
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

export const BusinessDate = z
  .string()
  .refine(isBusinessDate, { message: 'must be a calendar date written as YYYY-MM-DD' });
export type BusinessDate = string;

/** The business date `days` calendar days after `date` (negative: before). */
export function addDays(date: BusinessDate, days: number): BusinessDate {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return isoDate(utcMidnight(y, m - 1, d + days));
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: BusinessDate, to: BusinessDate): number {
  const at = (date: string) => {
    const [y, m, d] = date.split('-').map(Number) as [number, number, number];
    return utcMidnight(y, m - 1, d).getTime();
  };
  return Math.round((at(to) - at(from)) / 86_400_000);
}

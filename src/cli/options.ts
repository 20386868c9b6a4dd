import { InvalidArgumentError } from 'commander';
import { isBusinessDate } from '../domain/business-date';

/** Commander argument parsers that fail with a message naming the flag's rule. */
export function parseBusinessDate(value: string): string {
  if (!isBusinessDate(value)) throw new InvalidArgumentError(`'${value}' is not a calendar date written as YYYY-MM-DD.`);
  return value;
}

export function parseNonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`'${value}' is not a whole number ≥ 0.`);
  return Number(value);
}

export function parseRate(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new InvalidArgumentError(`'${value}' is not a rate between 0 and 1 (e.g. 0.01 for 1%).`);
  }
  return n;
}

/** Yesterday in UTC: the business date a T+1 run processes by default. */
export function previousDay(now = new Date()): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 1)).toISOString().slice(0, 10);
}

import { CURRENCY_MINOR_UNITS } from '../../src/domain/feeds/catalog';

// Dates and formatting without per-row Date objects: day numbers since 1970-01-01.

export function dayNumber(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return Math.round(Date.UTC(y, m - 1, d) / 86_400_000);
}

/** civil-from-days (proleptic Gregorian), see Howard Hinnant's date algorithms. */
export function dateOf(day: number): string {
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${String(y).padStart(4, '0')}-${PAD2[m]}-${PAD2[d]}`;
}

export const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

export function timeOf(second: number): string {
  return `${PAD2[Math.floor(second / 3600)]}:${PAD2[Math.floor(second / 60) % 60]}:${PAD2[second % 60]}`;
}

export function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/**
 * An amount in cents rounded to its currency's minor unit (half away from zero): a JPY amount is
 * whole yen, as the bank's systems write it. A positive amount stays positive.
 */
export function inMinorUnits(amountCents: number, currency: string): number {
  const decimals = CURRENCY_MINOR_UNITS[currency] ?? 2;
  if (decimals >= 2) return amountCents;
  const step = 10 ** (2 - decimals);
  const rounded = Math.sign(amountCents) * Math.round(Math.abs(amountCents) / step) * step;
  return amountCents > 0 ? Math.max(rounded, step) : rounded;
}

/** An integer scaled by 10^2 as a decimal with two places ('-0.05'). */
export function cents(value: number): string {
  const negative = value < 0;
  const abs = negative ? -value : value;
  const fraction = abs % 100;
  return `${negative ? '-' : ''}${(abs - fraction) / 100}.${PAD2[fraction]}`;
}

export function csvText(value: string): string {
  return value.includes(',') || value.includes('"') ? `"${value.replace(/"/g, '""')}"` : value;
}

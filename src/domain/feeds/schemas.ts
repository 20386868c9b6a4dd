import { z } from 'zod';
import { CURRENCY_MINOR_UNITS, KNOWN_CURRENCIES, type ColumnSpec, type ColumnType, type FeedName, type FeedSpec } from './catalog';
import { parseScaledDecimal } from './trailer';

/**
 * Row validation for feed records, derived from the catalog. These are the per-row rules 1–3
 * of the Spark normalize job (docs/spark-jobs.md), in the same order, so that a line rejected
 * here is rejected there with the same reason. Rules 4–6 (duplicate keys, references, fx rates)
 * need the whole feed set and live in Spark only.
 */

export type RowRejectCode =
  | 'MALFORMED_RECORD'
  | 'MISSING_VALUE'
  | 'INVALID_FORMAT'
  | 'UNKNOWN_CURRENCY'
  | 'OUT_OF_RANGE'
  | 'WRONG_BUSINESS_DATE';

/** A reject reason as Spark writes it: `<code>:<column>` (or `MALFORMED_RECORD:quoting|field_count`). */
export type RowRejectReason = `${RowRejectCode}:${string}`;

/** An accepted row: column name → value, with null for an empty nullable value. */
export type FeedRow = Readonly<Record<string, string | null>>;

export type RecordValidation = { ok: true; row: FeedRow } | { ok: false; reason: RowRejectReason };

/** Columns that must fall on the business date (rule 3). */
const BUSINESS_DATE_COLUMNS: Partial<Record<FeedName, string>> = {
  transactions: 'booked_at',
  fx_rates: 'rate_date',
};

/** The column of `feed` that must fall on the business date (rule 3), or null when it has none. */
export function businessDateColumn(feed: FeedName): string | null {
  return BUSINESS_DATE_COLUMNS[feed] ?? null;
}

type ColumnRule = 'INVALID_FORMAT' | 'UNKNOWN_CURRENCY' | 'OUT_OF_RANGE';
type ColumnCheck = (value: string) => { rule: ColumnRule; detail: string } | null;

const currencies: ReadonlySet<string> = new Set(KNOWN_CURRENCIES);

const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
const TIMESTAMP = /^([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z$/;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** A real calendar date written as YYYY-MM-DD (years 0001–9999; no Feb 30, no month 13). */
export function isCalendarDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const days = month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  return day <= days;
}

/** A UTC timestamp written as YYYY-MM-DDTHH:MM:SSZ with a real date and time (no leap seconds). */
export function isUtcTimestamp(value: string): boolean {
  const m = TIMESTAMP.exec(value);
  if (!m) return false;
  return isCalendarDate(m[1]!) && Number(m[2]) <= 23 && Number(m[3]) <= 59 && Number(m[4]) <= 59;
}

/** Length in code points, as Spark counts characters (a UTF-16 surrogate pair is one). */
function characterCount(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

function formatCheck(column: string, type: ColumnType): ColumnCheck {
  const invalid = (detail: string) => ({ rule: 'INVALID_FORMAT' as const, detail });
  switch (type.kind) {
    case 'string': {
      const pattern = type.pattern === undefined ? null : new RegExp(type.pattern);
      return (value) => {
        if (value.length > type.maxLength && characterCount(value) > type.maxLength) {
          return invalid(`longer than ${type.maxLength} characters`);
        }
        if (pattern && !pattern.test(value)) return invalid(`does not match ${type.pattern}`);
        return null;
      };
    }
    case 'enum': {
      const values: ReadonlySet<string> = new Set(type.values);
      const accepted = type.values.join(', ');
      return (value) => (values.has(value) ? null : invalid(`not one of ${accepted}`));
    }
    case 'date':
      return (value) => (isCalendarDate(value) ? null : invalid('not a calendar date written as YYYY-MM-DD'));
    case 'timestamp':
      return (value) => (isUtcTimestamp(value) ? null : invalid('not a UTC timestamp written as YYYY-MM-DDTHH:MM:SSZ'));
    case 'currency':
      return (value) =>
        currencies.has(value) ? null : { rule: 'UNKNOWN_CURRENCY', detail: 'not a currency the bank deals in' };
    case 'decimal': {
      const { precision, scale, min, minExclusive } = type;
      const integerDigits = precision - scale;
      if (integerDigits < 1 || scale < 0) throw new Error(`column ${column}: invalid decimal(${precision},${scale})`);
      const fraction = scale > 0 ? `(\\.[0-9]{1,${scale}})?` : '';
      const shape = new RegExp(`^-?[0-9]{1,${integerDigits}}${fraction}$`);
      const minimum = min === undefined ? null : parseScaledDecimal(String(min), scale);
      if (min !== undefined && minimum === null) throw new Error(`column ${column}: min ${min} does not fit scale ${scale}`);
      const shapeDetail = `not a decimal with at most ${integerDigits} integer digits and ${scale} decimals`;
      return (value) => {
        if (!shape.test(value)) return invalid(shapeDetail);
        if (minimum !== null) {
          const scaled = parseScaledDecimal(value, scale)!;
          if (scaled < minimum || (minExclusive === true && scaled === minimum)) {
            return { rule: 'OUT_OF_RANGE', detail: minExclusive === true ? `not above ${min}` : `below the minimum ${min}` };
          }
        }
        return null;
      };
    }
  }
}

/** One column as a zod schema: rule 2 in order (missing, format, currency, range), first failure only. */
function columnSchema(column: ColumnSpec) {
  const check = formatCheck(column.name, column.type);
  const nullable = column.nullable === true;
  return z
    .string()
    .optional()
    .transform((value, ctx): string | null => {
      if (value === undefined || value === '') {
        if (nullable) return null;
        ctx.issues.push({
          code: 'custom',
          input: value,
          message: `${column.name}: a value is required`,
          params: { reason: 'MISSING_VALUE' },
        });
        return z.NEVER;
      }
      const failure = check(value);
      if (failure) {
        ctx.issues.push({
          code: 'custom',
          input: value,
          message: `${column.name}: ${failure.detail}`,
          params: { reason: failure.rule },
        });
        return z.NEVER;
      }
      return value;
    });
}

function buildRowSchema(feed: FeedSpec) {
  const shape: Record<string, ReturnType<typeof columnSchema>> = {};
  for (const column of feed.columns) shape[column.name] = columnSchema(column);
  return z.object(shape);
}

export type RowSchema = ReturnType<typeof buildRowSchema>;

const schemas = new WeakMap<FeedSpec, RowSchema>();

/**
 * The zod schema of one feed's rows (records of strings as read from CSV, '' = missing).
 * Each issue's message names its column and `params.reason` carries the reject code.
 */
export function rowSchema(feed: FeedSpec): RowSchema {
  let schema = schemas.get(feed);
  if (!schema) {
    schema = buildRowSchema(feed);
    schemas.set(feed, schema);
  }
  return schema;
}

/** Decimals of a currency's minor unit (ISO 4217; 2 unless listed in CURRENCY_MINOR_UNITS). */
export function minorUnit(currency: string): number {
  return CURRENCY_MINOR_UNITS[currency] ?? 2;
}

/**
 * Rule 2b: a money row's amounts may not have more decimals than their currency's minor unit
 * (trailing zeros aside): 1500.50 JPY does not exist. Checked after every column passed rule 2,
 * since it needs a known currency.
 */
function minorUnitReason(feed: FeedSpec, row: FeedRow): RowRejectReason | null {
  if (feed.name === 'fx_rates') return null;
  const currencyColumn = feed.columns.find((c) => c.type.kind === 'currency');
  const currency = currencyColumn === undefined ? null : row[currencyColumn.name];
  if (currency === null || currency === undefined) return null;
  const allowed = minorUnit(currency);
  for (const column of feed.columns) {
    const value = row[column.name];
    if (column.type.kind !== 'decimal' || value === null || value === undefined) continue;
    const dot = value.indexOf('.');
    const significant = dot === -1 ? 0 : value.slice(dot + 1).replace(/0+$/, '').length;
    if (significant > allowed) return `INVALID_FORMAT:${column.name}`;
  }
  return null;
}

/**
 * Rules 1 (field count) to 3 for one record already split into fields. The first failing rule
 * wins: field count, then every column's rule 2 in catalog order, then the amounts' minor unit
 * (2b), then the business date.
 */
export function validateRecord(feed: FeedSpec, fields: readonly string[], businessDate: string): RecordValidation {
  const columns = feed.columns;
  if (fields.length !== columns.length) return { ok: false, reason: 'MALFORMED_RECORD:field_count' };
  const record: Record<string, string> = {};
  for (let i = 0; i < columns.length; i++) record[columns[i]!.name] = fields[i]!;

  const result = rowSchema(feed).safeParse(record);
  if (!result.success) return { ok: false, reason: firstReason(feed, result.error.issues) };
  const minor = minorUnitReason(feed, result.data);
  if (minor !== null) return { ok: false, reason: minor };

  const dateColumn = BUSINESS_DATE_COLUMNS[feed.name];
  if (dateColumn !== undefined) {
    const value = result.data[dateColumn];
    if (typeof value === 'string' && value.slice(0, 10) !== businessDate) {
      return { ok: false, reason: `WRONG_BUSINESS_DATE:${dateColumn}` };
    }
  }
  return { ok: true, row: result.data };
}

function firstReason(feed: FeedSpec, issues: readonly z.core.$ZodIssue[]): RowRejectReason {
  let first: { index: number; reason: RowRejectReason } | null = null;
  for (const issue of issues) {
    const column = String(issue.path[0]);
    const index = feed.columns.findIndex((c) => c.name === column);
    const code = issue.code === 'custom' ? (issue.params?.reason as RowRejectCode | undefined) : undefined;
    const reason: RowRejectReason = `${code ?? 'INVALID_FORMAT'}:${column}`;
    if (first === null || index < first.index) first = { index, reason };
  }
  if (first === null) throw new Error(`feed ${feed.name}: row rejected without an issue`);
  return first.reason;
}

/**
 * Rules 1–3 for one physical line of a feed file: an odd number of quotes is
 * `MALFORMED_RECORD:quoting`; otherwise the line is split as RFC 4180 CSV and validated.
 */
export function validateLine(feed: FeedSpec, line: string, businessDate: string): RecordValidation {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  let quotes = 0;
  for (let i = text.indexOf('"'); i !== -1; i = text.indexOf('"', i + 1)) quotes++;
  if (quotes % 2 === 1) return { ok: false, reason: 'MALFORMED_RECORD:quoting' };
  return validateRecord(feed, quotes === 0 ? text.split(',') : splitQuotedLine(text), businessDate);
}

/**
 * Splits one line with balanced quotes into field values. A quote opens or closes a quoted
 * section wherever it stands ('""' inside one is a literal quote) and only commas outside quoted
 * sections separate fields: the same field count as the Spark job's (commas outside `"…"` pairs).
 */
export function splitQuotedLine(line: string): string[] {
  const fields: string[] = [];
  let value = '';
  let from = 0;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') {
      value += line.slice(from, i);
      from = i + 1;
      if (quoted && line[i + 1] === '"') {
        value += '"';
        i++;
        from = i + 1;
      } else {
        quoted = !quoted;
      }
    } else if (c === ',' && !quoted) {
      fields.push(value + line.slice(from, i));
      value = '';
      from = i + 1;
    }
  }
  fields.push(value + line.slice(from));
  return fields;
}

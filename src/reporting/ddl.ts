import { FailureType } from '../common/failures';
import { isBusinessDate } from '../domain/business-date';
import { REPORTING_SCHEMA, REPORTS, type ReportSpec, type SqlType } from '../domain/reports/catalog';
import type { TableLoad } from './store';

/**
 * The reporting schema as SQL, built from the report catalog, the statements both stores run
 * to replace one business date, and the rules by which they reject an export. Pure: no
 * connection, no I/O. Every identifier is quoted, so a table or column name can never change
 * the statement around it.
 */

/** Bookkeeping: one row per (business date, table) with what the last export loaded. */
export const EXPORT_BATCHES_TABLE = 'export_batches';

/** The column of every report table that an export replaces by. */
export const BUSINESS_DATE_COLUMN = 'business_date';

/** Every catalog type is spelled here on purpose: a new `SqlType` fails to compile until mapped. */
const COLUMN_TYPES: Readonly<Record<SqlType, string>> = {
  date: 'date',
  text: 'text',
  integer: 'integer',
  bigint: 'bigint',
  'numeric(20,2)': 'numeric(20,2)',
  'numeric(12,6)': 'numeric(12,6)',
  timestamptz: 'timestamptz',
};

/** Quotes an SQL identifier (`a"b` → `"a""b"`). */
export function quoteIdent(name: string): string {
  if (name.length === 0 || name.includes('\0')) throw new Error(`invalid SQL identifier ${JSON.stringify(name)}`);
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes an SQL string literal (`it's` → `'it''s'`). */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('SQL literal contains a NUL character');
  return `'${value.replaceAll("'", "''")}'`;
}

/** `"reporting"."<table>"`. */
export function qualifiedTable(table: string): string {
  return `${quoteIdent(REPORTING_SCHEMA)}.${quoteIdent(table)}`;
}

export function createTableSql(spec: ReportSpec): string {
  const names = new Set(spec.columns.map((c) => c.name));
  if (names.size !== spec.columns.length) throw new Error(`${spec.table}: duplicate column names`);
  if (!names.has(BUSINESS_DATE_COLUMN)) throw new Error(`${spec.table}: no ${BUSINESS_DATE_COLUMN} column`);
  const missing = spec.primaryKey.filter((k) => !names.has(k));
  if (missing.length > 0) throw new Error(`${spec.table}: primary key names unknown columns ${missing.join(', ')}`);

  const lines = spec.columns.map(
    (c) => `  ${quoteIdent(c.name)} ${COLUMN_TYPES[c.type]}${c.nullable ? '' : ' NOT NULL'}`,
  );
  lines.push(`  PRIMARY KEY (${spec.primaryKey.map(quoteIdent).join(', ')})`);
  return `CREATE TABLE IF NOT EXISTS ${qualifiedTable(spec.table)} (\n${lines.join(',\n')}\n)`;
}

export function createExportBatchesSql(): string {
  return [
    `CREATE TABLE IF NOT EXISTS ${qualifiedTable(EXPORT_BATCHES_TABLE)} (`,
    '  "business_date" date NOT NULL,',
    '  "table_name" text NOT NULL,',
    '  "rows" bigint NOT NULL,',
    '  "loaded_at" timestamptz NOT NULL,',
    '  "store" text NOT NULL,',
    '  PRIMARY KEY ("business_date", "table_name")',
    ')',
  ].join('\n');
}

/**
 * Nullable columns added to a table that an older version created: `CREATE TABLE IF NOT EXISTS`
 * leaves an existing table as it is, so a column added to the catalog later (always nullable: the
 * rows already there have no value) is added here.
 */
export function addNullableColumnsSql(spec: ReportSpec): string[] {
  return spec.columns
    .filter((c) => c.nullable === true)
    .map((c) => `ALTER TABLE ${qualifiedTable(spec.table)} ADD COLUMN IF NOT EXISTS ${quoteIdent(c.name)} ${COLUMN_TYPES[c.type]}`);
}

/** Statements that create (or bring up to date) the reporting schema, in order; each is idempotent. */
export function reportingDdl(reports: readonly ReportSpec[] = REPORTS): string[] {
  return [
    `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(REPORTING_SCHEMA)}`,
    ...reports.map(createTableSql),
    createExportBatchesSql(),
    ...reports.flatMap(addNullableColumnsSql),
  ];
}

export function deleteBusinessDateSql(spec: ReportSpec): string {
  return `DELETE FROM ${qualifiedTable(spec.table)} WHERE ${quoteIdent(BUSINESS_DATE_COLUMN)} = $1::date`;
}

/**
 * COPY of one CSV file with a header, from the client (`STDIN`) or a server-side path.
 * `HEADER match` (PostgreSQL 15+) also checks the header names against the column list, so a
 * file whose columns are in another order is rejected instead of loaded into the wrong columns.
 */
export function copyFromCsvSql(spec: ReportSpec, source: 'STDIN' | { readonly path: string }, header: 'match' | 'true'): string {
  const columns = spec.columns.map((c) => quoteIdent(c.name)).join(', ');
  const from = source === 'STDIN' ? 'STDIN' : quoteLiteral(source.path);
  return `COPY ${qualifiedTable(spec.table)} (${columns}) FROM ${from} WITH (FORMAT csv, HEADER ${header})`;
}

/**
 * Rows of one table for one business date. Used after loading to prove that every loaded row
 * belongs to the date: the date's rows were deleted first, so this count equals the rows COPY
 * loaded exactly when none of them carries another date. It reads the primary key's leading
 * `business_date` range only, never the other dates.
 */
export function countBusinessDateSql(table: string): string {
  return `SELECT count(*)::bigint AS "rows" FROM ${qualifiedTable(table)} WHERE ${quoteIdent(BUSINESS_DATE_COLUMN)} = $1::date`;
}

/** Parameters: business date, table name, rows, store kind. `now()` is the transaction's start. */
export function upsertExportBatchSql(): string {
  return [
    `INSERT INTO ${qualifiedTable(EXPORT_BATCHES_TABLE)} ("business_date", "table_name", "rows", "loaded_at", "store")`,
    'VALUES ($1::date, $2, $3, now(), $4)',
    'ON CONFLICT ("business_date", "table_name") DO UPDATE',
    'SET "rows" = excluded."rows", "loaded_at" = excluded."loaded_at", "store" = excluded."store"',
  ].join('\n');
}

/**
 * Advisory locks, transaction-scoped, in Nightjar's own key space (first key) so they never
 * collide with another application's locks on the same database. Key 0 guards migrations;
 * a business date locks as its yyyymmdd number.
 */
const ADVISORY_LOCK_SPACE = 0x4e4a5250; // 'NJRP'
const MIGRATION_LOCK_KEY = 0;

export function migrationLockSql(): string {
  return `SELECT pg_advisory_xact_lock(${ADVISORY_LOCK_SPACE}, ${MIGRATION_LOCK_KEY})`;
}

/** Parameter: the business date's lock key (see `businessDateLockKey`). */
export function businessDateLockSql(): string {
  return `SELECT pg_advisory_xact_lock(${ADVISORY_LOCK_SPACE}, $1::integer)`;
}

export function businessDateLockKey(businessDate: string): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(businessDate)) throw new Error(`not a YYYY-MM-DD date: '${businessDate}'`);
  return Number(businessDate.replaceAll('-', ''));
}

// ---------------------------------------------------------------------------------------------
// Export rules, shared by the PostgreSQL and PGlite stores

/** An Error carrying one of Nightjar's failure types (see common/failures). */
export type TypedError = Error & { readonly type: FailureType };

export function typedError(type: FailureType, message: string, cause?: unknown): TypedError {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { type });
}

/** Rejects, as InvalidInput, arguments no database round trip could make valid. */
export function checkExportArgs(businessDate: string, loads: readonly TableLoad[]): void {
  checkBusinessDate(businessDate);
  const tables = loads.map((l) => l.spec.table);
  const repeated = tables.filter((t, i) => tables.indexOf(t) !== i);
  if (repeated.length > 0) {
    throw typedError(FailureType.InvalidInput, `table ${repeated.join(', ')} appears more than once in one export`);
  }
}

export function checkCountArgs(table: string, businessDate: string): void {
  checkBusinessDate(businessDate);
  if (!REPORTS.some((r) => r.table === table)) {
    const known = REPORTS.map((r) => r.table).join(', ');
    throw typedError(FailureType.InvalidInput, `'${table}' is not a reporting table (${known})`);
  }
}

function checkBusinessDate(businessDate: string): void {
  if (!isBusinessDate(businessDate)) {
    throw typedError(FailureType.InvalidInput, `business date '${businessDate}' is not a YYYY-MM-DD calendar date`);
  }
}

/** The rejection when a table's loaded rows outnumber its rows for the business date. */
export function foreignDateRows(businessDate: string, table: string, loaded: number, counted: number): TypedError {
  return typedError(
    FailureType.ExportRejected,
    `${table}: ${loaded - counted} of ${loaded} loaded rows are not for business date ${businessDate}; ` +
      'the files belong to another day',
  );
}

/** The rejection when a table's load carries another row count than its producer announced. */
export function unexpectedRowCount(businessDate: string, table: string, loaded: number, expected: number): TypedError {
  return typedError(
    FailureType.ExportRejected,
    `${table}: loaded ${loaded} rows for business date ${businessDate}, but its producer reported ${expected}`,
  );
}

/** Where an export was when it failed, for the error message. */
export interface ExportPosition {
  readonly table: string;
  readonly file?: string;
}

/**
 * Turns a data problem into ExportRejected (not retryable) with the table, file and line it
 * came from; returns every other error (already typed, connection, I/O) unchanged.
 */
export function classifyExportError(error: unknown, businessDate: string, at: ExportPosition | undefined): unknown {
  if ((error as { type?: unknown } | null)?.type !== undefined || !isDataRejection(error)) return error;
  const { message, where } = error as { message: string; where?: string };
  const place = at ? ` (${at.table}${at.file ? `, ${at.file}` : ''})` : '';
  const line = where ? ` [${where.split('\n')[0]}]` : '';
  return typedError(FailureType.ExportRejected, `export of ${businessDate} rejected${place}: ${message}${line}`, error);
}

/**
 * True when a PostgreSQL error is about the data or its shape, which retrying the same files
 * cannot fix: class 22 (data exception: bad CSV, bad value), 23 (integrity constraint
 * violation) and 42 (syntax error or access rule violation: a table or column that does not
 * match the catalog). Connection, lock and resource errors are not, and stay retryable.
 */
export function isDataRejection(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|42)[0-9A-Z]{3}$/.test(code);
}

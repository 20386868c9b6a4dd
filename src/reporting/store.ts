import type { ReportSpec } from '../domain/reports/catalog';

/** One table's data for one business date, as a CSV file with a header row. */
export interface TableLoad {
  readonly spec: ReportSpec;
  /** CSV files (header + rows, columns exactly as the spec) to load, in order. */
  readonly files: readonly string[];
  /** When given, the load is rolled back unless exactly this many rows arrived. */
  readonly expectedRows?: number;
}

export interface ReplaceDateOptions {
  /**
   * Aborting rolls the replacement back: a statement in progress is interrupted and nothing is
   * committed after the abort. The promise then rejects with the signal's reason.
   */
  readonly signal?: AbortSignal;
}

export interface LoadedTable {
  readonly table: string;
  readonly rows: number;
}

/**
 * The reporting database. Implementations: PostgreSQL (`pg` + COPY, production) and PGlite
 * (embedded default). `replaceBusinessDate` is the one write path: it replaces the given
 * tables' rows for one business date in a single transaction, so readers see either the old
 * date or the new one, never a mixture, and a rerun never duplicates.
 */
export interface ReportingStore {
  readonly kind: 'postgres' | 'pglite';
  /** Creates the reporting schema and tables if missing (idempotent). */
  migrate(): Promise<void>;
  replaceBusinessDate(businessDate: string, loads: readonly TableLoad[], options?: ReplaceDateOptions): Promise<LoadedTable[]>;
  /** Rows of one table for one business date (for reconciliation, tests and the demo summary). */
  countRows(table: string, businessDate: string): Promise<number>;
  query<T extends Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

import { openAsBlob } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Logger } from 'pino';
import { checkCountArgs, copyFromCsvSql, countBusinessDateSql, reportingDdl } from './ddl';
import { replaceBusinessDate } from './replace-date';
import type { LoadedTable, ReplaceDateOptions, ReportingStore, TableLoad } from './store';

export type PgliteReportingStoreOptions = (
  /** Persisted in this directory (created if missing). One process at a time may open it. */
  | { readonly dataDir: string }
  | { readonly memory: true }
) & { readonly logger?: Logger };

/** The server-side path PGlite maps to the `blob` given with a query. */
const BLOB_DEVICE = '/dev/blob';

/**
 * The embedded reporting store: PostgreSQL compiled to WebAssembly, in this process. Same
 * semantics as the PostgreSQL store. PGlite runs one transaction at a time, so exports of the
 * same date are serialized without an advisory lock; each file is handed to
 * `COPY ... FROM '/dev/blob'` whole, so a file must fit in memory.
 */
export class PgliteReportingStore implements ReportingStore {
  readonly kind = 'pglite' as const;
  readonly #dataDir: string | undefined;
  readonly #logger: Logger | undefined;
  #db: Promise<PGlite> | undefined;
  #closed = false;

  constructor(options: PgliteReportingStoreOptions) {
    this.#dataDir = 'dataDir' in options ? path.resolve(options.dataDir) : undefined;
    this.#logger = options.logger;
  }

  async migrate(): Promise<void> {
    const db = await this.#open();
    await db.transaction(async (tx) => {
      for (const statement of reportingDdl()) await tx.query(statement);
    });
  }

  /** PGlite runs statements to their end; an abort takes effect between them (and before the commit). */
  async replaceBusinessDate(businessDate: string, loads: readonly TableLoad[], options: ReplaceDateOptions = {}): Promise<LoadedTable[]> {
    return replaceBusinessDate(
      {
        kind: this.kind,
        logger: this.#logger,
        inTransaction: async (body) => {
          const db = await this.#open();
          return db.transaction((tx) =>
            body({
              execute: async (sql, params) => void (await tx.query(sql, [...params])),
              copyFile: (spec, file) => copyFile(tx, copyFromCsvSql(spec, { path: BLOB_DEVICE }, 'match'), file),
              countRows: (table, date) => countRows(tx, table, date),
            }),
          );
        },
      },
      businessDate,
      loads,
      options.signal,
    );
  }

  async countRows(table: string, businessDate: string): Promise<number> {
    checkCountArgs(table, businessDate);
    const db = await this.#open();
    return countRows(db, table, businessDate);
  }

  async query<T extends Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    const db = await this.#open();
    const result = await db.query<T>(sql, params ? [...params] : []);
    return result.rows;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const db = await this.#db?.catch(() => undefined);
    if (db && !db.closed) await db.close();
  }

  /** Starts the database on first use; a failed start is retried by the next call. */
  #open(): Promise<PGlite> {
    if (this.#closed) return Promise.reject(new Error('the PGlite reporting store is closed'));
    this.#db ??= this.#start().catch((error: unknown) => {
      this.#db = undefined;
      throw error;
    });
    return this.#db;
  }

  async #start(): Promise<PGlite> {
    if (this.#dataDir === undefined) return PGlite.create();
    await mkdir(this.#dataDir, { recursive: true });
    return PGlite.create(this.#dataDir);
  }
}

type Queryable = Pick<Transaction, 'query'>;

async function copyFile(tx: Queryable, sql: string, file: string): Promise<number> {
  // openAsBlob reports a missing file only as "Unable to open file as blob"; stat names it.
  await stat(file);
  const result = await tx.query(sql, [], { blob: await openAsBlob(file) });
  if (result.rowCount === undefined) throw new Error(`COPY of ${file} reported no row count`);
  return result.rowCount;
}

async function countRows(db: Queryable, table: string, businessDate: string): Promise<number> {
  const result = await db.query<{ rows: number | string }>(countBusinessDateSql(table), [businessDate]);
  return Number(result.rows[0]?.rows ?? 0);
}

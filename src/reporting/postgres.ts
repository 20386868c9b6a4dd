import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Pool, type PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Logger } from 'pino';
import {
  businessDateLockKey,
  businessDateLockSql,
  checkCountArgs,
  copyFromCsvSql,
  countBusinessDateSql,
  migrationLockSql,
  reportingDdl,
} from './ddl';
import { replaceBusinessDate } from './replace-date';
import type { LoadedTable, ReplaceDateOptions, ReportingStore, TableLoad } from './store';

export type PostgresReportingStoreOptions = (
  | { readonly connectionString: string }
  /** A pool owned by the caller: `close()` leaves it open. */
  | { readonly pool: Pool }
) & { readonly logger?: Logger };

/** Read size for CSV files: large chunks mean fewer CopyData messages and syscalls. */
const READ_CHUNK_BYTES = 1 << 20;

/**
 * The production reporting store: PostgreSQL through a `pg` pool, files streamed with
 * `COPY ... FROM STDIN`. One business date is replaced in one transaction, serialized with
 * any other export of the same date by a transaction-scoped advisory lock.
 */
export class PostgresReportingStore implements ReportingStore {
  readonly kind = 'postgres' as const;
  readonly #pool: Pool;
  readonly #ownsPool: boolean;
  readonly #logger: Logger | undefined;
  #headerMode: Promise<'match' | 'true'> | undefined;
  #closed = false;

  constructor(options: PostgresReportingStoreOptions) {
    this.#logger = options.logger;
    if ('pool' in options) {
      this.#pool = options.pool;
      this.#ownsPool = false;
    } else {
      this.#pool = new Pool({ connectionString: options.connectionString, application_name: 'nightjar-reporting' });
      this.#ownsPool = true;
      // An idle client whose server goes away emits 'error' on the pool; unhandled, it
      // would crash the worker. The next checkout simply opens a new connection.
      this.#pool.on('error', (err) => this.#logger?.warn({ err }, 'idle reporting database connection failed'));
    }
  }

  async migrate(): Promise<void> {
    await this.#inTransaction(async (client) => {
      // CREATE ... IF NOT EXISTS is not safe against a concurrent CREATE of the same name
      // (unique violation on the catalog); the lock makes concurrent migrations take turns.
      await client.query(migrationLockSql());
      for (const statement of reportingDdl()) await client.query(statement);
    });
  }

  async replaceBusinessDate(businessDate: string, loads: readonly TableLoad[], options: ReplaceDateOptions = {}): Promise<LoadedTable[]> {
    const { signal } = options;
    return replaceBusinessDate(
      {
        kind: this.kind,
        logger: this.#logger,
        inTransaction: (body) =>
          this.#inTransaction(async (client) => {
            // An abort interrupts whatever statement runs (a lock wait, a long COPY): the
            // transaction then fails and rolls back instead of committing later.
            const stopInterrupting = signal === undefined ? undefined : await this.#interruptOnAbort(client, signal);
            try {
              // Two exports of the same date take turns; other dates proceed in parallel.
              await client.query(businessDateLockSql(), [businessDateLockKey(businessDate)]);
              const header = await this.#csvHeaderMode(client);
              return await body({
                execute: async (sql, params) => void (await client.query(sql, [...params])),
                copyFile: (spec, file) => copyFile(client, copyFromCsvSql(spec, 'STDIN', header), file),
                countRows: (table, date) => countRows(client, table, date),
              });
            } finally {
              stopInterrupting?.();
            }
          }),
      },
      businessDate,
      loads,
      signal,
    );
  }

  /** On abort, cancels the statement the client's backend runs (from another connection). */
  async #interruptOnAbort(client: PoolClient, signal: AbortSignal): Promise<() => void> {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const pid = rows[0]?.pid;
    const interrupt = () => {
      if (pid === undefined) return;
      this.#pool.query('SELECT pg_cancel_backend($1)', [pid]).catch((err: unknown) => this.#logger?.warn({ err, pid }, 'could not interrupt the cancelled export'));
    };
    if (signal.aborted) interrupt();
    else signal.addEventListener('abort', interrupt, { once: true });
    return () => signal.removeEventListener('abort', interrupt);
  }

  async countRows(table: string, businessDate: string): Promise<number> {
    checkCountArgs(table, businessDate);
    const { client, release } = await this.#checkout();
    try {
      return await countRows(client, table, businessDate);
    } finally {
      release();
    }
  }

  async query<T extends Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    const result = await this.#pool.query<T>(sql, params ? [...params] : undefined);
    return result.rows;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsPool) await this.#pool.end();
  }

  /**
   * A client checked out of the pool, listened to for as long as it is out. pg emits 'error' on
   * a checked-out client whose connection drops (PostgreSQL restarted, a network cut mid-
   * transaction); the pool listens only to idle clients, and an 'error' nobody listens to ends
   * the worker process. The loss is kept and the client released as broken instead.
   */
  async #checkout(): Promise<{ client: PoolClient; release: (error?: Error) => void }> {
    const client = await this.#pool.connect();
    let lost: Error | undefined;
    const onError = (error: Error) => {
      lost ??= error;
      this.#logger?.warn({ err: error }, 'reporting database connection lost');
    };
    client.on('error', onError);
    return {
      client,
      release: (error) => {
        const broken = error ?? lost;
        // A broken client is discarded; it keeps the listener for whatever it still emits.
        if (broken === undefined) client.removeListener('error', onError);
        client.release(broken);
      },
    };
  }

  /** Runs `work` between BEGIN and COMMIT; any error rolls back and is rethrown unchanged. */
  async #inTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const { client, release } = await this.#checkout();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection itself is gone or unusable: do not return it to the pool.
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw error;
    } finally {
      release(broken);
    }
  }

  /** `HEADER match` needs PostgreSQL 15; older servers only skip the header line. */
  #csvHeaderMode(client: PoolClient): Promise<'match' | 'true'> {
    this.#headerMode ??= client.query<{ server_version_num: string }>('SHOW server_version_num').then(
      (r) => (Number(r.rows[0]?.server_version_num) >= 150000 ? 'match' : 'true'),
      (error: unknown) => {
        this.#headerMode = undefined;
        throw error;
      },
    );
    return this.#headerMode;
  }
}

async function copyFile(client: PoolClient, sql: string, file: string): Promise<number> {
  const copy = client.query(copyFrom(sql));
  await pipeline(createReadStream(file, { highWaterMark: READ_CHUNK_BYTES }), copy);
  return copy.rowCount;
}

async function countRows(client: PoolClient, table: string, businessDate: string): Promise<number> {
  const result = await client.query<{ rows: string }>(countBusinessDateSql(table), [businessDate]);
  return Number(result.rows[0]?.rows ?? 0);
}

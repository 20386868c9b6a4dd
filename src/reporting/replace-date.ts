import type { Logger } from 'pino';
import type { ReportSpec } from '../domain/reports/catalog';
import {
  checkExportArgs,
  classifyExportError,
  deleteBusinessDateSql,
  foreignDateRows,
  unexpectedRowCount,
  upsertExportBatchSql,
  type ExportPosition,
} from './ddl';
import type { LoadedTable, TableLoad } from './store';

/** What an open transaction of either store offers to the shared replace logic. */
export interface ReplaceSession {
  execute(sql: string, params: readonly unknown[]): Promise<void>;
  /** Loads one CSV file (header + rows) into the spec's table; returns the rows loaded. */
  copyFile(spec: ReportSpec, file: string): Promise<number>;
  countRows(table: string, businessDate: string): Promise<number>;
}

export interface ReplaceOptions {
  readonly kind: 'postgres' | 'pglite';
  readonly logger: Logger | undefined;
  /** Runs the body in one transaction (commit on success, roll back on any error). */
  readonly inTransaction: (body: (session: ReplaceSession) => Promise<LoadedTable[]>) => Promise<LoadedTable[]>;
}

/**
 * The one write path of both stores: delete the date from every table, COPY each table's
 * files, check that every row is of that date and that the counts are what the producer said,
 * record the batch — all in one transaction. Errors come out classified (ExportRejected for
 * data, plain for what a retry may fix), naming the table and file.
 */
export async function replaceBusinessDate(
  options: ReplaceOptions,
  businessDate: string,
  loads: readonly TableLoad[],
  signal?: AbortSignal,
): Promise<LoadedTable[]> {
  checkExportArgs(businessDate, loads);
  signal?.throwIfAborted();
  const started = performance.now();
  let current: ExportPosition | undefined;
  try {
    const loaded = await options.inTransaction(async (session) => {
      for (const { spec } of loads) {
        current = { table: spec.table };
        signal?.throwIfAborted();
        await session.execute(deleteBusinessDateSql(spec), [businessDate]);
      }
      const result: LoadedTable[] = [];
      for (const { spec, files, expectedRows } of loads) {
        let rows = 0;
        for (const file of files) {
          current = { table: spec.table, file };
          signal?.throwIfAborted();
          rows += await session.copyFile(spec, file);
        }
        current = { table: spec.table };
        const counted = await session.countRows(spec.table, businessDate);
        if (counted !== rows) throw foreignDateRows(businessDate, spec.table, rows, counted);
        if (expectedRows !== undefined && rows !== expectedRows) {
          throw unexpectedRowCount(businessDate, spec.table, rows, expectedRows);
        }
        await session.execute(upsertExportBatchSql(), [businessDate, spec.table, rows, options.kind]);
        result.push({ table: spec.table, rows });
      }
      // The last moment to change our mind: an abort from here on would come after the commit.
      signal?.throwIfAborted();
      return result;
    });
    options.logger?.info({ businessDate, tables: loaded, ms: Math.round(performance.now() - started) }, 'reporting business date replaced');
    return loaded;
  } catch (error) {
    if (signal?.aborted) {
      options.logger?.warn({ businessDate, at: current }, 'reporting export cancelled; rolled back, previous data kept');
      throw signal.reason ?? error;
    }
    const failure = classifyExportError(error, businessDate, current);
    options.logger?.warn({ businessDate, err: failure }, 'reporting export failed; previous data kept');
    throw failure;
  }
}

import fs from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { FailureType } from '../common/failures';
import { uriToPath } from '../common/layout';
import { reportSpec } from '../domain/reports/catalog';
import type { ExportReportsInput, ExportReportsResult } from '../domain/pipeline';
import type { ReportingStore, TableLoad } from '../reporting/store';
import { withHeartbeat } from './heartbeat';

export interface ExportDeps {
  readonly store: ReportingStore;
  readonly logger: Logger;
}

/** The CSV part files of one Spark output dataset, in a stable order. */
export async function csvParts(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir);
  return entries
    .filter((e) => e.endsWith('.csv'))
    .sort()
    .map((e) => path.join(dir, e));
}

/** A store error that retrying cannot fix carries `type: 'ExportRejected'` or `'InvalidInput'`. */
function isRejected(err: unknown): err is Error & { type: typeof FailureType.ExportRejected | typeof FailureType.InvalidInput } {
  const type = err instanceof Error ? (err as { type?: unknown }).type : undefined;
  return type === FailureType.ExportRejected || type === FailureType.InvalidInput;
}

export function createExportActivities(deps: ExportDeps) {
  return {
    /**
     * Replaces the business date's rows of every report table in one transaction. Re-running
     * a date replaces it; readers never see a half-exported date.
     */
    async exportReports(input: ExportReportsInput): Promise<ExportReportsResult> {
      const started = Date.now();
      const loads: TableLoad[] = [];
      for (const report of input.reports) {
        const dir = uriToPath(report.uri);
        const files = await csvParts(dir).catch((err: NodeJS.ErrnoException) => {
          throw ApplicationFailure.create({
            type: FailureType.ExportRejected,
            message: `report '${report.report}' output is missing at ${dir}: ${err.code ?? err.message}`,
            nonRetryable: true,
          });
        });
        loads.push({ spec: reportSpec(report.report), files, expectedRows: report.rows });
      }
      try {
        // A cancelled night must not publish its reports after the fact: the cancellation (which
        // arrives with a heartbeat) rolls the transaction back, wherever it is.
        const { cancellationSignal } = Context.current();
        const tables = await withHeartbeat(
          () => deps.store.replaceBusinessDate(input.businessDate, loads, { signal: cancellationSignal }),
          () => ({ phase: 'copy' }),
        );
        const durationMs = Date.now() - started;
        deps.logger.info({ businessDate: input.businessDate, tables, durationMs, store: deps.store.kind }, 'reports exported');
        return { store: deps.store.kind, tables, durationMs };
      } catch (err) {
        if (Context.current().cancellationSignal.aborted) {
          deps.logger.warn({ businessDate: input.businessDate }, 'export cancelled: nothing committed');
          throw err instanceof CancelledFailure ? err : new CancelledFailure('export cancelled; rolled back');
        }
        if (isRejected(err)) {
          throw ApplicationFailure.create({ type: err.type, message: `export of ${input.businessDate} rejected: ${err.message}`, nonRetryable: true });
        }
        throw err;
      }
    },
  };
}

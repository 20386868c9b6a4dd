import type { ExportReportsInput, ExportReportsResult, FinalizeRunInput, FinalizeRunResult, SparkAwaitResult, SparkSubmission } from '../domain/pipeline';
import type { SweepInput } from '../domain/pipeline';
import type { SweepReport } from '../spark/platform';
import type { NightjarMetrics } from './metrics';

/** The activities whose results say something worth counting. */
interface Counted {
  awaitSparkJob(submission: SparkSubmission): Promise<SparkAwaitResult>;
  exportReports(input: ExportReportsInput): Promise<ExportReportsResult>;
  finalizeRun(input: FinalizeRunInput): Promise<FinalizeRunResult>;
  sweepSparkLeftovers(input: SweepInput): Promise<SweepReport>;
}

/**
 * Wraps the activities so that their results become metrics: Spark attempts and OOM escalations
 * (awaitSparkJob), rows per feed (normalize's output), rows exported, nights finished and the
 * last completed night (finalizeRun), the janitor's leftovers. The activities stay unaware.
 * Durations are the interceptor's (observeActivities), for every activity.
 */
export function countOutcomes<A extends Counted>(activities: A, metrics: NightjarMetrics, now: () => Date = () => new Date()): A {
  return {
    ...activities,
    async awaitSparkJob(submission: SparkSubmission): Promise<SparkAwaitResult> {
      const result = await activities.awaitSparkJob(submission);
      const { outcome, output } = result;
      metrics.sparkAttemptEnded(submission.job, outcome.kind);
      if (outcome.kind === 'OUT_OF_MEMORY') metrics.oomEscalation(submission.job, outcome.oomSide ?? 'driver');
      if (output?.job === 'normalize') {
        for (const feed of output.feeds) {
          metrics.feedRows(feed.feed, 'accepted', feed.rowsAccepted);
          metrics.feedRows(feed.feed, 'rejected', feed.rowsRejected);
        }
      }
      return result;
    },
    async exportReports(input: ExportReportsInput): Promise<ExportReportsResult> {
      const result = await activities.exportReports(input);
      for (const table of result.tables) metrics.exportRows(table.table, table.rows);
      return result;
    },
    async finalizeRun(input: FinalizeRunInput): Promise<FinalizeRunResult> {
      const result = await activities.finalizeRun(input);
      metrics.nightFinished(input.manifest.tenant ?? 'default', input.manifest.status, now());
      return result;
    },
    async sweepSparkLeftovers(input: SweepInput): Promise<SweepReport> {
      const report = await activities.sweepSparkLeftovers(input);
      if (!report.dryRun) {
        const byKind = new Map<string, number>();
        for (const o of [...report.removed, ...report.failed]) byKind.set(o.kind, (byKind.get(o.kind) ?? 0) + 1);
        for (const [kind, count] of byKind) metrics.janitorLeftovers(kind, count);
      }
      return report;
    },
  };
}

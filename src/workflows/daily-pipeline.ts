import { workflowInfo } from '@temporalio/workflow';
import type { DailyPipelineInput, DailyPipelineResult } from './messages';
import { planRun } from './night/proxies';
import { exportReleased, exportTheReports } from './night/export';
import { ingestFeeds, waitForFeeds } from './night/feeds';
import { finalize } from './night/finalize';
import { handleMessages } from './night/handlers';
import { parkOnFailure } from './night/park';
import { normalize, reconcile, transform } from './night/spark';
import { Night } from './night/state';

export { ABORTED_BY_OPERATOR, type DailyPipelineInput, type DailyPipelineResult } from './messages';

/**
 * One business date, end to end: wait for the feeds (signals or the landing zone) → ingest every
 * feed → Spark normalize → reconcile → Spark transform (each Spark job records what it learned
 * about its size) → export, unless held → finalize (manifest + operational reports). The
 * workflow id derives from the tenant and date, so every trigger joins this run instead of
 * duplicating it.
 *
 * A step that fails for good does not fail the night: it parks in NEEDS_ATTENTION and waits for
 * an operator's `resolveStep` decision (see night/park.ts) — retry (only that step and what
 * follows), skip (an optional feed) or abort. The night's state is `Night` (night/state.ts); the
 * messages that steer it are in night/handlers.ts.
 */
export async function dailyPipeline(input: DailyPipelineInput): Promise<DailyPipelineResult> {
  const { workflowId, runId } = workflowInfo();
  const night = new Night(input, { workflowId, runId }, new Date().toISOString());
  night.announce();
  handleMessages(night);
  try {
    const plan = await planRun({ businessDate: night.businessDate, tenant: night.tenant, ...(input.sparkOverrides ? { sparkOverrides: input.sparkOverrides } : {}) });
    night.planned(plan);
    await waitForFeeds(night, plan);
    await ingestFeeds(night, plan);
    // A retry after a failed reconciliation is a repair: corrected files are ingested again (the
    // raw zone is content-addressed, so unchanged files change nothing), then normalized.
    await parkOnFailure(night, { step: 'normalize' }, async (repair) => {
      if (repair) await ingestFeeds(night, plan);
      await normalize(night, plan);
      reconcile(night);
    });
    const reports = await transform(night, plan);
    await exportReleased(night);
    await exportTheReports(night, reports);
  } catch (err) {
    night.failed(err);
    throw err;
  } finally {
    await finalize(night);
  }
  return night.result();
}

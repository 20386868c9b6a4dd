import { CancellationScope, log, patched, setCurrentDetails, upsertMemo } from '@temporalio/workflow';
import { closedStory, closedStoryMemo, type ClosedStoryInput } from '../../domain/night-story';
import type { RunManifest } from '../../domain/pipeline';
import { finalizeRun } from './proxies';
import { describeFailure } from './failures';
import type { Night } from './state';

/**
 * Writes the manifest (the audit trail, for failed and cancelled nights too) and the operational
 * reports, even while the night is being cancelled. Only a completed night fails when it cannot.
 * The night's last words go to its current details and, for nights started since the memo came
 * in, to its memo: readable in the UI and by `nightjar status` with no worker running.
 */
export async function finalize(night: Night): Promise<void> {
  night.closing();
  const manifest = night.manifest();
  let reportUri: string | undefined;
  try {
    const finalized = await CancellationScope.nonCancellable(() => finalizeRun({ manifest }));
    night.finalized(finalized.manifestUri, finalized.tables);
    reportUri = finalized.reportUri;
  } catch (finalizeErr) {
    log.error('finalize failed', { businessDate: night.businessDate, error: describeFailure(finalizeErr) });
    if (night.outcome === 'COMPLETED') throw finalizeErr;
  }
  night.setStage('done');
  night.setStatus(night.outcome === 'RUNNING' ? 'FAILED' : night.outcome);
  const story = storyOf(night, manifest, reportUri);
  setCurrentDetails(closedStory(story));
  // A new command at the end of a night: nights recorded before it replay without it (docs/versioning.md).
  if (patched('night-story-memo')) upsertMemo(closedStoryMemo(story));
}

function storyOf(night: Night, manifest: RunManifest, reportUri: string | undefined): ClosedStoryInput {
  const { reports } = night.result();
  return {
    tenant: night.tenant,
    businessDate: night.businessDate,
    status: night.outcome === 'RUNNING' ? 'FAILED' : night.outcome,
    ...(night.late ? { late: true } : {}),
    feeds: manifest.feeds,
    reports,
    ...(manifest.error ? { error: { step: manifest.error.step, type: manifest.error.type } } : {}),
    ...(reportUri ? { reportUri } : {}),
  };
}

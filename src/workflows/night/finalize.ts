import { CancellationScope, log, setCurrentDetails } from '@temporalio/workflow';
import { finalizeRun } from './proxies';
import { describeFailure } from './failures';
import type { Night } from './state';

/**
 * Writes the manifest (the audit trail, for failed and cancelled nights too) and the operational
 * reports, even while the night is being cancelled. Only a completed night fails when it cannot.
 */
export async function finalize(night: Night): Promise<void> {
  night.closing();
  const manifest = night.manifest();
  try {
    const finalized = await CancellationScope.nonCancellable(() => finalizeRun({ manifest }));
    night.finalized(finalized.manifestUri, finalized.tables);
  } catch (finalizeErr) {
    log.error('finalize failed', { businessDate: night.businessDate, error: describeFailure(finalizeErr) });
    if (night.outcome === 'COMPLETED') throw finalizeErr;
  }
  night.setStage('done');
  night.setStatus(night.outcome === 'RUNNING' ? 'FAILED' : night.outcome);
  setCurrentDetails(`**${night.tenant} ${night.businessDate}**: ${night.outcome}${night.late ? ' (late)' : ''}`);
}

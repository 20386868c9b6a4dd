import { log, setHandler } from '@temporalio/workflow';
import { FeedArrivalSchema, describeIssues } from '../../domain/triggers';
import {
  feedArrivedSignal,
  holdExportSignal,
  readHoldRequest,
  readReleaseRequest,
  releaseExportSignal,
  resolveStepRefusal,
  resolveStepSignal,
  resolveStepUpdate,
  statusQuery,
  validateResolveStep,
} from '../messages';
import type { Night } from './state';

/**
 * The night's messages: the status query, feed arrivals, the export hold and its release, and an
 * operator's decision on a parked step (as an update or a signal). Each acts on the night's state
 * only; nothing a sender writes may throw here, or the workflow task would fail on every replay.
 */
export function handleMessages(night: Night): void {
  setHandler(statusQuery, () => night.view());

  setHandler(feedArrivedSignal, (raw) => {
    const parsed = FeedArrivalSchema.safeParse(raw);
    if (!parsed.success) {
      log.warn('feedArrived signal refused', { problem: describeIssues(parsed.error) });
      return;
    }
    const arrival = parsed.data;
    if (arrival.businessDate !== night.businessDate || arrival.tenant !== night.tenant) {
      log.warn('feedArrived signal for another night ignored', { feed: arrival.feed, businessDate: arrival.businessDate, tenant: arrival.tenant });
      return;
    }
    night.feedArrived(arrival);
  });

  setHandler(holdExportSignal, (raw) => {
    // A malformed hold still holds (the safe side).
    const { hold, problem } = readHoldRequest(raw);
    if (problem) log.warn('holdExport signal malformed: holding anyway', { problem });
    night.hold(hold);
    log.info('export held', { reason: hold.reason, by: hold.by });
  });
  setHandler(releaseExportSignal, (raw) => {
    const { by, problem } = readReleaseRequest(raw);
    if (problem) log.warn('releaseExport signal malformed', { problem });
    if (night.exportHold) log.info('export released', { by });
    night.release();
  });

  setHandler(
    resolveStepUpdate,
    (req) => {
      night.decide(req);
      return { accepted: true as const, step: req.step, action: req.action, ...(req.feed ? { feed: req.feed } : {}) };
    },
    { validator: (req) => validateResolveStep(req, night.parked, night.decision !== undefined, night.overrideCaps) },
  );
  setHandler(resolveStepSignal, (req) => {
    const why = resolveStepRefusal(req, night.parked, night.decision !== undefined, night.overrideCaps);
    if (why !== undefined) {
      log.warn('resolveStep signal refused', { why });
      return;
    }
    night.decide(req);
  });
}

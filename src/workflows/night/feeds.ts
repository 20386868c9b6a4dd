import { ApplicationFailure, CancellationScope, condition, log, metricMeter, setCurrentDetails } from '@temporalio/workflow';
import { FailureType } from '../../common/failures';
import type { FeedName } from '../../domain/feeds/catalog';
import type { FeedIngested, RunPlan } from '../../domain/pipeline';
import { ingestSummary } from '../../domain/night-story';
import { METRICS } from '../../observability/catalog';
import { AWAIT_FEEDS_ACTIVITY, INGEST_ACTIVITY } from '../presets';
import { awaitFeeds, ingestFeed } from './proxies';
import { parkOnFailure } from './park';
import type { Night } from './state';
import { recordedStep, simpleAttempt } from './step';

type PlannedFeed = RunPlan['feeds'][number];

/** Waits until every feed arrived (signal or landing zone); LATE after a required feed's cut-off; the deadline decides the rest. */
export async function waitForFeeds(night: Night, plan: RunPlan): Promise<void> {
  night.setStage('awaiting-feeds');
  const missing = () => plan.feeds.filter((f) => night.feedIs(f.feed, 'WAITING'));
  const deadline = Date.parse(plan.feedWait.deadlineAt);
  while (missing().length > 0) {
    const now = Date.now();
    if (now >= deadline) break;
    const cutoffs = missing().filter((f) => f.required).map((f) => Date.parse(plan.feedWait.cutoffs[f.feed]));
    // A cut-off already passed (a late start, a backfill): look once right away, and only a
    // feed still missing after that look makes the night late.
    const overdue = !night.late && cutoffs.some((c) => c <= now);
    const nextCutoff = night.late ? undefined : cutoffs.filter((c) => c > now).sort((a, b) => a - b)[0];
    if (night.status === 'RUNNING') night.setStatus('AWAITING_FEEDS');
    const until = new Date(overdue ? now : Math.min(deadline, nextCutoff ?? deadline)).toISOString();
    setCurrentDetails(`**${night.tenant} ${night.businessDate}**: waiting for ${missing().map((f) => f.feed).join(', ')} (until ${until})`);
    await lookUntil(night, plan, missing, until);
    checkCutoffs(night, plan, missing().filter((f) => f.required));
    // The look may end early (a worker going away, a landing zone it could not read): wait out
    // the rest of the period here, woken by signals, rather than looking again at once.
    const left = Date.parse(until) - Date.now();
    if (missing().length > 0 && left > 0) await condition(() => missing().length === 0, left);
  }
  if (missing().length === 0) {
    if (night.status === 'AWAITING_FEEDS') night.setStatus('RUNNING');
    return;
  }
  await missedDeadline(night, plan, missing());
  if (night.status === 'AWAITING_FEEDS' || night.status === 'LATE') night.setStatus(night.late ? 'LATE' : 'RUNNING');
}

/** Looks in the landing zone until `until`, and stops looking as soon as signals bring the rest. */
async function lookUntil(night: Night, plan: RunPlan, missing: () => PlannedFeed[], until: string): Promise<void> {
  const waiting = missing().map((f) => f.feed);
  const scope = new CancellationScope();
  const found = await scope.run(() => {
    const look = awaitFeeds.executeWithOptions({ ...AWAIT_FEEDS_ACTIVITY, summary: `wait for ${waiting.join(', ')}` }, [
      { businessDate: night.businessDate, feeds: waiting, until, pollSeconds: plan.feedWait.pollSeconds },
    ]);
    const signalled = condition(() => missing().length === 0);
    // Whichever loses is cancelled below; its rejection is expected.
    look.catch(() => undefined);
    signalled.catch(() => undefined);
    return Promise.race([look.then((r) => r.found), signalled.then(() => [])]);
  });
  scope.cancel();
  night.feedsDiscovered(found);
}

/** The night turns LATE (once) when a required feed is still missing after its cut-off. */
function checkCutoffs(night: Night, plan: RunPlan, missingRequired: readonly PlannedFeed[]): void {
  const overdue = missingRequired.filter((f) => Date.parse(plan.feedWait.cutoffs[f.feed]) <= Date.now());
  if (night.late || overdue.length === 0) return;
  night.becameLate();
  const lateFeeds = metricMeter.createCounter(METRICS.feedsLate.name, METRICS.feedsLate.unit, METRICS.feedsLate.help);
  for (const f of overdue) lateFeeds.add(1, { feed: f.feed });
  log.warn('feeds late: a required feed missed its cut-off', { missing: missingRequired.map((f) => f.feed) });
}

/** The deadline passed: optional feeds are skipped, required ones park until delivered (retry) or aborted. */
async function missedDeadline(night: Night, plan: RunPlan, missing: readonly PlannedFeed[]): Promise<void> {
  for (const f of missing) {
    if (!f.required) {
      night.feedSettled(f.feed, 'SKIPPED');
      log.warn('optional feed missed the deadline: skipped', { feed: f.feed });
      continue;
    }
    await parkOnFailure(night, { step: 'ingest', feed: f.feed }, async () => {
      // A retry looks once more (the file may have landed since), then gives up again.
      if (night.feedIs(f.feed, 'WAITING')) await lookOnce(night, plan, f.feed);
      if (night.feedIs(f.feed, 'WAITING')) {
        throw ApplicationFailure.create({
          type: FailureType.FeedNotFound,
          message: `required feed '${f.feed}' did not arrive by the deadline ${plan.feedWait.deadlineAt}: deliver it (landing zone or feedArrived), then retry`,
          nonRetryable: true,
        });
      }
    });
  }
}

async function lookOnce(night: Night, plan: RunPlan, feed: FeedName): Promise<void> {
  const { found } = await awaitFeeds.executeWithOptions({ ...AWAIT_FEEDS_ACTIVITY, summary: `look for ${feed}` }, [
    { businessDate: night.businessDate, feeds: [feed], until: new Date().toISOString(), pollSeconds: plan.feedWait.pollSeconds },
  ]);
  night.feedsDiscovered(found);
}

/** Ingests every arrived feed in parallel; a feed that fails parks (skip allowed when it is optional). */
export async function ingestFeeds(night: Night, plan: RunPlan): Promise<void> {
  const ingested = await recordedStep(night, 'ingest', async () => {
    const begun = new Date();
    const results = await Promise.all(plan.feeds.map((f) => ingestOne(night, f)));
    const maxAttempt = Math.max(1, ...results.map((r) => r.attempt));
    return { value: results, attempts: [simpleAttempt(begun, maxAttempt)] };
  });
  night.ingestedAll(ingested);
}

async function ingestOne(night: Night, { feed, required }: PlannedFeed): Promise<FeedIngested> {
  const skipped = (): FeedIngested => ({ feed, status: 'SKIPPED', rawUri: null, rowsIn: 0, controlCount: 0, controlSum: '0', sha256: '', bytes: 0, attempt: 0 });
  if (night.feedIs(feed, 'SKIPPED')) return skipped();
  const result = await parkOnFailure(night, { step: 'ingest', feed, skippable: !required }, async () => {
    const arrival = night.arrivals.get(feed);
    const uri = night.feeds.get(feed)?.uri;
    return ingestFeed.executeWithOptions({ ...INGEST_ACTIVITY, summary: ingestSummary(feed, night.businessDate) }, [
      { businessDate: night.businessDate, feed, ...(uri ? { sourceUri: uri } : {}), ...(arrival?.sha256 ? { expectedSha256: arrival.sha256 } : {}) },
    ]);
  });
  night.feedSettled(feed, result ? 'INGESTED' : 'SKIPPED');
  return result ?? skipped();
}

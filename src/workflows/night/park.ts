import { ApplicationFailure, condition, isCancellation, log, metricMeter, setCurrentDetails } from '@temporalio/workflow';
import type { FeedName } from '../../domain/feeds/catalog';
import type { StepName } from '../../domain/pipeline';
import { parkedDetails, parkedStepName } from '../../domain/night-story';
import { METRICS } from '../../observability/catalog';
import { ABORTED_BY_OPERATOR, type ResolveAction, type ResolveStepRequest } from '../messages';
import { describeFailure, isAbort } from './failures';
import type { Night } from './state';

/** The step (and for ingest, the feed) a failure parks; `skippable` only for an optional feed's ingest. */
export interface ParkingPlace {
  readonly step: StepName;
  readonly feed?: FeedName;
  readonly skippable?: boolean;
}

/**
 * Runs `body` until it succeeds. When it fails for good the step parks, the night reads
 * NEEDS_ATTENTION, and it waits for an operator's decision: retry runs `body` again (`retry` is
 * true from then on), skip returns `undefined` (only where allowed), abort fails the night.
 * Cancellation, and an abort of a step nested in this one, pass straight through.
 */
export async function parkOnFailure<T>(night: Night, place: ParkingPlace, body: (retry: boolean) => Promise<T>): Promise<T | undefined> {
  for (let retry = false; ; retry = true) {
    try {
      return await body(retry);
    } catch (err) {
      if (isCancellation(err) || isAbort(err)) throw err;
      const failure = describeFailure(err);
      const before = await park(night, place, failure);
      const chosen = await decision(night);
      night.unpark(chosen, failure);
      decided(night, place, chosen);
      log.info('operator decision', { step: place.step, feed: place.feed, action: chosen.action, by: chosen.by });
      if (chosen.action === 'abort') throw aborted(place, chosen, failure);
      night.resumed(place.step, before, chosen);
      if (chosen.action === 'skip') return undefined;
    }
  }
}

/** Parks the step once no other one is parked; returns how the night read before. */
async function park(night: Night, place: ParkingPlace, failure: { type: string; message: string }) {
  const { step, feed } = place;
  const actions: ResolveAction[] = place.skippable ? ['retry', 'skip', 'abort'] : ['retry', 'abort'];
  // One parked step at a time (feeds are ingested in parallel): the others queue up here.
  // The check and the claim below run with no await between them.
  while (night.parked !== undefined) await condition(() => night.parked === undefined);
  const before = night.status;
  const parked = { step, ...(feed ? { feed } : {}), error: failure, since: new Date().toISOString(), actions };
  night.park(parked);
  // Workflow metrics are not emitted while replaying: one count per park.
  metricMeter.createCounter(METRICS.nightsParked.name, METRICS.nightsParked.unit, METRICS.nightsParked.help).add(1, { step });
  // What the UI shows at the top of the night's page: the step, its error, a body per action.
  setCurrentDetails(parkedDetails({ tenant: night.tenant, businessDate: night.businessDate }, parked));
  log.warn('step parked: needs attention', { step, feed, ...failure });
  return before;
}

/** The decision replaces the parked step's details, so the page no longer asks for one. */
function decided(night: Night, place: ParkingPlace, chosen: ResolveStepRequest): void {
  const by = chosen.by ? ` by ${chosen.by}` : '';
  const next = chosen.action === 'abort' ? 'the night ends as FAILED' : chosen.action === 'skip' ? 'the night runs on without it' : 'the step runs again';
  setCurrentDetails(`**${night.tenant} ${night.businessDate}**: ${parkedStepName(place)} — ${chosen.action}${by}; ${next}`);
}

async function decision(night: Night): Promise<ResolveStepRequest> {
  let chosen: ResolveStepRequest | undefined;
  while (chosen === undefined) {
    await condition(() => night.decision !== undefined);
    chosen = night.decision;
  }
  return chosen;
}

function aborted(place: ParkingPlace, chosen: ResolveStepRequest, failure: { type: string; message: string }): ApplicationFailure {
  const where = `${place.step}${place.feed ? ` (${place.feed})` : ''}`;
  return ApplicationFailure.create({
    type: ABORTED_BY_OPERATOR,
    message: `aborted by ${chosen.by ?? 'an operator'} at ${where}${chosen.reason ? `: ${chosen.reason}` : ''}; the step had failed with [${failure.type}] ${failure.message}`,
    nonRetryable: true,
  });
}

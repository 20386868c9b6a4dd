import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { log, proxyActivities, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { RunNightResult } from '../activities/nights';
import { NIGHTS_ACTIVITY, RUN_NIGHT_ACTIVITY } from './presets';

type Activities = ReturnType<typeof createActivities>;
const { owedNights } = proxyActivities<Activities>(NIGHTS_ACTIVITY);
const { runNight } = proxyActivities<Activities>(RUN_NIGHT_ACTIVITY);

/** Set by Temporal on every workflow a schedule starts: the time the schedule meant to run. */
const SCHEDULED_START_TIME = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export interface NightlyTriggerInput {
  readonly tenant: string;
  readonly lookbackDays: number;
}

export interface NightlyTriggerResult {
  readonly runDate: string;
  readonly nights: readonly RunNightResult[];
}

/**
 * What the nightly schedule starts. It works out the business dates the run owes (in the bank's
 * time zone and calendar: a weekend or holiday run owes nothing new, the first run after a
 * holiday owes every date since) and runs them one after the other, in business-date order.
 */
export async function nightlyTrigger(input: NightlyTriggerInput): Promise<NightlyTriggerResult> {
  const info = workflowInfo();
  const scheduledAt = (info.typedSearchAttributes.get(SCHEDULED_START_TIME) ?? info.startTime).toISOString();
  const { runDate, owed } = await owedNights({ tenant: input.tenant, scheduledAt, lookbackDays: input.lookbackDays });
  if (owed.length === 0) {
    setCurrentDetails(`run of ${runDate}: nothing owed (every business date in the window completed)`);
    return { runDate, nights: [] };
  }
  const nights: RunNightResult[] = [];
  for (const businessDate of owed) {
    setCurrentDetails(`run of ${runDate}: night ${businessDate} (${nights.length + 1} of ${owed.length}: ${owed.join(', ')})`);
    const result = await runNight.executeWithOptions({ ...RUN_NIGHT_ACTIVITY, summary: `night ${businessDate}` }, [{ businessDate, tenant: input.tenant }]);
    nights.push(result);
    if (result.status !== 'COMPLETED') log.warn('a night did not complete; later dates still run', { businessDate, status: result.status });
  }
  setCurrentDetails(`run of ${runDate}: ${nights.map((n) => `${n.businessDate} ${n.status}`).join(', ')}`);
  return { runDate, nights };
}

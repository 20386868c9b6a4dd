import { Context } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { datesOwed, localDate, type BusinessCalendar } from '../domain/calendar';
import { dailyWorkflowId } from '../domain/ids';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../common/failures';
import { TriggerRejected } from '../triggers/errors';
import type { TemporalNightTriggers } from '../triggers/temporal-triggers';

export interface NightsDeps {
  readonly calendar: BusinessCalendar;
  readonly client: () => Promise<Client>;
  readonly triggers: () => Promise<TemporalNightTriggers>;
  readonly logger: Logger;
}

export interface OwedNightsInput {
  readonly tenant: string;
  /** When the schedule meant to run (ISO); the run's local date decides what is owed. */
  readonly scheduledAt: string;
  readonly lookbackDays: number;
}

export interface OwedNights {
  readonly runDate: string;
  /** Business dates still to process, ascending. */
  readonly owed: readonly string[];
  /** Business dates in the window that already completed. */
  readonly done: readonly string[];
}

export interface RunNightResult {
  readonly businessDate: string;
  readonly workflowId: string;
  readonly status: 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TERMINATED' | 'TIMED_OUT';
}

const HEARTBEAT_MS = 20_000;

export function createNightsActivities(deps: NightsDeps) {
  return {
    /** The business dates a scheduled run owes: business days in its look-back window not yet completed. */
    async owedNights(input: OwedNightsInput): Promise<OwedNights> {
      const client = await deps.client();
      const runDate = localDate(deps.calendar, input.scheduledAt);
      const owed: string[] = [];
      const done: string[] = [];
      for (const date of datesOwed(deps.calendar, runDate, input.lookbackDays)) {
        let status: string | undefined;
        try {
          status = (await client.workflow.getHandle(dailyWorkflowId(date, input.tenant)).describe()).status.name;
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError)) throw error;
        }
        (status === 'COMPLETED' ? done : owed).push(date);
      }
      deps.logger.info({ tenant: input.tenant, runDate, owed, done: done.length }, 'nights owed');
      return { runDate, owed, done };
    },

    /**
     * Starts the night (or joins it when it runs) and waits until it closes, heartbeating. A night
     * parked for a decision keeps this waiting: later dates wait for it, in business-date order.
     */
    async runNight(input: { readonly businessDate: string; readonly tenant: string }): Promise<RunNightResult> {
      const ctx = Context.current();
      const client = await deps.client();
      const triggers = await deps.triggers();
      const workflowId = dailyWorkflowId(input.businessDate, input.tenant);
      let runId: string | undefined;
      try {
        ({ runId } = await triggers.startNight({ businessDate: input.businessDate, tenant: input.tenant }));
      } catch (error) {
        if ((error as { code?: string }).code === 'NIGHT_COMPLETED') return { businessDate: input.businessDate, workflowId, status: 'COMPLETED' };
        // Another tenant, a date outside the window: retrying cannot change the policy's answer.
        if (error instanceof TriggerRejected) throw ApplicationFailure.create({ type: FailureType.InvalidInput, message: error.message, nonRetryable: true });
        throw error;
      }
      const handle = client.workflow.getHandle(workflowId, runId);
      const beat = setInterval(() => ctx.heartbeat({ workflowId }), HEARTBEAT_MS);
      ctx.heartbeat({ workflowId });
      try {
        await Promise.race([handle.result(), ctx.cancelled]);
        return { businessDate: input.businessDate, workflowId, status: 'COMPLETED' };
      } catch (error) {
        if (error instanceof WorkflowFailedError) {
          const status = (await handle.describe()).status.name;
          return { businessDate: input.businessDate, workflowId, status: status === 'RUNNING' || status === 'COMPLETED' ? 'FAILED' : (status as RunNightResult['status']) };
        }
        throw error;
      } finally {
        clearInterval(beat);
      }
    },
  };
}

/**
 * Backfill: one night per business date of a range, at most `concurrency` at a time. Dates that
 * already completed are skipped unless forced (a forced night replaces its reports; the export
 * is idempotent per date, so nothing is doubled).
 */
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { businessDatesBetween, type BusinessCalendar } from '../domain/calendar';
import { dailyWorkflowId } from '../domain/ids';
import type { TemporalNightTriggers } from './temporal-triggers';

export interface BackfillOptions {
  readonly client: Client;
  readonly triggers: TemporalNightTriggers;
  readonly calendar: BusinessCalendar;
  readonly tenant: string;
  readonly from: string;
  readonly to: string;
  readonly concurrency: number;
  readonly force?: boolean;
  /** Called as each date settles. */
  readonly onNight?: (night: BackfillNight) => void;
}

export interface BackfillNight {
  readonly businessDate: string;
  readonly workflowId: string;
  readonly outcome: 'COMPLETED' | 'SKIPPED_COMPLETED' | 'FAILED' | 'CANCELLED' | 'TERMINATED' | 'TIMED_OUT';
  readonly durationMs: number;
}

export interface BackfillReport {
  readonly tenant: string;
  readonly dates: number;
  readonly nights: readonly BackfillNight[];
  readonly wallMs: number;
}

export async function backfill(options: BackfillOptions): Promise<BackfillReport> {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new RangeError('concurrency must be an integer ≥ 1');
  const dates = businessDatesBetween(options.calendar, options.from, options.to);
  const began = Date.now();
  const nights: BackfillNight[] = [];
  let next = 0;

  const runOne = async (businessDate: string): Promise<BackfillNight> => {
    const started = Date.now();
    const workflowId = dailyWorkflowId(businessDate, options.tenant);
    const settle = (outcome: BackfillNight['outcome']): BackfillNight => ({ businessDate, workflowId, outcome, durationMs: Date.now() - started });
    if (!options.force && (await statusOf(options.client, workflowId)) === 'COMPLETED') return settle('SKIPPED_COMPLETED');
    const { runId } = await options.triggers.startNight({ businessDate, tenant: options.tenant, ...(options.force ? { force: true } : {}) });
    const handle = options.client.workflow.getHandle(workflowId, runId);
    try {
      await handle.result();
      return settle('COMPLETED');
    } catch (error) {
      if (!(error instanceof WorkflowFailedError)) throw error;
      const status = await statusOf(options.client, workflowId);
      return settle(status === 'CANCELLED' || status === 'TERMINATED' || status === 'TIMED_OUT' ? status : 'FAILED');
    }
  };

  // A fixed pool of lanes, each taking the next date: dates start in ascending order.
  const lane = async () => {
    while (next < dates.length) {
      const date = dates[next++] as string;
      const night = await runOne(date);
      nights.push(night);
      options.onNight?.(night);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, dates.length) }, lane));
  nights.sort((a, b) => (a.businessDate < b.businessDate ? -1 : 1));
  return { tenant: options.tenant, dates: dates.length, nights, wallMs: Date.now() - began };
}

async function statusOf(client: Client, workflowId: string): Promise<string | undefined> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).status.name;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { sparkJanitor } from '../workflows/janitor';

/** The default tenant's janitor schedule id. */
export const JANITOR_SCHEDULE_ID = 'nightjar-spark-janitor';

/**
 * A tenant's janitor schedule id: two tenants on one Temporal namespace each keep their own (one
 * shared id would be upserted by both workers, each pointing it at its own task queue).
 */
export function janitorScheduleId(tenant = 'default'): string {
  return tenant === 'default' ? JANITOR_SCHEDULE_ID : `${JANITOR_SCHEDULE_ID}-${tenant}`;
}

export interface JanitorScheduleOptions {
  /** The tenant whose worker sweeps (default: `default`). */
  readonly tenant?: string;
  readonly taskQueue: string;
  readonly everySeconds: number;
  readonly minAgeSeconds: number;
}

/** The janitor's schedule as Temporal stores it: one sweep at a time, missed ticks not caught up. */
export function janitorSchedule(options: JanitorScheduleOptions): ScheduleOptions {
  const scheduleId = janitorScheduleId(options.tenant);
  return {
    scheduleId,
    spec: { intervals: [{ every: options.everySeconds * 1000 }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'sparkJanitor' satisfies (typeof sparkJanitor)['name'],
      taskQueue: options.taskQueue,
      args: [{ minAgeSeconds: options.minAgeSeconds }] satisfies Parameters<typeof sparkJanitor>,
      workflowId: `${scheduleId}-run`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: options.everySeconds * 1000 },
    state: { note: 'Deletes Kubernetes objects left by closed or unknown Nightjar workflows.' },
  };
}

/** Creates the janitor schedule, or brings an existing one up to date (idempotent). */
export async function ensureJanitorSchedule(client: Client, options: JanitorScheduleOptions): Promise<void> {
  const wanted = janitorSchedule(options);
  try {
    await client.schedule.create(wanted);
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(wanted.scheduleId).update((previous) => ({
      ...previous,
      spec: wanted.spec,
      action: { ...previous.action, ...wanted.action } as typeof previous.action,
      policies: { ...previous.policies, ...wanted.policies },
    }));
  }
}

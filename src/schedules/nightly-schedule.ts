/**
 * The nightly T+1 run of a tenant as a Temporal Schedule: once a day at a wall-clock time in the
 * tenant's zone, start `nightlyTrigger`, which works out the business dates owed and runs them.
 *
 * DST: Temporal matches calendar specs against the literal wall clock. A time inside a
 * spring-forward gap (02:30 in Europe/Brussels) does not fire that night: the next night's run
 * owes the skipped date too, as every business date of its look-back window not yet completed. A
 * time inside a fall-back overlap fires once, at one of its two occurrences (Temporal Server 1.32
 * takes the second, on winter time). In Europe and North America transitions happen between 01:00
 * and 03:00 local time: a run at 04:00 or later meets neither.
 */
import { ScheduleAlreadyRunning, type Client, type ScheduleDescription, type ScheduleOptions } from '@temporalio/client';
import { TZDate } from '@date-fns/tz';
import { z } from 'zod';
import { TimeZoneSchema, WallClockTimeSchema } from '../domain/calendar';
import { describeIssues, TenantSchema } from '../domain/triggers';
import { SearchAttr } from '../workflows/search-attributes';

/** The workflow type a nightly schedule starts (registered by the worker from src/workflows). */
export const NIGHTLY_TRIGGER_WORKFLOW_TYPE = 'nightlyTrigger';

export const NIGHTLY_OVERLAP_POLICIES = ['SKIP', 'BUFFER_ONE', 'ALLOW_ALL'] as const;
export type NightlyOverlapPolicy = (typeof NIGHTLY_OVERLAP_POLICIES)[number];

/** What a nightly schedule passes to `nightlyTrigger`. */
export interface NightlyTriggerArgs {
  readonly tenant: string;
  readonly lookbackDays: number;
}

export interface NightlyScheduleOptions {
  readonly tenant: string;
  readonly taskQueue: string;
  /** Wall-clock time of the run, `HH:MM`, in `timeZone`. */
  readonly time: string;
  /** IANA zone the time is read in, e.g. 'Europe/Brussels'. */
  readonly timeZone: string;
  /** How late a missed run (server down at the time) may still start. */
  readonly catchupWindowSeconds: number;
  /** What happens when a run is due while the previous one still runs. Default BUFFER_ONE. */
  readonly overlap?: NightlyOverlapPolicy;
  /** How many calendar days back a run looks for business dates not yet completed. */
  readonly lookbackDays: number;
  /** The schedule's note at creation; a default describing the run otherwise. */
  readonly note?: string;
}

const NightlyScheduleOptionsSchema = z.object({
  tenant: TenantSchema,
  taskQueue: z.string().min(1, 'must name a task queue'),
  time: WallClockTimeSchema,
  timeZone: TimeZoneSchema,
  // The server does not honour catch-up windows under 10 s.
  catchupWindowSeconds: z.number().int('must be a whole number of seconds').min(10, 'must be at least 10 seconds'),
  overlap: z.enum(NIGHTLY_OVERLAP_POLICIES).default('BUFFER_ONE'),
  lookbackDays: z.number().int('must be a whole number of days').min(1, 'must be at least 1 day').max(366, 'must be at most 366 days'),
  note: z.string().max(1000, 'at most 1000 characters').optional(),
});

/** `nightjar-nightly-<tenant>`: the schedule's id, and the prefix of every run's workflow id. */
export function nightlyScheduleId(tenant: string): string {
  return `nightjar-nightly-${tenant}`;
}

/**
 * The nightly schedule as Temporal stores it. Throws a RangeError naming each invalid option.
 * Temporal appends the scheduled time to the workflow id, so every night's run has its own id.
 */
export function nightlySchedule(options: NightlyScheduleOptions): ScheduleOptions {
  const parsed = NightlyScheduleOptionsSchema.safeParse(options);
  if (!parsed.success) throw new RangeError(`invalid nightly schedule options: ${describeIssues(parsed.error)}`);
  const { tenant, taskQueue, time, timeZone, catchupWindowSeconds, overlap, lookbackDays, note } = parsed.data;
  const [hour, minute] = time.split(':').map(Number) as [number, number];
  const scheduleId = nightlyScheduleId(tenant);
  const args: [NightlyTriggerArgs] = [{ tenant, lookbackDays }];
  return {
    scheduleId,
    spec: { calendars: [{ hour, minute, comment: `daily at ${time} ${timeZone}` }], timezone: timeZone },
    action: {
      type: 'startWorkflow',
      workflowType: NIGHTLY_TRIGGER_WORKFLOW_TYPE,
      taskQueue,
      workflowId: scheduleId,
      args,
      staticSummary: `Nightly T+1 run of ${tenant} (${time} ${timeZone})`,
      // Each run is the tenant's from its start: the UI's list finds it by NightjarTenant.
      typedSearchAttributes: [{ key: SearchAttr.tenant, value: tenant }],
    },
    policies: {
      overlap,
      catchupWindow: catchupWindowSeconds * 1000,
      // A failed night must not stop the next one: it owes the failed dates too.
      pauseOnFailure: false,
    },
    memo: { tenant },
    state: {
      note: note ?? `Runs the business dates of the last ${lookbackDays} days not yet completed, nightly at ${time} ${timeZone}.`,
    },
  };
}

/**
 * Creates the tenant's nightly schedule, or brings an existing one up to date (spec, action,
 * policies). An existing schedule keeps its state: a schedule paused by an operator stays paused,
 * with its note. The schedule memo is set at creation only (Temporal cannot update it).
 */
export async function ensureNightlySchedule(client: Client, options: NightlyScheduleOptions): Promise<'created' | 'updated'> {
  const wanted = nightlySchedule(options);
  try {
    await client.schedule.create(wanted);
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  await client.schedule.getHandle(wanted.scheduleId).update((previous) => ({
    ...previous,
    spec: wanted.spec,
    action: { ...previous.action, ...wanted.action } as typeof previous.action,
    policies: { ...previous.policies, ...wanted.policies },
  }));
  return 'updated';
}

/** Pauses the tenant's nightly runs; `note` says why (shown in the UI and by describe). */
export async function pauseNightlySchedule(client: Client, tenant: string, note: string): Promise<void> {
  await client.schedule.getHandle(nightlyScheduleId(tenant)).pause(note);
}

/** Resumes the tenant's nightly runs. Runs missed while paused are not taken; the next run owes their dates. */
export async function unpauseNightlySchedule(client: Client, tenant: string, note: string): Promise<void> {
  await client.schedule.getHandle(nightlyScheduleId(tenant)).unpause(note);
}

export interface NightlyScheduleSummary {
  readonly scheduleId: string;
  readonly tenant: string;
  readonly paused: boolean;
  readonly note?: string;
  /** `HH:MM` of the daily run, when the spec is one daily calendar time. */
  readonly time?: string;
  readonly timeZone: string;
  readonly taskQueue?: string;
  readonly workflowType: string;
  readonly lookbackDays?: number;
  readonly overlap: string;
  readonly catchupWindowSeconds: number;
  /** Upcoming runs, UTC (`…Z`). */
  readonly nextActionTimes: string[];
  /** The same instants in the schedule's zone, with their offset (`2026-11-25T06:00:00.000+01:00`). */
  readonly nextActionLocalTimes: string[];
  /** The latest runs started, oldest first. */
  readonly recentActions: { scheduledAt: string; takenAt: string; workflowId: string; runId: string }[];
  readonly runningWorkflowIds: string[];
  readonly actionsTaken: number;
  readonly actionsMissedCatchupWindow: number;
  readonly actionsSkippedOverlap: number;
}

/** The daily time of a spec made by `nightlySchedule`: one calendar with one hour and one minute. */
function dailyTime(spec: ScheduleDescription['spec']): string | undefined {
  const calendars = spec.calendars ?? [];
  if (calendars.length !== 1) return undefined;
  const [{ hour, minute }] = calendars as [(typeof calendars)[number]];
  const single = (ranges: typeof hour) => (ranges.length === 1 && ranges[0]!.start === ranges[0]!.end ? ranges[0]!.start : undefined);
  const h = single(hour);
  const m = single(minute);
  if (h === undefined || m === undefined) return undefined;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}

function lookbackDaysOf(args: readonly unknown[] | undefined): number | undefined {
  const first = args?.[0];
  if (typeof first !== 'object' || first === null) return undefined;
  const value = (first as Record<string, unknown>).lookbackDays;
  return typeof value === 'number' ? value : undefined;
}

/** A compact, JSON-friendly view of the tenant's nightly schedule. Throws ScheduleNotFoundError when there is none. */
export async function describeNightlySchedule(client: Client, tenant: string): Promise<NightlyScheduleSummary> {
  const scheduleId = nightlyScheduleId(tenant);
  const d = await client.schedule.getHandle(scheduleId).describe();
  const timeZone = d.spec.timezone || 'UTC';
  const time = dailyTime(d.spec);
  const lookbackDays = lookbackDaysOf(d.action.args);
  return {
    scheduleId,
    tenant,
    paused: d.state.paused,
    ...(d.state.note ? { note: d.state.note } : {}),
    ...(time ? { time } : {}),
    timeZone,
    ...(d.action.taskQueue ? { taskQueue: d.action.taskQueue } : {}),
    workflowType: d.action.workflowType,
    ...(lookbackDays !== undefined ? { lookbackDays } : {}),
    // The server's default when unspecified.
    overlap: d.policies.overlap ?? 'SKIP',
    catchupWindowSeconds: Math.round(d.policies.catchupWindow / 1000),
    nextActionTimes: d.info.nextActionTimes.map((t) => t.toISOString()),
    nextActionLocalTimes: d.info.nextActionTimes.map((t) => new TZDate(t.getTime(), timeZone).toISOString()),
    recentActions: d.info.recentActions.map((a) => ({
      scheduledAt: a.scheduledAt.toISOString(),
      takenAt: a.takenAt.toISOString(),
      workflowId: a.action.workflow.workflowId,
      runId: a.action.workflow.firstExecutionRunId,
    })),
    runningWorkflowIds: d.info.runningActions.map((a) => a.workflow.workflowId),
    actionsTaken: d.info.numActionsTaken,
    actionsMissedCatchupWindow: d.info.numActionsMissedCatchupWindow,
    actionsSkippedOverlap: d.info.numActionsSkippedOverlap,
  };
}

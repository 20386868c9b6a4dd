import { ScheduleNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { addDays } from '../../src/domain/business-date';
import { BusinessCalendarSchema, localDate, wallTimeToInstant } from '../../src/domain/calendar';
import {
  describeNightlySchedule,
  ensureNightlySchedule,
  nightlySchedule,
  nightlyScheduleId,
  pauseNightlySchedule,
  unpauseNightlySchedule,
  type NightlyScheduleOptions,
} from '../../src/schedules/nightly-schedule';
import { createDevServerEnv, uniqueId } from '../helpers/temporal';

jest.setTimeout(120_000);

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

/** Schedules made by the current test, deleted after it whatever its outcome. */
const made: string[] = [];
afterEach(async () => {
  for (const scheduleId of made.splice(0)) {
    await env.client.schedule
      .getHandle(scheduleId)
      .delete()
      .catch(() => undefined);
  }
});

/** Options for a tenant no other test uses; its schedule is deleted after the test. */
function optionsFor(overrides: Partial<NightlyScheduleOptions> = {}): NightlyScheduleOptions {
  const tenant = uniqueId('t');
  made.push(nightlyScheduleId(tenant));
  return {
    tenant,
    // No worker polls this queue: nothing the schedule starts gets further than its first task.
    taskQueue: uniqueId('nightly-nobody-polls'),
    time: '06:00',
    timeZone: 'Europe/Brussels',
    catchupWindowSeconds: 3600,
    lookbackDays: 7,
    ...overrides,
  };
}

const BRUSSELS = BusinessCalendarSchema.parse({ region: 'EU-TARGET', timeZone: 'Europe/Brussels' });
const HOUR_MS = 3600_000;

test('ensureNightlySchedule creates the schedule, then updates it in place; describe shows the zone, the time and the next runs at 06:00 Brussels time', async () => {
  const options = optionsFor();
  await expect(ensureNightlySchedule(env.client, options)).resolves.toBe('created');

  const created = await describeNightlySchedule(env.client, options.tenant);
  expect(created).toMatchObject({
    scheduleId: `nightjar-nightly-${options.tenant}`,
    tenant: options.tenant,
    paused: false,
    note: 'Runs the business dates of the last 7 days not yet completed, nightly at 06:00 Europe/Brussels.',
    time: '06:00',
    timeZone: 'Europe/Brussels',
    taskQueue: options.taskQueue,
    workflowType: 'nightlyTrigger',
    lookbackDays: 7,
    overlap: 'BUFFER_ONE',
    catchupWindowSeconds: 3600,
    recentActions: [],
    runningWorkflowIds: [],
    actionsTaken: 0,
  });

  // Every upcoming run is 06:00 on the wall clock in Brussels: 05:00Z in winter (CET), 04:00Z in summer (CEST).
  const now = Date.now();
  expect(created.nextActionTimes.length).toBeGreaterThanOrEqual(5);
  expect(created.nextActionLocalTimes).toHaveLength(created.nextActionTimes.length);
  created.nextActionTimes.forEach((utc, i) => {
    const local = created.nextActionLocalTimes[i]!;
    expect(local).toMatch(/T06:00:00\.000\+0[12]:00$/);
    expect(Date.parse(local)).toBe(Date.parse(utc));
    expect(utc).toMatch(local.endsWith('+01:00') ? /T05:00:00\.000Z$/ : /T04:00:00\.000Z$/);
    expect(utc).toBe(wallTimeToInstant(localDate(BRUSSELS, utc), '06:00', 'Europe/Brussels'));
  });
  expect(Date.parse(created.nextActionTimes[0]!)).toBeGreaterThan(now - 60_000);
  expect(Date.parse(created.nextActionTimes[0]!)).toBeLessThanOrEqual(now + 24 * HOUR_MS);
  const localDates = created.nextActionTimes.map((t) => localDate(BRUSSELS, t));
  expect(new Set(localDates).size).toBe(localDates.length);

  // The raw description: the action and policies as nightlySchedule built them.
  const raw = await env.client.schedule.getHandle(nightlyScheduleId(options.tenant)).describe();
  expect(raw.action).toMatchObject({
    workflowId: `nightjar-nightly-${options.tenant}`,
    args: [{ tenant: options.tenant, lookbackDays: 7 }],
    staticSummary: `Nightly T+1 run of ${options.tenant} (06:00 Europe/Brussels)`,
  });
  expect(raw.policies).toEqual({ overlap: 'BUFFER_ONE', catchupWindow: 3600_000, pauseOnFailure: false });
  expect(raw.memo).toEqual({ tenant: options.tenant });

  // A second call (a redeploy with new settings) updates instead of failing.
  const moved = { ...options, time: '07:30', timeZone: 'America/New_York', lookbackDays: 10, overlap: 'SKIP' as const, catchupWindowSeconds: 7200 };
  await expect(ensureNightlySchedule(env.client, moved)).resolves.toBe('updated');
  const updated = await describeNightlySchedule(env.client, options.tenant);
  expect(updated).toMatchObject({
    time: '07:30',
    timeZone: 'America/New_York',
    lookbackDays: 10,
    overlap: 'SKIP',
    catchupWindowSeconds: 7200,
    workflowType: 'nightlyTrigger',
    paused: false,
  });
  for (const local of updated.nextActionLocalTimes) expect(local).toMatch(/T07:30:00\.000-0[45]:00$/);
  for (const utc of updated.nextActionTimes) expect(utc).toMatch(/T1[12]:30:00\.000Z$/);
});

test('pause and unpause carry their note; a paused schedule stays paused when ensureNightlySchedule runs again', async () => {
  const options = optionsFor();
  await ensureNightlySchedule(env.client, options);

  await pauseNightlySchedule(env.client, options.tenant, 'core banking migration weekend');
  expect(await describeNightlySchedule(env.client, options.tenant)).toMatchObject({ paused: true, note: 'core banking migration weekend' });

  await expect(ensureNightlySchedule(env.client, { ...options, time: '05:15' })).resolves.toBe('updated');
  expect(await describeNightlySchedule(env.client, options.tenant)).toMatchObject({ paused: true, note: 'core banking migration weekend', time: '05:15' });

  await unpauseNightlySchedule(env.client, options.tenant, 'migration done');
  const resumed = await describeNightlySchedule(env.client, options.tenant);
  expect(resumed).toMatchObject({ paused: false, note: 'migration done', time: '05:15' });
  expect(resumed.nextActionTimes.length).toBeGreaterThan(0);
});

test('a run started by the schedule gets the schedule id plus its scheduled time as workflow id, and shows in recent actions', async () => {
  const options = optionsFor();
  await ensureNightlySchedule(env.client, options);
  const handle = env.client.schedule.getHandle(nightlyScheduleId(options.tenant));
  await handle.trigger();

  let summary = await describeNightlySchedule(env.client, options.tenant);
  for (let i = 0; i < 50 && summary.recentActions.length === 0; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    summary = await describeNightlySchedule(env.client, options.tenant);
  }
  expect(summary.recentActions).toHaveLength(1);
  const [action] = summary.recentActions;
  expect(action!.workflowId).toMatch(new RegExp(`^nightjar-nightly-${options.tenant}-\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$`));
  expect(summary.actionsTaken).toBe(1);

  const run = env.client.workflow.getHandle(action!.workflowId, action!.runId);
  const started = await run.describe();
  expect(started.type).toBe('nightlyTrigger');
  expect(started.taskQueue).toBe(options.taskQueue);
  await run.terminate('end of test');
});

test('Temporal matches the literal wall clock: 02:30 Brussels does not fire on the spring-forward night and fires once on the fall-back night', async () => {
  const year = new Date().getUTCFullYear() + 1;
  const lastSunday = (month: number) => {
    const last = new Date(Date.UTC(year, month + 1, 0));
    return new Date(Date.UTC(year, month, last.getUTCDate() - last.getUTCDay())).toISOString().slice(0, 10);
  };
  const springForward = lastSunday(2);
  const fallBack = lastSunday(9);
  const options = optionsFor({ time: '02:30' });
  const schedule = nightlySchedule(options);
  // Five nights, the transition night in the middle (the schedule's own spec, bounded).
  const around = (date: string) => ({
    startAt: new Date(Date.parse(`${date}T00:00:00Z`) - 2 * 24 * HOUR_MS),
    endAt: new Date(Date.parse(`${date}T00:00:00Z`) + 3 * 24 * HOUR_MS),
  });

  await env.client.schedule.create({ ...schedule, spec: { ...schedule.spec, ...around(springForward) } });
  const spring = await describeNightlySchedule(env.client, options.tenant);
  expect(spring.nextActionTimes.map((t) => localDate(BRUSSELS, t))).toEqual([-2, -1, 1, 2].map((d) => addDays(springForward, d)));
  for (const local of spring.nextActionLocalTimes) expect(local).toMatch(/T02:30:00\.000\+0[12]:00$/);

  await env.client.schedule.getHandle(schedule.scheduleId).update((previous) => ({ ...previous, spec: { ...schedule.spec, ...around(fallBack) } }));
  const autumn = await describeNightlySchedule(env.client, options.tenant);
  expect(autumn.nextActionTimes.map((t) => localDate(BRUSSELS, t))).toEqual([-2, -1, 0, 1, 2].map((d) => addDays(fallBack, d)));
  // One of the two 02:30s, whichever the server picks (Temporal Server 1.32 takes the second, 02:30 CET);
  // wallTimeToInstant names the first, so the run's date is taken from its scheduled time, not recomputed.
  const onFallBack = autumn.nextActionLocalTimes[2]!;
  expect([`${fallBack}T02:30:00.000+02:00`, `${fallBack}T02:30:00.000+01:00`]).toContain(onFallBack);
  expect(wallTimeToInstant(fallBack, '02:30', 'Europe/Brussels')).toBe(`${fallBack}T00:30:00.000Z`);
});

test('describe, pause and unpause of a tenant without a schedule fail with ScheduleNotFoundError', async () => {
  const tenant = uniqueId('none');
  await expect(describeNightlySchedule(env.client, tenant)).rejects.toBeInstanceOf(ScheduleNotFoundError);
  await expect(pauseNightlySchedule(env.client, tenant, 'x')).rejects.toBeInstanceOf(ScheduleNotFoundError);
  await expect(unpauseNightlySchedule(env.client, tenant, 'x')).rejects.toBeInstanceOf(ScheduleNotFoundError);
});

import pino from 'pino';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createNightsActivities } from '../../src/activities/nights';
import { datesOwed, localDate, type BusinessCalendar } from '../../src/domain/calendar';
import { dailyWorkflowId } from '../../src/domain/ids';
import { TemporalNightTriggers } from '../../src/triggers/temporal-triggers';
import { nightlyTrigger } from '../../src/workflows';
import { fakeActivities } from '../helpers/fake-activities';
import { createDevServerEnv, uniqueId, workflowBundle } from '../helpers/temporal';
import { everyTenant, testTarget } from '../helpers/trigger-policy';

jest.setTimeout(120_000);

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

test('a scheduled run owes every business date of its window not yet completed, runs them in order, and owes nothing the second time', async () => {
  const tenant = `t${Date.now().toString(36).slice(-6)}`;
  const taskQueue = uniqueId('nightly');
  // Weekends off, and the day before yesterday a holiday: the window skips both.
  const today = new Date();
  const holiday = new Date(today.getTime() - 2 * 86_400_000).toISOString().slice(0, 10);
  const calendar: BusinessCalendar = { region: 'test', timeZone: 'UTC', weekend: [6, 7], holidays: [holiday] };
  const { activities, calls } = fakeActivities({});
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: {
      ...activities,
      ...createNightsActivities({
        calendar,
        client: async () => env.client,
        triggers: async () => new TemporalNightTriggers(env.client, testTarget(taskQueue, everyTenant(), env.namespace ?? 'default')),
        logger: pino({ enabled: false }),
      }),
    },
  });
  await worker.runUntil(async () => {
    const run = (id: string) => env.client.workflow.execute(nightlyTrigger, { taskQueue, workflowId: id, args: [{ tenant, lookbackDays: 6 }] });
    const first = await run(uniqueId('nightly-run'));
    const expected = datesOwed(calendar, localDate(calendar, Date.now()), 6);
    expect(expected).not.toContain(holiday);
    expect(first.runDate).toBe(localDate(calendar, Date.now()));
    expect(first.nights.map((n) => n.businessDate)).toEqual(expected);
    expect(first.nights.every((n) => n.status === 'COMPLETED')).toBe(true);
    // In business-date order, one after the other: each night finished before the next started.
    const finalized = calls.finalized.map((f) => f.manifest.businessDate);
    expect(finalized).toEqual(expected);
    for (const date of expected) {
      expect((await env.client.workflow.getHandle(dailyWorkflowId(date, tenant)).describe()).status.name).toBe('COMPLETED');
    }

    const second = await run(uniqueId('nightly-run'));
    expect(second.nights).toEqual([]);
    expect(calls.finalized).toHaveLength(expected.length);
  });
});

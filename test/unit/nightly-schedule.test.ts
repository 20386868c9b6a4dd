import { nightlySchedule, nightlyScheduleId, type NightlyScheduleOptions } from '../../src/schedules/nightly-schedule';
import { SearchAttr } from '../../src/workflows/search-attributes';

const OPTIONS: NightlyScheduleOptions = {
  tenant: 'emea',
  taskQueue: 'nightjar',
  time: '06:00',
  timeZone: 'Europe/Brussels',
  catchupWindowSeconds: 6 * 3600,
  lookbackDays: 7,
};

describe('nightlySchedule', () => {
  test('one run a day at the wall-clock time in the zone, starting nightlyTrigger with the tenant and look-back', () => {
    expect(nightlySchedule(OPTIONS)).toEqual({
      scheduleId: 'nightjar-nightly-emea',
      spec: { calendars: [{ hour: 6, minute: 0, comment: 'daily at 06:00 Europe/Brussels' }], timezone: 'Europe/Brussels' },
      action: {
        type: 'startWorkflow',
        workflowType: 'nightlyTrigger',
        taskQueue: 'nightjar',
        workflowId: 'nightjar-nightly-emea',
        args: [{ tenant: 'emea', lookbackDays: 7 }],
        staticSummary: 'Nightly T+1 run of emea (06:00 Europe/Brussels)',
        typedSearchAttributes: [{ key: SearchAttr.tenant, value: 'emea' }],
      },
      policies: { overlap: 'BUFFER_ONE', catchupWindow: 21_600_000, pauseOnFailure: false },
      memo: { tenant: 'emea' },
      state: { note: 'Runs the business dates of the last 7 days not yet completed, nightly at 06:00 Europe/Brussels.' },
    });
  });

  test('the overlap policy, minutes and note are taken as given', () => {
    const schedule = nightlySchedule({ ...OPTIONS, time: '23:45', timeZone: 'America/New_York', overlap: 'SKIP', note: 'US books close at 17:00 ET' });
    expect(schedule.spec).toEqual({ calendars: [{ hour: 23, minute: 45, comment: 'daily at 23:45 America/New_York' }], timezone: 'America/New_York' });
    expect(schedule.policies?.overlap).toBe('SKIP');
    expect(schedule.state?.note).toBe('US books close at 17:00 ET');
    expect(nightlySchedule({ ...OPTIONS, overlap: 'ALLOW_ALL' }).policies?.overlap).toBe('ALLOW_ALL');
  });

  test('the schedule id and the workflow id prefix are derived from the tenant', () => {
    expect(nightlyScheduleId('apac-2')).toBe('nightjar-nightly-apac-2');
    const schedule = nightlySchedule({ ...OPTIONS, tenant: 'apac-2' });
    expect(schedule.scheduleId).toBe('nightjar-nightly-apac-2');
    expect(schedule.action.workflowId).toBe('nightjar-nightly-apac-2');
  });

  test('refuses invalid options with a message naming each field', () => {
    expect(() => nightlySchedule({ ...OPTIONS, time: '6:00' })).toThrow('invalid nightly schedule options: time: must be a 24-hour time written as HH:MM (00:00 to 23:59)');
    expect(() => nightlySchedule({ ...OPTIONS, time: '24:00' })).toThrow(/time: must be a 24-hour time/);
    expect(() => nightlySchedule({ ...OPTIONS, timeZone: 'CET+1' })).toThrow(/timeZone: 'CET\+1' is not an IANA time zone name/);
    expect(() => nightlySchedule({ ...OPTIONS, timeZone: 'europe/brussels' })).toThrow("timeZone: 'europe/brussels' must be spelt 'Europe/Brussels'");
    expect(() => nightlySchedule({ ...OPTIONS, tenant: 'EMEA' })).toThrow(/tenant: must be 1-32 lower-case letters/);
    expect(() => nightlySchedule({ ...OPTIONS, catchupWindowSeconds: 5 })).toThrow('catchupWindowSeconds: must be at least 10 seconds');
    expect(() => nightlySchedule({ ...OPTIONS, lookbackDays: 0 })).toThrow('lookbackDays: must be at least 1 day');
    expect(() => nightlySchedule({ ...OPTIONS, overlap: 'TERMINATE_OTHER' as never })).toThrow(/overlap: /);
    expect(() => nightlySchedule({ ...OPTIONS, taskQueue: '', lookbackDays: 2.5 })).toThrow(
      'invalid nightly schedule options: taskQueue: must name a task queue; lookbackDays: must be a whole number of days',
    );
  });
});

import { z } from 'zod';
import {
  BusinessCalendarSchema,
  businessDatesBetween,
  datesOwed,
  isBusinessDay,
  localDate,
  previousBusinessDay,
  wallTimeToInstant,
  type BusinessCalendar,
  type BusinessCalendarInput,
} from '../../src/domain/calendar';

// 2026: Good Friday 3 April, Easter Monday 6 April; 25 December is a Friday, 1 January 2027 a Friday.
const TARGET: BusinessCalendar = BusinessCalendarSchema.parse({
  region: 'EU-TARGET',
  timeZone: 'Europe/Brussels',
  holidays: ['2026-01-01', '2026-04-03', '2026-04-06', '2026-05-01', '2026-12-25', '2026-12-26', '2027-01-01'],
});

// Memorial Day 2026 is Monday 25 May.
const US: BusinessCalendar = BusinessCalendarSchema.parse({
  region: 'US',
  timeZone: 'America/New_York',
  holidays: ['2026-05-25', '2026-07-03', '2026-11-26'],
});

describe('isBusinessDay', () => {
  test('weekdays are business days, Saturdays and Sundays are not', () => {
    expect(isBusinessDay(TARGET, '2026-11-23')).toBe(true); // Monday
    expect(isBusinessDay(TARGET, '2026-11-27')).toBe(true); // Friday
    expect(isBusinessDay(TARGET, '2026-11-28')).toBe(false); // Saturday
    expect(isBusinessDay(TARGET, '2026-11-29')).toBe(false); // Sunday
  });

  test('holidays of the calendar are not business days; another calendar’s holidays are', () => {
    expect(isBusinessDay(TARGET, '2026-04-03')).toBe(false);
    expect(isBusinessDay(TARGET, '2026-04-06')).toBe(false);
    expect(isBusinessDay(TARGET, '2026-05-25')).toBe(true);
    expect(isBusinessDay(US, '2026-05-25')).toBe(false);
    expect(isBusinessDay(US, '2026-04-06')).toBe(true);
  });

  test('a configured weekend replaces Saturday and Sunday', () => {
    const friSat = BusinessCalendarSchema.parse({ region: 'AE', timeZone: 'Asia/Dubai', weekend: [5, 6] });
    expect(isBusinessDay(friSat, '2026-11-27')).toBe(false); // Friday
    expect(isBusinessDay(friSat, '2026-11-28')).toBe(false); // Saturday
    expect(isBusinessDay(friSat, '2026-11-29')).toBe(true); // Sunday
  });

  test('a date that is not YYYY-MM-DD is refused, not guessed', () => {
    expect(() => isBusinessDay(TARGET, '2026-02-30')).toThrow("date '2026-02-30' is not a calendar date written as YYYY-MM-DD");
    expect(() => isBusinessDay(TARGET, '26-11-23')).toThrow(RangeError);
  });
});

describe('previousBusinessDay', () => {
  test('is strictly before the date, even when the date is a business day', () => {
    expect(previousBusinessDay(TARGET, '2026-11-25')).toBe('2026-11-24');
  });

  test('skips the weekend: Monday’s is the Friday before', () => {
    expect(previousBusinessDay(TARGET, '2026-11-23')).toBe('2026-11-20');
    expect(previousBusinessDay(TARGET, '2026-11-22')).toBe('2026-11-20');
  });

  test('skips the Easter long weekend: the Tuesday after Easter Monday gives Maundy Thursday', () => {
    expect(previousBusinessDay(TARGET, '2026-04-07')).toBe('2026-04-02');
    expect(previousBusinessDay(TARGET, '2026-04-06')).toBe('2026-04-02');
  });

  test('crosses the year end over Christmas and New Year holidays', () => {
    expect(previousBusinessDay(TARGET, '2027-01-04')).toBe('2026-12-31');
    expect(previousBusinessDay(TARGET, '2026-12-28')).toBe('2026-12-24');
  });

  test('a calendar with a year of holidays is reported, not looped over forever', () => {
    const everyDay = BusinessCalendarSchema.parse({ region: 'ALL', timeZone: 'UTC', weekend: [] });
    const closed = BusinessCalendarSchema.parse({ region: 'CLOSED', timeZone: 'UTC', holidays: businessDatesBetween(everyDay, '2025-06-01', '2026-12-31') });
    expect(previousBusinessDay(closed, '2025-06-03')).toBe('2025-05-30');
    expect(() => previousBusinessDay(closed, '2027-01-01')).toThrow(/CLOSED has no business day in the 366 days before 2027-01-01/);
  });
});

describe('businessDatesBetween', () => {
  test('includes both ends, ascending, without weekends and holidays', () => {
    expect(businessDatesBetween(TARGET, '2026-04-01', '2026-04-08')).toEqual(['2026-04-01', '2026-04-02', '2026-04-07', '2026-04-08']);
    expect(businessDatesBetween(TARGET, '2026-11-23', '2026-11-23')).toEqual(['2026-11-23']);
  });

  test('is empty when from is after to, or when the range holds no business day', () => {
    expect(businessDatesBetween(TARGET, '2026-11-24', '2026-11-23')).toEqual([]);
    expect(businessDatesBetween(TARGET, '2026-11-28', '2026-11-29')).toEqual([]);
  });

  test('names the argument that is not a date', () => {
    expect(() => businessDatesBetween(TARGET, '2026-11-31', '2026-12-02')).toThrow("from '2026-11-31'");
    expect(() => businessDatesBetween(TARGET, '2026-11-01', 'tomorrow')).toThrow("to 'tomorrow'");
  });
});

describe('datesOwed', () => {
  test('a weekday run owes the previous business date', () => {
    expect(datesOwed(TARGET, '2026-11-25', 1)).toEqual(['2026-11-24']);
    expect(datesOwed(TARGET, '2026-11-25', 5)).toEqual(['2026-11-20', '2026-11-23', '2026-11-24']);
  });

  test('a run on a Sunday owes no new date: Saturday is not a business date', () => {
    expect(datesOwed(TARGET, '2026-11-22', 1)).toEqual([]);
    // With a longer look-back it lists Thursday and Friday, which the caller finds completed.
    expect(datesOwed(TARGET, '2026-11-22', 3)).toEqual(['2026-11-19', '2026-11-20']);
  });

  test('after a Monday holiday: the holiday run and the Tuesday run owe only Friday, Wednesday’s owes Tuesday too', () => {
    expect(datesOwed(US, '2026-05-25', 3)).toEqual(['2026-05-22']);
    expect(datesOwed(US, '2026-05-26', 4)).toEqual(['2026-05-22']);
    expect(datesOwed(US, '2026-05-26', 1)).toEqual([]);
    expect(datesOwed(US, '2026-05-27', 5)).toEqual(['2026-05-22', '2026-05-26']);
  });

  test('the first run after the Easter weekend owes every business date since, in order', () => {
    expect(datesOwed(TARGET, '2026-04-07', 5)).toEqual(['2026-04-02']);
    expect(datesOwed(TARGET, '2026-04-09', 10)).toEqual(['2026-03-30', '2026-03-31', '2026-04-01', '2026-04-02', '2026-04-07', '2026-04-08']);
  });

  test('across the year end: the first run of 2027 owes the last business dates of 2026', () => {
    expect(datesOwed(TARGET, '2027-01-04', 7)).toEqual(['2026-12-28', '2026-12-29', '2026-12-30', '2026-12-31']);
    expect(datesOwed(TARGET, '2027-01-01', 1)).toEqual(['2026-12-31']);
    expect(datesOwed(TARGET, '2027-01-02', 3)).toEqual(['2026-12-30', '2026-12-31']);
  });

  test('a look-back of 0 owes nothing; a negative or fractional one is refused', () => {
    expect(datesOwed(TARGET, '2026-11-25', 0)).toEqual([]);
    expect(() => datesOwed(TARGET, '2026-11-25', -1)).toThrow('lookbackDays must be a whole number of days, 0 or more (got -1)');
    expect(() => datesOwed(TARGET, '2026-11-25', 1.5)).toThrow(RangeError);
    expect(() => datesOwed(TARGET, '2026-11-31', 3)).toThrow("runDate '2026-11-31'");
  });
});

describe('wallTimeToInstant', () => {
  test('outside DST transitions: the zone’s standard or summer offset', () => {
    expect(wallTimeToInstant('2026-01-15', '06:00', 'Europe/Brussels')).toBe('2026-01-15T05:00:00.000Z');
    expect(wallTimeToInstant('2026-07-15', '06:00', 'Europe/Brussels')).toBe('2026-07-15T04:00:00.000Z');
    expect(wallTimeToInstant('2026-01-15', '06:00', 'America/New_York')).toBe('2026-01-15T11:00:00.000Z');
    expect(wallTimeToInstant('2026-07-15', '06:00', 'America/New_York')).toBe('2026-07-15T10:00:00.000Z');
    expect(wallTimeToInstant('2026-07-15', '06:00', 'Asia/Kolkata')).toBe('2026-07-15T00:30:00.000Z');
    expect(wallTimeToInstant('2026-07-15', '00:00', 'UTC')).toBe('2026-07-15T00:00:00.000Z');
  });

  test('Europe/Brussels spring forward (2026-03-29, 02:00 CET → 03:00 CEST): a time in the gap moves forward by one hour', () => {
    expect(wallTimeToInstant('2026-03-29', '01:59', 'Europe/Brussels')).toBe('2026-03-29T00:59:00.000Z');
    expect(wallTimeToInstant('2026-03-29', '02:00', 'Europe/Brussels')).toBe('2026-03-29T01:00:00.000Z');
    expect(wallTimeToInstant('2026-03-29', '02:30', 'Europe/Brussels')).toBe('2026-03-29T01:30:00.000Z'); // 03:30 CEST
    expect(wallTimeToInstant('2026-03-29', '03:00', 'Europe/Brussels')).toBe('2026-03-29T01:00:00.000Z');
    expect(wallTimeToInstant('2026-03-29', '06:00', 'Europe/Brussels')).toBe('2026-03-29T04:00:00.000Z');
    expect(wallTimeToInstant('2026-03-28', '06:00', 'Europe/Brussels')).toBe('2026-03-28T05:00:00.000Z');
  });

  test('Europe/Brussels fall back (2026-10-25, 03:00 CEST → 02:00 CET): an ambiguous time takes its first occurrence', () => {
    expect(wallTimeToInstant('2026-10-25', '01:59', 'Europe/Brussels')).toBe('2026-10-24T23:59:00.000Z');
    expect(wallTimeToInstant('2026-10-25', '02:00', 'Europe/Brussels')).toBe('2026-10-25T00:00:00.000Z'); // CEST, not 01:00Z
    expect(wallTimeToInstant('2026-10-25', '02:30', 'Europe/Brussels')).toBe('2026-10-25T00:30:00.000Z'); // CEST, not 01:30Z
    expect(wallTimeToInstant('2026-10-25', '03:00', 'Europe/Brussels')).toBe('2026-10-25T02:00:00.000Z');
    expect(wallTimeToInstant('2026-10-25', '06:00', 'Europe/Brussels')).toBe('2026-10-25T05:00:00.000Z');
  });

  test('America/New_York spring forward (2026-03-08, 02:00 EST → 03:00 EDT): a time in the gap moves forward by one hour', () => {
    expect(wallTimeToInstant('2026-03-08', '01:59', 'America/New_York')).toBe('2026-03-08T06:59:00.000Z');
    expect(wallTimeToInstant('2026-03-08', '02:30', 'America/New_York')).toBe('2026-03-08T07:30:00.000Z'); // 03:30 EDT
    expect(wallTimeToInstant('2026-03-08', '03:00', 'America/New_York')).toBe('2026-03-08T07:00:00.000Z');
    expect(wallTimeToInstant('2026-03-08', '06:00', 'America/New_York')).toBe('2026-03-08T10:00:00.000Z');
    expect(wallTimeToInstant('2026-03-07', '06:00', 'America/New_York')).toBe('2026-03-07T11:00:00.000Z');
  });

  test('America/New_York fall back (2026-11-01, 02:00 EDT → 01:00 EST): an ambiguous time takes its first occurrence', () => {
    expect(wallTimeToInstant('2026-11-01', '00:59', 'America/New_York')).toBe('2026-11-01T04:59:00.000Z');
    expect(wallTimeToInstant('2026-11-01', '01:00', 'America/New_York')).toBe('2026-11-01T05:00:00.000Z'); // EDT, not 06:00Z
    expect(wallTimeToInstant('2026-11-01', '01:30', 'America/New_York')).toBe('2026-11-01T05:30:00.000Z'); // EDT, not 06:30Z
    expect(wallTimeToInstant('2026-11-01', '02:00', 'America/New_York')).toBe('2026-11-01T07:00:00.000Z');
    expect(wallTimeToInstant('2026-11-01', '06:00', 'America/New_York')).toBe('2026-11-01T11:00:00.000Z');
  });

  test('a half-hour DST shift (Australia/Lord_Howe) moves a gap time by 30 minutes and picks the first of two', () => {
    expect(wallTimeToInstant('2026-10-04', '02:15', 'Australia/Lord_Howe')).toBe('2026-10-03T15:45:00.000Z'); // 02:45 +11:00
    expect(wallTimeToInstant('2026-04-05', '01:45', 'Australia/Lord_Howe')).toBe('2026-04-04T14:45:00.000Z'); // +11:00, not +10:30
  });

  test('gives the same instants whatever the host’s own time zone', () => {
    const cases: [string, string, string][] = [
      ['2026-03-29', '02:30', 'Europe/Brussels'],
      ['2026-10-25', '02:30', 'Europe/Brussels'],
      ['2026-03-08', '02:30', 'America/New_York'],
      ['2026-11-01', '01:30', 'America/New_York'],
      ['2026-10-04', '02:15', 'Australia/Lord_Howe'],
      ['2026-04-05', '01:45', 'Australia/Lord_Howe'],
    ];
    const original = process.env.TZ;
    const results: string[][] = [];
    try {
      for (const hostZone of ['UTC', 'Europe/Brussels', 'America/New_York', 'Asia/Kolkata', 'Australia/Sydney']) {
        process.env.TZ = hostZone;
        results.push(cases.map(([date, time, zone]) => wallTimeToInstant(date, time, zone)));
      }
    } finally {
      if (original === undefined) delete process.env.TZ;
      else process.env.TZ = original;
    }
    for (const result of results) expect(result).toEqual(results[0]);
  });

  test('refuses a time that is not HH:MM, a date that is not real and a zone it does not know', () => {
    expect(() => wallTimeToInstant('2026-01-15', '24:00', 'UTC')).toThrow("time '24:00' is not a 24-hour time written as HH:MM");
    expect(() => wallTimeToInstant('2026-01-15', '6:00', 'UTC')).toThrow(RangeError);
    expect(() => wallTimeToInstant('2026-02-29', '06:00', 'UTC')).toThrow("date '2026-02-29'");
    expect(() => wallTimeToInstant('2026-01-15', '06:00', 'Europe/Brusels')).toThrow("'Europe/Brusels' is not an IANA time zone name");
    expect(() => wallTimeToInstant('2026-01-15', '06:00', 'Mars/Base+05')).toThrow(RangeError);
  });
});

describe('localDate', () => {
  test('Brussels is already on the next date while UTC is still before midnight', () => {
    expect(localDate(TARGET, '2026-01-15T22:59:59Z')).toBe('2026-01-15');
    expect(localDate(TARGET, '2026-01-15T23:00:00Z')).toBe('2026-01-16'); // 00:00 CET
    expect(localDate(TARGET, '2026-07-01T21:59:59.999Z')).toBe('2026-07-01');
    expect(localDate(TARGET, '2026-07-01T22:00:00Z')).toBe('2026-07-02'); // 00:00 CEST
  });

  test('New York is still on the previous date after midnight UTC', () => {
    expect(localDate(US, '2026-01-16T00:30:00Z')).toBe('2026-01-15');
    expect(localDate(US, '2026-01-16T04:59:59Z')).toBe('2026-01-15');
    expect(localDate(US, '2026-01-16T05:00:00Z')).toBe('2026-01-16');
  });

  test('on the fall-back day local midnight moves to the winter offset', () => {
    expect(localDate(TARGET, '2026-10-25T22:59:59Z')).toBe('2026-10-25');
    expect(localDate(TARGET, '2026-10-25T23:00:00Z')).toBe('2026-10-26');
  });

  test('accepts a Date, epoch milliseconds, or an ISO string with an offset', () => {
    const instant = '2026-03-29T22:30:00Z';
    expect(localDate(TARGET, new Date(instant))).toBe('2026-03-30');
    expect(localDate(TARGET, Date.parse(instant))).toBe('2026-03-30');
    expect(localDate(TARGET, '2026-03-30T00:30:00+02:00')).toBe('2026-03-30');
    expect(localDate(US, '2026-03-30T00:30:00+02:00')).toBe('2026-03-29');
  });

  test('refuses a string without an offset (it would be read in the host’s zone) and an invalid instant', () => {
    expect(() => localDate(TARGET, '2026-03-29T22:30:00')).toThrow(/must be an ISO 8601 date-time with Z or an offset/);
    expect(() => localDate(TARGET, '2026-03-29')).toThrow(RangeError);
    expect(() => localDate(TARGET, Number.NaN)).toThrow('is not a valid point in time');
    expect(() => localDate(TARGET, '2026-13-29T22:30:00Z')).toThrow('is not a valid point in time');
  });
});

test('a zone is looked up once, however many dates are computed in it (a formatter holds native memory until collected)', () => {
  localDate(TARGET, '2026-01-15T12:00:00Z');
  wallTimeToInstant('2026-01-15', '06:00', 'Europe/Brussels');
  const formatters = jest.spyOn(Intl, 'DateTimeFormat');
  try {
    for (let day = 1; day <= 28; day += 1) {
      localDate(TARGET, `2026-02-${String(day).padStart(2, '0')}T12:00:00Z`);
      wallTimeToInstant(`2026-02-${String(day).padStart(2, '0')}`, '06:00', 'Europe/Brussels');
    }
    expect(formatters).not.toHaveBeenCalled();
  } finally {
    formatters.mockRestore();
  }
  expect(() => wallTimeToInstant('2026-02-01', '06:00', 'Europe/Nowhere')).toThrow(/not an IANA time zone name/);
});

describe('BusinessCalendarSchema', () => {
  const valid: BusinessCalendarInput = { region: 'UK', timeZone: 'Europe/London', holidays: ['2026-12-28', '2026-12-25', '2026-12-25'] };

  /** The issues of a refused calendar as `path: message`. */
  function issues(input: unknown): string[] {
    const result = BusinessCalendarSchema.safeParse(input);
    expect(result.success).toBe(false);
    return (result.error as z.ZodError).issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  }

  test('defaults the weekend to Saturday and Sunday, and sorts and deduplicates holidays and weekend days', () => {
    expect(BusinessCalendarSchema.parse(valid)).toEqual({
      region: 'UK',
      timeZone: 'Europe/London',
      weekend: [6, 7],
      holidays: ['2026-12-25', '2026-12-28'],
    });
    expect(BusinessCalendarSchema.parse({ region: 'X', timeZone: 'UTC', weekend: [7, 5, 7] })).toEqual({ region: 'X', timeZone: 'UTC', weekend: [5, 7], holidays: [] });
  });

  test('refuses an unknown or misspelt time zone, naming the field', () => {
    expect(issues({ ...valid, timeZone: 'Europe/Brusels' })).toEqual([
      "timeZone: 'Europe/Brusels' is not an IANA time zone name (e.g. 'Europe/Brussels', 'America/New_York', 'UTC')",
    ]);
    expect(issues({ ...valid, timeZone: 'europe/brussels' })).toEqual(["timeZone: 'europe/brussels' must be spelt 'Europe/Brussels'"]);
    expect(issues({ ...valid, timeZone: '+01:00' })).toEqual([expect.stringMatching(/^timeZone: '\+01:00' is not an IANA time zone name/)]);
    expect(issues({ ...valid, timeZone: '' })).toEqual([expect.stringMatching(/^timeZone: /)]);
  });

  test('the time-zone check does not rely on Intl.supportedValuesOf, which the workflow sandbox may lack', () => {
    const intl = Intl as { supportedValuesOf?: unknown };
    const original = intl.supportedValuesOf;
    try {
      intl.supportedValuesOf = undefined;
      expect(BusinessCalendarSchema.parse(valid).timeZone).toBe('Europe/London');
      expect(issues({ ...valid, timeZone: 'Nowhere/Town' })).toHaveLength(1);
    } finally {
      intl.supportedValuesOf = original;
    }
  });

  test('refuses weekdays outside 1–7 and a weekend of all seven days, naming the field', () => {
    expect(issues({ ...valid, weekend: [0, 6] })).toEqual(['weekend.0: ISO weekdays are whole numbers from 1 (Monday) to 7 (Sunday)']);
    expect(issues({ ...valid, weekend: [6, 8] })).toEqual(['weekend.1: ISO weekdays are whole numbers from 1 (Monday) to 7 (Sunday)']);
    expect(issues({ ...valid, weekend: [6.5] })).toEqual(['weekend.0: ISO weekdays are whole numbers from 1 (Monday) to 7 (Sunday)']);
    expect(issues({ ...valid, weekend: ['SAT'] })).toEqual(['weekend.0: ISO weekdays are whole numbers from 1 (Monday) to 7 (Sunday)']);
    expect(issues({ ...valid, weekend: [1, 2, 3, 4, 5, 6, 7] })).toEqual(['weekend: a weekend of all seven days leaves no business day']);
  });

  test('refuses holidays that are not real dates, naming the entry', () => {
    expect(issues({ ...valid, holidays: ['2026-12-25', '2026-02-30', '2026-1-1'] })).toEqual([
      'holidays.1: must be a calendar date written as YYYY-MM-DD',
      'holidays.2: must be a calendar date written as YYYY-MM-DD',
    ]);
  });

  test('refuses an empty region, a missing time zone and unknown fields', () => {
    expect(issues({ ...valid, region: '  ' })).toEqual(['region: must name the region, e.g. EU-TARGET']);
    expect(issues({ region: 'UK' })).toEqual([expect.stringMatching(/^timeZone: /)]);
    expect(issues({ ...valid, holiday: ['2026-12-25'] })).toEqual([expect.stringMatching(/^: Unrecognized key: "holiday"/)]);
  });
});

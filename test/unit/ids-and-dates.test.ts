import { addDays, isBusinessDate } from '../../src/domain/business-date';
import { dailyWorkflowId, sparkAttemptId, sparkJobWorkflowId } from '../../src/domain/ids';
import { parseBusinessDate, parseRate, previousDay } from '../../src/cli/options';

test('business dates must be real calendar dates', () => {
  expect(isBusinessDate('2026-11-20')).toBe(true);
  expect(isBusinessDate('2024-02-29')).toBe(true);
  expect(isBusinessDate('2026-02-29')).toBe(false);
  expect(isBusinessDate('2026-02-30')).toBe(false);
  expect(isBusinessDate('20261120')).toBe(false);
  expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
});

test('ids are derived from the date, so triggers converge and retries find their attempt', () => {
  expect(dailyWorkflowId('2026-11-20')).toBe('nightjar-daily-2026-11-20');
  expect(dailyWorkflowId('2026-11-20', 'emea')).toBe('nightjar-daily-emea-2026-11-20');
  expect(sparkJobWorkflowId('nightjar-daily-2026-11-20', 'normalize')).toBe('nightjar-daily-2026-11-20-normalize');
  const a = sparkAttemptId('2026-11-20', 'normalize', '0197a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', 2);
  expect(a).toBe('nj-20261120-normalize-0197a1b2-a2');
  expect(a).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  expect(a.length).toBeLessThanOrEqual(63);
});

test('CLI flags fail with a message naming the rule', () => {
  expect(parseBusinessDate('2026-11-20')).toBe('2026-11-20');
  expect(() => parseBusinessDate('2026-13-01')).toThrow("'2026-13-01' is not a calendar date written as YYYY-MM-DD.");
  expect(() => parseRate('2')).toThrow('not a rate between 0 and 1');
  expect(previousDay(new Date('2026-03-01T05:00:00Z'))).toBe('2026-02-28');
});

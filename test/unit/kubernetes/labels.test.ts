import { sparkAttemptId } from '../../../src/domain/ids';
import {
  attemptLabels,
  attemptSelector,
  isValidLabelValue,
  LabelKey,
  managedSelector,
  MAX_LABEL_VALUE,
  toLabelValue,
} from '../../../src/spark/kubernetes/labels';

describe('toLabelValue', () => {
  test.each(['nightjar-daily-2026-11-20', '2026-11-20', 'transform', 'a', 'A.b_c-1', 'x'.repeat(63), ''])(
    'a valid value passes unchanged: %s',
    (value) => {
      expect(toLabelValue(value)).toBe(value);
    },
  );

  test.each([
    ['too long', 'nightjar-daily-'.repeat(6)],
    ['a slash', 'tenant/a'],
    ['spaces', 'daily run for bank A'],
    ['a leading dash', '-abc'],
    ['a trailing dot', 'abc.'],
    ['nothing usable', '///'],
    ['non-ASCII', 'zürich-2026'],
  ])('a value with %s becomes a valid label', (_, raw) => {
    const value = toLabelValue(raw);
    expect(isValidLabelValue(value)).toBe(true);
    expect(value.length).toBeLessThanOrEqual(MAX_LABEL_VALUE);
    expect(value).not.toBe(raw);
  });

  test('shortening is deterministic and keeps a readable head', () => {
    const raw = `nightjar-daily-${'bank-of-somewhere-'.repeat(5)}2026-11-20`;
    expect(toLabelValue(raw)).toBe(toLabelValue(raw));
    expect(toLabelValue(raw).startsWith('nightjar-daily-bank-of-somewhere')).toBe(true);
    expect(toLabelValue(raw)).toHaveLength(MAX_LABEL_VALUE);
  });

  test('long values that differ only at the end keep distinct labels', () => {
    const head = 'x'.repeat(80);
    expect(toLabelValue(`${head}-a`)).not.toBe(toLabelValue(`${head}-b`));
  });

  test('a sanitized value never collides with the valid value it resembles', () => {
    expect(toLabelValue('tenant-a')).toBe('tenant-a');
    expect(toLabelValue('tenant/a')).not.toBe('tenant-a');
    expect(toLabelValue('tenant/a')).toMatch(/^tenant-a-[0-9a-f]{10}$/);
  });
});

describe('attempt labels and selectors', () => {
  const attemptId = sparkAttemptId('2026-11-20', 'transform', '0a1b2c3d-4e5f', 2);
  const identity = { workflowId: 'nightjar-daily-2026-11-20-transform', businessDate: '2026-11-20', job: 'transform' as const, attemptId, attempt: 2 };

  test('every object of an attempt carries workflow, date, job, attempt id and number, and managed-by', () => {
    expect(attemptLabels(identity)).toEqual({
      'app.kubernetes.io/managed-by': 'nightjar',
      'nightjar.io/workflow-id': 'nightjar-daily-2026-11-20-transform',
      'nightjar.io/business-date': '2026-11-20',
      'nightjar.io/job': 'transform',
      'nightjar.io/attempt-id': attemptId,
      'nightjar.io/attempt': '2',
    });
  });

  test('label keys live under the nightjar.io/ prefix, apart from the standard managed-by', () => {
    const keys = Object.values(LabelKey).filter((k) => k !== LabelKey.managedBy);
    expect(keys.every((k) => k.startsWith('nightjar.io/'))).toBe(true);
  });

  test('all label values are valid, even for a very long workflow id', () => {
    const labels = attemptLabels({ ...identity, workflowId: `nightjar-daily-${'x'.repeat(200)}` });
    expect(Object.values(labels).every(isValidLabelValue)).toBe(true);
  });

  test('attempt ids are valid label values as they are, so selectors use them verbatim', () => {
    expect(toLabelValue(attemptId)).toBe(attemptId);
  });

  test('attemptSelector selects one attempt of Nightjar-managed objects', () => {
    expect(attemptSelector(attemptId)).toBe(`app.kubernetes.io/managed-by=nightjar,nightjar.io/attempt-id=${attemptId}`);
  });

  test('managedSelector selects everything Nightjar manages', () => {
    expect(managedSelector()).toBe('app.kubernetes.io/managed-by=nightjar');
  });
});

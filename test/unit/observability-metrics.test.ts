import type { MetricMeter, MetricTags } from '@temporalio/common';
import { InMemoryMetrics, MeterMetrics, METRICS } from '../../src/observability/metrics';
import { businessDateOf, currentLogContext, tenantOf, withLogContext } from '../../src/observability/log-context';

/** A MetricMeter that remembers what was created and recorded, like the SDK's would export it. */
function recordingMeter() {
  const created: { name: string; kind: string; unit?: string; valueType?: string }[] = [];
  const recorded: { name: string; value: number; tags: MetricTags }[] = [];
  const instrument = (name: string, kind: string, valueType: 'int' | 'float') => {
    const self = {
      name,
      kind,
      valueType,
      add: (value: number, tags: MetricTags = {}) => recorded.push({ name, value, tags }),
      record: (value: number, tags: MetricTags = {}) => recorded.push({ name, value, tags }),
      set: (value: number, tags: MetricTags = {}) => recorded.push({ name, value, tags }),
      withTags: () => self,
    };
    return self;
  };
  const meter = {
    createCounter: (name: string, unit?: string) => (created.push({ name, kind: 'counter', ...(unit ? { unit } : {}) }), instrument(name, 'counter', 'int')),
    createHistogram: (name: string, valueType: 'int' | 'float' = 'int', unit?: string) => (
      created.push({ name, kind: 'histogram', valueType, ...(unit ? { unit } : {}) }), instrument(name, 'histogram', valueType)
    ),
    createGauge: (name: string, valueType: 'int' | 'float' = 'int', unit?: string) => (
      created.push({ name, kind: 'gauge', valueType, ...(unit ? { unit } : {}) }), instrument(name, 'gauge', valueType)
    ),
    withTags: () => meter,
  } as unknown as MetricMeter;
  return { meter, created, recorded };
}

test('MeterMetrics creates each instrument once, with the catalog name, kind and unit, and records with labels', () => {
  const { meter, created, recorded } = recordingMeter();
  const metrics = new MeterMetrics(meter);
  metrics.stepFinished('ingestFeed', 'succeeded', 1.25);
  metrics.stepFinished('ingestFeed', 'failed', 0.5);
  metrics.nightFinished('acme', 'COMPLETED', new Date('2026-11-20T04:00:00Z'));
  metrics.feedRows('accounts', 'accepted', 98);
  metrics.feedRows('accounts', 'rejected', 0);

  expect(created).toEqual([
    { name: 'nightjar_step_duration_seconds', kind: 'histogram', valueType: 'float', unit: 's' },
    { name: 'nightjar_nights_finished_total', kind: 'counter', unit: 'nights' },
    { name: 'nightjar_last_night_completed_timestamp_seconds', kind: 'gauge', valueType: 'float', unit: 's' },
    { name: 'nightjar_feed_rows_total', kind: 'counter', unit: 'rows' },
  ]);
  expect(recorded).toEqual([
    { name: 'nightjar_step_duration_seconds', value: 1.25, tags: { step: 'ingestFeed', outcome: 'succeeded' } },
    { name: 'nightjar_step_duration_seconds', value: 0.5, tags: { step: 'ingestFeed', outcome: 'failed' } },
    { name: 'nightjar_nights_finished_total', value: 1, tags: { tenant: 'acme', status: 'COMPLETED' } },
    { name: 'nightjar_last_night_completed_timestamp_seconds', value: Date.parse('2026-11-20T04:00:00Z') / 1000, tags: { tenant: 'acme' } },
    // zero rows are not recorded: a counter series appears with its first real value
    { name: 'nightjar_feed_rows_total', value: 98, tags: { feed: 'accounts', result: 'accepted' } },
  ]);
});

test('only a COMPLETED night moves the last-completed gauge', () => {
  const metrics = new InMemoryMetrics();
  metrics.nightFinished('default', 'COMPLETED', new Date(1_000_000));
  metrics.nightFinished('default', 'FAILED', new Date(2_000_000));
  expect(metrics.value(METRICS.lastNightCompleted.name, { tenant: 'default' })).toBe(1000);
  expect(metrics.value(METRICS.nightsFinished.name, { tenant: 'default', status: 'FAILED' })).toBe(1);
  expect(metrics.value(METRICS.nightsFinished.name, { tenant: 'default', status: 'COMPLETED' })).toBe(1);
});

test('InMemoryMetrics sums counters per series and keeps histogram observations', () => {
  const metrics = new InMemoryMetrics();
  metrics.sparkAttemptEnded('normalize', 'OUT_OF_MEMORY');
  metrics.sparkAttemptEnded('normalize', 'OUT_OF_MEMORY');
  metrics.sparkAttemptEnded('normalize', 'SUCCEEDED');
  metrics.stepFinished('awaitSparkJob', 'succeeded', 3);
  metrics.stepFinished('awaitSparkJob', 'succeeded', 5);
  expect(metrics.value('nightjar_spark_attempts_total', { job: 'normalize', outcome: 'out_of_memory' })).toBe(2);
  expect(metrics.value('nightjar_spark_attempts_total', { outcome: 'succeeded', job: 'normalize' })).toBe(1);
  expect(metrics.observations('nightjar_step_duration_seconds', { step: 'awaitSparkJob', outcome: 'succeeded' })).toEqual([3, 5]);
  expect(metrics.value('nightjar_spark_attempts_total', { job: 'transform', outcome: 'succeeded' })).toBe(0);
});

describe('log context', () => {
  test('the business date comes from the first argument, its manifest, or the workflow id', () => {
    expect(businessDateOf([{ businessDate: '2026-11-19', feed: 'accounts' }], 'nightjar-daily-2026-11-20')).toBe('2026-11-19');
    expect(businessDateOf([{ manifest: { businessDate: '2026-11-18' } }], undefined)).toBe('2026-11-18');
    expect(businessDateOf([{ minAgeSeconds: 60 }], 'nightjar-daily-acme-2026-11-17-normalize')).toBe('2026-11-17');
    expect(businessDateOf([], 'nightjar-janitor')).toBeUndefined();
    expect(businessDateOf([], undefined)).toBeUndefined();
  });

  test('the tenant comes from the argument or the daily workflow id (default when the id has none)', () => {
    expect(tenantOf([], 'nightjar-daily-2026-11-20')).toBe('default');
    expect(tenantOf([], 'nightjar-daily-2026-11-20-transform')).toBe('default');
    expect(tenantOf([], 'nightjar-daily-acme-bank-2026-11-20')).toBe('acme-bank');
    expect(tenantOf([], 'nightjar-daily-acme-2026-11-20-normalize')).toBe('acme');
    expect(tenantOf([{ tenant: 'zeta' }], 'nightjar-daily-acme-2026-11-20')).toBe('zeta');
    expect(tenantOf([{ manifest: { tenant: 'beta' } }], undefined)).toBe('beta');
    expect(tenantOf([], 'nightjar-janitor')).toBeUndefined();
  });

  test('the context follows async work started inside it, and only that', async () => {
    const seen = await withLogContext({ step: 'ingestFeed', attempt: 2, workflowId: 'w' }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return currentLogContext();
    });
    expect(seen).toEqual({ step: 'ingestFeed', attempt: 2, workflowId: 'w' });
    expect(currentLogContext()).toBeUndefined();
  });
});

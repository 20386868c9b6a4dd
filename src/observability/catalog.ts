/**
 * Every metric Nightjar emits, in one table: the dashboard, the alerts and the tests read it.
 * Pure data: workflows import it too (their counters go through the workflow `metricMeter`).
 *
 * Names are final: the SDK's Prometheus exporter adds no prefix and no suffix to metrics made on
 * its meter (its own metrics carry `temporal_`), so `_total` and `_seconds` are spelled here.
 */
export type MetricKind = 'counter' | 'histogram' | 'gauge';

export interface MetricSpec {
  readonly name: string;
  readonly kind: MetricKind;
  readonly unit: string;
  readonly help: string;
  readonly labels: readonly string[];
  /** Histogram bucket boundaries (the exporter's default buckets are for milliseconds). */
  readonly buckets?: readonly number[];
  /** Where it is emitted: the worker's activities, or workflow code (replay-safe). */
  readonly source: 'activity' | 'workflow';
}

export const METRICS = {
  nightsFinished: {
    name: 'nightjar_nights_finished_total',
    kind: 'counter',
    unit: 'nights',
    help: 'Nights finalized, by final status (COMPLETED, FAILED, CANCELLED).',
    labels: ['tenant', 'status'],
    source: 'activity',
  },
  lastNightCompleted: {
    name: 'nightjar_last_night_completed_timestamp_seconds',
    kind: 'gauge',
    unit: 's',
    help: 'Unix time at which the last COMPLETED night was finalized by this worker.',
    labels: ['tenant'],
    source: 'activity',
  },
  stepDuration: {
    name: 'nightjar_step_duration_seconds',
    kind: 'histogram',
    unit: 's',
    help: 'Duration of each activity execution (step = activity type), by outcome (succeeded, failed, cancelled).',
    labels: ['step', 'outcome'],
    buckets: [0.05, 0.25, 1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400],
    source: 'activity',
  },
  sparkAttempts: {
    name: 'nightjar_spark_attempts_total',
    kind: 'counter',
    unit: 'attempts',
    help: 'Spark attempts awaited to their end, by job and outcome (succeeded, out_of_memory, transient, permanent).',
    labels: ['job', 'outcome'],
    source: 'activity',
  },
  oomEscalations: {
    name: 'nightjar_spark_oom_escalations_total',
    kind: 'counter',
    unit: 'attempts',
    help: 'Spark attempts that ran out of memory, by job and side (driver, executor): the next attempt gets more.',
    labels: ['job', 'kind'],
    source: 'activity',
  },
  feedRows: {
    name: 'nightjar_feed_rows_total',
    kind: 'counter',
    unit: 'rows',
    help: 'Feed data rows checked by normalize, by feed and result (accepted, rejected).',
    labels: ['feed', 'result'],
    source: 'activity',
  },
  exportRows: {
    name: 'nightjar_export_rows_total',
    kind: 'counter',
    unit: 'rows',
    help: 'Rows exported to the reporting store, by table.',
    labels: ['table'],
    source: 'activity',
  },
  janitorLeftovers: {
    name: 'nightjar_janitor_leftovers_total',
    kind: 'counter',
    unit: 'objects',
    help: 'Leftovers of finished Spark attempts (Kubernetes objects, or local attempts: kind LocalSparkAttempt) the janitor removed or failed to remove, by kind.',
    labels: ['kind'],
    source: 'activity',
  },
  feedsLate: {
    name: 'nightjar_feeds_late_total',
    kind: 'counter',
    unit: 'feeds',
    help: 'Required feeds still missing at their cut-off (the night turns LATE), by feed.',
    labels: ['feed'],
    source: 'workflow',
  },
  nightsParked: {
    name: 'nightjar_nights_parked_total',
    kind: 'counter',
    unit: 'parks',
    help: 'Steps that failed for good and parked the night in NEEDS_ATTENTION, by step.',
    labels: ['step'],
    source: 'workflow',
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricId = keyof typeof METRICS;

/** Bucket overrides for the SDK's Prometheus exporter, by metric name. */
export function histogramBuckets(): Record<string, number[]> {
  return Object.fromEntries(
    Object.values(METRICS as Record<string, MetricSpec>)
      .filter((m) => m.buckets !== undefined)
      .map((m) => [m.name, [...(m.buckets as readonly number[])]]),
  );
}

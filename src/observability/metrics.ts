import type { MetricCounter, MetricGauge, MetricHistogram, MetricMeter } from '@temporalio/common';
import { METRICS, type MetricId, type MetricSpec } from './catalog';

export { METRICS, histogramBuckets, type MetricId, type MetricKind, type MetricSpec } from './catalog';

export type StepOutcome = 'succeeded' | 'failed' | 'cancelled';
export type FeedRowsResult = 'accepted' | 'rejected';
export type Labels = Readonly<Record<string, string>>;

/** What the worker reports, one method per event; the workflow's own counters live in the workflow. */
export interface NightjarMetrics {
  stepFinished(step: string, outcome: StepOutcome, seconds: number): void;
  /** A night was finalized; `at` is the finalization time (sets the last-completed gauge when COMPLETED). */
  nightFinished(tenant: string, status: string, at: Date): void;
  sparkAttemptEnded(job: string, outcome: string): void;
  oomEscalation(job: string, kind: 'driver' | 'executor'): void;
  feedRows(feed: string, result: FeedRowsResult, rows: number): void;
  exportRows(table: string, rows: number): void;
  janitorLeftovers(kind: string, count: number): void;
}

/** The events of NightjarMetrics, written once; implementations only say where a value goes. */
abstract class CatalogMetrics implements NightjarMetrics {
  protected abstract emit(id: MetricId, labels: Labels, value: number): void;

  stepFinished(step: string, outcome: StepOutcome, seconds: number): void {
    this.emit('stepDuration', { step, outcome }, seconds);
  }
  nightFinished(tenant: string, status: string, at: Date): void {
    this.emit('nightsFinished', { tenant, status }, 1);
    if (status === 'COMPLETED') this.emit('lastNightCompleted', { tenant }, at.getTime() / 1000);
  }
  sparkAttemptEnded(job: string, outcome: string): void {
    this.emit('sparkAttempts', { job, outcome: outcome.toLowerCase() }, 1);
  }
  oomEscalation(job: string, kind: 'driver' | 'executor'): void {
    this.emit('oomEscalations', { job, kind }, 1);
  }
  feedRows(feed: string, result: FeedRowsResult, rows: number): void {
    if (rows > 0) this.emit('feedRows', { feed, result }, rows);
  }
  exportRows(table: string, rows: number): void {
    if (rows > 0) this.emit('exportRows', { table }, rows);
  }
  janitorLeftovers(kind: string, count: number): void {
    if (count > 0) this.emit('janitorLeftovers', { kind }, count);
  }
}

type Instrument = MetricCounter | MetricHistogram | MetricGauge;

/** Metrics through a Temporal MetricMeter (`Runtime.instance().metricMeter`): one Prometheus endpoint with the SDK's. */
export class MeterMetrics extends CatalogMetrics {
  private readonly instruments = new Map<MetricId, Instrument>();

  constructor(private readonly meter: MetricMeter) {
    super();
  }

  protected emit(id: MetricId, labels: Labels, value: number): void {
    const instrument = this.instrument(id);
    switch (instrument.kind) {
      case 'counter':
        instrument.add(Math.round(value), labels);
        break;
      case 'histogram':
        instrument.record(value, labels);
        break;
      case 'gauge':
        instrument.set(value, labels);
        break;
    }
  }

  private instrument(id: MetricId): Instrument {
    let instrument = this.instruments.get(id);
    if (instrument === undefined) {
      const spec: MetricSpec = METRICS[id];
      instrument =
        spec.kind === 'counter'
          ? this.meter.createCounter(spec.name, spec.unit, spec.help)
          : spec.kind === 'histogram'
            ? this.meter.createHistogram(spec.name, 'float', spec.unit, spec.help)
            : this.meter.createGauge(spec.name, 'float', spec.unit, spec.help);
      this.instruments.set(id, instrument);
    }
    return instrument;
  }
}

export interface RecordedSample {
  readonly name: string;
  readonly labels: Labels;
  readonly value: number;
}

/** Records every emitted value, for tests: counters sum, gauges keep the last value, histograms keep each observation. */
export class InMemoryMetrics extends CatalogMetrics {
  readonly samples: RecordedSample[] = [];

  protected emit(id: MetricId, labels: Labels, value: number): void {
    this.samples.push({ name: METRICS[id].name, labels: { ...labels }, value });
  }

  /** Counter total or gauge value of one series (labels must match exactly); 0 when never emitted. */
  value(name: string, labels: Labels): number {
    const matching = this.observations(name, labels);
    if (matching.length === 0) return 0;
    const spec = Object.values(METRICS as Record<string, MetricSpec>).find((m) => m.name === name);
    return spec?.kind === 'gauge' ? (matching[matching.length - 1] as number) : matching.reduce((a, b) => a + b, 0);
  }

  /** Every value emitted for one series, in order. */
  observations(name: string, labels: Labels): number[] {
    const key = labelKey(labels);
    return this.samples.filter((s) => s.name === name && labelKey(s.labels) === key).map((s) => s.value);
  }
}

/** Discards everything (a caller that did not ask for metrics). */
export class NoMetrics extends CatalogMetrics {
  protected emit(): void {}
}

function labelKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}

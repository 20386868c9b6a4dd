import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { METRICS, histogramBuckets, type MetricSpec } from '../../src/observability/metrics';

const FILES = path.resolve(__dirname, '../../deploy/helm/nightjar/files');
const CATALOG = Object.values(METRICS as Record<string, MetricSpec>);

/**
 * The SDK's own metrics the dashboard and alerts use, as the Temporal TypeScript SDK 1.24's
 * Prometheus exporter serves them (temporal_ prefix, no _total suffix on counters).
 */
const SDK_METRICS = ['temporal_worker_task_slots_available', 'temporal_worker_task_slots_used', 'temporal_activity_execution_failed'];
/** Series Prometheus makes itself. */
const PROMETHEUS_SERIES = ['up'];

/** Metric names in a PromQL expression: identifiers followed by `{`, `[`, a space, `)` or the end, minus functions and keywords. */
function metricNames(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, '{}');
  const words = withoutStrings.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
  const notMetrics = new Set([
    'sum', 'max', 'min', 'avg', 'count', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'or', 'and', 'unless', 'offset',
    'rate', 'increase', 'irate', 'histogram_quantile', 'label_values', 'time', 'absent', 'absent_over_time', 'max_over_time', 'le', 'step', 'job', 'kind',
    'feed', 'table', 'tenant', 'status', 'outcome', 'result', 'worker_type', 'activity_type', 'task_queue', 'instance',
  ]);
  return [...new Set(words.filter((w) => !notMetrics.has(w) && !/^__/.test(w) && /_/.test(w)))];
}

/** A histogram's series are served as `<name>_bucket`, `_sum` and `_count`. */
function known(name: string): boolean {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return CATALOG.some((m) => m.name === name || (m.kind === 'histogram' && m.name === base)) || SDK_METRICS.includes(name) || PROMETHEUS_SERIES.includes(name);
}

interface Rule {
  alert: string;
  expr: string;
  labels: { severity: string };
  annotations: { summary: string; runbook: string; description?: string };
}

const alerts = parse(fs.readFileSync(path.join(FILES, 'nightjar-alerts.yaml'), 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
const dashboard = JSON.parse(fs.readFileSync(path.join(FILES, 'grafana-dashboard.json'), 'utf8')) as {
  templating: { list: { name: string; type: string; query?: unknown }[] };
  panels: { type: string; title: string; targets?: { expr: string }[] }[];
};
const rules = alerts.groups.flatMap((g) => g.rules);
const dashboardExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
const variableExprs = dashboard.templating.list.flatMap((v) => (typeof v.query === 'object' && v.query !== null ? [String((v.query as { query: string }).query)] : []));

test('the catalog names are Prometheus names with the unit and _total spelled out, and its labels are valid', () => {
  for (const m of CATALOG) {
    expect(m.name).toMatch(/^nightjar_[a-z0-9_]+$/);
    if (m.kind === 'counter') expect(m.name).toMatch(/_total$/);
    if (m.unit === 's') expect(m.name).toMatch(/_seconds$/);
    for (const label of m.labels) expect(label).toMatch(/^[a-z][a-z0-9_]*$/);
    expect(m.help.length).toBeGreaterThan(10);
  }
  expect(new Set(CATALOG.map((m) => m.name)).size).toBe(CATALOG.length);
  expect(histogramBuckets()).toEqual({ nightjar_step_duration_seconds: expect.arrayContaining([1, 60, 3600]) });
});

test('the alert rules file is a PrometheusRule spec with the seven alerts, each with a summary and a runbook anchor', () => {
  expect(alerts.groups.length).toBeGreaterThan(0);
  expect(rules.map((r) => r.alert).sort()).toEqual(
    [
      'NightjarActivityFailuresHigh',
      'NightjarFeedLate',
      'NightjarJanitorFoundLeftovers',
      'NightjarNightNotCompleted',
      'NightjarNightParked',
      'NightjarOomEscalationsHigh',
      'NightjarWorkerDown',
    ].sort(),
  );
  for (const rule of rules) {
    expect(rule.expr.trim().length).toBeGreaterThan(0);
    expect(['critical', 'warning']).toContain(rule.labels.severity);
    expect(rule.annotations.summary.length).toBeGreaterThan(0);
    expect(rule.annotations.runbook).toBe(`docs/runbook.md#${rule.alert.toLowerCase()}`);
  }
});

test('every metric an alert uses is in the catalog or a documented SDK metric', () => {
  for (const rule of rules) {
    const names = metricNames(rule.expr);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect({ alert: rule.alert, name, known: known(name) }).toEqual({ alert: rule.alert, name, known: true });
  }
});

test('every metric a dashboard panel or variable queries is in the catalog or a documented SDK metric', () => {
  expect(dashboardExprs.length).toBeGreaterThan(10);
  for (const expr of [...dashboardExprs, ...variableExprs]) {
    for (const name of metricNames(expr)) expect({ expr, name, known: known(name) }).toEqual({ expr, name, known: true });
  }
});

test('the dashboard picks its data source through a variable and shows every Nightjar metric', () => {
  expect(dashboard.templating.list).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' })]));
  const used = new Set([...dashboardExprs].flatMap(metricNames).map((n) => n.replace(/_(bucket|sum|count)$/, '')));
  for (const m of CATALOG) expect({ metric: m.name, shown: used.has(m.name) }).toEqual({ metric: m.name, shown: true });
  for (const sdk of SDK_METRICS) expect(used.has(sdk)).toBe(true);
});

test('the name extractor finds metric names and skips functions and labels', () => {
  expect(metricNames('histogram_quantile(0.95, sum by (le, step) (rate(nightjar_step_duration_seconds_bucket{outcome="succeeded"}[6h])))')).toEqual([
    'nightjar_step_duration_seconds_bucket',
  ]);
  expect(metricNames('up{job=~".*nightjar.*"} == 0 or absent(temporal_worker_task_slots_available{worker_type="ActivityWorker"})')).toEqual([
    'temporal_worker_task_slots_available',
  ]);
});

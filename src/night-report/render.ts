/**
 * The night report: one self-contained HTML page per business date, rendered from its run manifest
 * and the earlier nights' manifests (trends). Pure: the same manifests give the same page.
 *
 * Self-contained means a bank's browser, which reaches nothing, shows all of it: the style is
 * inline, the charts are inline SVG, there is no script, no font, no image from anywhere; the
 * page's Content-Security-Policy forbids loading anything even if a value slipped through.
 */
import type { AttemptRecord, DecisionRecord, FeedManifestEntry, RunManifest, SizingManifestEntry, StepRecord } from '../domain/pipeline';
import { describePod } from '../domain/spark/attempt-pods';
import type { SparkResources } from '../domain/spark/resources';
import { compactDuration, durationWords, OUTCOME_WORDS, stackedBars, timeline, trendBars, type BarOutcome, type TimelineLane } from './charts';
import { escapeHtml as h } from './html';

export interface NightReportOptions {
  /** How many earlier nights the trends show (the report's own night comes on top). */
  readonly trendNights?: number;
}

export const DEFAULT_TREND_NIGHTS = 7;

const fmt = (n: number) => n.toLocaleString('en-US');
const ms = (from: string, to: string) => Date.parse(to) - Date.parse(from);

/** A night's duration from its manifest (0 when its times are not usable). */
export function nightDurationMs(m: Pick<RunManifest, 'startedAt' | 'finishedAt'>): number {
  const d = ms(m.startedAt, m.finishedAt);
  return Number.isFinite(d) && d > 0 ? d : 0;
}

export const totalRowsIn = (m: Pick<RunManifest, 'feeds'>) => m.feeds.reduce((sum, f) => sum + f.rowsIn, 0);
export const totalRejected = (m: Pick<RunManifest, 'feeds'>) => m.feeds.reduce((sum, f) => sum + f.rowsRejected, 0);

/** Does the feed add up: rows in = accepted + rejected, and rows in = the trailer's control count. */
export function reconciles(f: FeedManifestEntry): { readonly split: boolean; readonly control: boolean } {
  return { split: f.rowsAccepted + f.rowsRejected === f.rowsIn, control: f.rowsIn === f.controlCount };
}

/**
 * Money amounts a feed entry may carry besides its control sum (e.g. accepted and rejected sums):
 * optional fields, shown when present, whatever the manifest names them, as long as they say
 * "amount" or "sum" in their name.
 */
export function amountFields(feeds: readonly FeedManifestEntry[]): string[] {
  const keys = new Set<string>();
  for (const f of feeds) {
    for (const [k, v] of Object.entries(f)) {
      if (k !== 'controlSum' && /amount|sum$/i.test(k) && (typeof v === 'string' || typeof v === 'number')) keys.add(k);
    }
  }
  return [...keys].sort();
}

/** `acceptedAmount` → `accepted amount`. */
const words = (key: string) => key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();

function outcomeOf(a: AttemptRecord): BarOutcome {
  switch (a.outcome) {
    case 'SUCCEEDED':
      return 'succeeded';
    case 'OUT_OF_MEMORY':
      return 'out-of-memory';
    case 'TRANSIENT':
      return 'transient';
    case 'CANCELLED':
      return 'cancelled';
    default:
      return 'failed';
  }
}

function stepOutcome(s: StepRecord): BarOutcome {
  return s.status === 'COMPLETED' ? 'succeeded' : s.status === 'SKIPPED' ? 'skipped' : s.status === 'CANCELLED' ? 'cancelled' : 'failed';
}

export function describeResources(r: SparkResources): string {
  const overhead = r.memoryOverheadMb === null ? '' : `, overhead ${fmt(r.memoryOverheadMb)} MiB`;
  return `driver ${fmt(r.driverMemoryMb)} MiB × ${r.driverCores} cores, executors ${r.executorInstances} × ${fmt(r.executorMemoryMb)} MiB × ${r.executorCores} cores${overhead}, ${r.shufflePartitions} shuffle partitions`;
}

const STATUS_WORDS: Readonly<Record<RunManifest['status'], string>> = {
  RUNNING: 'still running when this page was written',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
};

function table(caption: string, head: readonly string[], rows: readonly (readonly string[])[], options: { numeric?: readonly number[]; id?: string } = {}): string {
  const numeric = new Set(options.numeric ?? []);
  const cell = (tag: 'th' | 'td', text: string, i: number) => `<${tag}${tag === 'th' && i >= 0 ? ' scope="col"' : ''}${numeric.has(i) ? ' class="num"' : ''}>${text}</${tag}>`;
  return (
    `<table${options.id ? ` id="${h(options.id)}"` : ''}><caption>${h(caption)}</caption>` +
    `<thead><tr>${head.map((t, i) => cell('th', h(t), i)).join('')}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.map((t, i) => cell('td', t, i)).join('')}</tr>`).join('')}</tbody></table>`
  );
}

const yes = (ok: boolean) => (ok ? '<span class="ok">✓ yes</span>' : '<span class="bad">✗ NO</span>');

function headerSection(m: RunManifest): string {
  const facts: [string, string][] = [
    ['Business date', m.businessDate],
    ...(m.tenant ? ([['Tenant', m.tenant]] as [string, string][]) : []),
    ['Status', `${m.status}${m.late ? ' (late: a required feed missed its cut-off)' : ''}`],
    ['Started', m.startedAt],
    ['Finished', m.finishedAt],
    ['Duration', durationWords(nightDurationMs(m))],
    ['Workflow', `${m.workflowId} (run ${m.runId})`],
  ];
  const error = m.error
    ? `<section class="error" aria-labelledby="error-h"><h2 id="error-h">What went wrong</h2><p><strong>${h(m.error.step)}</strong> failed with <code>${h(m.error.type)}</code>: ${h(m.error.message)}</p></section>`
    : '';
  return (
    `<header><p class="kicker">Nightjar night report</p><h1>Night of ${h(m.businessDate)}: <span class="status ${h(m.status.toLowerCase())}">${h(m.status)}</span></h1>` +
    `<p class="lead">The night ${h(STATUS_WORDS[m.status])}: ${fmt(m.feeds.length)} feeds, ${fmt(totalRowsIn(m))} rows in, ${fmt(totalRejected(m))} rejected, ` +
    `${fmt(m.steps.reduce((n, s) => n + s.attempts.length, 0))} attempts over ${fmt(m.steps.length)} steps, ${fmt(m.reports.reduce((n, r) => n + r.rows, 0))} report rows.</p>` +
    `<dl class="facts">${facts.map(([k, v]) => `<dt>${h(k)}</dt><dd>${h(v)}</dd>`).join('')}</dl></header>${error}`
  );
}

function feedsSection(m: RunManifest): string {
  const amounts = amountFields(m.feeds);
  const head = ['Feed', 'Status', 'Rows in', 'Accepted', 'Rejected', 'In = accepted + rejected', 'Control count', 'Count matches', 'Control sum', ...amounts.map(words)];
  const rows = m.feeds.map((f) => {
    const r = reconciles(f);
    const extra = amounts.map((k) => {
      const v = (f as unknown as Record<string, unknown>)[k];
      return v === undefined || v === null ? '—' : h(typeof v === 'number' ? fmt(v) : String(v));
    });
    const ingested = f.status === 'INGESTED';
    return [
      h(f.feed),
      h(f.status),
      fmt(f.rowsIn),
      fmt(f.rowsAccepted),
      fmt(f.rowsRejected),
      ingested ? yes(r.split) : '—',
      fmt(f.controlCount),
      ingested ? yes(r.control) : '—',
      h(f.controlSum || '—'),
      ...extra,
    ];
  });
  const numeric = [2, 3, 4, 6, 8, ...amounts.map((_, i) => 9 + i)];
  const body = m.feeds.length === 0 ? '<p>No feed was ingested.</p>' : table('Feeds and their reconciliation against the trailer control record', head, rows, { numeric, id: 'feeds' });
  return `<section aria-labelledby="feeds-h"><h2 id="feeds-h">Feeds and reconciliation</h2>${body}</section>`;
}

function rejectsSection(m: RunManifest): string {
  const withRejects = m.feeds.filter((f) => Object.values(f.rejectReasons).some((n) => n > 0));
  if (withRejects.length === 0) return `<section aria-labelledby="rejects-h"><h2 id="rejects-h">Reject reasons</h2><p>No row was rejected.</p></section>`;
  const rows = withRejects.map((f) => ({ label: f.feed, segments: Object.entries(f.rejectReasons).map(([key, value]) => ({ key, value })) }));
  const summary = withRejects.map((f) => `${f.feed}: ${Object.entries(f.rejectReasons).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}`).join('; ');
  const chart = stackedBars({ id: 'rejects-chart', title: 'Rejected rows per feed, by reason', description: summary }, rows);
  const tableRows = withRejects.flatMap((f) =>
    Object.entries(f.rejectReasons)
      .sort(([, a], [, b]) => b - a)
      .map(([reason, n]) => [h(f.feed), `<code>${h(reason)}</code>`, fmt(n), f.rowsIn > 0 ? `${((n / f.rowsIn) * 100).toFixed(2)} %` : '—']),
  );
  return (
    `<section aria-labelledby="rejects-h"><h2 id="rejects-h">Reject reasons</h2><figure>${chart}<figcaption>Rejected rows per feed, by reason (the table below gives the same numbers).</figcaption></figure>` +
    table('Rejected rows per feed and reason', ['Feed', 'Reason', 'Rows', 'Share of rows in'], tableRows, { numeric: [2, 3], id: 'rejects' }) +
    `</section>`
  );
}

function attemptLabel(a: AttemptRecord): string {
  return `${a.attempt}: ${OUTCOME_WORDS[outcomeOf(a)]}${a.outcome === 'OUT_OF_MEMORY' && a.oomSide ? ` (${a.oomSide})` : ''}`;
}

/** What fits on a short bar. */
const SHORT: Readonly<Record<BarOutcome, string>> = { succeeded: 'ok', 'out-of-memory': 'OOM', transient: 'retry', failed: 'failed', cancelled: 'cancel', skipped: 'skip' };

function stepsSection(m: RunManifest): string {
  if (m.steps.length === 0) return `<section aria-labelledby="steps-h"><h2 id="steps-h">Steps</h2><p>No step ran.</p></section>`;
  const starts = m.steps.flatMap((s) => [Date.parse(s.startedAt), ...s.attempts.map((a) => Date.parse(a.startedAt))]).filter(Number.isFinite);
  const ends = m.steps.flatMap((s) => [Date.parse(s.finishedAt), ...s.attempts.map((a) => Date.parse(a.finishedAt))]).filter(Number.isFinite);
  const span = { from: Math.min(Date.parse(m.startedAt), ...starts), to: Math.max(Date.parse(m.finishedAt), ...ends) };
  const seen = new Map<string, number>();
  const lanes: TimelineLane[] = m.steps.map((s) => {
    const n = (seen.get(s.step) ?? 0) + 1;
    seen.set(s.step, n);
    const label = n > 1 ? `${s.step} (round ${n})` : s.step;
    const bars =
      s.attempts.length > 0
        ? s.attempts.map((a) => ({ from: Date.parse(a.startedAt), to: Date.parse(a.finishedAt), outcome: outcomeOf(a), label: attemptLabel(a), short: `${a.attempt} ${SHORT[outcomeOf(a)]}` }))
        : [{ from: Date.parse(s.startedAt), to: Date.parse(s.finishedAt), outcome: stepOutcome(s), label: s.status.toLowerCase(), short: SHORT[stepOutcome(s)] }];
    return { label, bars };
  });
  const description = lanes.map((l) => `${l.label}: ${l.bars.map((b) => `attempt ${b.label}`).join(', ')}`).join('; ');
  const chart = timeline({ id: 'steps-chart', title: 'Steps and their attempts over the night', description }, lanes, span);
  const rows = m.steps.flatMap((s) =>
    (s.attempts.length > 0 ? s.attempts : [undefined]).map((a) => [
      h(s.step),
      h(s.status),
      a ? String(a.attempt) : '—',
      a ? `<span class="outcome ${outcomeOf(a)}">${h(OUTCOME_WORDS[outcomeOf(a)])}${a.oomSide && a.outcome === 'OUT_OF_MEMORY' ? ` (${h(a.oomSide)})` : ''}</span>` : '—',
      a?.resources ? h(describeResources(a.resources)) : '—',
      h(a?.startedAt ?? s.startedAt),
      h(durationWords(a ? a.durationMs : ms(s.startedAt, s.finishedAt))),
      a?.leftovers === undefined ? '—' : a.leftovers === 0 ? '0' : `<span class="bad">${fmt(a.leftovers)}</span>`,
      a?.reason && a.outcome !== 'SUCCEEDED' ? h(a.reason) : '',
      a ? podsCell(a) : '',
    ]),
  );
  return (
    `<section aria-labelledby="steps-h"><h2 id="steps-h">Steps and attempts</h2><figure>${chart}<figcaption>Each bar is one attempt, from its start to its end; hatched bars ran out of memory.</figcaption></figure>` +
    table('Every attempt of every step, with its resources and outcome', ['Step', 'Step status', 'Attempt', 'Outcome', 'Resources', 'Started', 'Duration', 'Left over after cleanup', 'Reason', 'Pods (Kubernetes)'], rows, { numeric: [2, 6, 7], id: 'attempts' }) +
    `</section>`
  );
}

/** An attempt's pods, one per line; a failed pod stands out. */
function podsCell(a: AttemptRecord): string {
  const lines = (a.pods ?? []).map((p) => (p.phase === 'Failed' ? `<span class="bad">${h(describePod(p))}</span>` : h(describePod(p))));
  if (a.podsOmitted) lines.push(`… and ${fmt(a.podsOmitted)} more`);
  return lines.join('<br>');
}

function sizingSection(sizing: readonly SizingManifestEntry[] | undefined): string {
  if (!sizing || sizing.length === 0) return '';
  const rows = sizing.map((s) => [h(s.job), h(s.source), h(describeResources(s.startedFrom)), h(describeResources(s.finalResources)), h(describeResources(s.next)), h(s.change ?? 'unchanged'), fmt(s.cleanNights)]);
  return `<section aria-labelledby="sizing-h"><h2 id="sizing-h">Learned sizing</h2>${table("What each Spark job started from, ended with, and what the next night starts from", ['Job', 'Source', 'Started from', 'Ended with', 'Next night', 'Change tonight', 'Clean nights'], rows, { numeric: [6], id: 'sizing' })}</section>`;
}

function reportsSection(m: RunManifest): string {
  if (m.reports.length === 0) return `<section aria-labelledby="reports-h"><h2 id="reports-h">Reports</h2><p>No report was exported.</p></section>`;
  const rows = m.reports.map((r) => [`<code>${h(r.table)}</code>`, fmt(r.rows)]);
  return `<section aria-labelledby="reports-h"><h2 id="reports-h">Reports</h2>${table('Rows written to the reporting database, per table', ['Table', 'Rows'], rows, { numeric: [1], id: 'reports' })}</section>`;
}

function decisionsSection(decisions: readonly DecisionRecord[] | undefined): string {
  if (!decisions || decisions.length === 0) return `<section aria-labelledby="decisions-h"><h2 id="decisions-h">Operator decisions</h2><p>No step needed a decision.</p></section>`;
  const rows = decisions.map((d) => [
    h(d.at),
    `${h(d.step)}${d.feed ? ` (${h(d.feed)})` : ''}`,
    `<code>${h(d.error.type)}</code> ${h(d.error.message)}`,
    `<strong>${h(d.action)}</strong>`,
    h(d.by ?? '—'),
    h(d.reason ?? '—'),
  ]);
  return `<section aria-labelledby="decisions-h"><h2 id="decisions-h">Operator decisions</h2>${table('Parked steps and what operators decided, in order', ['At', 'Step', 'Why it parked', 'Decision', 'By', 'Reason'], rows, { id: 'decisions' })}</section>`;
}

function trendsSection(m: RunManifest, earlier: readonly RunManifest[], count: number): string {
  const nights = [...earlier.filter((e) => e.businessDate < m.businessDate)]
    .sort((a, b) => (a.businessDate < b.businessDate ? 1 : -1))
    .slice(0, count)
    .reverse();
  if (nights.length === 0) return `<section aria-labelledby="trends-h"><h2 id="trends-h">Trends</h2><p>No earlier night in this data directory to compare with.</p></section>`;
  const all = [...nights, m];
  const point = (n: RunManifest, value: number) => ({ label: n.businessDate, value, ...(n === m ? { current: true } : {}) });
  const series = (id: string, title: string, value: (n: RunManifest) => number, format?: (n: number) => string) => {
    const points = all.map((n) => point(n, value(n)));
    const description = points.map((p) => `${p.label}: ${format ? format(p.value) : fmt(p.value)}`).join(', ');
    return `<figure class="trend">${trendBars({ id, title, description }, points, format)}<figcaption>${h(title)}</figcaption></figure>`;
  };
  const rows = all.map((n) => [h(n.businessDate), h(n.status), fmt(totalRowsIn(n)), fmt(totalRejected(n)), h(durationWords(nightDurationMs(n))), fmt(n.steps.reduce((k, s) => k + s.attempts.length, 0))]);
  return (
    `<section aria-labelledby="trends-h"><h2 id="trends-h">Trends of the last nights</h2><div class="trends">` +
    series('trend-rows', 'Rows in per night', totalRowsIn) +
    series('trend-rejects', 'Rejected rows per night', totalRejected) +
    series('trend-duration', 'Duration per night', nightDurationMs, compactDuration) +
    `</div>${table('The last nights side by side, oldest first', ['Business date', 'Status', 'Rows in', 'Rejected', 'Duration', 'Attempts'], rows, { numeric: [2, 3, 4, 5], id: 'trends' })}</section>`
  );
}

const STYLE = `
:root{color-scheme:light;--ink:#1a1a1a;--muted:#4a4a4a;--line:#c8c8c8;--ok:#0b6b2f;--bad:#a4161a;--warn:#8a4b00}
*{box-sizing:border-box}
body{margin:0 auto;max-width:72rem;padding:1.5rem;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:#fff}
h1{font-size:1.7rem;margin:.2rem 0 .6rem}h2{font-size:1.25rem;margin:2rem 0 .6rem;border-bottom:2px solid var(--line);padding-bottom:.2rem}
.kicker{margin:0;color:var(--muted);text-transform:uppercase;letter-spacing:.08em;font-size:.8rem}
.lead{font-size:1.05rem}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:0}.facts dt{font-weight:600}.facts dd{margin:0}
.status{padding:.05rem .5rem;border-radius:.3rem;color:#fff;background:#444}.status.completed{background:var(--ok)}.status.failed{background:var(--bad)}.status.cancelled{background:#555}.status.running{background:var(--warn)}
.error{border-left:.35rem solid var(--bad);background:#fdf1f1;padding:.2rem 1rem;margin-top:1rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0 1rem;font-size:.92rem}
caption{text-align:left;font-weight:600;padding:.3rem 0;color:var(--muted)}
th,td{border-bottom:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f2f2f2}
.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:var(--ok);font-weight:600}.bad{color:var(--bad);font-weight:700}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
figure{margin:.5rem 0}figcaption{color:var(--muted);font-size:.85rem}
.chart{max-width:100%;height:auto}
.chart .label,.chart .value,.chart .legend,.chart .axis,.chart .on-bar{font:12px system-ui,sans-serif;fill:var(--ink)}
.chart .on-bar{fill:#fff;font-weight:600}.chart .axis{fill:var(--muted)}
.chart .grid{stroke:#e3e3e3}
.bar.succeeded{fill:#0b6b2f}.bar.transient{fill:#8a6d00}.bar.failed{fill:#a4161a}.bar.cancelled{fill:#666}.bar.skipped{fill:#999}
.trend{fill:#7f9cc0}.trend.current{fill:#0b3d91}
.outcome.succeeded{color:var(--ok)}.outcome.out-of-memory,.outcome.failed{color:var(--bad);font-weight:600}.outcome.transient{color:var(--warn)}
.trends{display:flex;flex-wrap:wrap;gap:1.5rem}
footer{margin-top:2rem;color:var(--muted);font-size:.85rem}
@media print{
  body{max-width:none;padding:0;font-size:11pt}
  h2{break-after:avoid}
  table,figure,section.error{break-inside:avoid}
  thead{display:table-header-group}
  .status,.status.completed,.status.failed,.status.cancelled,.status.running{color:#000;background:none;border:1px solid #000}
  a{color:#000}
}
`;

/** The page for `manifest`, with trends from `earlier` (other nights' manifests, any order). */
export function renderNightReport(manifest: RunManifest, earlier: readonly RunManifest[] = [], options: NightReportOptions = {}): string {
  const m = manifest;
  const title = `Nightjar — night of ${m.businessDate}${m.tenant ? ` (${m.tenant})` : ''}: ${m.status}`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // Nothing may be fetched: styles are inline, charts are inline SVG, there is no script.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${h(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    headerSection(m),
    feedsSection(m),
    rejectsSection(m),
    stepsSection(m),
    sizingSection(m.sizing),
    reportsSection(m),
    decisionsSection(m.decisions),
    trendsSection(m, earlier, options.trendNights ?? DEFAULT_TREND_NIGHTS),
    '</main>',
    `<footer><p>Rendered from the run manifest of workflow ${h(m.workflowId)} (run ${h(m.runId)}), written when the night ended at ${h(m.finishedAt)}.</p></footer>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

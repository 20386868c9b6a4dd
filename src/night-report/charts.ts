/**
 * Inline SVG charts for the night report: pure functions from numbers to markup, no script, no
 * font or style from anywhere but the page. Each chart is an image with a title and a description
 * (role="img", aria-labelledby), so a screen reader says what it shows; the page prints the same
 * numbers in a table beside it. Colours are never the only cue: bars carry text labels too.
 */
import { escapeHtml } from './html';

/** One coloured part of a bar. */
export interface Segment {
  readonly key: string;
  readonly value: number;
}

export interface StackedBarRow {
  readonly label: string;
  readonly segments: readonly Segment[];
}

export interface ChartText {
  /** Unique within the page: ids of the title and description derive from it. */
  readonly id: string;
  readonly title: string;
  readonly description: string;
}

/** Colour-blind-safe hues (Okabe–Ito), dark enough for white text and visible on white paper. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#8C6D00', '#6A3D9A', '#444444'] as const;

const fmt = (n: number) => n.toLocaleString('en-US');
const round = (n: number) => Math.round(n * 10) / 10;

function frame(text: ChartText, width: number, height: number, body: string): string {
  const t = escapeHtml(text.id);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-labelledby="${t}-title ${t}-desc" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">` +
    `<title id="${t}-title">${escapeHtml(text.title)}</title><desc id="${t}-desc">${escapeHtml(text.description)}</desc>${body}</svg>`
  );
}

/** A colour per key, the same key always the same colour within one chart. */
export function colourFor(keys: readonly string[]): ReadonlyMap<string, string> {
  return new Map([...new Set(keys)].sort().map((k, i) => [k, PALETTE[i % PALETTE.length] as string]));
}

/**
 * Horizontal stacked bars (one per row, segments by key) with a legend: the reject reasons of
 * each feed. Bars scale to the largest row total; a row without any value draws no bar.
 */
export function stackedBars(text: ChartText, rows: readonly StackedBarRow[]): string {
  const labelWidth = 130;
  const barWidth = 420;
  const rowHeight = 26;
  const keys = rows.flatMap((r) => r.segments.filter((s) => s.value > 0).map((s) => s.key));
  const colours = colourFor(keys);
  const max = Math.max(1, ...rows.map((r) => r.segments.reduce((sum, s) => sum + s.value, 0)));
  const legendRows = Math.ceil(colours.size / 3);
  const height = rows.length * rowHeight + 16 + legendRows * 20;
  const parts: string[] = [];
  rows.forEach((row, i) => {
    const y = 8 + i * rowHeight;
    parts.push(`<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end" class="label">${escapeHtml(row.label)}</text>`);
    let x = labelWidth;
    let total = 0;
    for (const seg of row.segments) {
      if (seg.value <= 0) continue;
      const w = Math.max(1, (seg.value / max) * barWidth);
      parts.push(
        `<rect x="${round(x)}" y="${y + 3}" width="${round(w)}" height="${rowHeight - 8}" fill="${colours.get(seg.key)}"><title>${escapeHtml(`${row.label}: ${seg.key} ${fmt(seg.value)}`)}</title></rect>`,
      );
      x += w;
      total += seg.value;
    }
    parts.push(`<text x="${round(x + 6)}" y="${y + 15}" class="value">${fmt(total)}</text>`);
  });
  [...colours.entries()].forEach(([key, colour], i) => {
    const x = labelWidth + (i % 3) * 170;
    const y = rows.length * rowHeight + 16 + Math.floor(i / 3) * 20;
    parts.push(`<rect x="${x}" y="${y}" width="12" height="12" fill="${colour}"/><text x="${x + 16}" y="${y + 10}" class="legend">${escapeHtml(key)}</text>`);
  });
  return frame(text, labelWidth + barWidth + 70, height, parts.join(''));
}

/** How a bar of the timeline ended; the class names the CSS colour and the label says it in words. */
export type BarOutcome = 'succeeded' | 'out-of-memory' | 'transient' | 'failed' | 'cancelled' | 'skipped';

export interface TimelineBar {
  readonly from: number;
  readonly to: number;
  readonly outcome: BarOutcome;
  /** Words drawn on (or beside) the bar when they fit, e.g. "2: out of memory". */
  readonly label: string;
  /** What is drawn when the label does not fit, e.g. "2 OOM" (the bar's tooltip and the table say it all). */
  readonly short: string;
}

export interface TimelineLane {
  readonly label: string;
  readonly bars: readonly TimelineBar[];
}

export const OUTCOME_WORDS: Readonly<Record<BarOutcome, string>> = {
  succeeded: 'succeeded',
  'out-of-memory': 'out of memory',
  transient: 'transient failure',
  failed: 'failed',
  cancelled: 'cancelled',
  skipped: 'skipped',
};

/**
 * A Gantt-like timeline: one lane per step, one bar per attempt from its start to its end
 * (milliseconds since the epoch), scaled to the night's span. Bars are hatched or coloured by
 * outcome and labelled in words, so an out-of-memory attempt never reads as a success.
 */
export function timeline(text: ChartText, lanes: readonly TimelineLane[], span: { readonly from: number; readonly to: number }): string {
  const labelWidth = 110;
  const width = 560;
  const laneHeight = 30;
  const total = Math.max(1, span.to - span.from);
  const x = (t: number) => labelWidth + ((Math.min(Math.max(t, span.from), span.to) - span.from) / total) * width;
  const parts: string[] = [
    `<defs><pattern id="${escapeHtml(text.id)}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#D55E00"/><line x1="0" y1="0" x2="0" y2="6" stroke="#7a2f00" stroke-width="3"/></pattern></defs>`,
  ];
  lanes.forEach((lane, i) => {
    const y = 6 + i * laneHeight;
    parts.push(`<text x="${labelWidth - 8}" y="${y + 18}" text-anchor="end" class="label">${escapeHtml(lane.label)}</text>`);
    parts.push(`<line x1="${labelWidth}" y1="${y + laneHeight - 2}" x2="${labelWidth + width}" y2="${y + laneHeight - 2}" class="grid"/>`);
    for (const bar of lane.bars) {
      const x1 = x(bar.from);
      const w = Math.max(3, x(bar.to) - x1);
      const fill = bar.outcome === 'out-of-memory' ? ` fill="url(#${escapeHtml(text.id)}-hatch)"` : '';
      parts.push(
        `<rect x="${round(x1)}" y="${y + 4}" width="${round(w)}" height="${laneHeight - 10}" class="bar ${bar.outcome}"${fill}><title>${escapeHtml(`${lane.label} ${bar.label} (${OUTCOME_WORDS[bar.outcome]})`)}</title></rect>`,
      );
      // On the bar when it fits; else the short form; beside the bar only after the lane's last bar.
      const fits = (text: string) => w > text.length * 6.5 + 8;
      const last = bar === lane.bars[lane.bars.length - 1];
      const shown = fits(bar.label) ? bar.label : fits(bar.short) || !last ? bar.short : bar.label;
      if (fits(shown)) parts.push(`<text x="${round(x1 + 4)}" y="${y + 18}" class="on-bar">${escapeHtml(shown)}</text>`);
      else if (last) parts.push(`<text x="${round(x1 + w + 4)}" y="${y + 18}" class="value">${escapeHtml(shown)}</text>`);
    }
  });
  const axisY = 6 + lanes.length * laneHeight + 14;
  parts.push(`<text x="${labelWidth}" y="${axisY}" class="axis">0 s</text>`);
  parts.push(`<text x="${labelWidth + width}" y="${axisY}" text-anchor="end" class="axis">${escapeHtml(durationWords(total))}</text>`);
  return frame(text, labelWidth + width + 120, axisY + 6, parts.join(''));
}

export interface TrendPoint {
  readonly label: string;
  readonly value: number;
  /** The night the report is about: drawn darker. */
  readonly current?: boolean;
}

/** Vertical bars for a few nights (oldest left), each with its value on top and its date below. */
export function trendBars(text: ChartText, points: readonly TrendPoint[], format: (n: number) => string = fmt): string {
  const barWidth = 36;
  const gap = 14;
  const plot = 90;
  const max = Math.max(1, ...points.map((p) => p.value));
  const width = Math.max(200, points.length * (barWidth + gap) + gap);
  const parts: string[] = [];
  points.forEach((p, i) => {
    const h = p.value <= 0 ? 0 : Math.max(2, (p.value / max) * plot);
    const x = gap + i * (barWidth + gap);
    const y = 18 + plot - h;
    parts.push(`<rect x="${x}" y="${round(y)}" width="${barWidth}" height="${round(h)}" class="trend${p.current ? ' current' : ''}"><title>${escapeHtml(`${p.label}: ${format(p.value)}`)}</title></rect>`);
    parts.push(`<text x="${x + barWidth / 2}" y="${round(y - 4)}" text-anchor="middle" class="value">${escapeHtml(format(p.value))}</text>`);
    parts.push(`<text x="${x + barWidth / 2}" y="${18 + plot + 14}" text-anchor="middle" class="axis">${escapeHtml(p.label.slice(5))}</text>`);
  });
  return frame(text, width, 18 + plot + 22, parts.join(''));
}

/** `42s`, `14m`, `1h02`: a duration in the few characters a chart label has. */
export function compactDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}`;
}

/** `4.2 s`, `3 min 5 s`, `1 h 2 min`: a duration as people say it. */
export function durationWords(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

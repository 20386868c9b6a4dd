/**
 * A night's summary as an operator reads it after the night: feeds with reconciliation, steps with
 * every Spark attempt and its resources, learned sizing, report rows and where to look next. The
 * demo prints it at the end; `nightjar status` prints it for a closed night.
 */
import { pathToFileURL } from 'node:url';
import type { AttemptRecord, RunManifest, SizingManifestEntry } from '../domain/pipeline';
import { describePod } from '../domain/spark/attempt-pods';
import type { SparkResources } from '../domain/spark/resources';

const fmt = (n: number) => n.toLocaleString('en-US');

/** `driver 1024 MiB, executors 2 × 2048 MiB`: what an attempt asked for. */
export function describeResources(r: SparkResources): string {
  return `driver ${fmt(r.driverMemoryMb)} MiB, executors ${r.executorInstances} × ${fmt(r.executorMemoryMb)} MiB`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function describeAttempt(a: AttemptRecord): string {
  const side = a.outcome === 'OUT_OF_MEMORY' && a.oomSide ? ` (${a.oomSide})` : '';
  const parts = [`attempt ${a.attempt}: ${a.outcome}${side}`];
  if (a.resources) parts.push(describeResources(a.resources));
  if (a.leftovers !== undefined) parts.push(`leftovers ${a.leftovers}`);
  const pods = (a.pods ?? []).map((p) => `\n          ${describePod(p)}`).join('');
  const omitted = a.podsOmitted ? `\n          … and ${a.podsOmitted} more pods` : '';
  return parts.join(' — ') + (a.reason ? `\n          ${a.reason}` : '') + pods + omitted;
}

function describeSizing(s: SizingManifestEntry): string {
  const change = s.change ?? 'unchanged';
  return `  ${pad(s.job, 16)} ${pad(s.source, 10)}  next night: ${describeResources(s.next)} (${change}; clean nights ${s.cleanNights})`;
}

export interface SummaryExtras {
  /** The failed Spark job's last driver log lines, when the night failed on one. */
  readonly diagnostics?: readonly string[];
  /** The night's report page (runs/<date>/report.html), when it was written. */
  readonly reportPath?: string;
  /** The UI's list of nights waiting for a decision. */
  readonly attentionList?: string;
}

/** Prints the night as a short report an operator can read. */
export function renderSummary(m: RunManifest, uiLink: string, manifestPath: string, extras: SummaryExtras = {}): string {
  const lines: string[] = [];
  lines.push(`\nNightjar — business date ${m.businessDate}: ${m.status}`);
  if (m.error) lines.push(`  error in ${m.error.step}: [${m.error.type}] ${m.error.message}`);
  lines.push('\nFeeds                rows in   accepted   rejected   control   reconciled');
  for (const f of m.feeds) {
    const ok = f.rowsIn === f.controlCount && f.rowsAccepted + f.rowsRejected === f.rowsIn;
    lines.push(
      `  ${pad(f.feed, 16)} ${fmt(f.rowsIn).padStart(9)} ${fmt(f.rowsAccepted).padStart(10)} ${fmt(f.rowsRejected).padStart(10)} ${fmt(f.controlCount).padStart(9)}   ${ok ? 'yes' : 'NO'}`,
    );
    const reasons = Object.entries(f.rejectReasons);
    if (reasons.length > 0) lines.push(`      rejects: ${reasons.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  lines.push('\nSteps                attempts   duration   outcome');
  for (const s of m.steps) {
    const ms = Date.parse(s.finishedAt) - Date.parse(s.startedAt);
    lines.push(`  ${pad(s.step, 16)} ${String(s.attempts.length).padStart(9)} ${(ms / 1000).toFixed(1).padStart(9)}s   ${s.status}`);
    // Spark steps only: their attempts carry the resources they ran with.
    if (!s.attempts.some((a) => a.resources)) continue;
    for (const a of s.attempts) lines.push(`      ${describeAttempt(a)}`);
  }
  if (extras.diagnostics && extras.diagnostics.length > 0) {
    lines.push('\nDiagnostics of the failed Spark attempt');
    for (const d of extras.diagnostics) lines.push(`  | ${d}`);
  }
  if (m.sizing && m.sizing.length > 0) {
    lines.push('\nLearned sizing      started from');
    for (const s of m.sizing) lines.push(describeSizing(s));
  }
  lines.push('\nReports (reporting database rows)');
  for (const r of m.reports) lines.push(`  ${pad(r.table, 28)} ${fmt(r.rows).padStart(9)}`);
  lines.push(`\nManifest:    ${manifestPath}`);
  if (extras.reportPath) lines.push(`Report:      ${pathToFileURL(extras.reportPath).href}   (node bin/nightjar.js report --date ${m.businessDate} --open)`);
  lines.push(`Temporal UI: ${uiLink}`);
  if (extras.attentionList) lines.push(`             nights waiting for a decision: ${extras.attentionList}`);
  lines.push('');
  return lines.join('\n');
}


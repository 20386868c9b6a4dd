/**
 * A night's status as an operator reads it in a terminal: where it stands, its feeds and steps
 * and, when a step is parked, what went wrong and the exact commands that decide it.
 */
import type { AttemptRecord } from '../domain/pipeline';
import type { ParkedStep, PipelineStatus } from '../workflows/messages';
import type { ClosedNight } from './operations';
import { describeResources, renderSummary } from './render-summary';

export interface StatusLinks {
  readonly workflowId?: string;
  readonly uiLink?: string;
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const fmt = (n: number) => n.toLocaleString('en-US');

function seconds(from: string, to: string): string {
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)}s` : '?';
}

/** The `nightjar …` command for a night: the tenant is always named, so it never depends on NIGHTJAR_TENANT. */
function nightjarCommand(verb: string, status: Pick<PipelineStatus, 'businessDate' | 'tenant'>, ...flags: string[]): string {
  return ['nightjar', verb, '--date', status.businessDate, '--tenant', status.tenant, ...flags].join(' ');
}

/** The exact `nightjar resolve …` command for one of the parked step's actions. */
export function resolveCommand(status: Pick<PipelineStatus, 'businessDate' | 'tenant'>, parked: Pick<ParkedStep, 'step' | 'feed'>, action: string): string {
  return nightjarCommand('resolve', status, '--step', parked.step, ...(parked.feed ? ['--feed', parked.feed] : []), '--action', action);
}

function describeAttempt(a: AttemptRecord): string {
  const side = a.oomSide ? ` (${a.oomSide})` : '';
  const parts = [`attempt ${a.attempt}: ${a.outcome}${side}`];
  if (a.resources) parts.push(describeResources(a.resources));
  if (a.reason && a.outcome !== 'SUCCEEDED') parts.push(a.reason);
  return parts.join(' — ');
}

export function renderStatus(status: PipelineStatus, links: StatusLinks = {}): string {
  const lines: string[] = [];
  const flags = [status.late ? 'LATE' : undefined, status.stage !== 'done' ? `stage ${status.stage}` : undefined].filter(Boolean);
  lines.push(`Night ${status.tenant} ${status.businessDate}: ${status.status}${flags.length > 0 ? ` (${flags.join(', ')})` : ''}`);
  lines.push(`  started ${status.startedAt}`);
  if (links.workflowId) lines.push(`  workflow ${links.workflowId}`);
  if (links.uiLink) lines.push(`  ${links.uiLink}`);

  if (status.feeds.length > 0) {
    lines.push('', 'Feeds              state      required  arrived via  rows in   accepted  rejected');
    for (const f of status.feeds) {
      const m = status.manifestFeeds.find((e) => e.feed === f.feed);
      const rows = m && m.status === 'INGESTED' ? `${fmt(m.rowsIn).padStart(8)} ${fmt(m.rowsAccepted).padStart(10)} ${fmt(m.rowsRejected).padStart(9)}` : '';
      lines.push(`  ${pad(f.feed, 16)} ${pad(f.state, 10)} ${pad(f.required ? 'yes' : 'no', 9)} ${pad(f.via ?? '-', 11)}  ${rows}`.trimEnd());
      if (f.state === 'WAITING') lines.push(`      cut-off ${f.cutoffAt}`);
    }
  }

  if (status.steps.length > 0) {
    lines.push('', 'Steps              status     attempts  duration');
    for (const s of status.steps) {
      lines.push(`  ${pad(s.step, 16)} ${pad(s.status, 10)} ${String(s.attempts.length).padStart(8)}  ${seconds(s.startedAt, s.finishedAt).padStart(8)}`);
      // Spark steps: every attempt, with what it asked for and how it ended.
      if (s.attempts.some((a) => a.resources)) for (const a of s.attempts) lines.push(`      ${describeAttempt(a)}`);
    }
  }

  const parked = status.parked;
  if (parked) {
    lines.push('', `NEEDS ATTENTION: ${parked.step}${parked.feed ? ` (${parked.feed})` : ''} failed, waiting since ${parked.since}`);
    lines.push(`  [${parked.error.type}] ${parked.error.message}`);
    lines.push(`  allowed actions: ${parked.actions.join(', ')}`);
    lines.push('  decide with one of:');
    for (const action of parked.actions) lines.push(`    ${resolveCommand(status, parked, action)}`);
    if (parked.actions.includes('retry') && (parked.step === 'normalize' || parked.step === 'transform')) {
      lines.push(`  a retry can ask for other resources: add --overrides '{"driverMemoryMb":4096}'`);
    }
  }

  if (status.exportHold) {
    const h = status.exportHold;
    lines.push('', `Export held by ${h.by ?? 'an operator'} since ${h.since}: ${h.reason}`);
    lines.push(`  release with: ${nightjarCommand('release', status)}`);
  }

  if (status.decisions.length > 0) {
    lines.push('', 'Decisions');
    for (const d of status.decisions) {
      lines.push(`  ${d.step}${d.feed ? ` (${d.feed})` : ''}: ${d.action}${d.by ? ` by ${d.by}` : ''}${d.reason ? ` — ${d.reason}` : ''}`);
    }
  }

  if (status.error && !parked) lines.push('', `Error in ${status.error.step}: [${status.error.type}] ${status.error.message}`);
  return lines.join('\n') + '\n';
}

const SOURCES: Readonly<Record<ClosedNight['source'], string>> = {
  manifest: 'told from its run manifest',
  result: "told from the workflow's result (no manifest in this data directory)",
  temporal: 'as Temporal closed it (no manifest in this data directory)',
};

/** A closed night, without a worker: its manifest's summary, else its result or failure. */
export function renderClosedNight(night: ClosedNight, links: StatusLinks & { readonly reportPath?: string } = {}): string {
  const lines: string[] = [];
  const closed = night.closeTime ? `closed ${night.closeTime}` : 'closed';
  lines.push(`Night ${night.tenant} ${night.businessDate}: ${night.status} (${closed}; ${SOURCES[night.source]})`);
  lines.push(`  workflow ${night.workflowId} (Temporal: ${night.execution})`);
  if (links.uiLink) lines.push(`  ${links.uiLink}`);
  if (links.reportPath) lines.push(`  report ${links.reportPath}`);
  if (night.story) lines.push(`  ${night.story.replace(/\*\*/g, '')}`);
  if (night.manifest) {
    lines.push(renderSummary(night.manifest, links.uiLink ?? '', night.manifestPath ?? '').replace(/^\n/, ''));
    return lines.join('\n');
  }
  if (night.result) {
    lines.push('', 'Feeds              rows in   accepted  rejected');
    for (const f of night.result.feeds) lines.push(`  ${pad(f.feed, 16)} ${fmt(f.rowsIn).padStart(8)} ${fmt(f.rowsAccepted).padStart(10)} ${fmt(f.rowsRejected).padStart(9)}`);
    lines.push('', 'Reports (reporting database rows)');
    for (const r of night.result.reports) lines.push(`  ${pad(r.table, 28)} ${fmt(r.rows).padStart(9)}`);
    lines.push('', `Manifest: ${night.result.manifestUri}`);
  }
  if (night.failure) lines.push('', `Failure: ${night.failure}`);
  return lines.join('\n') + '\n';
}

/** The operator commands' results as text (each command prints JSON instead with `--json`). */
import type { NightlyScheduleSummary } from '../schedules/nightly-schedule';
import type { BackfillNight, BackfillReport } from '../triggers/backfill';
import type {
  CancelRequested,
  ExportHeld,
  ExportReleased,
  FeedReported,
  JanitorRun,
  NightList,
  NightStarted,
  ScheduleDeleted,
  StepResolved,
} from './operations';

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

export function renderStarted(r: NightStarted): string {
  const lines = [
    r.started ? `Started the night ${r.tenant} ${r.businessDate}` : `Joined the night ${r.tenant} ${r.businessDate}, already running`,
    `  workflow ${r.workflowId}`,
    `  run      ${r.runId}`,
    `  ${r.uiLink}`,
  ];
  return lines.join('\n') + '\n';
}

export function renderNightList(list: NightList): string {
  if (list.nights.length === 0) return `No nights match: ${list.query}\n`;
  const lines = [`${pad('date', 11)} ${pad('tenant', 14)} ${pad('status', 16)} ${pad('stage', 15)} ${pad('started', 25)} closed`];
  for (const n of list.nights) {
    lines.push(
      `${pad(n.businessDate ?? '?', 11)} ${pad(n.tenant ?? '?', 14)} ${pad(n.status, 16)} ${pad(n.stage ?? '-', 15)} ${pad(n.startTime, 25)} ${n.closeTime ?? '-'}`,
    );
  }
  return lines.join('\n') + '\n';
}

export function renderResolved(r: StepResolved): string {
  return `Accepted: ${r.action} ${r.step}${r.feed ? ` (${r.feed})` : ''} on ${r.workflowId}\n`;
}

export function renderHeld(r: ExportHeld): string {
  return `Export of ${r.tenant} ${r.businessDate} held${r.by ? ` by ${r.by}` : ''}: ${r.reason}\n  release with: nightjar release --date ${r.businessDate} --tenant ${r.tenant}\n`;
}

export function renderReleased(r: ExportReleased): string {
  return `Export of ${r.tenant} ${r.businessDate} released${r.by ? ` by ${r.by}` : ''}\n`;
}

export function renderCancelled(r: CancelRequested): string {
  return (
    `Cancellation of ${r.tenant} ${r.businessDate} requested${r.reason ? ` (${r.reason})` : ''}: the night stops its step, cleans up and writes its manifest as CANCELLED\n` +
    `  workflow ${r.workflowId}, run ${r.runId}\n`
  );
}

export function renderFeedReported(r: FeedReported): string {
  return `Reported ${r.arrival.feed} for ${r.arrival.tenant} ${r.arrival.businessDate}: ${r.arrival.uri}\n  workflow ${r.workflowId}, run ${r.runId}\n`;
}

export function renderBackfillNight(n: BackfillNight): string {
  return `${n.businessDate}  ${pad(n.outcome, 18)} ${secs(n.durationMs).padStart(8)}  ${n.workflowId}\n`;
}

export function backfillCounts(report: BackfillReport): { completed: number; skipped: number; failed: number } {
  const completed = report.nights.filter((n) => n.outcome === 'COMPLETED').length;
  const skipped = report.nights.filter((n) => n.outcome === 'SKIPPED_COMPLETED').length;
  return { completed, skipped, failed: report.nights.length - completed - skipped };
}

export function renderBackfillSummary(report: BackfillReport, from: string, to: string): string {
  if (report.dates === 0) return `No business dates for ${report.tenant} from ${from} to ${to}\n`;
  const { completed, skipped, failed } = backfillCounts(report);
  return (
    `Backfill ${report.tenant} ${from} → ${to}: ${report.dates} business date(s) — ` +
    `${completed} completed, ${skipped} skipped (already completed), ${failed} failed — wall time ${secs(report.wallMs)}\n`
  );
}

export function renderSchedule(s: NightlyScheduleSummary): string {
  const lines = [`Schedule ${s.scheduleId} (tenant ${s.tenant}): ${s.paused ? 'PAUSED' : 'active'}`];
  lines.push(`  ${s.time ? `daily at ${s.time} ${s.timeZone}` : `time zone ${s.timeZone}`}, starts ${s.workflowType}${s.taskQueue ? ` on task queue ${s.taskQueue}` : ''}`);
  if (s.lookbackDays !== undefined) lines.push(`  each run owes the business dates of the last ${s.lookbackDays} day(s) not yet completed`);
  lines.push(`  overlap ${s.overlap}, catch-up window ${s.catchupWindowSeconds} s`);
  if (s.note) lines.push(`  note: ${s.note}`);
  if (s.nextActionTimes.length > 0) {
    lines.push(`  next runs (UTC, then ${s.timeZone}):`);
    s.nextActionTimes.forEach((utc, i) => lines.push(`    ${pad(utc, 26)} ${s.nextActionLocalTimes[i] ?? ''}`));
  }
  if (s.recentActions.length > 0) {
    lines.push('  recent runs:');
    for (const a of s.recentActions) lines.push(`    ${a.scheduledAt}  ${a.workflowId}`);
  }
  lines.push(`  runs taken ${s.actionsTaken}, missed (catch-up window) ${s.actionsMissedCatchupWindow}, skipped (overlap) ${s.actionsSkippedOverlap}`);
  return lines.join('\n') + '\n';
}

export function renderScheduleDeleted(r: ScheduleDeleted): string {
  return `Deleted schedule ${r.scheduleId} (tenant ${r.tenant}); the nights it started are not affected\n`;
}

export function renderJanitor(r: JanitorRun): string {
  const verb = r.dryRun ? 'would remove' : 'removed';
  const lines = [`Janitor ${r.workflowId}${r.dryRun ? ' (dry run)' : ''}: examined ${r.examined} object(s) in ${r.namespace || 'no cluster (local Spark)'}; ${verb} ${r.removed.length}`];
  for (const o of r.removed) lines.push(`  ${o.kind}/${o.name} — ${o.reason}${o.workflowId ? ` (${o.workflowId})` : ''}`);
  if (r.kept.length > 0) lines.push(`  kept ${r.kept.length}`);
  if (r.failed.length > 0) {
    lines.push(`  could not delete ${r.failed.length}:`);
    for (const o of r.failed) lines.push(`  ${o.kind}/${o.name}: ${o.error}`);
  }
  return lines.join('\n') + '\n';
}

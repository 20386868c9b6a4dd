import fs from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import type { Logger } from 'pino';
import { DataLayout, toUri } from '../common/layout';
import { reportSpec } from '../domain/reports/catalog';
import type { FinalizeRunInput, FinalizeRunResult, RunManifest } from '../domain/pipeline';
import type { ReportingStore } from '../reporting/store';
import { writeNightReport } from '../night-report/write';
import { writeFileAtomic } from './ingest';

export interface FinalizeDeps {
  readonly layout: DataLayout;
  readonly store: ReportingStore;
  readonly logger: Logger;
}

function csvField(value: string | number | null): string {
  if (value === null) return '';
  const s = String(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csv(header: readonly string[], rows: readonly (readonly (string | number | null)[])[]): string {
  return [header.join(','), ...rows.map((r) => r.map(csvField).join(','))].join('\n') + '\n';
}

/** Operational report rows derived from the manifest (one per step, one per feed). */
export function operationalRows(m: RunManifest) {
  const steps = m.steps.map((s) => {
    const last = s.attempts[s.attempts.length - 1];
    return [
      m.businessDate,
      s.step,
      m.workflowId,
      s.status,
      s.attempts.length,
      s.startedAt,
      s.finishedAt,
      Date.parse(s.finishedAt) - Date.parse(s.startedAt),
      last?.resources ? JSON.stringify(last.resources) : null,
    ];
  });
  const feeds = m.feeds.map((f) => [
    m.businessDate,
    f.feed,
    f.rowsIn,
    f.rowsAccepted,
    f.rowsRejected,
    f.controlCount,
    f.controlSum,
    f.sha256,
    // Manifests written before the amounts existed lack them.
    f.amountAccepted ?? null,
    f.amountRejected ?? null,
  ]);
  return { steps, feeds };
}

export function createFinalizeActivities(deps: FinalizeDeps) {
  return {
    /**
     * Writes the operational reports (step metrics, feed quality) for the date, then the run
     * manifest — the audit trail — atomically, then the night's report page beside it
     * (`report.html`). Idempotent: a retry rewrites the same content.
     */
    async finalizeRun(input: FinalizeRunInput): Promise<FinalizeRunResult> {
      const m = input.manifest;
      const { steps, feeds } = operationalRows(m);
      const stepsSpec = reportSpec('pipeline_runs');
      const feedSpecR = reportSpec('feed_quality');
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nightjar-finalize-'));
      try {
        const stepsFile = path.join(dir, 'pipeline_runs.csv');
        const feedsFile = path.join(dir, 'feed_quality.csv');
        await fs.writeFile(stepsFile, csv(stepsSpec.columns.map((c) => c.name), steps));
        await fs.writeFile(feedsFile, csv(feedSpecR.columns.map((c) => c.name), feeds));
        const tables = await deps.store.replaceBusinessDate(m.businessDate, [
          { spec: stepsSpec, files: [stepsFile], expectedRows: steps.length },
          { spec: feedSpecR, files: [feedsFile], expectedRows: feeds.length },
        ]);
        const manifest: RunManifest = { ...m, reports: [...m.reports, ...tables] };
        const file = deps.layout.manifestFile(m.businessDate);
        await writeFileAtomic(file, JSON.stringify(manifest, null, 2) + '\n');
        // The page is derived from the manifests (and re-rendered by `nightjar report`): a failure
        // to write it is logged, never a reason to fail the night's audit trail.
        const report = await writeNightReport(deps.layout, manifest).catch((error: unknown) => {
          deps.logger.error({ businessDate: m.businessDate, err: error }, 'night report not written');
          return undefined;
        });
        deps.logger.info({ businessDate: m.businessDate, status: m.status, manifest: file, report }, 'run finalized');
        return { manifestUri: toUri(file), tables, ...(report !== undefined ? { reportUri: toUri(report) } : {}) };
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    },
  };
}

import path from 'node:path';
import fs from 'node:fs/promises';
import { Client, Connection } from '@temporalio/client';
import type { NightjarConfig } from '../config/config';
import { DataLayout } from '../common/layout';
import { dailyWorkflowId } from '../domain/ids';
import type { RunManifest } from '../domain/pipeline';
import { generateFeeds } from '../feeds/generator';
import { ensureDevServer } from '../infra/temporal-dev-server';
import { venvTool } from '../infra/tools';
import { createLogger } from '../worker/logger';
import { createNightjarWorker } from '../worker/worker';
import type { dailyPipeline } from '../workflows/daily-pipeline';
import { statusQuery } from '../workflows/messages';

export interface DemoOptions {
  readonly businessDate: string;
  readonly transactions: number;
  readonly accounts?: number;
  readonly defectRate: number;
  readonly seed: number;
  readonly driverMemoryMb?: number;
  readonly json: boolean;
}

const fmt = (n: number) => n.toLocaleString('en-US');

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** Prints the night as a short report an operator can read. */
export function renderSummary(m: RunManifest, uiLink: string, manifestPath: string): string {
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
    for (const a of s.attempts.filter(() => s.attempts.some((x) => x.resources))) {
      const r = a.resources ? `driver ${a.resources.driverMemoryMb} MiB` : '';
      lines.push(`      attempt ${a.attempt}: ${a.outcome}${a.reason ? ` (${a.reason})` : ''} ${r}`);
    }
  }
  lines.push('\nReports (reporting database rows)');
  for (const r of m.reports) lines.push(`  ${pad(r.table, 28)} ${fmt(r.rows).padStart(9)}`);
  lines.push(`\nManifest:    ${manifestPath}`);
  lines.push(`Temporal UI: ${uiLink}\n`);
  return lines.join('\n');
}

/** The end-to-end demo: dev server, worker, generated feeds, one night, a summary. */
export async function runDemo(config: NightjarConfig, opts: DemoOptions): Promise<number> {
  const logger = createLogger({ ...config.log, level: config.log.level === 'info' ? 'warn' : config.log.level });
  const layout = new DataLayout(config.dataDir);
  const out = (s: string) => {
    if (!opts.json) process.stdout.write(s + '\n');
  };
  const [host, port] = config.temporal.address.split(':');
  const server = await ensureDevServer({
    temporalBin: venvTool(config.repoRoot, 'temporal'),
    dbFile: layout.temporalDbFile(),
    host: host ?? '127.0.0.1',
    port: Number(port ?? 7233),
    uiPort: Number(new URL(config.temporal.uiUrl).port || 8233),
    logFile: path.join(config.dataDir, 'temporal', 'dev-server.log'),
    logger,
  });
  out(`Temporal dev server ${server.startedHere ? 'started' : 'reused'} at ${server.address}; Web UI ${server.uiUrl}`);

  const generated = await generateFeeds({
    landingDir: layout.landingDir(opts.businessDate),
    businessDate: opts.businessDate,
    seed: opts.seed,
    transactions: opts.transactions,
    ...(opts.accounts !== undefined ? { accounts: opts.accounts } : {}),
    defectRate: opts.defectRate,
  });
  out(`Generated feeds for ${opts.businessDate}: ${generated.feeds.map((f) => `${f.feed} ${fmt(f.rows)}`).join(', ')}`);

  const nightjar = await createNightjarWorker(config, logger);
  const running = nightjar.run();
  const connection = await Connection.connect({ address: config.temporal.address });
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const workflowId = dailyWorkflowId(opts.businessDate);
    const handle = await client.workflow.start<typeof dailyPipeline>('dailyPipeline', {
      taskQueue: config.temporal.taskQueue,
      workflowId,
      args: [{ businessDate: opts.businessDate, ...(opts.driverMemoryMb ? { sparkOverrides: { normalize: { driverMemoryMb: opts.driverMemoryMb }, transform: { driverMemoryMb: opts.driverMemoryMb } } } : {}) }],
      // A demo re-run of a date replaces it (idempotent export); a running one is joined.
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      staticSummary: `Demo night for business date ${opts.businessDate}`,
    });
    const uiLink = `${server.uiUrl}/namespaces/${config.temporal.namespace}/workflows/${encodeURIComponent(workflowId)}`;
    out(`Started ${workflowId} — follow it in the UI: ${uiLink}`);

    let last = '';
    const poll = setInterval(() => {
      handle
        .query(statusQuery)
        .then((s) => {
          const line = `  … ${s.stage} (${s.steps.length} step(s) done)`;
          if (line !== last) out(line);
          last = line;
        })
        .catch(() => undefined);
    }, 2000);
    let failed = false;
    try {
      await handle.result();
    } catch (err) {
      failed = true;
      out(`The night did not complete: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      clearInterval(poll);
    }
    const manifestPath = layout.manifestFile(opts.businessDate);
    const manifest = JSON.parse(await fs.readFile(manifestPath, 'utf8')) as RunManifest;
    if (opts.json) process.stdout.write(JSON.stringify({ manifest, manifestPath, uiLink }, null, 2) + '\n');
    else out(renderSummary(manifest, uiLink, manifestPath));
    return !failed && manifest.status === 'COMPLETED' ? 0 : 1;
  } finally {
    await connection.close();
    nightjar.shutdown();
    await running;
  }
}

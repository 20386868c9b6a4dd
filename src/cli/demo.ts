import path from 'node:path';
import fs from 'node:fs/promises';
import pino from 'pino';
import { Client, Connection } from '@temporalio/client';
import type { NightjarConfig } from '../config/config';
import { DataLayout } from '../common/layout';
import { dailyWorkflowId, sparkJobWorkflowId } from '../domain/ids';
import type { RunManifest } from '../domain/pipeline';
import { generateFeeds } from '../feeds/generator';
import { ensureDevServer } from '../infra/temporal-dev-server';
import { venvTool } from '../infra/tools';
import { createLogger } from '../worker/logger';
import { createNightjarWorker } from '../worker/worker';
import type { dailyPipeline } from '../workflows/daily-pipeline';
import { sparkJobStatusQuery, statusQuery } from '../workflows/messages';

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
  const layout = new DataLayout(config.dataDir);
  // The terminal shows the story of the night; the worker's structured log goes to a file.
  const logFile = path.join(config.dataDir, 'logs', 'demo-worker.log');
  await fs.mkdir(path.dirname(logFile), { recursive: true });
  const logger = createLogger({ ...config.log, destination: pino.destination({ dest: logFile, sync: false }) });
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
  out(`Worker log: ${logFile}`);

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

    const printed = new Set<string>();
    const once = (line: string) => {
      if (!printed.has(line)) out(line);
      printed.add(line);
    };
    const poll = setInterval(() => {
      void (async () => {
        const s = await handle.query(statusQuery);
        once(`  … ${s.stage}`);
        if (s.stage === 'normalize' || s.stage === 'transform') {
          const job = await client.workflow.getHandle(sparkJobWorkflowId(workflowId, s.stage)).query(sparkJobStatusQuery);
          for (const a of job.attempts) {
            once(`    ${job.job} attempt ${a.attempt} (driver ${a.resources?.driverMemoryMb} MiB): ${a.outcome}${a.reason ? ` — ${a.reason}` : ''}`);
          }
          if (job.current) once(`    ${job.job} attempt ${job.current.attempt} ${job.current.state.toLowerCase()}`);
        }
      })().catch(() => undefined);
    }, 1000);
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

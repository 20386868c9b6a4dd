/**
 * Runs every benchmark once and prints Markdown for the README's "Measured results".
 * Usage: npm run bench [-- --quick]   (needs `npm run bootstrap`; PostgreSQL via scripts/postgres.sh)
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../src/config/config';
import { fakeActivities } from '../test/helpers/fake-activities';
import { benchExport } from './export';
import { benchGenerate } from './generate';
import { benchOrchestration } from './orchestration';
import { benchSpark } from './spark';

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const quick = process.argv.includes('--quick');
  const repoRoot = process.cwd();
  const config = loadConfig(process.env, repoRoot);
  const scratch = path.join(os.tmpdir(), `nightjar-bench-${process.pid}`);
  const pgUrl = process.env.NIGHTJAR_TEST_PG_URL ?? execFileSync('bash', ['scripts/postgres.sh'], { encoding: 'utf8' }).trim().split('\n').pop()!;
  const out: string[] = [];
  const say = (s: string) => {
    out.push(s);
    console.log(s);
  };
  say(`Machine: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`);

  const gen = await benchGenerate({ dir: scratch, transactions: quick ? 200_000 : 1_000_000 });
  say('**Feed generation and ingest check**\n');
  say('| transactions | generate (all 5 feeds) | rows/s | inspect transactions file | lines/s | peak RSS |');
  say('|---|---|---|---|---|---|');
  say(`| ${gen.transactions.toLocaleString('en-US')} | ${gen.generate.seconds.toFixed(2)} s | ${Math.round(gen.generate.rowsPerSecond).toLocaleString('en-US')} | ${gen.inspect.seconds.toFixed(2)} s | ${Math.round(gen.inspect.linesPerSecond).toLocaleString('en-US')} | ${Math.round(gen.peakRssMb)} MiB |\n`);

  const exp = await benchExport({ pgUrl, rows: quick ? 200_000 : 1_000_000, dir: scratch });
  say('**Export into PostgreSQL** (same CSV, same run)\n');
  say('| rows | Nightjar store (one transaction, COPY, checks) | `psql \\copy` | ratio | PGlite (embedded) |');
  say('|---|---|---|---|---|');
  say(`| ${exp.rows.toLocaleString('en-US')} | ${Math.round(exp.store.rowsPerSecond).toLocaleString('en-US')} rows/s | ${Math.round(exp.psql.rowsPerSecond).toLocaleString('en-US')} rows/s | ${exp.ratio.toFixed(3)} | ${Math.round(exp.pglite.rowsPerSecond).toLocaleString('en-US')} rows/s |\n`);

  const orch = await benchOrchestration({ repoRoot, nights: quick ? 5 : 20, stepMs: 50, fakes: () => fakeActivities().activities });
  say('**Orchestration overhead** (dev server, every step a fixed 50 ms, median night)\n');
  say('| nights | activities / night | wall / night | busy time / night | same steps called directly | overhead / night | step transition p50 | p99 |');
  say('|---|---|---|---|---|---|---|---|');
  say(`| ${orch.nights} | ${orch.activitiesPerNight} | ${orch.wallPerNightMs} ms | ${orch.activityTimePerNightMs} ms | ${orch.directPerNightMs} ms | ${orch.overheadPerNightMs} ms | ${orch.transitionP50Ms} ms | ${orch.transitionP99Ms} ms |\n`);

  say('**Spark normalize + transform** (local[2], spark-submit, JVM start included)\n');
  say('| transactions | input rows (5 feeds) | driver | normalize | transform | total | input rows/s |');
  say('|---|---|---|---|---|---|---|');
  for (const transactions of quick ? [100_000] : [1_000_000, 5_000_000]) {
    const s = await benchSpark(config, { dir: path.join(scratch, `spark-${transactions}`), transactions, driverMemoryMb: 4096 });
    say(`| ${s.transactions.toLocaleString('en-US')} | ${s.inputRows.toLocaleString('en-US')} | ${s.driverMemoryMb} MiB | ${s.normalizeSeconds} s | ${s.transformSeconds} s | ${s.totalSeconds} s | ${s.inputRowsPerSecond.toLocaleString('en-US')} |`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

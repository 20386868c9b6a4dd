import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { promisify } from 'node:util';
import { reportSpec } from '../src/domain/reports/catalog';
import { qualifiedTable, quoteIdent } from '../src/reporting/ddl';
import { PgliteReportingStore } from '../src/reporting/pglite';
import { PostgresReportingStore } from '../src/reporting/postgres';
import type { ReportingStore } from '../src/reporting/store';

export interface BenchExportOptions {
  readonly pgUrl: string;
  readonly rows: number;
  /** Scratch directory for the generated CSV (removed again at the end). */
  readonly dir: string;
  /** Timed loads per PostgreSQL contender; the best one counts. Default 2. */
  readonly rounds?: number;
}

export interface Throughput {
  readonly seconds: number;
  readonly rowsPerSecond: number;
}

export interface BenchExportResult {
  readonly rows: number;
  readonly csvBytes: number;
  /** `PostgresReportingStore.replaceBusinessDate`: lock, delete, COPY, verify, bookkeeping, commit. */
  readonly store: Throughput;
  /** `psql \copy` of the same file into the same (emptied) date: the floor to compare with. */
  readonly psql: Throughput;
  /** store rows/s ÷ psql rows/s (1 = as fast as psql). */
  readonly ratio: number;
  /** `PgliteReportingStore.replaceBusinessDate` into an in-memory database, for reference. */
  readonly pglite: Throughput;
}

/** A date no real run uses, so the benchmark never replaces real data. */
const BENCH_DATE = '1999-12-31';
const ROWS_PER_CHUNK = 10_000;

const spec = reportSpec('eod_balances');
const execFileAsync = promisify(execFile);

/**
 * Compares the reporting store's PostgreSQL export with a plain `psql \copy` of the same
 * eod_account_balances CSV, in the same run and from the same starting point (the date's rows
 * deleted and the table vacuumed before every timed load); adds PGlite's figure for reference.
 */
export async function benchExport(opts: BenchExportOptions): Promise<BenchExportResult> {
  const rounds = opts.rounds ?? 2;
  await mkdir(opts.dir, { recursive: true });
  const file = path.join(opts.dir, `bench-${spec.table}-${opts.rows}.csv`);
  const store = new PostgresReportingStore({ connectionString: opts.pgUrl });
  try {
    await writeCsv(file, opts.rows);
    const csvBytes = (await stat(file)).size;
    await store.migrate();

    const storeRuns: number[] = [];
    const psqlRuns: number[] = [];
    for (let round = 0; round < rounds; round++) {
      await resetDate(store);
      psqlRuns.push(await timed(() => psqlCopy(opts.pgUrl, file)));
      await resetDate(store);
      storeRuns.push(await timed(() => store.replaceBusinessDate(BENCH_DATE, [{ spec, files: [file] }])));
    }
    const loaded = await store.countRows(spec.table, BENCH_DATE);
    if (loaded !== opts.rows) throw new Error(`expected ${opts.rows} rows after the export, found ${loaded}`);

    const pglite = await timedPglite(file);
    const best = (runs: number[]) => throughput(opts.rows, Math.min(...runs));
    const storeBest = best(storeRuns);
    const psqlBest = best(psqlRuns);
    return {
      rows: opts.rows,
      csvBytes,
      store: storeBest,
      psql: psqlBest,
      ratio: round3(storeBest.rowsPerSecond / psqlBest.rowsPerSecond),
      pglite: throughput(opts.rows, pglite),
    };
  } finally {
    await resetDate(store).catch(() => undefined);
    await store.close();
    await rm(file, { force: true });
  }
}

async function writeCsv(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  out.write(spec.columns.map((c) => c.name).join(',') + '\n');
  for (let start = 0; start < rows; start += ROWS_PER_CHUNK) {
    const lines: string[] = [];
    for (let i = start; i < Math.min(rows, start + ROWS_PER_CHUNK); i++) lines.push(csvLine(i));
    if (!out.write(lines.join(''))) await once(out, 'drain');
  }
  out.end();
  await finished(out);
}

/** A plausible, deterministic end-of-day balance row for account number `i`. */
function csvLine(i: number): string {
  const id = String(i).padStart(9, '0');
  const opening = ((i * 7919) % 10_000_000) / 100;
  const credits = ((i * 104_729) % 500_000) / 100;
  const debits = ((i * 1_299_709) % 400_000) / 100;
  const closing = opening + credits - debits;
  const product = i % 3 === 0 ? 'SAVINGS' : 'CURRENT';
  const currency = i % 5 === 0 ? 'USD' : 'EUR';
  return (
    `${BENCH_DATE},A${id},C${id},${product},${currency},${opening.toFixed(2)},${credits.toFixed(2)},` +
    `${debits.toFixed(2)},${closing.toFixed(2)},${closing.toFixed(2)},${i % 40}\n`
  );
}

async function psqlCopy(url: string, file: string): Promise<void> {
  const columns = spec.columns.map((c) => c.name).join(', ');
  const source = `'${file.replaceAll("'", "''")}'`;
  await execFileAsync('psql', [
    '-X',
    '-q',
    '-v',
    'ON_ERROR_STOP=1',
    '-d',
    url,
    '-c',
    `\\copy reporting.${spec.table} (${columns}) from ${source} with (format csv, header true)`,
  ]);
}

async function resetDate(store: ReportingStore): Promise<void> {
  await store.query(`DELETE FROM ${qualifiedTable(spec.table)} WHERE business_date = $1`, [BENCH_DATE]);
  await store.query(`DELETE FROM ${qualifiedTable('export_batches')} WHERE business_date = $1`, [BENCH_DATE]);
  // Both contenders start from a table without the dead rows of the previous load.
  await store.query(`VACUUM ${quoteIdent('reporting')}.${quoteIdent(spec.table)}`);
}

async function timedPglite(file: string): Promise<number> {
  const store = new PgliteReportingStore({ memory: true });
  try {
    await store.migrate();
    return await timed(() => store.replaceBusinessDate(BENCH_DATE, [{ spec, files: [file] }]));
  } finally {
    await store.close();
  }
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function throughput(rows: number, seconds: number): Throughput {
  return { seconds: round3(seconds), rowsPerSecond: Math.round(rows / seconds) };
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

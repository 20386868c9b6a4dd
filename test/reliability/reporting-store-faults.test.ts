/**
 * The PostgreSQL store under the faults the matrix found it mishandling:
 * - a connection cut in the middle of an export's transaction emitted an 'error' on the
 *   checked-out client that nobody listened to, which ended the worker process;
 * - a cancelled export went on and committed once it got past what held it: aborting
 *   `replaceBusinessDate` now interrupts the statement in progress and rolls back.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { reportSpec } from '../../src/domain/reports/catalog';
import { PostgresReportingStore } from '../../src/reporting/postgres';
import { createDatabase, dropDatabase, holdExportMidway, TcpProxy, until, viaPort } from './harness';

jest.setTimeout(60_000);

const eod = reportSpec('eod_balances');
const DATE = '2026-11-19';
let dir: string;
let database: string;
let url: string;
let store: PostgresReportingStore;
let pool: Pool;

function csv(rows: number, closing: string): string {
  const lines = [eod.columns.map((c) => c.name).join(',')];
  for (let i = 0; i < rows; i++) lines.push([DATE, `ACC${i}`, `CUS${i}`, 'current', 'EUR', '1.00', '0.00', '0.00', closing, closing, '0'].join(','));
  return `${lines.join('\n')}\n`;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'nightjar-store-faults-'));
  database = `nightjar_rel_store_faults_${process.pid}`;
  url = await createDatabase(database);
  store = new PostgresReportingStore({ connectionString: url });
  await store.migrate();
  pool = new Pool({ connectionString: url, max: 2 });
});
afterAll(async () => {
  await store?.close();
  await pool?.end();
  if (database) await dropDatabase(database);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function load(name: string, rows: number, closing: string) {
  const file = path.join(dir, name);
  await writeFile(file, csv(rows, closing));
  return [{ spec: eod, files: [file], expectedRows: rows }];
}

test('an export aborted while it waits inside its transaction rolls back and keeps the previous date', async () => {
  await store.replaceBusinessDate(DATE, await load('old.csv', 3, '1.00'));
  const lock = await holdExportMidway(pool);
  const abort = new AbortController();
  const reason = new Error('night cancelled');
  try {
    const replacing = store.replaceBusinessDate(DATE, await load('new.csv', 5, '2.00'), { signal: abort.signal });
    await until('the export to wait on the lock', () => lock.waiting(), 10_000, 20);
    abort.abort(reason);
    await expect(replacing).rejects.toBe(reason);
  } finally {
    await lock.release();
  }
  const { rows } = await pool.query<{ n: string; closing: string }>(
    'SELECT count(*) AS n, max(closing_balance)::text AS closing FROM reporting.eod_account_balances WHERE business_date = $1',
    [DATE],
  );
  expect(rows[0]).toEqual({ n: '3', closing: '1.00' });
});

test('an export whose signal is already aborted changes nothing', async () => {
  const abort = new AbortController();
  abort.abort(new Error('too late'));
  await expect(store.replaceBusinessDate(DATE, await load('late.csv', 7, '9.00'), { signal: abort.signal })).rejects.toThrow('too late');
  expect(await store.countRows('eod_account_balances', DATE)).toBe(3);
});

test('an export that is not aborted commits as before', async () => {
  const abort = new AbortController();
  expect(await store.replaceBusinessDate(DATE, await load('next.csv', 4, '3.00'), { signal: abort.signal })).toEqual([{ table: 'eod_account_balances', rows: 4 }]);
  expect(await store.countRows('eod_account_balances', DATE)).toBe(4);
});

test('a connection cut in the middle of the transaction fails the export (retryable) without taking the process down', async () => {
  const target = new URL(url);
  const proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
  const proxied = new PostgresReportingStore({ connectionString: viaPort(url, proxy.port) });
  const lock = await holdExportMidway(pool);
  try {
    const replacing = proxied.replaceBusinessDate(DATE, await load('cut.csv', 6, '5.00'));
    await until('the export to wait on the lock', () => lock.waiting(), 10_000, 20);
    await proxy.cut();
    await lock.release();
    await expect(replacing).rejects.toThrow();
    // Reachable again: the next export on the same store works (the broken client was discarded).
    await proxy.restore();
    expect(await proxied.replaceBusinessDate(DATE, await load('after.csv', 2, '6.00'))).toEqual([{ table: 'eod_account_balances', rows: 2 }]);
  } finally {
    await lock.release();
    await proxied.close();
    await proxy.cut();
  }
  expect(await store.countRows('eod_account_balances', DATE)).toBe(2);
});

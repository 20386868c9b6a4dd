import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { FailureType } from '../../src/common/failures';
import { addDays } from '../../src/domain/business-date';
import { REPORTS, reportSpec, type ReportSpec } from '../../src/domain/reports/catalog';
import { EXPORT_BATCHES_TABLE } from '../../src/reporting/ddl';
import { PgliteReportingStore } from '../../src/reporting/pglite';
import { PostgresReportingStore } from '../../src/reporting/postgres';
import type { ReportingStore, TableLoad } from '../../src/reporting/store';

jest.setTimeout(60_000);

/**
 * One behaviour suite, run against both stores. PostgreSQL is required, never skipped: the
 * shared database may hold other tests' data, so every test here uses its own business dates
 * (far in the future, random per run) and removes them afterwards.
 */

function pgUrl(): string {
  const url = process.env.NIGHTJAR_TEST_PG_URL;
  if (!url) {
    throw new Error(
      'NIGHTJAR_TEST_PG_URL is not set. Start the test PostgreSQL and export its URL: ' +
        'export NIGHTJAR_TEST_PG_URL="$(bash scripts/postgres.sh | tail -n 1)"',
    );
  }
  return url;
}

function requireVmModules(): void {
  // PGlite loads its WebAssembly and Node built-ins with import(), which jest's module sandbox
  // only allows when node runs with --experimental-vm-modules.
  if (!('SourceTextModule' in vm)) {
    throw new Error('PGlite needs jest to run under NODE_OPTIONS=--experimental-vm-modules');
  }
}

const TARGETS: { readonly name: 'pglite' | 'postgres'; readonly open: () => ReportingStore }[] = [
  {
    name: 'pglite',
    open: () => {
      requireVmModules();
      return new PgliteReportingStore({ memory: true });
    },
  },
  { name: 'postgres', open: () => new PostgresReportingStore({ connectionString: pgUrl() }) },
];

const eod = reportSpec('eod_balances');
const payments = reportSpec('payments_summary');

type Cell = string | number | null;

function csv(spec: ReportSpec, rows: readonly (readonly Cell[])[]): string {
  const header = spec.columns.map((c) => c.name).join(',');
  return [header, ...rows.map((r) => r.map((v) => (v === null ? '' : String(v))).join(','))].join('\n') + '\n';
}

const eodRow = (date: string, account: string, closing: string): Cell[] =>
  [date, account, `C${account.slice(1)}`, 'CURRENT', 'EUR', '100.00', '5.00', '1.00', closing, closing, 3];
const paymentRow = (date: string, rail: string, count: number): Cell[] =>
  [date, rail, 'EUR', 'SETTLED', count, `${count}00.00`, `${count}00.00`];

let tmp: string;
let fileNo = 0;
async function fixture(spec: ReportSpec, rows: readonly (readonly Cell[])[], text?: string): Promise<string> {
  const file = path.join(tmp, `${spec.table}-${++fileNo}.csv`);
  await writeFile(file, text ?? csv(spec, rows));
  return file;
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'nightjar-reporting-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe.each(TARGETS)('$name reporting store', ({ name, open }) => {
  let store: ReportingStore;
  const base = addDays('2150-01-01', Math.floor(Math.random() * 36_500));
  const usedDates: string[] = [];
  /** A business date of this suite's own, distinct per call. */
  const newDate = (): string => {
    const date = addDays(base, usedDates.length * 1000);
    usedDates.push(date);
    return date;
  };

  beforeAll(async () => {
    store = open();
    await store.migrate();
  });
  afterAll(async () => {
    if (!store) return;
    if (usedDates.length > 0) {
      for (const table of [...REPORTS.map((r) => r.table), EXPORT_BATCHES_TABLE]) {
        await store.query(`DELETE FROM reporting."${table}" WHERE business_date = ANY($1::date[])`, [usedDates]);
      }
    }
    await store.close();
  });

  async function snapshot(date: string) {
    const [balances, summary, batches] = await Promise.all([
      store.query<{ account_id: string; closing: string }>(
        'SELECT account_id, closing_balance::text AS closing FROM reporting.eod_account_balances WHERE business_date = $1 ORDER BY account_id',
        [date],
      ),
      store.query<{ rail: string; payment_count: number }>(
        'SELECT rail, payment_count FROM reporting.payments_daily_summary WHERE business_date = $1 ORDER BY rail',
        [date],
      ),
      store.query<{ table_name: string; rows: number; store: string }>(
        'SELECT table_name, "rows"::integer AS "rows", store FROM reporting.export_batches WHERE business_date = $1 ORDER BY table_name',
        [date],
      ),
    ]);
    return { balances, summary, batches };
  }

  test('migrate is idempotent, also when several run at once', async () => {
    await store.migrate();
    const other = name === 'postgres' ? open() : store;
    try {
      await Promise.all([store.migrate(), other.migrate(), store.migrate()]);
    } finally {
      if (other !== store) await other.close();
    }
  });

  test('the database schema has every catalog table with its columns, types, nullability and key', async () => {
    const columns = await store.query<{ table_name: string; column_name: string; type: string; not_null: boolean }>(
      `SELECT c.relname AS table_name, a.attname AS column_name,
              format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'reporting' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY c.relname, a.attnum`,
    );
    const keys = await store.query<{ table_name: string; key: string }>(
      `SELECT c.relname AS table_name, string_agg(a.attname, ',' ORDER BY k.ord) AS key
         FROM pg_constraint p
         JOIN pg_class c ON c.oid = p.conrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         CROSS JOIN LATERAL unnest(p.conkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
        WHERE n.nspname = 'reporting' AND p.contype = 'p'
        GROUP BY c.relname`,
    );
    for (const spec of REPORTS) {
      const actual = columns.filter((r) => r.table_name === spec.table);
      expect(actual.map(({ column_name, type, not_null }) => ({ column_name, type, not_null }))).toEqual(
        spec.columns.map((c) => ({
          column_name: c.name,
          type: c.type === 'timestamptz' ? 'timestamp with time zone' : c.type,
          not_null: !c.nullable,
        })),
      );
      expect(keys.find((k) => k.table_name === spec.table)?.key).toBe(spec.primaryKey.join(','));
    }
    expect(keys.find((k) => k.table_name === EXPORT_BATCHES_TABLE)?.key).toBe('business_date,table_name');
  });

  test('loads a business date from several files per table, returns and records the counts', async () => {
    const date = newDate();
    const loads: TableLoad[] = [
      {
        spec: eod,
        files: [
          await fixture(eod, [eodRow(date, 'A001', '104.00'), eodRow(date, 'A002', '-7.50')]),
          await fixture(eod, [eodRow(date, 'A003', '0.00')]),
        ],
      },
      { spec: payments, files: [await fixture(payments, [paymentRow(date, 'SEPA', 4), paymentRow(date, 'SWIFT', 1)])] },
    ];

    await expect(store.replaceBusinessDate(date, loads)).resolves.toEqual([
      { table: eod.table, rows: 3 },
      { table: payments.table, rows: 2 },
    ]);
    expect(await store.countRows(eod.table, date)).toBe(3);
    expect(await store.countRows(payments.table, date)).toBe(2);
    const { balances, batches } = await snapshot(date);
    expect(balances).toEqual([
      { account_id: 'A001', closing: '104.00' },
      { account_id: 'A002', closing: '-7.50' },
      { account_id: 'A003', closing: '0.00' },
    ]);
    expect(batches).toEqual([
      { table_name: eod.table, rows: 3, store: name },
      { table_name: payments.table, rows: 2, store: name },
    ]);
  });

  test('reloading a date replaces its rows instead of adding to them, and leaves other dates untouched', async () => {
    const date = newDate();
    const other = newDate();
    await store.replaceBusinessDate(date, [
      { spec: eod, files: [await fixture(eod, [eodRow(date, 'A001', '1.00'), eodRow(date, 'A002', '2.00'), eodRow(date, 'A003', '3.00')])] },
    ]);
    await store.replaceBusinessDate(other, [
      { spec: eod, files: [await fixture(eod, [eodRow(other, 'A001', '10.00'), eodRow(other, 'A009', '90.00')])] },
    ]);
    const otherBefore = await snapshot(other);

    await expect(
      store.replaceBusinessDate(date, [
        { spec: eod, files: [await fixture(eod, [eodRow(date, 'A002', '22.00'), eodRow(date, 'A004', '44.00')])] },
      ]),
    ).resolves.toEqual([{ table: eod.table, rows: 2 }]);

    const after = await snapshot(date);
    expect(after.balances).toEqual([
      { account_id: 'A002', closing: '22.00' },
      { account_id: 'A004', closing: '44.00' },
    ]);
    expect(after.batches).toEqual([{ table_name: eod.table, rows: 2, store: name }]);
    expect(await store.countRows(eod.table, date)).toBe(2);
    expect(await snapshot(other)).toEqual(otherBefore);
  });

  test('a header-only file replaces the date with no rows', async () => {
    const date = newDate();
    await store.replaceBusinessDate(date, [{ spec: payments, files: [await fixture(payments, [paymentRow(date, 'SEPA', 1)])] }]);
    await expect(
      store.replaceBusinessDate(date, [{ spec: payments, files: [await fixture(payments, [])] }]),
    ).resolves.toEqual([{ table: payments.table, rows: 0 }]);
    expect(await store.countRows(payments.table, date)).toBe(0);
  });

  const badFiles: readonly [string, (date: string) => string, RegExp][] = [
    ['a row with a column too many', (d) => csv(eod, [eodRow(d, 'A001', '1.00'), [...eodRow(d, 'A002', '2.00'), 'extra']]), /extra data/],
    ['a row with a column missing', (d) => csv(eod, [eodRow(d, 'A001', '1.00'), eodRow(d, 'A002', '2.00').slice(0, -1)]), /missing data/],
    ['a row for another business date', (d) => csv(eod, [eodRow(d, 'A001', '1.00'), eodRow(addDays(d, 1), 'A002', '2.00')]), /1 of 2 loaded rows are not for business date/],
    ['a duplicate key', (d) => csv(eod, [eodRow(d, 'A001', '1.00'), eodRow(d, 'A001', '2.00')]), /duplicate key/],
    ['a value that is not a number', (d) => csv(eod, [eodRow(d, 'A001', 'one')]), /invalid input syntax/],
    [
      'columns in another order than the catalog',
      (d) => csv(eod, [eodRow(d, 'A001', '1.00')]).replace('account_id,customer_id', 'customer_id,account_id'),
      /header|mismatch/i,
    ],
  ];

  test.each(badFiles)('%s is rejected as ExportRejected and the previous data stays fully visible', async (_case, content, reason) => {
    const date = newDate();
    await store.replaceBusinessDate(date, [
      { spec: payments, files: [await fixture(payments, [paymentRow(date, 'SEPA', 3)])] },
      { spec: eod, files: [await fixture(eod, [eodRow(date, 'A007', '70.00'), eodRow(date, 'A008', '80.00')])] },
    ]);
    const before = await snapshot(date);

    // The good table comes first: its replacement must be rolled back too.
    const attempt = store.replaceBusinessDate(date, [
      { spec: payments, files: [await fixture(payments, [paymentRow(date, 'SWIFT', 9)])] },
      { spec: eod, files: [await fixture(eod, [], content(date))] },
    ]);
    await expect(attempt).rejects.toMatchObject({ type: FailureType.ExportRejected, message: expect.stringMatching(reason) });

    expect(await snapshot(date)).toEqual(before);
    expect(await store.countRows(eod.table, date)).toBe(2);
  });

  test('a load whose row count differs from the announced one is rejected; a matching one loads', async () => {
    const date = newDate();
    await store.replaceBusinessDate(date, [{ spec: eod, files: [await fixture(eod, [eodRow(date, 'A001', '1.00')])] }]);
    const before = await snapshot(date);
    const file = await fixture(eod, [eodRow(date, 'A002', '2.00'), eodRow(date, 'A003', '3.00')]);

    await expect(store.replaceBusinessDate(date, [{ spec: eod, files: [file], expectedRows: 3 }])).rejects.toMatchObject({
      type: FailureType.ExportRejected,
      message: expect.stringContaining('loaded 2 rows for business date'),
    });
    expect(await snapshot(date)).toEqual(before);

    await expect(store.replaceBusinessDate(date, [{ spec: eod, files: [file], expectedRows: 2 }])).resolves.toEqual([
      { table: eod.table, rows: 2 },
    ]);
  });

  test('a missing file fails the export without changing anything, and the store stays usable', async () => {
    const date = newDate();
    await store.replaceBusinessDate(date, [{ spec: eod, files: [await fixture(eod, [eodRow(date, 'A001', '1.00')])] }]);
    const before = await snapshot(date);

    await expect(
      store.replaceBusinessDate(date, [
        { spec: eod, files: [await fixture(eod, [eodRow(date, 'A002', '2.00')]), path.join(tmp, 'no-such-part.csv')] },
      ]),
    ).rejects.toMatchObject({ code: 'ENOENT' });

    expect(await snapshot(date)).toEqual(before);
    await expect(
      store.replaceBusinessDate(date, [{ spec: eod, files: [await fixture(eod, [eodRow(date, 'A003', '3.00')])] }]),
    ).resolves.toEqual([{ table: eod.table, rows: 1 }]);
  });

  test('two exports of the same date at the same time both succeed, one after the other', async () => {
    const date = newDate();
    // Large enough that the two transactions overlap; on PostgreSQL, without the date lock the
    // second one would collide with the first one's uncommitted keys (duplicate key).
    const accounts = (n: number, closing: string) =>
      Array.from({ length: n }, (_, i) => eodRow(date, `A${String(i).padStart(6, '0')}`, closing));
    const first = await fixture(eod, accounts(20_000, '1.00'));
    const second = await fixture(eod, accounts(30_000, '2.00'));
    // Warm both connections up so neither export waits for a connect.
    await Promise.all([store.query('SELECT 1'), store.query('SELECT 1')]);

    const results = await Promise.all([
      store.replaceBusinessDate(date, [{ spec: eod, files: [first] }]),
      store.replaceBusinessDate(date, [{ spec: eod, files: [second] }]),
    ]);

    expect(results).toEqual([[{ table: eod.table, rows: 20_000 }], [{ table: eod.table, rows: 30_000 }]]);
    // Whichever committed last wins whole; never a mixture or a duplicate.
    const [summary] = await store.query<{ rows: number; closings: string }>(
      `SELECT count(*)::integer AS "rows", string_agg(DISTINCT closing_balance::text, ',') AS closings
         FROM reporting.eod_account_balances WHERE business_date = $1`,
      [date],
    );
    expect([
      { rows: 20_000, closings: '1.00' },
      { rows: 30_000, closings: '2.00' },
    ]).toContainEqual(summary);
  });

  test('a malformed business date, a table given twice or an unknown table is InvalidInput', async () => {
    const date = newDate();
    const file = await fixture(eod, [eodRow(date, 'A001', '1.00')]);
    await expect(store.replaceBusinessDate('2150-02-30', [{ spec: eod, files: [file] }])).rejects.toMatchObject({
      type: FailureType.InvalidInput,
    });
    await expect(
      store.replaceBusinessDate(date, [{ spec: eod, files: [file] }, { spec: eod, files: [file] }]),
    ).rejects.toMatchObject({ type: FailureType.InvalidInput });
    await expect(store.countRows('pg_class', date)).rejects.toMatchObject({ type: FailureType.InvalidInput });
    expect(await store.countRows(eod.table, date)).toBe(0);
  });
});

describe('PostgresReportingStore connection failures', () => {
  test('an unreachable server is a plain error, left retryable (no failure type)', async () => {
    pgUrl();
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    const store = new PostgresReportingStore({ connectionString: 'postgres://nightjar:nightjar@127.0.0.1:1/nightjar' });
    try {
      const file = path.join(tmp, 'unreachable.csv');
      await writeFile(file, csv(eod, []));
      const error: unknown = await store.replaceBusinessDate('2150-01-01', [{ spec: eod, files: [file] }]).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ECONNREFUSED', message: expect.stringContaining('ECONNREFUSED') });
      expect((error as { type?: unknown }).type).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});

describe('PgliteReportingStore with a data directory', () => {
  test('keeps what it loaded across a close and a reopen, creating the directory on first use', async () => {
    requireVmModules();
    const dataDir = path.join(tmp, 'pglite', 'nested');
    const date = '2150-01-01';
    const file = path.join(tmp, 'persisted.csv');
    await writeFile(file, csv(eod, [eodRow(date, 'A001', '1.00'), eodRow(date, 'A002', '2.00')]));

    const first = new PgliteReportingStore({ dataDir });
    try {
      await first.migrate();
      await first.replaceBusinessDate(date, [{ spec: eod, files: [file] }]);
    } finally {
      await first.close();
    }

    const reopened = new PgliteReportingStore({ dataDir });
    try {
      await reopened.migrate();
      expect(await reopened.countRows(eod.table, date)).toBe(2);
    } finally {
      await reopened.close();
    }
  });
});

import { FailureType } from '../../src/common/failures';
import { REPORTS, reportSpec, type ReportSpec } from '../../src/domain/reports/catalog';
import {
  businessDateLockKey,
  checkExportArgs,
  classifyExportError,
  copyFromCsvSql,
  createTableSql,
  deleteBusinessDateSql,
  isDataRejection,
  quoteIdent,
  reportingDdl,
} from '../../src/reporting/ddl';

/** The column definitions of one CREATE TABLE statement, in order, without the key line. */
function columnLines(sql: string): string[] {
  return sql
    .split('\n')
    .slice(1, -1)
    .map((line) => line.trim().replace(/,$/, ''))
    .filter((line) => !line.startsWith('PRIMARY KEY'));
}

describe('reportingDdl', () => {
  const ddl = reportingDdl();

  test('creates the schema first, then one table per catalog report, then the bookkeeping table', () => {
    const added = REPORTS.flatMap((spec) => spec.columns.filter((c) => c.nullable).map((c) => `${spec.table}.${c.name}`));
    expect(ddl).toHaveLength(REPORTS.length + 2 + added.length);
    // then every nullable column again, for a table an older version created without it
    expect(ddl.slice(REPORTS.length + 2).map((sql) => /^ALTER TABLE "reporting"\."(\w+)" ADD COLUMN IF NOT EXISTS "(\w+)" /.exec(sql)?.slice(1).join('.'))).toEqual(added);
    const created = ddl.slice(0, REPORTS.length + 2);
    expect(created[0]).toBe('CREATE SCHEMA IF NOT EXISTS "reporting"');
    REPORTS.forEach((spec, i) => {
      expect(created[i + 1]).toMatch(new RegExp(`^CREATE TABLE IF NOT EXISTS "reporting"\\."${spec.table}" \\(`));
    });
    expect(created.at(-1)).toMatch(/^CREATE TABLE IF NOT EXISTS "reporting"\."export_batches" \(/);
  });

  test.each(REPORTS.map((spec) => [spec.table, spec] as const))(
    '%s has exactly the catalog columns, in order, NOT NULL unless nullable, and the catalog key',
    (_table, spec) => {
      const sql = createTableSql(spec);
      expect(columnLines(sql)).toEqual(
        spec.columns.map((c) => `"${c.name}" ${c.type}${c.nullable ? '' : ' NOT NULL'}`),
      );
      expect(sql).toContain(`PRIMARY KEY (${spec.primaryKey.map((k) => `"${k}"`).join(', ')})`);
      expect(sql).not.toMatch(/loaded_at|DEFAULT/i);
    },
  );

  test('export_batches is keyed by business date and table', () => {
    const sql = ddl[REPORTS.length + 1] ?? '';
    expect(columnLines(sql)).toEqual([
      '"business_date" date NOT NULL',
      '"table_name" text NOT NULL',
      '"rows" bigint NOT NULL',
      '"loaded_at" timestamptz NOT NULL',
      '"store" text NOT NULL',
    ]);
    expect(sql).toContain('PRIMARY KEY ("business_date", "table_name")');
  });

  test('a spec whose key names an unknown column is refused', () => {
    const spec: ReportSpec = { ...reportSpec('risk_alerts'), primaryKey: ['business_date', 'alert'] };
    expect(() => createTableSql(spec)).toThrow(/primary key names unknown columns alert/);
  });
});

describe('statements and identifiers', () => {
  test('identifiers are quoted, embedded quotes doubled', () => {
    expect(quoteIdent('closing_balance')).toBe('"closing_balance"');
    expect(quoteIdent('a"; DROP TABLE x; --')).toBe('"a""; DROP TABLE x; --"');
    expect(() => quoteIdent('')).toThrow();
  });

  test('COPY names the catalog columns in order and reads CSV with a header', () => {
    const spec = reportSpec('payments_summary');
    expect(copyFromCsvSql(spec, 'STDIN', 'true')).toBe(
      'COPY "reporting"."payments_daily_summary" ("business_date", "rail", "currency", "status", "payment_count", "amount", "amount_rpt") ' +
        'FROM STDIN WITH (FORMAT csv, HEADER true)',
    );
    expect(copyFromCsvSql(spec, { path: "/dev/it's" }, 'match')).toMatch(/FROM '\/dev\/it''s' WITH \(FORMAT csv, HEADER match\)$/);
  });

  test('the date is always a parameter, never spliced into the statement', () => {
    expect(deleteBusinessDateSql(reportSpec('eod_balances'))).toBe(
      'DELETE FROM "reporting"."eod_account_balances" WHERE "business_date" = $1::date',
    );
  });

  test('a business date locks as its yyyymmdd number', () => {
    expect(businessDateLockKey('2024-02-29')).toBe(20240229);
    expect(() => businessDateLockKey('2024-2-29')).toThrow();
  });
});

describe('export rules', () => {
  test('SQLSTATE classes 22, 23 and 42 are data rejections; connection and lock errors are not', () => {
    for (const code of ['22P04', '22P02', '23505', '23502', '42703', '42P01']) {
      expect(isDataRejection({ code })).toBe(true);
    }
    for (const code of ['08006', '57P01', '40001', '40P01', '53300', 'ECONNREFUSED', 'EPIPE', undefined]) {
      expect(isDataRejection({ code })).toBe(false);
    }
    expect(isDataRejection(null)).toBe(false);
  });

  test('a data error becomes ExportRejected naming the table, file and line; others pass unchanged', () => {
    const copyError = Object.assign(new Error('extra data after last expected column'), {
      code: '22P04',
      where: 'COPY risk_alerts, line 3: "x,y"',
    });
    const rejected = classifyExportError(copyError, '2024-01-31', { table: 'risk_alerts', file: '/out/part-0.csv' });
    expect(rejected).toMatchObject({
      type: FailureType.ExportRejected,
      message:
        'export of 2024-01-31 rejected (risk_alerts, /out/part-0.csv): extra data after last expected column ' +
        '[COPY risk_alerts, line 3: "x,y"]',
      cause: copyError,
    });

    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:55432'), { code: 'ECONNREFUSED' });
    expect(classifyExportError(refused, '2024-01-31', undefined)).toBe(refused);
  });

  test('a malformed date or a table loaded twice is InvalidInput', () => {
    const load = { spec: reportSpec('risk_alerts'), files: [] };
    expect(() => checkExportArgs('2024-02-30', [load])).toThrow(expect.objectContaining({ type: FailureType.InvalidInput }));
    expect(() => checkExportArgs('2024-02-29', [load, load])).toThrow(
      expect.objectContaining({ type: FailureType.InvalidInput, message: expect.stringContaining('risk_alerts') }),
    );
    expect(() => checkExportArgs('2024-02-29', [load])).not.toThrow();
  });
});

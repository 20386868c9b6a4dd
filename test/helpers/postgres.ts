import { createHash } from 'node:crypto';
import { Pool } from 'pg';
import { REPORTING_SCHEMA, REPORTS, type ReportSpec } from '../../src/domain/reports/catalog';

/** The PostgreSQL server the test command starts (scripts/postgres.sh); never silently skipped. */
export function requirePostgresUrl(): string {
  const url = process.env.NIGHTJAR_TEST_PG_URL;
  if (!url) {
    throw new Error('NIGHTJAR_TEST_PG_URL is not set: run `bash scripts/postgres.sh` (or `npm test`, which does) and export the URL it prints');
  }
  return url;
}

/** A fresh database per run, created through the admin URL (scripts/postgres.sh lets its role create databases). */
export async function createDatabase(name: string): Promise<string> {
  const admin = new URL(requirePostgresUrl());
  const pool = new Pool({ connectionString: admin.toString(), max: 1 });
  try {
    await pool.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await pool.query(`CREATE DATABASE "${name}"`);
  } catch (error) {
    if ((error as { code?: string }).code === '42501') throw new Error(`role ${admin.username} may not create databases: run scripts/postgres.sh (it grants CREATEDB)`, { cause: error });
    throw error;
  } finally {
    await pool.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(name: string): Promise<void> {
  const pool = new Pool({ connectionString: requirePostgresUrl(), max: 1 });
  try {
    await pool.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await pool.end();
  }
}

/** Columns that say when or how often something ran, not what the date's data is. */
const RUN_SPECIFIC: Readonly<Record<string, readonly string[]>> = {
  pipeline_step_metrics: ['attempts', 'started_at', 'finished_at', 'duration_ms'],
};

const qualified = (spec: ReportSpec) => `"${REPORTING_SCHEMA}"."${spec.table}"`;

/** sha256 of each report table's rows of the date, ordered by primary key, run-specific columns left out. */
export async function reportDigests(pool: Pool, businessDate: string): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  for (const spec of REPORTS) {
    const skip = RUN_SPECIFIC[spec.table] ?? [];
    const columns = spec.columns.filter((c) => !skip.includes(c.name)).map((c) => `"${c.name}"::text AS "${c.name}"`);
    const order = spec.primaryKey.map((k) => `"${k}"`).join(', ');
    const { rows } = await pool.query(`SELECT ${columns.join(', ')} FROM ${qualified(spec)} WHERE business_date = $1::date ORDER BY ${order}`, [businessDate]);
    const hash = createHash('sha256');
    for (const row of rows) hash.update(`${JSON.stringify(row)}\n`);
    digests[spec.table] = `${rows.length}:${hash.digest('hex').slice(0, 16)}`;
  }
  return digests;
}

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig, type NightjarConfig } from '../../src/config/config';
import { DataLayout } from '../../src/common/layout';
import { dailyWorkflowId } from '../../src/domain/ids';
import type { DailyPipelineInput } from '../../src/workflows/daily-pipeline';
import { dailyPipeline } from '../../src/workflows';
import type { RunManifest } from '../../src/domain/pipeline';
import { REPORTS } from '../../src/domain/reports/catalog';
import { generateFeeds } from '../../demo/feeds/generate-feeds';
import { createLogger } from '../../src/worker/logger';
import { createNightjarWorker } from '../../src/worker/worker';
import { createDevServerEnv, REPO_ROOT, uniqueId, workflowBundle } from '../helpers/temporal';
import { requirePostgresUrl } from '../helpers/postgres';
import { checkBalances } from '../helpers/balances';

jest.setTimeout(15 * 60_000);

let env: TestWorkflowEnvironment;
let dataDir: string;
beforeAll(async () => {
  env = await createDevServerEnv();
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nightjar-it-'));
});
afterAll(async () => {
  await env?.teardown();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

function configFor(store: 'postgres' | 'pglite', extra: Record<string, string> = {}): NightjarConfig {
  return loadConfig(
    {
      NIGHTJAR_DATA_DIR: dataDir,
      NIGHTJAR_TASK_QUEUE: uniqueId('it'),
      NIGHTJAR_REPORTING_STORE: store,
      ...(store === 'postgres' ? { NIGHTJAR_REPORTING_PG_URL: requirePostgresUrl() } : {}),
      NIGHTJAR_SPARK_CORES: '2',
      NIGHTJAR_SPARK_DRIVER_MEMORY_MB: '1024',
      NIGHTJAR_SPARK_SHUFFLE_PARTITIONS: '4',
      NIGHTJAR_LOG_LEVEL: 'warn',
      ...extra,
    },
    REPO_ROOT,
  );
}

async function runNight(config: NightjarConfig, input: DailyPipelineInput, opts: { generate?: Parameters<typeof generateFeeds>[0] } = {}) {
  const layout = new DataLayout(config.dataDir);
  if (opts.generate) await generateFeeds(opts.generate);
  const logger = createLogger({ level: 'warn', redact: true });
  const nightjar = await createNightjarWorker(config, logger, {
    connection: env.nativeConnection,
    workflowBundle: await workflowBundle(),
    installRuntime: false,
  });
  const result = await nightjar.worker.runUntil(
    env.client.workflow.execute(dailyPipeline, {
      taskQueue: config.temporal.taskQueue,
      workflowId: dailyWorkflowId(input.businessDate),
      args: [input],
    }),
  );
  const manifest = JSON.parse(await fs.readFile(layout.manifestFile(input.businessDate), 'utf8')) as RunManifest;
  return { result, manifest, store: nightjar.services.store, close: () => nightjar.services.close() };
}

function expectBooksBalance(manifest: RunManifest) {
  expect(manifest.feeds).toHaveLength(5);
  for (const f of manifest.feeds) {
    expect(f.rowsIn).toBe(f.controlCount);
    expect(f.rowsAccepted + f.rowsRejected).toBe(f.rowsIn);
    expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
  }
  for (const s of manifest.steps) {
    expect(s.attempts.length).toBeGreaterThan(0);
    for (const a of s.attempts) expect(a.outcome).toBeDefined();
  }
}

test('a night runs end to end with real Spark into the embedded store, and a re-run replaces rather than duplicates', async () => {
  const config = configFor('pglite');
  const date = '2026-11-19';
  const layout = new DataLayout(config.dataDir);
  const generate = { landingDir: layout.landingDir(date), businessDate: date, seed: 7, transactions: 3000, defectRate: 0.01 };
  const first = await runNight(config, { businessDate: date }, { generate });
  try {
    expect(first.result.status).toBe('COMPLETED');
    expect(first.manifest.status).toBe('COMPLETED');
    expectBooksBalance(first.manifest);
    const tx = first.manifest.feeds.find((f) => f.feed === 'transactions')!;
    expect(tx.rowsIn).toBeGreaterThanOrEqual(3000);
    expect(tx.rowsRejected).toBeGreaterThan(0); // injected defects are quarantined, not dropped
    const rejects = await fs.readdir(new URL(tx.rejectsUri!));
    expect(rejects.some((f) => f.endsWith('.csv'))).toBe(true);

    // Every report table holds exactly the rows the manifest reports, for this date.
    for (const spec of REPORTS) {
      const reported = first.manifest.reports.find((r) => r.table === spec.table);
      expect(reported).toBeDefined();
      expect(await first.store.countRows(spec.table, date)).toBe(reported!.rows);
    }
    expect(first.manifest.reports.find((r) => r.table === 'eod_account_balances')!.rows).toBeGreaterThan(0);

    // Money quarantined, reconciled: accepted + rejected = the trailer's control sum, per feed.
    for (const f of first.manifest.feeds) {
      expect(f.amountAccepted).toMatch(/^-?[0-9]+(\.[0-9]+)?$/);
      expect(f.amountRejected).toMatch(/^-?[0-9]+(\.[0-9]+)?$/);
    }
    expect(Number(tx.amountRejected)).toBeGreaterThan(0);
    // One conversion, one rounding: every balance equals amount x rate(C) / rate(A) rounded once.
    const transform = first.manifest.steps.find((s) => s.step === 'transform')!;
    const attemptId = transform.attempts[transform.attempts.length - 1]!.attemptId!;
    const eod = new URL(`file://${path.join(layout.jobOutputDir(date, 'transform', attemptId), 'eod_balances')}`).href;
    const balances = await checkBalances(first.manifest, eod);
    expect(balances.mismatches).toEqual([]);
    expect(balances.crossCurrencyPostings).toBeGreaterThan(0);

    // Nothing of the attempts is left behind: scratch dirs gone, driver logs kept.
    const work = await fs.readdir(path.join(config.dataDir, 'work', 'spark')).catch(() => []);
    expect(work).toEqual([]);
    const logs = await fs.readdir(path.join(layout.runDir(date), 'logs'));
    expect(logs.length).toBe(2);
  } finally {
    await first.close();
  }

  const second = await runNight(config, { businessDate: date });
  try {
    expect(second.result.status).toBe('COMPLETED');
    for (const r of first.manifest.reports) {
      expect(await second.store.countRows(r.table, date)).toBe(r.rows);
    }
  } finally {
    await second.close();
  }
});

test('a real driver out-of-memory is recovered by resubmitting with more memory (PostgreSQL store)', async () => {
  const config = configFor('postgres', { NIGHTJAR_OOM_JOB_POLICY: JSON.stringify({ transform: { memoryFactor: OOM_FACTOR } }) });
  const date = '2026-11-18';
  const layout = new DataLayout(config.dataDir);
  const { result, manifest, store, close } = await runNight(
    config,
    { businessDate: date, sparkOverrides: { normalize: { driverMemoryMb: 2048 }, transform: { driverMemoryMb: OOM_DRIVER_MB } } },
    { generate: { landingDir: layout.landingDir(date), businessDate: date, seed: 11, transactions: 2000, accounts: OOM_ACCOUNTS, defectRate: 0 } },
  );
  try {
    expect(result.status).toBe('COMPLETED');
    expectBooksBalance(manifest);
    const transform = manifest.steps.find((s) => s.step === 'transform')!;
    expect(transform.attempts[0]).toMatchObject({ outcome: 'OUT_OF_MEMORY', resources: { driverMemoryMb: OOM_DRIVER_MB } });
    const last = transform.attempts[transform.attempts.length - 1]!;
    expect(last.outcome).toBe('SUCCEEDED');
    expect(transform.attempts).toHaveLength(2);
    expect(last.resources!.driverMemoryMb).toBe(OOM_DRIVER_MB * OOM_FACTOR);
    for (const a of transform.attempts) expect(a.leftovers).toBe(0);
    expect(await store.countRows('eod_account_balances', date)).toBe(manifest.reports.find((r) => r.table === 'eod_account_balances')!.rows);
  } finally {
    await close();
  }
  // A hang guard, not a speed check: this night moves 3 M accounts through every step and two
  // transform attempts — 391–521 s alone on a quiet machine, and once over 900 s in a full CI run
  // on a slow hour.
}, 25 * 60_000);

// Sized by measurement (see README, "Out-of-memory recovery, measured"): the transform broadcasts the
// accounts dimension to the driver; 3M accounts do not fit a 512 MiB driver (2M sometimes do).
// At 1,024 MiB they fit in 131 s (and ran out with two reports at once); the transform's own
// escalation factor of 4 makes 2,048 MiB (about 110 s) the first escalation step.
const OOM_DRIVER_MB = 512;
const OOM_FACTOR = 4;
const OOM_ACCOUNTS = 3_000_000;

/**
 * The worker as it runs in production: `nightjar worker` in its own process, configured only
 * through its environment, loading the prebuilt workflow bundle, serving /metrics (Nightjar's and
 * the SDK's on one endpoint) and /livez, /readyz, logging JSON with the activity context, and
 * leaving on SIGTERM with exit code 0.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DataLayout } from '../../src/common/layout';
import { dailyWorkflowId } from '../../src/domain/ids';
import { generateFeeds } from '../../demo/feeds/generate-feeds';
import { dailyPipeline } from '../../src/workflows';
import { createDevServerEnv, REPO_ROOT, uniqueId } from '../helpers/temporal';
import { ensureCliBuilt, logLine, WorkerProcess } from '../helpers/worker-process';

jest.setTimeout(10 * 60_000);

const DATE = '2026-10-14';
const GRACE_SECONDS = 10;
const FAKE_SPARK = path.join(REPO_ROOT, 'test', 'fixtures', 'fake-spark', 'spark-submit');

/**
 * The fake spark-submit writes an empty result by default, which reconciliation refuses (every
 * ingested feed must be in normalize's result). This wrapper gives normalize a result that
 * balances the books — each feed's trailer count, one row of it rejected — and leaves the rest
 * (progress lines, result file written last, transform's empty report list) to the fake.
 */
const SPARK_WRAPPER = `#!/usr/bin/env node
'use strict';
const fs = require('node:fs');
const { fileURLToPath } = require('node:url');
const args = process.argv.slice(2);
const at = args.indexOf('--spec');
if (at >= 0) {
  const spec = JSON.parse(fs.readFileSync(args[at + 1], 'utf8'));
  if (spec.job === 'normalize') {
    const feeds = Object.entries(spec.inputs).map(([feed, uri]) => {
      const trailer = fs.readFileSync(fileURLToPath(uri), 'utf8').split(/\\r?\\n/).find((l) => l.startsWith('TRL,'));
      const rowsIn = Number(trailer.split(',')[1]);
      const rowsRejected = rowsIn > 0 ? 1 : 0;
      // The money reconciles with the trailer's control sum (all of it accepted here).
      const controlSum = trailer.split(',')[2];
      return {
        feed, rowsIn, rowsAccepted: rowsIn - rowsRejected, rowsRejected, amountAccepted: controlSum, amountRejected: '0',
        rejectReasons: rowsRejected ? { UNKNOWN_CURRENCY: 1 } : {},
        curatedUri: spec.outputUri + '/curated/' + feed, rejectsUri: spec.outputUri + '/rejects/' + feed,
      };
    });
    process.env.FAKE_SPARK_RESULT = JSON.stringify({ job: 'normalize', feeds });
  }
}
require(${JSON.stringify(FAKE_SPARK)});
`;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let env: TestWorkflowEnvironment;
let dir: string;
let worker: WorkerProcess | undefined;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nightjar-worker-process-'));
  ensureCliBuilt();
  // What the image does after tsc: the worker then starts without webpack.
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'bundle-workflows.js'), path.join(dir, 'workflow-bundle.js')], { cwd: REPO_ROOT, stdio: 'pipe' });
  await fs.writeFile(path.join(dir, 'spark-submit'), SPARK_WRAPPER, { mode: 0o755 });
  env = await createDevServerEnv();
});

afterAll(async () => {
  await worker?.kill();
  await env?.teardown();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

/** Names and labels of the samples of a Prometheus text exposition. */
function samples(text: string): { name: string; labels: string }[] {
  return text
    .split('\n')
    .filter((l) => l.length > 0 && !l.startsWith('#'))
    .map((l) => {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s/.exec(l);
      return { name: m?.[1] ?? '', labels: m?.[2] ?? '' };
    });
}

test('a worker process runs a night from the prebuilt bundle, serves metrics and health, logs with context and leaves cleanly on SIGTERM', async () => {
  const dataDir = path.join(dir, 'data');
  const layout = new DataLayout(dataDir);
  await generateFeeds({ landingDir: layout.landingDir(DATE), businessDate: DATE, seed: 11, transactions: 300, defectRate: 0 });
  const customers = await fs.readFile(path.join(layout.landingDir(DATE), (await fs.readdir(layout.landingDir(DATE))).find((f) => f.includes('customers'))!), 'utf8');
  const header = customers.split('\n')[0]!.split(',');
  const firstCustomer = customers.split('\n')[1]!.split(',');
  const personal = ['full_name', 'email'].map((c) => firstCustomer[header.indexOf(c)]).filter((v): v is string => v !== undefined && v.length > 3);
  expect(personal.length).toBeGreaterThan(0);

  const metricsAddress = `127.0.0.1:${await freePort()}`;
  const healthAddress = `127.0.0.1:${await freePort()}`;
  const taskQueue = uniqueId('worker-process');
  worker = await WorkerProcess.start({
    name: 'worker',
    env: {
      NIGHTJAR_TEMPORAL_ADDRESS: env.address,
      NIGHTJAR_TASK_QUEUE: taskQueue,
      NIGHTJAR_DATA_DIR: dataDir,
      NIGHTJAR_METRICS_ADDRESS: metricsAddress,
      NIGHTJAR_HEALTH_ADDRESS: healthAddress,
      NIGHTJAR_WORKFLOW_BUNDLE: path.join(dir, 'workflow-bundle.js'),
      NIGHTJAR_SPARK_SUBMIT: path.join(dir, 'spark-submit'),
      NIGHTJAR_SHUTDOWN_GRACE_SECONDS: String(GRACE_SECONDS),
      NIGHTJAR_LOG_LEVEL: 'info',
    },
  });
  expect((await fetch(`http://${healthAddress}/livez`)).status).toBe(200);

  const result = await env.client.workflow.execute(dailyPipeline, { taskQueue, workflowId: dailyWorkflowId(DATE), args: [{ businessDate: DATE }] });
  expect(result.status).toBe('COMPLETED');

  const ready = await fetch(`http://${healthAddress}/readyz`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toEqual({ status: 'ready', worker: 'RUNNING' });

  const exposition = await (await fetch(`http://${metricsAddress}/metrics`)).text();
  const names = new Set(samples(exposition).map((s) => s.name));
  for (const name of [
    'nightjar_feed_rows_total',
    'nightjar_nights_finished_total',
    'nightjar_last_night_completed_timestamp_seconds',
    'nightjar_step_duration_seconds_bucket',
    'nightjar_step_duration_seconds_count',
    'nightjar_spark_attempts_total',
    'temporal_worker_task_slots_available',
    'temporal_worker_task_slots_used',
  ]) {
    expect({ name, served: names.has(name) }).toEqual({ name, served: true });
  }
  const series = samples(exposition);
  expect(series).toContainEqual({ name: 'nightjar_nights_finished_total', labels: expect.stringMatching(/status="COMPLETED"/) });
  expect(series).toContainEqual({ name: 'nightjar_feed_rows_total', labels: expect.stringMatching(/feed="transactions",result="rejected"|result="rejected".*feed="transactions"/) });
  expect(series).toContainEqual({ name: 'nightjar_step_duration_seconds_count', labels: expect.stringMatching(/step="ingestFeed"/) });
  expect(series).toContainEqual({ name: 'nightjar_spark_attempts_total', labels: expect.stringMatching(/job="normalize"/) });
  // Seconds, with Nightjar's buckets rather than the exporter's millisecond defaults.
  expect(exposition).toMatch(/nightjar_step_duration_seconds_bucket\{[^}]*le="3600"/);

  // Every line an activity writes through the process logger carries its context.
  const activityLines = worker.lines.filter((l) => l.component === 'activities');
  expect(activityLines.length).toBeGreaterThan(0);
  for (const line of activityLines) {
    expect(line).toMatchObject({ businessDate: DATE, workflowId: expect.stringContaining(dailyWorkflowId(DATE)), step: expect.any(String), attempt: expect.any(Number) });
  }
  expect(activityLines.map((l) => l.step)).toEqual(expect.arrayContaining(['ingestFeed']));
  const stdout = worker.lines.map((l) => l.raw ?? JSON.stringify(l)).join('\n');
  for (const value of personal) expect(stdout).not.toContain(value);

  const started = Date.now();
  await worker.stop((GRACE_SECONDS + 10) * 1000);
  expect(await worker.exited).toEqual({ code: 0, signal: null });
  expect(Date.now() - started).toBeLessThan(GRACE_SECONDS * 1000);
  expect(worker.lines.some(logLine('shutdown requested: draining the worker', { signal: 'SIGTERM' }))).toBe(true);
  expect(worker.lines.some(logLine('worker stopped'))).toBe(true);
  await expect(fetch(`http://${healthAddress}/livez`)).rejects.toThrow();
});

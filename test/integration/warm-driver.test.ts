import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createSparkActivities } from '../../src/activities/spark';
import { DataLayout } from '../../src/common/layout';
import { loadConfig } from '../../src/config/config';
import type { SparkAwaitResult, SparkSubmission } from '../../src/domain/pipeline';
import { generateFeeds } from '../../demo/feeds/generate-feeds';
import { findAttemptProcesses, LocalSparkPlatform } from '../../src/spark/local/local-platform';
import { sessionUrl, WarmDriver, warmServerAlive } from '../../src/spark/local/warm-driver';
import type { SparkAttemptRequest } from '../../src/spark/platform';
import { SMALL_RESOURCES } from '../helpers/resources';

// The real Spark Connect server of the project's venv as the warm driver, one 512 MiB slot.
const VENV_BIN = path.resolve(__dirname, '../../.venv/bin');
const SMOKE_JOB = path.resolve(__dirname, '../fixtures/pyspark/smoke_job.py');
const DATE = '2026-11-20';
const SHORT = { maxInputBytes: { normalize: 1 << 20, transform: 1 << 20 }, javaOptions: ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'] };

jest.setTimeout(240_000);

let dataDir: string;
let layout: DataLayout;
let warm: WarmDriver;
let platform: LocalSparkPlatform;
let seq = 0;

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nightjar-warm-driver-'));
  layout = new DataLayout(dataDir);
  warm = new WarmDriver({
    slots: 1,
    slotMemoryMb: SMALL_RESOURCES.driverMemoryMb,
    cores: 1,
    sparkSubmit: path.join(VENV_BIN, 'spark-submit'),
    pythonPath: path.join(VENV_BIN, 'python'),
    stateDir: layout.sparkWarmDriverDir(),
    javaOptions: ['-XX:+UseSerialGC'],
  });
  platform = new LocalSparkPlatform({ ...platformOptions(), warmDriver: warm });
});

function platformOptions() {
  return {
    sparkSubmit: path.join(VENV_BIN, 'spark-submit'),
    pythonPath: path.join(VENV_BIN, 'python'),
    layout,
    pollIntervalMs: 250,
    killGraceMs: 3_000,
    env: process.env,
    shortJob: SHORT,
  };
}

afterAll(async () => {
  await warm.stop();
  await fs.rm(dataDir, { recursive: true, force: true });
});

function request(mode: 'ok' | 'oom' | 'slow', overrides: Partial<SparkAttemptRequest> = {}): SparkAttemptRequest {
  const attemptId = `nj-warm-${mode}-${process.pid}-a${++seq}`;
  const resultFile = path.join(layout.jobOutputDir(DATE, 'normalize', attemptId), '_result.json');
  return {
    attemptId,
    workflowId: 'nightjar-daily-warm',
    businessDate: DATE,
    job: 'normalize',
    attempt: 1,
    resources: SMALL_RESOURCES,
    mainFile: SMOKE_JOB,
    args: ['--result', resultFile, '--mode', mode],
    sparkConf: { 'spark.driver.maxResultSize': '0' },
    inputBytes: 1000,
    ...overrides,
  };
}

async function untilFileHas(file: string, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(await fs.readFile(file, 'utf8').catch(() => ''))) {
    if (Date.now() > deadline) throw new Error(`${file} never matched ${pattern}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function runToEnd(req: SparkAttemptRequest, signal = new AbortController().signal) {
  const handle = await platform.submit(req);
  const submission = JSON.parse(readFileSync(path.join(layout.sparkWorkDir(req.attemptId), 'submission.json'), 'utf8'));
  const outcome = await platform.await(handle, { signal, onProgress: () => undefined });
  const cleanup = await platform.cleanup(req.attemptId);
  return { outcome, cleanup, submission };
}

test('short attempts at the default memory run as sessions of one warm driver, which outlives them', async () => {
  const first = await runToEnd(request('ok'));
  expect(first.outcome.kind).toBe('SUCCEEDED');
  expect(first.submission.warm).toBeDefined();
  const server = await warm.running();
  expect(server?.pid).toBe(first.submission.warm.serverPid);

  const second = await runToEnd(request('ok'));
  expect(second.outcome.kind).toBe('SUCCEEDED');
  expect(second.submission.warm.serverPid).toBe(server?.pid);
  expect(second.cleanup.remaining).toBe(0);
  expect(readFileSync(layout.logFile(DATE, second.submission.attemptId), 'utf8')).toContain('"remote": true');
  expect((await warm.running())?.pid).toBe(server?.pid);

  // A worker restarted with the warm driver off still follows a warm attempt to its end.
  const req = request('ok');
  const handle = await platform.submit(req);
  const restarted = new LocalSparkPlatform(platformOptions());
  expect((await restarted.await(handle, { signal: new AbortController().signal, onProgress: () => undefined })).kind).toBe('SUCCEEDED');
  expect((await platform.cleanup(req.attemptId)).remaining).toBe(0);
});

test('an attempt given more memory than a slot, or a long one, runs in a JVM of its own', async () => {
  const escalated = await runToEnd(request('ok', { resources: { ...SMALL_RESOURCES, driverMemoryMb: 1024 } }));
  expect(escalated.outcome.kind).toBe('SUCCEEDED');
  expect(escalated.submission.warm).toBeUndefined();
  expect(readFileSync(layout.logFile(DATE, escalated.submission.attemptId), 'utf8')).toContain('"remote": false');

  const long = await runToEnd(request('ok', { inputBytes: 2 << 20 }));
  expect(long.outcome.kind).toBe('SUCCEEDED');
  expect(long.submission.warm).toBeUndefined();
});

test('a cancelled attempt is stopped, its session interrupted and released; the server goes on', async () => {
  const req = request('slow');
  const cancel = new AbortController();
  const handle = await platform.submit(req);
  const server = await warm.running();
  const session = sessionUrl(server!.port, req.attemptId).split('session_id=')[1]!;
  // Cancelled once its query runs on the server, not before it got there.
  await untilFileHas(server!.logFile, new RegExp(`Submitting .*session_id: "${session}"`));
  const serverPid = server!.pid;
  cancel.abort();
  const outcome = await platform.await(handle, { signal: cancel.signal, onProgress: () => undefined });
  expect(outcome).toMatchObject({ kind: 'TRANSIENT', reason: 'cancelled' });
  expect(await findAttemptProcesses(req.attemptId)).toEqual([]);
  expect((await platform.cleanup(req.attemptId)).remaining).toBe(0);
  // Not left running on the server until it gives up on the client minutes later.
  await untilFileHas(server!.logFile, /SPARK_JOB_CANCELLED/);

  // The slot is free and the server idle again: the next attempt runs warm on the same server, promptly.
  const next = await runToEnd(request('ok'));
  expect(next.outcome.kind).toBe('SUCCEEDED');
  expect(next.submission.warm.serverPid).toBe(serverPid);
});

test('an out-of-memory on the warm driver is the attempt\'s OUT_OF_MEMORY; the next attempt starts a new server', async () => {
  // The server the attempt will run on (started here when this test runs alone).
  const serverPid = (await warm.ensure()).pid;
  const oom = await runToEnd(request('oom'));
  expect(oom.submission.warm.serverPid).toBe(serverPid);
  expect(oom.outcome.kind).toBe('OUT_OF_MEMORY');
  expect(oom.outcome.diagnostics.join('\n')).toMatch(/OutOfMemoryError/);
  expect(oom.cleanup.remaining).toBe(0);
  expect(await warm.running()).toBeUndefined();

  const after = await runToEnd(request('ok'));
  expect(after.outcome.kind).toBe('SUCCEEDED');
  expect(after.submission.warm.serverPid).not.toBe(serverPid);
  expect(existsSync(layout.sparkWorkDir(after.submission.attemptId))).toBe(false);
});

test('the server stops when the worker closes, unless an attempt still runs on it, and by itself once idle', async () => {
  const idle = new WarmDriver({ ...warm.options, stateDir: path.join(dataDir, 'idle-warm-driver'), idleStopMs: 2_000 });
  const own = new LocalSparkPlatform({ ...platformOptions(), warmDriver: idle });
  // Closed while an attempt runs on it: the server stays for the attempt.
  const req = request('slow');
  const handle = await own.submit(req);
  const server = await idle.running();
  await untilFileHas(server!.logFile, new RegExp(`Submitting .*session_id: "${sessionUrl(server!.port, req.attemptId).split('session_id=')[1]}"`));
  await own.close();
  expect((await idle.running())?.pid).toBe(server!.pid);
  // Another worker process of this data dir holds no slot, but finds the attempt's client on the machine.
  const otherWorker = new WarmDriver({ ...idle.options });
  expect(await otherWorker.inUse(server!.port)).toBe(true);
  expect(await otherWorker.stopIfIdle()).toBe(false);
  // The attempt stopped (its session released): the server is idle and stops by itself.
  const cancel = new AbortController();
  cancel.abort();
  expect((await own.await(handle, { signal: cancel.signal, onProgress: () => undefined })).kind).toBe('TRANSIENT');
  await own.cleanup(req.attemptId);
  await idle.ensure(); // the worker uses it again, then leaves it alone
  for (let i = 0; i < 120 && (await idle.running()); i++) await new Promise((r) => setTimeout(r, 250));
  expect(await idle.running()).toBeUndefined();

  // Reconfigured (another slot size): the old server, idle, is stopped before the new one starts.
  const old = await idle.ensure();
  const reconfigured = new WarmDriver({ ...idle.options, slotMemoryMb: 768 });
  const fresh = await reconfigured.ensure();
  expect(fresh.pid).not.toBe(old.pid);
  expect(await warmServerAlive(old.pid)).toBe(false);
  await reconfigured.close();
  await idle.close();
  expect(await warmServerAlive(fresh.pid)).toBe(false);
});

test("the night's real jobs run on the warm driver through the Spark activities, as on their own JVMs", async () => {
  const config = loadConfig({}, path.resolve(__dirname, '../..'));
  const feeds = await generateFeeds({ landingDir: layout.landingDir(DATE), businessDate: DATE, seed: 7, transactions: 300, defectRate: 0.02 });
  const spark = createSparkActivities({
    platform,
    layout,
    jobsDir: config.spark.jobsDir,
    reportingCurrency: config.reportingCurrency,
    thresholds: config.spark.thresholds,
  });
  const env = new MockActivityEnvironment();
  const run = async (job: 'normalize' | 'transform', inputs: Record<string, string>) => {
    const attemptId = `nj-warm-real-${job}-${process.pid}`;
    const input = { attemptId, workflowId: 'nightjar-daily-warm', businessDate: DATE, job, attempt: 1, resources: SMALL_RESOURCES, inputs };
    const submission = (await env.run((i: typeof input) => spark.submitSparkJob(i), input)) as SparkSubmission;
    const warmRun = JSON.parse(readFileSync(path.join(layout.sparkWorkDir(attemptId), 'submission.json'), 'utf8')).warm;
    const result = (await env.run((x: SparkSubmission) => spark.awaitSparkJob(x), submission)) as SparkAwaitResult;
    await env.run(spark.cleanupSparkJob, { attemptId, job, businessDate: DATE, keepOutput: true });
    expect(warmRun).toBeDefined();
    expect(result.outcome).toMatchObject({ kind: 'SUCCEEDED' });
    return result;
  };
  const normalized = await run('normalize', Object.fromEntries(feeds.feeds.map((f) => [f.feed, `file://${f.path}`])));
  if (normalized.output?.job !== 'normalize') throw new Error('normalize produced no output');
  const rows = normalized.output.feeds.reduce((a, f) => a + f.rowsAccepted + f.rowsRejected, 0);
  expect(rows).toBe(feeds.feeds.reduce((a, f) => a + f.rows, 0));
  const transformed = await run('transform', Object.fromEntries(normalized.output.feeds.map((f) => [f.feed, f.curatedUri])));
  expect(transformed.output?.job).toBe('transform');
});

import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DataLayout } from '../../src/common/layout';
import { findAttemptProcesses, LocalSparkPlatform } from '../../src/spark/local/local-platform';
import type { SparkAttemptRequest, SparkProgress } from '../../src/spark/platform';
import { SMALL_RESOURCES } from '../helpers/resources';

// The real spark-submit of the project's venv (JVM start-up included: ~15-20 s per run).
const VENV_BIN = path.resolve(__dirname, '../../.venv/bin');
const SMOKE_JOB = path.resolve(__dirname, '../fixtures/pyspark/smoke_job.py');
const DATE = '2026-11-20';
const RESOURCES = SMALL_RESOURCES;

jest.setTimeout(90_000);

let dataDir: string;
let layout: DataLayout;
let platform: LocalSparkPlatform;

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nightjar-spark-smoke-'));
  layout = new DataLayout(dataDir);
  platform = new LocalSparkPlatform({
    sparkSubmit: path.join(VENV_BIN, 'spark-submit'),
    pythonPath: path.join(VENV_BIN, 'python'),
    layout,
    pollIntervalMs: 250,
    env: process.env,
  });
});

afterAll(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

function request(attemptId: string, mode: 'ok' | 'oom'): SparkAttemptRequest {
  const resultFile = path.join(layout.jobOutputDir(DATE, 'normalize', attemptId), '_result.json');
  return {
    attemptId,
    workflowId: 'nightjar-daily-smoke',
    businessDate: DATE,
    job: 'normalize',
    attempt: 1,
    resources: RESOURCES,
    mainFile: SMOKE_JOB,
    args: ['--result', resultFile, '--mode', mode],
    sparkConf: {
      // Without this Spark would refuse the big result itself rather than run out of heap.
      'spark.driver.maxResultSize': '0',
      // A short-lived JVM on a small machine: quick JIT start-up, one GC thread.
      'spark.driver.extraJavaOptions': '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC',
    },
  };
}

async function runToEnd(req: SparkAttemptRequest) {
  const progress: SparkProgress[] = [];
  const handle = await platform.submit(req);
  const outcome = await platform.await(handle, { signal: new AbortController().signal, onProgress: (p) => progress.push(p) });
  const cleanup = await platform.cleanup(req.attemptId);
  return { outcome, progress, cleanup };
}

test('a PySpark job run by spark-submit reports progress and SUCCEEDS; cleanup leaves nothing but the log', async () => {
  const req = request(`nj-smoke-ok-${process.pid}`, 'ok');
  const { outcome, progress, cleanup } = await runToEnd(req);

  expect(outcome).toMatchObject({ kind: 'SUCCEEDED', exitCode: 0 });
  expect(progress.some((p) => p.detail?.includes('"phase":"started"'))).toBe(true);
  const result = JSON.parse(readFileSync(path.join(layout.jobOutputDir(DATE, 'normalize', req.attemptId), '_result.json'), 'utf8'));
  expect(result.total).toBe(499500);

  expect(cleanup.remaining).toBe(0);
  expect(existsSync(layout.sparkWorkDir(req.attemptId))).toBe(false);
  expect(await findAttemptProcesses(req.attemptId)).toEqual([]);
  expect(readFileSync(layout.logFile(DATE, req.attemptId), 'utf8')).toContain('Running Spark version');
});

test('collecting a huge array into a 512 MiB driver is classified OUT_OF_MEMORY', async () => {
  const req = request(`nj-smoke-oom-${process.pid}`, 'oom');
  const { outcome, cleanup } = await runToEnd(req);

  expect(outcome).toMatchObject({ kind: 'OUT_OF_MEMORY', oomSide: 'driver' });
  expect(outcome.reason).toContain('OutOfMemoryError');
  expect(outcome.diagnostics.some((l) => l.includes('java.lang.OutOfMemoryError'))).toBe(true);
  expect(cleanup.remaining).toBe(0);
});

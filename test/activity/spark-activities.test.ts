import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ActivityCancellationDetails, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment as SdkMockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createSparkActivities, zipDirectory, type SparkActivityDeps, type SparkAwaitHeartbeat } from '../../src/activities/spark';
import { DataLayout, uriToPath } from '../../src/common/layout';
import { CURRENCY_MINOR_UNITS, FEEDS, KNOWN_CURRENCIES } from '../../src/domain/feeds/catalog';
import type { SparkSubmitInput } from '../../src/domain/pipeline';
import { SPARK_REPORTS } from '../../src/domain/reports/catalog';
import { MAX_RECORDED_PODS } from '../../src/domain/spark/attempt-pods';
import type { AttemptPod } from '../../src/domain/spark/resources';
import type { SparkAttemptRequest, SparkPlatform, WorkflowState } from '../../src/spark/platform';
import { findAttemptProcesses, LocalSparkPlatform } from '../../src/spark/local/local-platform';
import { SMALL_RESOURCES } from '../helpers/resources';

const FIXTURES = path.resolve(__dirname, '../fixtures/fake-spark');
const PYTHON = path.resolve(__dirname, '../../.venv/bin/python');
const DATE = '2026-11-20';
const THRESHOLDS = { largeValueRpt: 10000, structuringThresholdRpt: 10000, structuringBandLow: 0.8, structuringMinCount: 3 };
const RESOURCES = SMALL_RESOURCES;

/**
 * The SDK's mock, logging only errors (the expected failures below would fill the output), with
 * a `call` that keeps the activity's argument and result types (`run` infers `unknown`).
 */
class MockActivityEnvironment extends SdkMockActivityEnvironment {
  constructor(info?: ConstructorParameters<typeof SdkMockActivityEnvironment>[0]) {
    super(info, { logger: new DefaultLogger('ERROR') });
  }

  call<P extends unknown[], R>(fn: (...args: P) => Promise<R>, ...args: P): Promise<R> {
    return this.run(fn, ...args) as Promise<R>;
  }
}

let dataDir: string;
let layout: DataLayout;
let seq = 0;

beforeEach(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nightjar-activities-'));
  layout = new DataLayout(dataDir);
});

afterEach(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

/** The activities over a local platform whose spark-submit is the fake, told what to do by `env`. */
function activities(env: Record<string, string> = {}, workflowState?: SparkActivityDeps['workflowState']) {
  const platform = new LocalSparkPlatform({
    sparkSubmit: path.join(FIXTURES, 'spark-submit'),
    pythonPath: PYTHON,
    layout,
    pollIntervalMs: 50,
    killGraceMs: 2_000,
    env: { ...process.env, FAKE_SPARK_STEP_MS: '50', ...env },
  });
  return createSparkActivities({
    platform,
    layout,
    jobsDir: path.join(FIXTURES, 'spark'),
    reportingCurrency: 'EUR',
    thresholds: THRESHOLDS,
    stepsAtOnce: 3,
    ...(workflowState ? { workflowState } : {}),
  });
}

function submitInput(job: 'normalize' | 'transform' = 'normalize'): SparkSubmitInput {
  return {
    attemptId: `nj-20261120-${job}-act${process.pid}-a${++seq}`,
    workflowId: 'nightjar-daily-2026-11-20',
    businessDate: DATE,
    job,
    attempt: 1,
    resources: RESOURCES,
    inputs: { accounts: 'file:///data/raw/2026-11-20/accounts.csv' },
  };
}

/** Alive and not a zombie (an orphan waits for init to reap it). */
function isAlive(pid: number): boolean {
  try {
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const normalizeResult = (outputUri: string) => ({
  job: 'normalize',
  feeds: [
    {
      feed: 'accounts',
      rowsIn: 10,
      rowsAccepted: 9,
      rowsRejected: 1,
      rejectReasons: { UNKNOWN_CURRENCY: 1 },
      amountAccepted: '1234.50',
      amountRejected: '-0.05',
      curatedUri: `${outputUri}/accounts`,
      rejectsUri: `${outputUri}/rejects/accounts`,
    },
  ],
});

describe('submitSparkJob', () => {
  test('writes the job spec of docs/spark-jobs.md and a zip of the package, and is idempotent', async () => {
    const acts = activities({ FAKE_SPARK_MODE: 'hang' });
    const env = new MockActivityEnvironment();
    const input = submitInput('transform');
    const submission = await env.call(acts.submitSparkJob, input);
    try {
      const outputDir = layout.jobOutputDir(DATE, 'transform', input.attemptId);
      expect(submission).toMatchObject({ attemptId: input.attemptId, job: 'transform', platform: 'local', businessDate: DATE });
      expect(uriToPath(submission.outputUri)).toBe(outputDir);
      expect(uriToPath(submission.resultUri)).toBe(path.join(outputDir, '_result.json'));

      const workDir = layout.sparkWorkDir(input.attemptId);
      const spec = JSON.parse(readFileSync(path.join(workDir, 'spec.json'), 'utf8'));
      expect(spec).toEqual({
        job: 'transform',
        attemptId: input.attemptId,
        businessDate: DATE,
        reportingCurrency: 'EUR',
        outputUri: submission.outputUri,
        resultUri: submission.resultUri,
        catalog: JSON.parse(JSON.stringify(FEEDS)),
        knownCurrencies: [...KNOWN_CURRENCIES],
        minorUnits: CURRENCY_MINOR_UNITS,
        inputs: input.inputs,
        stepsAtOnce: 3,
        reports: JSON.parse(JSON.stringify(SPARK_REPORTS)),
        thresholds: THRESHOLDS,
      });

      // Python imports the package from the zip spark-submit ships with --py-files.
      const zip = path.join(workDir, 'nightjar_spark.zip');
      const imported = execFileSync(PYTHON, ['-c', 'import sys; sys.path.insert(0, sys.argv[1]); from nightjar_spark import util; print(util.double(21), util.__file__)', zip], {
        encoding: 'utf8',
      });
      expect(imported.trim()).toBe(`42 ${zip}/nightjar_spark/util.py`);

      expect(await env.call(acts.submitSparkJob, input)).toEqual(submission);
      expect((await findAttemptProcesses(input.attemptId)).filter((p) => p.pid === p.pgid)).toHaveLength(1);
    } finally {
      await env.call(acts.cleanupSparkJob, { attemptId: input.attemptId, job: 'transform', businessDate: DATE, keepOutput: false });
    }
  });

  test('a resubmit after the package changed keeps the snapshot the attempt started with', async () => {
    const jobsDir = path.join(dataDir, 'spark');
    await fs.cp(path.join(FIXTURES, 'spark'), jobsDir, { recursive: true });
    const platform = new LocalSparkPlatform({ sparkSubmit: path.join(FIXTURES, 'spark-submit'), pythonPath: PYTHON, layout, env: process.env });
    const acts = createSparkActivities({ platform, layout, jobsDir, reportingCurrency: 'EUR', thresholds: THRESHOLDS });
    const env = new MockActivityEnvironment();
    const input = submitInput();
    const zip = path.join(layout.sparkWorkDir(input.attemptId), 'nightjar_spark.zip');

    await env.call(acts.submitSparkJob, input);
    const before = await fs.readFile(zip);
    await fs.writeFile(path.join(jobsDir, 'nightjar_spark', 'util.py'), 'def double(x):\n    return 3 * x\n');
    await env.call(acts.submitSparkJob, input);
    expect((await fs.readFile(zip)).equals(before)).toBe(true);
    await env.call(acts.cleanupSparkJob, { attemptId: input.attemptId, job: 'normalize', businessDate: DATE, keepOutput: false });
  });

  test('the package zip is deterministic and leaves compiled files out', async () => {
    const pkg = path.join(dataDir, 'pkg');
    await fs.mkdir(path.join(pkg, '__pycache__'), { recursive: true });
    await fs.writeFile(path.join(pkg, '__init__.py'), 'X = 1\n');
    await fs.writeFile(path.join(pkg, '__pycache__', '__init__.cpython-311.pyc'), 'compiled');
    const first = await zipDirectory(pkg, 'pkg');
    await new Promise((r) => setTimeout(r, 10));
    await fs.utimes(path.join(pkg, '__init__.py'), new Date(), new Date());
    expect((await zipDirectory(pkg, 'pkg')).equals(first)).toBe(true);
    expect(first.includes(Buffer.from('__pycache__'))).toBe(false);
  });

  test("every platform is told the input's size when the worker can read it (the Kubernetes one too: the shared volume), and nothing when it cannot", async () => {
    const requests: SparkAttemptRequest[] = [];
    const platform: SparkPlatform = {
      kind: 'kubernetes',
      submit: async (req) => {
        requests.push(req);
        return { attemptId: req.attemptId, platform: 'kubernetes', handle: req.attemptId, submittedAt: new Date().toISOString() };
      },
      await: async () => ({ kind: 'TRANSIENT', reason: 'not awaited here', exitCode: null, diagnostics: [] }),
      cleanup: async (attemptId) => ({ attemptId, removed: [], remaining: 0 }),
    };
    const acts = createSparkActivities({ platform, layout, jobsDir: path.join(FIXTURES, 'spark'), reportingCurrency: 'EUR', thresholds: THRESHOLDS });
    const env = new MockActivityEnvironment();
    const feed = path.join(dataDir, 'sized', 'accounts.csv');
    await fs.mkdir(path.dirname(feed), { recursive: true });
    await fs.writeFile(feed, 'x'.repeat(1234));
    await env.call(acts.submitSparkJob, { ...submitInput(), inputs: { accounts: `file://${feed}` } });
    await env.call(acts.submitSparkJob, { ...submitInput(), inputs: { accounts: 's3a://bank-landing/2026-11-20/accounts.csv' } });
    expect(requests.map((r) => r.inputBytes)).toEqual([1234, undefined]);
  });

  test('rejects an attempt id that is not a plain name as InvalidInput', async () => {
    const env = new MockActivityEnvironment();
    await expect(env.call(activities().submitSparkJob, { ...submitInput(), attemptId: '../../etc' })).rejects.toMatchObject({
      type: 'InvalidInput',
      nonRetryable: true,
    });
  });
});

describe('awaitSparkJob', () => {
  test('heartbeats progress and maps a normalize result to FeedNormalized[]', async () => {
    const input = submitInput('normalize');
    const outputUri = `file://${encodeURI(layout.jobOutputDir(DATE, 'normalize', input.attemptId))}`;
    const acts = activities({ FAKE_SPARK_STEPS: '6', FAKE_SPARK_RESULT: JSON.stringify(normalizeResult(outputUri)) });
    const env = new MockActivityEnvironment();
    const heartbeats: SparkAwaitHeartbeat[] = [];
    env.on('heartbeat', (d: SparkAwaitHeartbeat) => heartbeats.push(d));

    const submission = await env.call(acts.submitSparkJob, input);
    const result = await env.call(acts.awaitSparkJob, submission);

    expect(result.outcome.kind).toBe('SUCCEEDED');
    expect(result.output).toEqual(normalizeResult(outputUri));
    expect(heartbeats.length).toBeGreaterThan(1);
    expect(heartbeats.every((h) => h.attemptId === input.attemptId)).toBe(true);
    expect(heartbeats.some((h) => h.state === 'RUNNING' && h.detail?.includes('"phase":"step"'))).toBe(true);
  });

  test('an outcome with many pods reaches the workflow bounded: driver and failed executors first, the rest counted', async () => {
    const executor = (i: number, failed: boolean): AttemptPod => ({ role: 'executor', name: `exec-${String(i).padStart(3, '0')}`, node: 'kwok-a1', phase: failed ? 'Failed' : 'Running', ...(failed ? { exitCode: 137, reason: 'OOMKilled' } : {}) });
    const pods: AttemptPod[] = [...Array.from({ length: 100 }, (_, i) => executor(i, i === 77 || i === 99)), { role: 'driver', name: 'a-driver', node: 'kwok-b1', phase: 'Running' }];
    const platform: SparkPlatform = {
      kind: 'kubernetes',
      submit: async (req) => ({ attemptId: req.attemptId, platform: 'kubernetes', handle: `${req.attemptId}-driver`, submittedAt: new Date().toISOString() }),
      await: async () => ({ kind: 'OUT_OF_MEMORY', oomSide: 'executor', reason: '2 executors lost to out-of-memory', exitCode: null, diagnostics: [], pods }),
      cleanup: async (attemptId) => ({ attemptId, removed: [], remaining: 0 }),
    };
    const acts = createSparkActivities({ platform, layout, jobsDir: path.join(FIXTURES, 'spark'), reportingCurrency: 'EUR', thresholds: THRESHOLDS });
    const env = new MockActivityEnvironment();
    const submission = await env.call(acts.submitSparkJob, submitInput('transform'));
    const { outcome } = await env.call(acts.awaitSparkJob, submission);
    expect(outcome.pods).toHaveLength(MAX_RECORDED_PODS);
    expect(outcome.pods!.slice(0, 3).map((p) => p.name)).toEqual(['a-driver', 'exec-077', 'exec-099']);
    expect(outcome.podsOmitted).toBe(101 - MAX_RECORDED_PODS);
  });

  test('maps a transform result to ReportProduced[]', async () => {
    const reports = [{ report: 'eod_balances', uri: 'file:///out/eod_balances', rows: 3 }];
    const acts = activities({ FAKE_SPARK_RESULT: JSON.stringify({ job: 'transform', reports }) });
    const env = new MockActivityEnvironment();
    const submission = await env.call(acts.submitSparkJob, submitInput('transform'));
    expect((await env.call(acts.awaitSparkJob, submission)).output).toEqual({ job: 'transform', reports });
  });

  test.each([
    ['a field of the wrong type', JSON.stringify({ job: 'normalize', feeds: [{ feed: 'accounts', rowsIn: 'ten' }] }), /feeds\.0\.rowsIn/],
    ['an unknown feed', JSON.stringify({ job: 'normalize', feeds: [{ ...normalizeResult('file:///o').feeds[0], feed: 'loans' }] }), /feeds\.0\.feed/],
    ["another job's result", JSON.stringify({ job: 'transform', reports: [] }), /written by job 'transform'/],
    ['no JSON at all', '{"job": "normalize", "feeds": [', /not JSON/],
  ])('a result file with %s fails as non-retryable SparkJobFailed naming the file', async (_, content, problem) => {
    const acts = activities({ FAKE_SPARK_RESULT: content });
    const env = new MockActivityEnvironment();
    const submission = await env.call(acts.submitSparkJob, submitInput('normalize'));
    const failure = env.call(acts.awaitSparkJob, submission);
    await expect(failure).rejects.toBeInstanceOf(ApplicationFailure);
    await expect(failure).rejects.toMatchObject({ type: 'SparkJobFailed', nonRetryable: true });
    await expect(failure).rejects.toThrow(uriToPath(submission.resultUri));
    await expect(failure).rejects.toThrow(problem);
  });

  test('returns a failed attempt as an outcome, not an error', async () => {
    const acts = activities({ FAKE_SPARK_MODE: 'oom' });
    const env = new MockActivityEnvironment();
    const result = await env.call(acts.awaitSparkJob, await env.call(acts.submitSparkJob, submitInput()));
    expect(result).toEqual({ outcome: expect.objectContaining({ kind: 'OUT_OF_MEMORY', oomSide: 'driver' }) });
  });

  test('a cancellation stops the attempt (its whole process group) and ends in CancelledFailure', async () => {
    const acts = activities({ FAKE_SPARK_MODE: 'hang' });
    const input = submitInput();
    const submitted = await new MockActivityEnvironment().call(acts.submitSparkJob, input);
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 60_000 });
    env.on('heartbeat', (d: SparkAwaitHeartbeat) => {
      if (d.state === 'RUNNING') env.cancel();
    });

    await expect(env.call(acts.awaitSparkJob, submitted)).rejects.toBeInstanceOf(CancelledFailure);
    expect(await findAttemptProcesses(input.attemptId)).toEqual([]);
    const grandchild = Number(/FAKE_SPARK_GRANDCHILD (\d+)/.exec(readFileSync(layout.logFile(DATE, input.attemptId), 'utf8'))?.[1]);
    expect(isAlive(grandchild)).toBe(false);
  });

  test('a worker shutdown leaves the attempt running, and the retry adopts it and gets the result', async () => {
    const input = submitInput();
    const acts = activities({ FAKE_SPARK_STEPS: '30' });
    const submission = await new MockActivityEnvironment().call(acts.submitSparkJob, input);
    const first = new MockActivityEnvironment();
    let last: SparkAwaitHeartbeat | undefined;
    first.on('heartbeat', (d: SparkAwaitHeartbeat) => {
      last = d;
      if (d.state === 'RUNNING') first.cancel('WORKER_SHUTDOWN', new ActivityCancellationDetails({ workerShutdown: true }));
    });
    await expect(first.call(acts.awaitSparkJob, submission)).rejects.toBeInstanceOf(CancelledFailure);
    expect(await findAttemptProcesses(input.attemptId)).not.toEqual([]);

    // The retry runs on a "new worker": a new platform instance, the last heartbeat as details.
    const retry = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: last });
    const result = await retry.call(activities().awaitSparkJob, submission);
    expect(result.outcome.kind).toBe('SUCCEEDED');
    expect(result.output).toEqual({ job: 'normalize', feeds: [] });
  });
});

describe('awaitSparkJob cancelled as not found (a late heartbeat, or a closed workflow)', () => {
  const NOT_FOUND = new ActivityCancellationDetails({ notFound: true });

  /** Submits a long fake attempt and cancels its wait as "not found" at the first RUNNING heartbeat. */
  async function cancelledAsNotFound(workflowState?: SparkActivityDeps['workflowState']) {
    const input = submitInput();
    const acts = activities({ FAKE_SPARK_STEPS: '30' }, workflowState);
    const submission = await new MockActivityEnvironment().call(acts.submitSparkJob, input);
    const env = new MockActivityEnvironment();
    let last: SparkAwaitHeartbeat | undefined;
    env.on('heartbeat', (d: SparkAwaitHeartbeat) => {
      last = d;
      if (d.state === 'RUNNING') env.cancel('NOT_FOUND', NOT_FOUND);
    });
    await expect(env.call(acts.awaitSparkJob, submission)).rejects.toBeInstanceOf(CancelledFailure);
    return { input, submission, last, workflowId: env.context.info.workflowExecution?.workflowId };
  }

  test('the workflow still runs (the server timed the wait out): the attempt keeps running and the retry adopts it', async () => {
    const asked: string[] = [];
    const { input, submission, last, workflowId } = await cancelledAsNotFound(async (id) => {
      asked.push(id);
      return 'RUNNING';
    });
    expect(asked).toEqual([workflowId]);
    expect(await findAttemptProcesses(input.attemptId)).not.toEqual([]);

    const retry = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: last });
    const result = await retry.call(activities().awaitSparkJob, submission);
    expect(result.outcome.kind).toBe('SUCCEEDED');
  });

  test.each<[string, WorkflowState]>([
    ['closed', 'CLOSED'],
    ['unknown to the server', 'UNKNOWN'],
  ])('the workflow is %s: the attempt is stopped', async (_, state) => {
    const { input } = await cancelledAsNotFound(async () => state);
    expect(await findAttemptProcesses(input.attemptId)).toEqual([]);
  });

  test('the workflow cannot be asked: the attempt is left for the clean-up or the janitor', async () => {
    const { input } = await cancelledAsNotFound(async () => {
      throw new Error('connection refused');
    });
    expect(await findAttemptProcesses(input.attemptId)).not.toEqual([]);
    await new MockActivityEnvironment().call(activities().cleanupSparkJob, {
      attemptId: input.attemptId,
      businessDate: DATE,
      job: input.job,
      keepOutput: false,
    });
    expect(await findAttemptProcesses(input.attemptId)).toEqual([]);
  });

  test('without a way to ask, the attempt is stopped (nothing is left behind unasked)', async () => {
    const { input } = await cancelledAsNotFound();
    expect(await findAttemptProcesses(input.attemptId)).toEqual([]);
  });
});

describe('cleanupSparkJob', () => {
  test('removes scratch and, unless kept, the output; twice is harmless; the log stays', async () => {
    const acts = activities();
    const env = new MockActivityEnvironment();
    for (const keepOutput of [true, false]) {
      const input = submitInput();
      const outputDir = layout.jobOutputDir(DATE, 'normalize', input.attemptId);
      await env.call(acts.awaitSparkJob, await env.call(acts.submitSparkJob, input));
      expect(existsSync(path.join(outputDir, '_result.json'))).toBe(true);

      const cleanup = { attemptId: input.attemptId, job: 'normalize' as const, businessDate: DATE, keepOutput };
      const report = await env.call(acts.cleanupSparkJob, cleanup);
      expect(report.remaining).toBe(0);
      expect(report.removed).toContain(`work dir ${layout.sparkWorkDir(input.attemptId)}`);
      expect(report.removed.includes(`output ${outputDir}`)).toBe(!keepOutput);
      expect(existsSync(outputDir)).toBe(keepOutput);
      expect(existsSync(layout.sparkWorkDir(input.attemptId))).toBe(false);
      expect(existsSync(layout.logFile(DATE, input.attemptId))).toBe(true);

      expect(await env.call(acts.cleanupSparkJob, cleanup)).toEqual({ attemptId: input.attemptId, removed: [], remaining: 0 });
    }
  });
});

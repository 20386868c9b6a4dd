import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DataLayout } from '../../src/common/layout';
import {
  ATTEMPT_PROPERTY,
  buildSparkSubmitArgs,
  findAttemptProcesses,
  LocalSparkPlatform,
  type LocalSparkPlatformOptions,
} from '../../src/spark/local/local-platform';
import type { SparkAttemptRequest, SparkProgress } from '../../src/spark/platform';
import type { SparkResources } from '../../src/domain/spark/resources';

const FAKE_SPARK_SUBMIT = path.resolve(__dirname, '../fixtures/fake-spark/spark-submit');
const DATE = '2026-11-20';
// Distinct numbers, so each one is seen to land in its own spark-submit argument.
const RESOURCES: SparkResources = {
  driverMemoryMb: 768,
  driverCores: 2,
  executorMemoryMb: 1024,
  executorCores: 1,
  executorInstances: 2,
  memoryOverheadMb: null,
  shufflePartitions: 6,
};

let dataDir: string;
let layout: DataLayout;
let seq = 0;

beforeEach(async () => {
  // A space in the path: nothing may depend on a shell splitting words.
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nightjar platform-'));
  layout = new DataLayout(dataDir);
});

afterEach(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

function platform(env: Record<string, string> = {}, options: Partial<LocalSparkPlatformOptions> = {}) {
  return new LocalSparkPlatform({
    sparkSubmit: FAKE_SPARK_SUBMIT,
    pythonPath: '/opt/python/bin/python3',
    layout,
    pollIntervalMs: 50,
    killGraceMs: 2_000,
    env: { ...process.env, FAKE_SPARK_STEP_MS: '50', ...env },
    ...options,
  });
}

function request(overrides: Partial<SparkAttemptRequest> = {}): SparkAttemptRequest {
  const attemptId = overrides.attemptId ?? `nj-20261120-normalize-test${process.pid}-a${++seq}`;
  const resultFile = path.join(layout.jobOutputDir(DATE, 'normalize', attemptId), '_result.json');
  return {
    attemptId,
    workflowId: 'nightjar-daily-2026-11-20',
    businessDate: DATE,
    job: 'normalize',
    attempt: 1,
    resources: RESOURCES,
    mainFile: '/spark/jobs/normalize.py',
    args: ['--result', resultFile],
    sparkConf: {},
    ...overrides,
  };
}

const neverAborted = () => new AbortController().signal;

async function untilLogHas(logFile: string, pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await fs.readFile(logFile, 'utf8').catch(() => '');
    const match = text.match(pattern);
    if (match) return match;
    if (Date.now() > deadline) throw new Error(`${logFile} never matched ${pattern}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers kill(0); it is dead for our purposes.
  return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

describe('buildSparkSubmitArgs', () => {
  test('passes master, driver memory and the per-attempt conf as separate arguments', () => {
    const req = request({ attemptId: 'nj-a1', sparkConf: { 'spark.submit.pyFiles': '/w/nightjar_spark.zip' } });
    const args = buildSparkSubmitArgs({ request: req, workDir: '/data/work dir/nj-a1', master: 'local[2]', extraConf: {} });
    expect(args.slice(0, 6)).toEqual(['--master', 'local[2]', '--name', 'nj-a1', '--driver-memory', '768m']);
    expect(args.slice(-3)).toEqual(['/spark/jobs/normalize.py', ...req.args]);
    const conf = Object.fromEntries(
      args.flatMap((a, i) => (args[i - 1] === '--conf' ? [[a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]] : [])),
    );
    expect(conf).toEqual({
      'spark.sql.shuffle.partitions': '6',
      'spark.local.dir': '/data/work dir/nj-a1/tmp',
      'spark.ui.enabled': 'false',
      'spark.sql.warehouse.dir': '/data/work dir/nj-a1/warehouse',
      'spark.submit.pyFiles': '/w/nightjar_spark.zip',
      'spark.driver.extraJavaOptions':
        '-Dderby.system.home=/data/work\\ dir/nj-a1 -Djava.io.tmpdir=/data/work\\ dir/nj-a1/tmp -XX:-UsePerfData -Dnightjar.attempt=nj-a1',
    });
  });

  test('configured conf wins over the defaults, and the attempt property is appended to own java options', () => {
    const req = request({ attemptId: 'nj-a2', sparkConf: { 'spark.sql.shuffle.partitions': '64' } });
    const args = buildSparkSubmitArgs({
      request: req,
      workDir: '/w',
      master: 'local[*]',
      extraConf: { 'spark.ui.enabled': 'true', 'spark.driver.extraJavaOptions': '-XX:+UseG1GC' },
    });
    expect(args).toContain('spark.ui.enabled=true');
    expect(args).toContain('spark.sql.shuffle.partitions=64');
    expect(args).toContain(
      'spark.driver.extraJavaOptions=-XX:+UseG1GC -Dderby.system.home=/w -Djava.io.tmpdir=/w/tmp -XX:-UsePerfData -Dnightjar.attempt=nj-a2',
    );
  });
});

describe('buildSparkSubmitArgs: driver JVM options', () => {
  test('come before the attempt property, which stays last', () => {
    const args = buildSparkSubmitArgs({
      request: request({ attemptId: 'nj-a3' }),
      workDir: '/w',
      master: 'local[2]',
      extraConf: {},
      driverJavaOptions: ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'],
    });
    expect(args).toContain(
      'spark.driver.extraJavaOptions=-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Dderby.system.home=/w -Djava.io.tmpdir=/w/tmp -XX:-UsePerfData -Dnightjar.attempt=nj-a3',
    );
  });
});

describe('LocalSparkPlatform', () => {
  test('runs an attempt to SUCCEEDED, forwarding progress, with the log kept in the run log dir', async () => {
    const p = platform({ FAKE_SPARK_STEPS: '6' });
    const req = request();
    const handle = await p.submit(req);
    const progress: SparkProgress[] = [];
    const outcome = await p.await(handle, { signal: neverAborted(), onProgress: (x) => progress.push(x) });

    expect(outcome).toMatchObject({ kind: 'SUCCEEDED', exitCode: 0 });
    const details = progress.map((x) => x.detail).filter((d) => d !== undefined);
    expect(details.length).toBeGreaterThan(0);
    expect(JSON.parse(details[details.length - 1] as string)).toMatchObject({ phase: 'step' });
    expect(progress.every((x) => x.elapsedMs >= 0)).toBe(true);

    const logFile = layout.logFile(DATE, req.attemptId);
    expect(outcome.logUri).toBe(`file://${encodeURI(logFile)}`);
    const [, seen] = await untilLogHas(logFile, /^FAKE_SPARK_ARGS (.*)$/m);
    const args = JSON.parse(seen as string);
    expect(args).toMatchObject({
      master: 'local[2]',
      'driver-memory': '768m',
      mainFile: '/spark/jobs/normalize.py',
      env: { PYSPARK_PYTHON: '/opt/python/bin/python3', PYSPARK_DRIVER_PYTHON: '/opt/python/bin/python3' },
      cwd: layout.sparkWorkDir(req.attemptId),
    });
    expect(args.conf['spark.driver.extraJavaOptions']).toContain(`${ATTEMPT_PROPERTY}=${req.attemptId}`);
  });

  test('an attempt this process started is seen to end when it exits, not at the next poll', async () => {
    // A poll interval far beyond the test timeout: only the exit itself can end the wait.
    const p = platform({ FAKE_SPARK_STEPS: '1' }, { pollIntervalMs: 3_600_000 });
    const handle = await p.submit(request());
    const outcome = await p.await(handle, { signal: neverAborted(), onProgress: () => undefined });
    expect(outcome).toMatchObject({ kind: 'SUCCEEDED', exitCode: 0 });
  });

  test('submitting the same attempt twice (also concurrently) starts one process and adopts it', async () => {
    const p = platform({ FAKE_SPARK_MODE: 'hang' });
    const req = request();
    const [first, second] = await Promise.all([p.submit(req), p.submit(req)]);
    const third = await platform({ FAKE_SPARK_MODE: 'hang' }).submit(req);
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    await untilLogHas(layout.logFile(DATE, req.attemptId), /FAKE_SPARK_GRANDCHILD/);
    const procs = await findAttemptProcesses(req.attemptId);
    // The fake and its grandchild: one submission, one process group.
    expect(procs.map((x) => x.pgid)).toEqual([Number(first.handle), Number(first.handle)]);
    expect((await p.cleanup(req.attemptId)).remaining).toBe(0);
  });

  test('classifies an OutOfMemoryError exit (52) as OUT_OF_MEMORY on the driver', async () => {
    const p = platform({ FAKE_SPARK_MODE: 'oom' });
    const handle = await p.submit(request());
    const outcome = await p.await(handle, { signal: neverAborted(), onProgress: () => undefined });
    expect(outcome).toMatchObject({ kind: 'OUT_OF_MEMORY', oomSide: 'driver', exitCode: 52 });
    expect(outcome.diagnostics).toContain('java.lang.OutOfMemoryError: Java heap space');
  });

  test('classifies an AnalysisException as PERMANENT with its message', async () => {
    const p = platform({ FAKE_SPARK_MODE: 'fail' });
    const outcome = await p.await(await p.submit(request()), { signal: neverAborted(), onProgress: () => undefined });
    expect(outcome.kind).toBe('PERMANENT');
    expect(outcome.reason).toContain('AnalysisException: [PATH_NOT_FOUND] Path does not exist');
  });

  test.each([
    ['that stops on SIGTERM', '0'],
    ['that ignores SIGTERM (SIGKILL after the grace period)', '1'],
  ])('cancellation kills the whole process group of an attempt %s', async (_, ignoreTerm) => {
    const p = platform({ FAKE_SPARK_MODE: 'hang', FAKE_SPARK_IGNORE_TERM: ignoreTerm }, { killGraceMs: 500 });
    const req = request();
    const handle = await p.submit(req);
    const [, grandchild] = await untilLogHas(layout.logFile(DATE, req.attemptId), /FAKE_SPARK_GRANDCHILD (\d+)/);
    expect(isAlive(Number(grandchild))).toBe(true);

    const abort = new AbortController();
    const outcome = await p.await(handle, {
      signal: abort.signal,
      onProgress: (x) => {
        if (x.detail !== undefined) abort.abort();
      },
    });

    expect(outcome).toMatchObject({ kind: 'TRANSIENT', reason: 'cancelled' });
    expect(isAlive(Number(handle.handle))).toBe(false);
    expect(isAlive(Number(grandchild))).toBe(false);
    expect(await findAttemptProcesses(req.attemptId)).toEqual([]);
    // A later look (a retried activity) still sees that it was cancelled.
    expect(await p.await(handle, { signal: neverAborted(), onProgress: () => undefined })).toMatchObject({ reason: 'cancelled' });
  });

  test('detaching ends the wait but leaves the attempt running, for the next watcher to adopt', async () => {
    const p = platform({ FAKE_SPARK_MODE: 'hang' });
    const req = request();
    const handle = await p.submit(req);
    await untilLogHas(layout.logFile(DATE, req.attemptId), /FAKE_SPARK_GRANDCHILD (\d+)/);
    const detach = new AbortController();
    const shutdown = new Error('WORKER_SHUTDOWN');
    await expect(
      p.await(handle, {
        signal: neverAborted(),
        detach: detach.signal,
        onProgress: (x) => {
          if (x.detail !== undefined) detach.abort(shutdown);
        },
      }),
    ).rejects.toBe(shutdown);
    expect(isAlive(Number(handle.handle))).toBe(true);
    expect((await platform().submit(req)).handle).toBe(handle.handle); // adopted, not started twice
    expect(await p.cleanup(req.attemptId)).toMatchObject({ remaining: 0 });
    expect(isAlive(Number(handle.handle))).toBe(false);
  });

  test('cleanup stops a running attempt, removes the work dir, keeps the log and is idempotent', async () => {
    const p = platform({ FAKE_SPARK_MODE: 'hang' });
    const req = request();
    const handle = await p.submit(req);
    const logFile = layout.logFile(DATE, req.attemptId);
    await untilLogHas(logFile, /NIGHTJAR_PROGRESS/);

    const first = await p.cleanup(req.attemptId);
    expect(first.remaining).toBe(0);
    expect(first.removed).toEqual([expect.stringMatching(/^processes /), `work dir ${layout.sparkWorkDir(req.attemptId)}`]);
    expect(first.removed[0]).toContain(handle.handle);
    expect(existsSync(layout.sparkWorkDir(req.attemptId))).toBe(false);
    expect(await fs.readFile(logFile, 'utf8')).toContain('NIGHTJAR_PROGRESS');
    expect(isAlive(Number(handle.handle))).toBe(false);

    expect(await p.cleanup(req.attemptId)).toEqual({ attemptId: req.attemptId, removed: [], remaining: 0 });
    expect(await platform().cleanup('nj-never-submitted')).toEqual({ attemptId: 'nj-never-submitted', removed: [], remaining: 0 });
  });

  test('an attempt whose exit nobody saw (worker restarted) is classified from its result and log', async () => {
    for (const [mode, kind] of [
      ['succeed', 'SUCCEEDED'],
      ['oom', 'OUT_OF_MEMORY'],
      ['fail', 'PERMANENT'], // the job's NIGHTJAR_ERROR line
      ['exit', 'TRANSIENT'], // nothing to go by: "driver process lost"
    ] as const) {
      const req = request();
      const before = platform({ FAKE_SPARK_MODE: mode });
      const handle = await before.submit(req);
      await before.await(handle, { signal: neverAborted(), onProgress: () => undefined });
      // What the restarted worker finds: no exit record, no process.
      await fs.rm(path.join(layout.sparkWorkDir(req.attemptId), 'exit.json'));
      const outcome = await platform().await(handle, { signal: neverAborted(), onProgress: () => undefined });
      expect(outcome.kind).toBe(kind);
      if (kind === 'TRANSIENT') expect(outcome.reason).toContain('driver process lost');
    }
  });

  test("a recorded pid that now belongs to someone else's process is neither awaited nor killed", async () => {
    const stranger = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const req = request();
      const workDir = layout.sparkWorkDir(req.attemptId);
      await fs.mkdir(workDir, { recursive: true });
      await fs.mkdir(path.dirname(layout.logFile(DATE, req.attemptId)), { recursive: true });
      await fs.writeFile(layout.logFile(DATE, req.attemptId), 'NIGHTJAR_PROGRESS {"phase": "read"}\n');
      await fs.writeFile(
        path.join(workDir, 'submission.json'),
        JSON.stringify({
          attemptId: req.attemptId,
          pid: stranger.pid,
          job: 'normalize',
          businessDate: DATE,
          workflowId: req.workflowId,
          attempt: 1,
          submittedAt: new Date().toISOString(),
          logFile: layout.logFile(DATE, req.attemptId),
          resultFile: path.join(layout.jobOutputDir(DATE, 'normalize', req.attemptId), '_result.json'),
        }),
      );
      const p = platform();
      const handle = await p.submit(req);
      expect(handle.handle).toBe(String(stranger.pid));
      const outcome = await p.await(handle, { signal: neverAborted(), onProgress: () => undefined });
      expect(outcome).toMatchObject({ kind: 'TRANSIENT', reason: expect.stringContaining('driver process lost') });
      expect((await p.cleanup(req.attemptId)).remaining).toBe(0);
      expect(isAlive(stranger.pid as number)).toBe(true);
    } finally {
      stranger.kill('SIGKILL');
    }
  });

  test('a spark-submit that cannot start fails the submit with the path', async () => {
    const p = platform({}, { sparkSubmit: path.join(dataDir, 'no-such-spark-submit') });
    await expect(p.submit(request())).rejects.toThrow(/cannot start .*no-such-spark-submit/);
  });
});

describe('LocalSparkPlatform class-data sharing', () => {
  test('the first attempt writes the archive at its clean exit; the next one maps it', async () => {
    const cds = path.join(dataDir, 'cds cache');
    const p = platform({}, { classDataDir: cds, driverJavaOptions: ['-XX:+UseSerialGC'] });

    const first = request();
    const firstOutcome = await p.await(await p.submit(first), { signal: neverAborted(), onProgress: () => undefined });
    expect(firstOutcome.kind).toBe('SUCCEEDED');
    const firstLog = await fs.readFile(layout.logFile(DATE, first.attemptId), 'utf8');
    expect(firstLog).toMatch(/class data -XX:ArchiveClassesAtExit=.+\.jsa\..+\.tmp$/m);
    const written = await fs.readdir(cds);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^driver-[0-9a-f]{16}\.jsa$/);

    const second = request();
    await p.await(await p.submit(second), { signal: neverAborted(), onProgress: () => undefined });
    const secondLog = await fs.readFile(layout.logFile(DATE, second.attemptId), 'utf8');
    expect(secondLog).toContain(`class data -XX:SharedArchiveFile=${path.join(cds, written[0] as string)}`);
  });

  test('an attempt that fails leaves no archive behind, and the next attempt tries again', async () => {
    const cds = path.join(dataDir, 'cds');
    const failing = platform({ FAKE_SPARK_MODE: 'exit' }, { classDataDir: cds });
    await failing.await(await failing.submit(request()), { signal: neverAborted(), onProgress: () => undefined });
    expect(await fs.readdir(cds)).toEqual([]);

    const next = request();
    const p = platform({}, { classDataDir: cds });
    await p.await(await p.submit(next), { signal: neverAborted(), onProgress: () => undefined });
    expect(await fs.readFile(layout.logFile(DATE, next.attemptId), 'utf8')).toMatch(/ArchiveClassesAtExit/);
    expect((await fs.readdir(cds)).filter((f) => f.endsWith('.jsa'))).toHaveLength(1);
  });

  test("short-job JVM options only for an attempt whose known input is small enough for its job, long-job options for any other", async () => {
    const shortJob = { maxInputBytes: { normalize: 1000, transform: 4000 }, javaOptions: ['-XX:TieredStopAtLevel=1'] };
    const longJob = { javaOptions: ['-XX:+UseParallelGC'] };
    const p = platform({}, { shortJob, longJob, driverJavaOptions: ['-Xss4m'] });
    const options = async (inputBytes?: number, job: 'normalize' | 'transform' = 'normalize') => {
      const req = request({ job, ...(inputBytes === undefined ? {} : { inputBytes }) });
      await p.await(await p.submit(req), { signal: neverAborted(), onProgress: () => undefined });
      const log = await fs.readFile(layout.logFile(DATE, req.attemptId), 'utf8');
      return /"spark\.driver\.extraJavaOptions":"([^"]*)"/.exec(log)?.[1]?.split(' -Dderby')[0];
    };
    expect(await options(1000)).toBe('-Xss4m -XX:TieredStopAtLevel=1');
    expect(await options(1001)).toBe('-Xss4m -XX:+UseParallelGC');
    expect(await options(undefined)).toBe('-Xss4m -XX:+UseParallelGC');
    expect(await options(4000, 'transform')).toBe('-Xss4m -XX:TieredStopAtLevel=1');
    expect(await options(4001, 'transform')).toBe('-Xss4m -XX:+UseParallelGC');
  });

  test('other JVM options make another archive (the archive depends on them)', async () => {
    const cds = path.join(dataDir, 'cds');
    for (const options of [['-XX:+UseSerialGC'], ['-XX:+UseParallelGC']]) {
      const p = platform({}, { classDataDir: cds, driverJavaOptions: options });
      await p.await(await p.submit(request()), { signal: neverAborted(), onProgress: () => undefined });
    }
    expect((await fs.readdir(cds)).filter((f) => f.endsWith('.jsa'))).toHaveLength(2);
  });
});

describe('LocalSparkPlatform janitor sweep', () => {
  const HOUR = 3600_000;
  const states: Record<string, 'RUNNING' | 'CLOSED'> = { 'wf-running': 'RUNNING', 'wf-terminated': 'CLOSED' };
  const workflowState = async (id: string) => states[id] ?? 'UNKNOWN';

  test("removes a terminated night's detached driver and work dir, the work dirs of finished or unrecorded attempts; keeps a running night's", async () => {
    const hang = platform({ FAKE_SPARK_MODE: 'hang' });
    const leaked = request({ workflowId: 'wf-terminated' });
    const live = request({ workflowId: 'wf-running' });
    const finished = request({ workflowId: 'wf-forgotten' });
    const leakedHandle = await hang.submit(leaked);
    const liveHandle = await hang.submit(live);
    const done = platform({ FAKE_SPARK_MODE: 'succeed' });
    await done.await(await done.submit(finished), { signal: neverAborted(), onProgress: () => undefined });
    // The worker died after writing the job's files, before starting it: no submission record.
    const unrecorded = `nj-20261120-transform-test${process.pid}-unrecorded`;
    await fs.mkdir(layout.sparkWorkDir(unrecorded), { recursive: true });
    await fs.writeFile(path.join(layout.sparkWorkDir(unrecorded), 'spec.json'), '{}');
    await fs.writeFile(path.join(layout.sparkWorkRoot(), 'not-an-attempt.txt'), 'left alone');
    await untilLogHas(layout.logFile(DATE, leaked.attemptId), /NIGHTJAR_PROGRESS/);
    try {
      const young = await platform().sweep(workflowState, { now: Date.now(), minAgeMs: HOUR });
      expect(young.removed).toEqual([]);
      expect(young.kept.map((o) => o.reason)).toEqual(expect.arrayContaining(['its workflow is running', 'younger than 3600 s']));

      const later = { now: Date.now() + 2 * HOUR, minAgeMs: HOUR };
      const dry = await platform().sweep(workflowState, { ...later, dryRun: true });
      expect(dry.removed.map((o) => o.name).sort()).toEqual([finished.attemptId, leaked.attemptId, unrecorded].sort());
      expect(isAlive(Number(leakedHandle.handle))).toBe(true);
      expect(existsSync(layout.sparkWorkDir(finished.attemptId))).toBe(true);

      const report = await platform().sweep(workflowState, later);
      expect(report).toMatchObject({ examined: 4, failed: [], dryRun: false, namespace: `${layout.sparkWorkRoot()} (local Spark)` });
      const reasons = Object.fromEntries(report.removed.map((o) => [o.name, `${o.kind}: ${o.reason}`]));
      expect(reasons).toEqual({
        [leaked.attemptId]: 'LocalSparkAttempt: its workflow is closed',
        [finished.attemptId]: 'LocalSparkAttempt: its workflow is unknown to Temporal',
        [unrecorded]: 'LocalSparkAttempt: no workflow recorded',
      });
      expect(report.kept).toEqual([{ kind: 'LocalSparkAttempt', name: live.attemptId, workflowId: 'wf-running', attemptId: live.attemptId, reason: 'its workflow is running' }]);
      expect(isAlive(Number(leakedHandle.handle))).toBe(false);
      expect(await findAttemptProcesses(leaked.attemptId)).toEqual([]);
      for (const gone of [leaked.attemptId, finished.attemptId, unrecorded]) expect(existsSync(layout.sparkWorkDir(gone))).toBe(false);
      // The driver logs are the run's, not the attempt's: they stay for the on-call engineer.
      expect(existsSync(layout.logFile(DATE, leaked.attemptId))).toBe(true);
      expect(isAlive(Number(liveHandle.handle))).toBe(true);
      expect(existsSync(path.join(layout.sparkWorkRoot(), 'not-an-attempt.txt'))).toBe(true);

      const again = await platform().sweep(workflowState, later);
      expect(again).toMatchObject({ examined: 1, removed: [], failed: [] });
    } finally {
      await hang.cleanup(live.attemptId);
      await hang.cleanup(leaked.attemptId);
    }
  });

  test('a machine that never ran an attempt has nothing to sweep', async () => {
    expect(await platform().sweep(workflowState, { now: Date.now(), minAgeMs: 0 })).toMatchObject({ examined: 0, removed: [], kept: [], failed: [] });
  });
});

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../src/config/config';
import { findAttemptProcesses } from '../../src/spark/local/local-platform';
import { driverExitFor, driverJavaOptions, jobFileFor, localAttemptId, localSparkDriver } from '../../local-cluster';
import { attemptRequest, awaitOptions, describeOnPlane, TEST_SETTINGS, useCluster, type Cluster } from './harness';

jest.setTimeout(60_000);

const cluster = useCluster();

/** A job that follows the contract (docs/spark-jobs.md) on a tiny DataFrame: spec in, result file out. */
const SUCCEEDING_JOB = `
import json, os, sys
from urllib.parse import unquote, urlparse
from pyspark.sql import SparkSession

spec = json.load(open(sys.argv[sys.argv.index("--spec") + 1]))
print("NIGHTJAR_PROGRESS " + json.dumps({"phase": "start", "job": spec["job"]}), flush=True)
spark = SparkSession.builder.appName(spec["attemptId"]).getOrCreate()
rows = spark.range(100).count()
result = unquote(urlparse(spec["resultUri"]).path)
os.makedirs(os.path.dirname(result), exist_ok=True)
with open(result + ".tmp", "w") as out:
    json.dump({"job": spec["job"], "feeds": [], "rows": rows}, out)
os.replace(result + ".tmp", result)
spark.stop()
`;

/** A job that starts its session and then never ends. */
const ENDLESS_JOB = `
import json, sys, time
from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
print("NIGHTJAR_PROGRESS " + json.dumps({"phase": "waiting"}), flush=True)
time.sleep(600)
`;

/** A job that raises before it does anything, as a bad spec would make it. */
const FAILING_JOB = `
import json
print("NIGHTJAR_ERROR " + json.dumps({"error": "ValueError", "message": "unknown reporting currency 'XXX'", "javaClass": None, "javaCauses": [], "outOfMemory": False}), flush=True)
raise ValueError("unknown reporting currency 'XXX'")
`;

const scratch: string[] = [];
afterAll(async () => {
  for (const dir of scratch) await fs.rm(dir, { recursive: true, force: true });
});

/** A driver runtime whose repository `spark/` directory holds `jobs/normalize.py` = `script`. */
async function driverRunning(script: string) {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'nightjar-local-driver-'));
  scratch.push(root);
  const jobsDir = path.join(root, 'spark');
  await fs.mkdir(path.join(jobsDir, 'jobs'), { recursive: true });
  await fs.writeFile(path.join(jobsDir, 'jobs', 'normalize.py'), script);
  const workDir = path.join(root, 'driver');
  const driver = localSparkDriver({
    sparkSubmit: path.join(REPO_ROOT, '.venv', 'bin', 'spark-submit'),
    pythonPath: path.join(REPO_ROOT, '.venv', 'bin', 'python'),
    jobsDir,
    imageJobsDir: TEST_SETTINGS.imageJobsDir,
    workDir,
    pollIntervalMs: 200,
    killGraceMs: 3_000,
  });
  return { driver, workDir };
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function localIdOf(cluster: Cluster, attemptId: string): Promise<string> {
  const app = await cluster.api.get('sparkapplications', attemptId);
  if (app === undefined) throw new Error(`no SparkApplication ${attemptId}`);
  return localAttemptId({ name: app.metadata.name, uid: app.metadata.uid });
}

test("the image's job file maps to the repository's, and nothing outside the image's jobs directory does", () => {
  expect(jobFileFor('local:///opt/nightjar/spark/jobs/normalize.py', '/opt/nightjar/spark', '/repo/spark')).toBe('/repo/spark/jobs/normalize.py');
  expect(jobFileFor('local:///opt/nightjar/spark/jobs/transform.py', '/opt/nightjar/spark/', '/repo/spark')).toBe('/repo/spark/jobs/transform.py');
  expect(() => jobFileFor('local:///opt/nightjar/spark/../../etc/passwd', '/opt/nightjar/spark', '/repo/spark')).toThrow(/not under the image's jobs directory/);
  expect(() => jobFileFor('s3://bucket/normalize.py', '/opt/nightjar/spark', '/repo/spark')).toThrow(/not a local:\/\/ path/);
});

test('the local attempt id is its own: never a real attempt id, fresh for a re-created application', () => {
  const id = localAttemptId({ name: 'nj-20261123-normalize-01a20b2a-a1', uid: '6f1c2d3e-aaaa-bbbb-cccc-000000000001' });
  expect(id).toBe('nj-20261123-normalize-01a20b2a-a1.driver-6f1c2d3e');
  expect(id).not.toMatch(/^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/);
  expect(localAttemptId({ name: 'nj-20261123-normalize-01a20b2a-a1', uid: '7a000000-0000' })).not.toBe(id);
});

test("the driver's JVM options are the application's spark.driver.extraJavaOptions, split into options", () => {
  expect(driverJavaOptions({ sparkConf: { 'spark.driver.extraJavaOptions': ' -Xss4m  -XX:+UseSerialGC ', 'spark.executor.extraJavaOptions': '-XX:+UseG1GC' } })).toEqual(['-Xss4m', '-XX:+UseSerialGC']);
  expect(driverJavaOptions({ sparkConf: {} })).toEqual([]);
  expect(driverJavaOptions({})).toEqual([]);
  expect(driverJavaOptions(undefined)).toEqual([]);
});

test('outcomes become container exits: success, OOMKilled, error', () => {
  expect(driverExitFor({ kind: 'SUCCEEDED' })).toEqual({ exitCode: 0, reason: 'Completed' });
  expect(driverExitFor({ kind: 'OUT_OF_MEMORY' })).toEqual({ exitCode: 137, reason: 'OOMKilled' });
  expect(driverExitFor({ kind: 'PERMANENT' })).toEqual({ exitCode: 1, reason: 'Error' });
  expect(driverExitFor({ kind: 'TRANSIENT' })).toEqual({ exitCode: 1, reason: 'Error' });
});

describeOnPlane('local Spark drivers behind the operator stand-in, on the real plane', () => {
  test('a real local Spark job runs as the driver: the result reaches the spec, its log reaches the driver pod, nothing is left', async () => {
    const { driver, workDir } = await driverRunning(SUCCEEDING_JOB);
    const running = await cluster({ scenario: 'success', driver });
    const { platform, dir, operator, namespace, leftovers } = running;
    const request = await attemptRequest(dir);
    const handle = await platform.submit(request);
    const localId = await localIdOf(running, request.attemptId);
    expect(localId).not.toBe(request.attemptId);

    const outcome = await platform.await(handle, awaitOptions());
    expect(outcome.kind).toBe('SUCCEEDED');
    const result = JSON.parse(await fs.readFile(path.join(dir, 'out', request.attemptId, '_result.json'), 'utf8')) as unknown;
    expect(result).toEqual({ job: 'normalize', feeds: [], rows: 100 });

    // kwok's nodes run no container: the stand-in keeps the log the driver pod would have.
    const podLog = operator.driverLog(namespace, `${request.attemptId}-driver`).join('\n');
    expect(podLog).toContain('local[1] with driver memory 1024m');
    expect(podLog).toContain('NIGHTJAR_PROGRESS {"phase": "start", "job": "normalize"}');

    expect((await platform.cleanup(request.attemptId)).remaining).toBe(0);
    expect(await leftovers()).toEqual([]);
    expect(await findAttemptProcesses(localId)).toEqual([]);
    await expect(fs.readdir(path.join(workDir, 'work', 'spark'))).resolves.toEqual([]);
  });

  test('a job that raises is a permanent failure; its own log lines reach the driver log', async () => {
    const { driver } = await driverRunning(FAILING_JOB);
    const { operator, namespace, platform, dir, leftovers } = await cluster({ scenario: 'success', driver });
    const request = await attemptRequest(dir);
    const outcome = await platform.await(await platform.submit(request), awaitOptions());
    expect(outcome.kind).toBe('PERMANENT');
    expect(outcome.diagnostics).toContain('driver container terminated: exit code 1 (Error)');
    // kwok serves no container logs, so the platform reports without the log's tail; the driver's log has the error.
    const log = operator.driverLog(namespace, `${request.attemptId}-driver`).join('\n');
    expect(log).toContain("ValueError: unknown reporting currency 'XXX'");
    expect(log).toContain('LocalSparkDriver: PERMANENT');
    await expect(fs.access(path.join(dir, 'out', request.attemptId, '_result.json'))).rejects.toThrow();
    expect((await platform.cleanup(request.attemptId)).remaining).toBe(0);
    expect(await leftovers()).toEqual([]);
  });

  test('cancelling the attempt kills the local Spark driver and everything it started', async () => {
    const { driver } = await driverRunning(ENDLESS_JOB);
    const running = await cluster({ scenario: 'success', driver });
    const { operator, platform, dir, namespace, leftovers } = running;
    const request = await attemptRequest(dir);
    const handle = await platform.submit(request);
    const localId = await localIdOf(running, request.attemptId);
    const cancel = new AbortController();
    const progress: string[] = [];
    const waiting = platform.await(handle, awaitOptions(progress, cancel.signal));
    // The Python driver runs once the session is up and the progress line reached the pod log.
    await eventually(async () => operator.driverLog(namespace, `${request.attemptId}-driver`).some((line) => line.includes('"phase": "waiting"')), 40_000);
    expect((await findAttemptProcesses(localId)).length).toBeGreaterThan(0);

    cancel.abort();
    expect(await waiting).toMatchObject({ kind: 'TRANSIENT', reason: 'cancelled' });
    await operator.waitForStep(request.attemptId, 'deleted');
    await eventually(async () => (await findAttemptProcesses(localId)).length === 0, 15_000);
    expect((await platform.cleanup(request.attemptId)).remaining).toBe(0);
    expect(await leftovers()).toEqual([]);
  });
});

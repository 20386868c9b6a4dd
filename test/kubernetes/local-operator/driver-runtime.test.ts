import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { scriptedDriver, writeCannedResult } from '../../../local-cluster';
import { driverLog, classify, createAttempt, deleteForeground, expectNothingLeft, observe, useSimulatedClusters } from './harness';

// The real plane: namespaces, pods and garbage collection take their (short) time.
jest.setTimeout(60_000);

const startCluster = useSimulatedClusters();

let workDir: string;
beforeEach(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'nightjar-driver-runtime-'));
});
afterEach(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('writeCannedResult', () => {
  test('writes the empty result of the spec job at a file:// resultUri, creating directories, leaving no temporary file', async () => {
    const normalize = path.join(workDir, 'curated', '2026-11-20', 'a1', '_result.json');
    await expect(writeCannedResult({ job: 'normalize', resultUri: pathToFileURL(normalize).href })).resolves.toBe(normalize);
    expect(await readFile(normalize, 'utf8')).toBe('{"job":"normalize","feeds":[]}');
    expect(await readdir(path.dirname(normalize))).toEqual(['_result.json']);

    const transform = path.join(workDir, 'reports', '_result.json');
    await writeCannedResult({ job: 'transform', resultUri: pathToFileURL(transform).href, catalog: [] });
    expect(JSON.parse(await readFile(transform, 'utf8'))).toEqual({ job: 'transform', reports: [] });
  });

  test('writes nothing for specs it cannot serve', async () => {
    await expect(writeCannedResult(undefined)).resolves.toBeUndefined();
    await expect(writeCannedResult({ job: 'normalize' })).resolves.toBeUndefined();
    await expect(writeCannedResult({ job: 'normalize', resultUri: 's3://bucket/_result.json' })).resolves.toBeUndefined();
    await expect(writeCannedResult({ job: 'aggregate', resultUri: pathToFileURL(path.join(workDir, 'x.json')).href })).resolves.toBeUndefined();
    expect(await readdir(workDir)).toEqual([]);
  });
});

test('the runtime reads the spec ConfigMap, logs to the driver pod, and its onSuccess replaces the canned result', async () => {
  const specs: unknown[] = [];
  const cluster = await startCluster({
    driver: scriptedDriver({
      runMs: 1,
      onSuccess: (spec, ctx) => {
        specs.push(spec);
        ctx.log('custom success');
      },
    }),
  });
  const resultFile = path.join(workDir, '_result.json');
  const spec = { job: 'normalize', resultUri: pathToFileURL(resultFile).href, inputs: { accounts: 'file:///raw/accounts.csv' } };
  const attempt = await createAttempt(cluster, { job: 'normalize', spec });
  await cluster.simulator.waitForStep(attempt.name, 'completed');
  expect(specs).toEqual([spec]);
  await expect(readdir(workDir)).resolves.toEqual([]);
  const log = driverLog(cluster, `${attempt.name}-driver`);
  expect(log.split('\n')).toEqual(expect.arrayContaining(['NIGHTJAR_PROGRESS {"phase":"started","job":"normalize"}', 'custom success']));
  await deleteForeground(cluster, attempt.name);
  await expectNothingLeft(cluster, attempt, undefined);
});

test('readSpec is undefined without a spec ConfigMap', async () => {
  const seen: unknown[] = [];
  const cluster = await startCluster({
    driver: {
      async run(ctx) {
        seen.push(await ctx.readSpec());
        return { exitCode: 0, reason: 'Completed' };
      },
    },
  });
  const attempt = await createAttempt(cluster, { job: 'normalize' });
  await cluster.simulator.waitForStep(attempt.name, 'completed');
  expect(seen).toEqual([undefined]);
});

test('a spec ConfigMap that is not JSON crashes the default runtime: exit 1 with a SyntaxError in the driver log', async () => {
  const cluster = await startCluster({});
  const attempt = await createAttempt(cluster, { spec: '{not json' });
  await cluster.simulator.waitForStep(attempt.name, 'failed');
  const seen = await observe(cluster, attempt.name);
  expect(seen.app.status.applicationState.errorMessage).toBe('driver container failed with ExitCode: 1, Reason: Error');
  const tail = driverLog(cluster, `${attempt.name}-driver`, 1);
  expect(tail).toMatch(/^SyntaxError: /);
  await deleteForeground(cluster, attempt.name);
  await expectNothingLeft(cluster, attempt, seen.app.status.sparkApplicationId);
});

test('a runtime that throws is a crashed job: FAILED with exit 1 and the error at the end of the driver log', async () => {
  const cluster = await startCluster({
    driver: {
      run: () => Promise.reject(new TypeError('cannot read properties of undefined')),
    },
  });
  const attempt = await createAttempt(cluster);
  await cluster.simulator.waitForStep(attempt.name, 'failed');
  const seen = await observe(cluster, attempt.name);
  expect(seen.app.status.applicationState.errorMessage).toBe('driver container failed with ExitCode: 1, Reason: Error');
  expect(classify(attempt.name, seen, attempt)).toMatchObject({ kind: 'PERMANENT' });
  const tail = driverLog(cluster, `${attempt.name}-driver`, 1);
  expect(tail).toBe('TypeError: cannot read properties of undefined\n');
});

test('a runtime can end the driver itself, e.g. OOMKilled', async () => {
  const cluster = await startCluster({ driver: { run: () => Promise.resolve({ exitCode: 137, reason: 'OOMKilled' }) } });
  const attempt = await createAttempt(cluster);
  await cluster.simulator.waitForStep(attempt.name, 'driver-oom');
  await cluster.simulator.waitForStep(attempt.name, 'failed');
  expect(classify(attempt.name, await observe(cluster, attempt.name), attempt)).toMatchObject({ kind: 'OUT_OF_MEMORY', oomSide: 'driver' });
});

/**
 * The whole night on the local control plane with real Spark, in both ways Nightjar runs on
 * Kubernetes: SparkApplications for the operator (its stand-in submitting with spark-submit as the
 * operator does) and spark-submit's own cluster mode. The same data as a night on local Spark; the
 * reports must be identical (digests of every report table) and the namespace empty afterwards.
 * A local runtime with this file's own label runs the pods (driver and executors as separate JVMs).
 * Needs the plane (NIGHTJAR_TEST_KUBECONFIG), PostgreSQL (NIGHTJAR_TEST_PG_URL) and the .venv.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Pool } from 'pg';
import type { TimelineEntry } from '../../local-cluster/timeline';
import { DataLayout } from '../../src/common/layout';
import { loadConfig } from '../../src/config/config';
import type { RunManifest } from '../../src/domain/pipeline';
import { dailyWorkflowId } from '../../src/domain/ids';
import { createLogger } from '../../src/worker/logger';
import { createNightjarWorker } from '../../src/worker/worker';
import { dailyPipeline } from '../../src/workflows';
import { generateFeeds } from '../../demo/feeds/generate-feeds';
import { createDatabase, dropDatabase, reportDigests } from '../helpers/postgres';
import { createDevServerEnv, REPO_ROOT, uniqueId, workflowBundle } from '../helpers/temporal';
import { WorkerProcess } from '../helpers/worker-process';
import { HelperProcess, kubectl } from '../support/plane-processes';

jest.setTimeout(40 * 60_000);

const DATE = '2026-11-21';
const FEEDS = { businessDate: DATE, seed: 23, transactions: 3000, defectRate: 0.01 };
const RUNTIME_LABEL = 'nightjar.io/runtime';
const RUNTIME_VALUE = `night-test-${process.pid}`;
const LOG_PORT = process.env.NIGHTJAR_TEST_LOG_PORT ?? '10253';
// The plane's admin kubeconfig (scripts/test.sh exports it). The Kubernetes client cannot load in
// this project (jest runs it with VM modules), so the worker, the runtime and the operator
// stand-in run as processes of their own, and the test asks the API server through kubectl.
const KUBECONFIG = process.env.NIGHTJAR_TEST_KUBECONFIG ?? '';
const onPlane = KUBECONFIG === '' ? describe.skip : describe;
const SKIPPED = KUBECONFIG === '' ? ' — skipped: NIGHTJAR_TEST_KUBECONFIG is not set (run `npm run k8s:up` and export the kubeconfig path it prints)' : '';

type Mode = 'local' | 'operator' | 'spark-submit';

interface Night {
  readonly manifest: RunManifest;
  readonly digests: Record<string, string>;
  readonly status: string;
}

/** The driver's Role (what Spark's scheduler backend does with executors), as the chart grants it. */
function createNamespace(prefix: string): string {
  const name = `${prefix}-${process.pid}-${Date.now().toString(36)}`;
  kubectl(KUBECONFIG, ['create', 'namespace', name]);
  kubectl(KUBECONFIG, ['label', 'namespace', name, 'nightjar.io/test=true']);
  kubectl(KUBECONFIG, ['-n', name, 'create', 'serviceaccount', 'nightjar-spark']);
  kubectl(KUBECONFIG, ['-n', name, 'create', 'role', 'spark-driver', '--verb=create,delete,deletecollection,get,list,patch,watch', '--resource=pods,configmaps,persistentvolumeclaims,services']);
  kubectl(KUBECONFIG, ['-n', name, 'create', 'rolebinding', 'spark-driver', '--role=spark-driver', `--serviceaccount=${name}:nightjar-spark`]);
  return name;
}

/** Every object left in the namespace, events aside; garbage collection gets a minute to finish. */
async function leftovers(namespace: string): Promise<string[]> {
  const until = Date.now() + 60_000;
  for (;;) {
    const left = kubectl(KUBECONFIG, ['-n', namespace, 'get', 'sparkapplications,pods,services,configmaps,persistentvolumeclaims', '-o', 'name'])
      .split('\n')
      .filter((l) => l !== '' && l !== 'configmap/kube-root-ca.crt');
    if (left.length === 0 || Date.now() > until) return left;
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

onPlane(`a night on the local plane with real Spark${SKIPPED}`, () => {
  let env: TestWorkflowEnvironment;
  let root: string;
  let runtime: HelperProcess;
  let operator: HelperProcess;
  const namespaces: Partial<Record<Mode, string>> = {};
  const databases: string[] = [];
  let baseline: Night;

  beforeAll(async () => {
    env = await createDevServerEnv();
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'nightjar-k8s-night-'));
    namespaces.operator = createNamespace('night-operator');
    namespaces['spark-submit'] = createNamespace('night-spark-submit');
    const served = Object.values(namespaces).flatMap((ns) => ['--namespace', ns]);
    runtime = await HelperProcess.start('local runtime', 'runtime/main.js', [
      ...['--kubeconfig', KUBECONFIG, '--checkout', REPO_ROOT, '--state-dir', path.join(root, 'runtime')],
      ...['--label', RUNTIME_VALUE, '--log-port', LOG_PORT],
      ...served,
    ]);
    await fs.mkdir(path.join(root, 'submissions'));
    operator = await HelperProcess.start('operator stand-in', 'operator-main.js', [
      ...['--kubeconfig', KUBECONFIG, '--namespace', namespaces.operator, '--work-dir', path.join(root, 'submissions')],
      ...['--spark-submit', path.join(REPO_ROOT, '.venv', 'bin', 'spark-submit'), '--pod-label', `${RUNTIME_LABEL}=${RUNTIME_VALUE}`],
    ]);
    baseline = await runNight('local');
  });

  afterAll(async () => {
    const stopped = await Promise.allSettled([operator?.stop(), runtime?.stop()]);
    for (const namespace of Object.values(namespaces)) kubectl(KUBECONFIG, ['delete', 'namespace', namespace, '--wait=false']);
    for (const database of databases) await dropDatabase(database);
    await env?.teardown();
    if (root !== undefined) await fs.rm(root, { recursive: true, force: true });
    // The stand-in exits non-zero when one of its runs failed for another reason than a deletion.
    for (const result of stopped) if (result.status === 'rejected') throw result.reason;
  });

  function envFor(mode: Mode, dataDir: string, pgUrl: string, taskQueue: string): Record<string, string> {
    const kubernetes: Record<string, string> =
      mode === 'local'
        ? {}
        : {
            NIGHTJAR_SPARK_PLATFORM: 'kubernetes',
            NIGHTJAR_K8S_SUBMIT: mode,
            NIGHTJAR_K8S_NAMESPACE: namespaces[mode] as string,
            NIGHTJAR_K8S_CONFIG: KUBECONFIG,
            NIGHTJAR_K8S_IMAGE: 'nightjar-spark:local',
            NIGHTJAR_K8S_SPARK_VERSION: '4.3.0',
            NIGHTJAR_K8S_POLL_SECONDS: '2',
            NIGHTJAR_K8S_STUCK_AFTER_SECONDS: '300',
            // spark-submit mode labels the pods itself; in operator mode the operator (the stand-in) does.
            ...(mode === 'spark-submit' ? { NIGHTJAR_K8S_POD_LABELS: `${RUNTIME_LABEL}=${RUNTIME_VALUE}` } : {}),
          };
    return {
      NIGHTJAR_DATA_DIR: dataDir,
      NIGHTJAR_TEMPORAL_ADDRESS: env.address,
      NIGHTJAR_TASK_QUEUE: taskQueue,
      NIGHTJAR_REPORTING_STORE: 'postgres',
      NIGHTJAR_REPORTING_PG_URL: pgUrl,
      NIGHTJAR_SPARK_CORES: '1',
      NIGHTJAR_SPARK_DRIVER_MEMORY_MB: '1024',
      NIGHTJAR_SPARK_SHUFFLE_PARTITIONS: '4',
      // The same resources in every mode: the step metrics report them (final_resources).
      NIGHTJAR_SPARK_EXECUTOR_MEMORY_MB: '768',
      NIGHTJAR_SPARK_EXECUTOR_INSTANCES: '2',
      NIGHTJAR_METRICS_ADDRESS: 'off',
      // The worker process says `worker running` at info.
      NIGHTJAR_LOG_LEVEL: mode === 'local' ? 'warn' : 'info',
      ...kubernetes,
    };
  }

  /** The night of DATE on the same generated data, into a database of its own; a Kubernetes night's worker runs as a process. */
  async function runNight(mode: Mode): Promise<Night> {
    const dataDir = path.join(root, mode);
    const database = `nightjar_k8s_night_${mode.replace('-', '_')}_${process.pid}`;
    databases.push(database);
    const pgUrl = await createDatabase(database);
    const vars = envFor(mode, dataDir, pgUrl, uniqueId(`night-${mode}`));
    const config = loadConfig(vars, REPO_ROOT);
    const layout = new DataLayout(config.dataDir);
    await generateFeeds({ ...FEEDS, landingDir: layout.landingDir(DATE) });
    // The same workflow id in every mode (the step metrics report it); each night runs after the last ended.
    const start = () =>
      env.client.workflow.execute(dailyPipeline, { taskQueue: config.temporal.taskQueue, workflowId: dailyWorkflowId(DATE), args: [{ businessDate: DATE }] });
    let status: string;
    if (mode === 'local') {
      const nightjar = await createNightjarWorker(config, createLogger({ level: 'warn', redact: true }), { connection: env.nativeConnection, workflowBundle: await workflowBundle(), installRuntime: false });
      try {
        status = (await nightjar.worker.runUntil(start())).status;
      } finally {
        await nightjar.services.close();
      }
    } else {
      const worker = await WorkerProcess.start({ env: vars, name: `${mode} worker`, logFile: path.join(root, `${mode}-worker.log`) });
      try {
        status = (await start()).status;
      } finally {
        await worker.stop(15_000);
      }
    }
    const manifest = JSON.parse(await fs.readFile(layout.manifestFile(DATE), 'utf8')) as RunManifest;
    const pool = new Pool({ connectionString: pgUrl, max: 1 });
    try {
      return { manifest, status, digests: await reportDigests(pool, DATE) };
    } finally {
      await pool.end();
    }
  }

  function sparkSteps(manifest: RunManifest) {
    return manifest.steps.filter((s) => s.attempts.some((a) => a.attemptId !== undefined && a.resources !== null));
  }

  function timeline(): TimelineEntry[] {
    return operator.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as TimelineEntry);
  }

  test('the local-Spark baseline completes with reports in every table', () => {
    expect(baseline.status).toBe('COMPLETED');
    expect(baseline.manifest.status).toBe('COMPLETED');
    expect(Object.values(baseline.digests).every((d) => !d.startsWith('0:'))).toBe(true);
  });

  test.each(['operator', 'spark-submit'] as const)('NIGHTJAR_K8S_SUBMIT=%s: the night completes on real driver and executor pods with the baseline report digests, and leaves nothing', async (mode) => {
    const seenBefore = timeline().length;
    const night = await runNight(mode);
    expect(night.status).toBe('COMPLETED');
    expect(night.manifest.status).toBe('COMPLETED');
    expect(night.digests).toEqual(baseline.digests);

    const steps = sparkSteps(night.manifest);
    expect(steps.length).toBeGreaterThan(0);
    for (const step of steps) {
      const last = step.attempts[step.attempts.length - 1]!;
      expect(last.outcome).toBe('SUCCEEDED');
      expect(last.leftovers ?? 0).toBe(0);
    }
    if (mode === 'operator') {
      // Every application was submitted for real (nothing played), each with a driver and two executors running.
      const entries = timeline().slice(seenBefore);
      expect(entries.filter((e) => e.what === 'submitted').map((e) => e.detail)).toEqual(steps.map(() => 'spark-submit'));
      expect(entries.filter((e) => e.what === 'executor-running').length).toBeGreaterThanOrEqual(2 * steps.length);
      expect(entries.filter((e) => e.what === 'completed').length).toBe(steps.length);
    }
    expect(await leftovers(namespaces[mode] as string)).toEqual([]);
  });
});

import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { runJanitor, temporalTargetOf } from '../../src/cli/operations';
import { DataLayout } from '../../src/common/layout';
import { loadConfig, type NightjarConfig } from '../../src/config/config';
import { dailyWorkflowId } from '../../src/domain/ids';
import { findAttemptProcesses } from '../../src/spark/local/local-platform';
import { createLogger } from '../../src/worker/logger';
import { createNightjarWorker } from '../../src/worker/worker';
import { dailyPipeline } from '../../src/workflows';
import { generateFeeds } from '../../demo/feeds/generate-feeds';
import { createDevServerEnv, REPO_ROOT, uniqueId, workflowBundle } from '../helpers/temporal';

jest.setTimeout(5 * 60_000);

let env: TestWorkflowEnvironment;
let dataDir: string;
beforeAll(async () => {
  env = await createDevServerEnv();
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nightjar-janitor-'));
});
afterAll(async () => {
  await env?.teardown();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

function config(): NightjarConfig {
  return loadConfig(
    {
      NIGHTJAR_DATA_DIR: dataDir,
      NIGHTJAR_TASK_QUEUE: uniqueId('janitor'),
      NIGHTJAR_REPORTING_STORE: 'pglite',
      NIGHTJAR_SPARK_CORES: '2',
      NIGHTJAR_SPARK_DRIVER_MEMORY_MB: '1024',
      NIGHTJAR_SPARK_SHUFFLE_PARTITIONS: '4',
      // The worker's activities get a second after SIGTERM: the Spark wait detaches, the driver runs on.
      NIGHTJAR_SHUTDOWN_GRACE_SECONDS: '1',
      NIGHTJAR_LOG_LEVEL: 'warn',
    },
    REPO_ROOT,
  );
}

async function startWorker(c: NightjarConfig) {
  const nightjar = await createNightjarWorker(c, createLogger({ level: 'warn', redact: true }), {
    connection: env.nativeConnection,
    workflowBundle: await workflowBundle(),
    installRuntime: false,
    // The janitor asks this server about the workflows (the configured address is not the test's).
    overrides: { client: env.client },
  });
  const running = nightjar.worker.run();
  return {
    async stop() {
      nightjar.worker.shutdown();
      await running;
      await nightjar.services.close();
    },
  };
}

/** The attempt whose driver runs now: its work dir recorded the submission and its processes live. */
async function runningAttempt(layout: DataLayout): Promise<string> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const dirs = await fs.readdir(layout.sparkWorkRoot()).catch(() => [] as string[]);
    for (const attemptId of dirs) {
      if (existsSync(path.join(layout.sparkWorkDir(attemptId), 'submission.json')) && (await findAttemptProcesses(attemptId)).length > 0) return attemptId;
    }
    if (Date.now() > deadline) throw new Error(`no Spark driver started under ${layout.sparkWorkRoot()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test("the janitor stops a terminated night's local driver, which no worker watched any more, and removes its work dir", async () => {
  const c = config();
  const layout = new DataLayout(c.dataDir);
  const date = '2026-11-18';
  await generateFeeds({ landingDir: layout.landingDir(date), businessDate: date, seed: 5, transactions: 300, defectRate: 0 });
  const first = await startWorker(c);
  const handle = await env.client.workflow.start(dailyPipeline, {
    taskQueue: c.temporal.taskQueue,
    workflowId: dailyWorkflowId(date),
    args: [{ businessDate: date }],
  });
  let attemptId: string;
  try {
    attemptId = await runningAttempt(layout);
  } finally {
    // The worker goes away while the driver runs (a deploy, a crash): the detached driver stays.
    await first.stop();
  }
  await handle.terminate('terminated by hand while its worker was away');
  const [driver] = await findAttemptProcesses(attemptId);
  expect(driver).toBeDefined(); // the leak: nothing will ever await or clean up this attempt

  const second = await startWorker(c);
  try {
    const target = temporalTargetOf(c);
    const dry = await runJanitor(env.client, target, { minAgeSeconds: 0, dryRun: true });
    expect(dry.removed.map((o) => `${o.kind}/${o.name}: ${o.reason}`)).toEqual([`LocalSparkAttempt/${attemptId}: its workflow is closed`]);
    expect((await findAttemptProcesses(attemptId)).length).toBeGreaterThan(0);

    const report = await runJanitor(env.client, target, { minAgeSeconds: 0 });
    expect(report.removed.map((o) => o.name)).toEqual([attemptId]);
    expect(report.failed).toEqual([]);
    expect(report.namespace).toBe(`${layout.sparkWorkRoot()} (local Spark)`);
    expect(await findAttemptProcesses(attemptId)).toEqual([]);
    expect(existsSync(layout.sparkWorkDir(attemptId))).toBe(false);
    // The driver's log is the night's record: it stays.
    expect(existsSync(layout.logFile(date, attemptId))).toBe(true);
  } finally {
    await second.stop();
  }
});

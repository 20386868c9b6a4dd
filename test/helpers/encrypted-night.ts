/**
 * An encrypted night's world for the integration tests: a dev server, a data directory holding
 * key k1, the configuration that encrypts with it, a client, and a worker of the night's
 * workflows bundled from source (so the workflow code gets the encoding failure converter).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createKey } from '../../src/codec/keys';
import { loadConfig, type NightjarConfig } from '../../src/config/config';
import { connectClient, dataConverter, type TemporalClientSession } from '../../src/infra/temporal-connection';
import { createDevServerEnv, REPO_ROOT } from './temporal';

export interface EncryptedWorld {
  readonly env: TestWorkflowEnvironment;
  readonly dir: string;
  readonly config: NightjarConfig;
  readonly session: TemporalClientSession;
  /** Starts the worker on the world's task queue with these activities (once). */
  startWorker(activities: object): Promise<void>;
  /** Stops the worker, the client and the dev server, and removes the data directory. */
  close(): Promise<void>;
}

export async function startEncryptedWorld(prefix: string, taskQueue: string, extraEnv: Readonly<Record<string, string>> = {}): Promise<EncryptedWorld> {
  const env = await createDevServerEnv();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `nightjar-${prefix}-`));
  createKey(path.join(dir, 'keys'), 'k1');
  const config = loadConfig(
    {
      NIGHTJAR_DATA_DIR: dir,
      NIGHTJAR_TEMPORAL_ADDRESS: env.address,
      NIGHTJAR_TEMPORAL_NAMESPACE: env.namespace ?? 'default',
      NIGHTJAR_TASK_QUEUE: taskQueue,
      NIGHTJAR_ENCRYPTION_KEYS_DIR: path.join(dir, 'keys'),
      NIGHTJAR_ENCRYPTION_KEY_ID: 'k1',
      ...extraEnv,
    },
    REPO_ROOT,
  );
  const session = await connectClient(config);
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  return {
    env,
    dir,
    config,
    session,
    async startWorker(activities) {
      worker = await Worker.create({
        connection: env.nativeConnection,
        namespace: config.temporal.namespace,
        taskQueue,
        activities,
        workflowsPath: require.resolve('../../src/workflows'),
        dataConverter: dataConverter(config),
      });
      running = worker.run();
    },
    async close() {
      worker?.shutdown();
      await running;
      await session.close();
      await env.teardown();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

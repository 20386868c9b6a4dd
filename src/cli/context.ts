/**
 * What every command gets from the process: where it writes, the environment its configuration
 * comes from, and how it reaches Temporal. Tests replace each of them.
 */
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import { activeKeyIdIn } from '../codec/keys';
import { DataLayout } from '../common/layout';
import { loadConfig, type NightjarConfig } from '../config/config';
import type { DevServerOptions } from '../infra/temporal-dev-server';
import { venvTool } from '../infra/tools';
import { connectionOptions, dataConverter } from '../infra/temporal-connection';
import { TemporalUnreachable } from './exit-codes';

export interface CliOutput {
  /** Data and reports (what `--json` turns into JSON). */
  readonly stdout: (text: string) => void;
  /** Errors and help shown for an error. */
  readonly stderr: (text: string) => void;
}

export const processOutput: CliOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** A Temporal client and how to let go of it. */
export interface TemporalSession {
  readonly client: Client;
  close(): Promise<void>;
}

export type ConnectTemporal = (config: NightjarConfig) => Promise<TemporalSession>;

export const connectTemporal: ConnectTemporal = async (config) => {
  // Keys and certificates first: a wrong file is a configuration error (exit 2), not an outage.
  const converter = dataConverter(config);
  const options = connectionOptions(config);
  let connection: Connection;
  try {
    connection = await Connection.connect(options);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new TemporalUnreachable(`cannot reach Temporal at ${config.temporal.address} (NIGHTJAR_TEMPORAL_ADDRESS): ${why}`, { cause: error });
  }
  return { client: new Client({ connection, namespace: config.temporal.namespace, dataConverter: converter }), close: () => connection.close() };
};

export interface CliDeps {
  readonly output: CliOutput;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly connect: ConnectTemporal;
}

/** The real process: its streams, its environment, the configured Temporal server. */
export function processDeps(): CliDeps {
  return { output: processOutput, env: process.env, connect: connectTemporal };
}

/** Where a data directory keeps its own encryption keys (the demo creates one there). */
export function dataDirKeysDir(dataDir: string): string {
  return path.join(dataDir, 'keys');
}

/**
 * The configuration's encryption, or else the data directory's own keys (`<data-dir>/keys`, the
 * newest id encrypting): every command reads a night's histories with the keys that wrote them,
 * whether the demo or a configured worker ran it.
 */
export function withDataDirKeys(config: NightjarConfig): NightjarConfig {
  if (config.encryption !== undefined) return config;
  const keysDir = dataDirKeysDir(config.dataDir);
  const activeKeyId = activeKeyIdIn(keysDir);
  return activeKeyId === undefined ? config : { ...config, encryption: { keysDir, activeKeyId } };
}

/** The configuration from the environment, with `--data-dir` (and any other flag given as a variable) over it. */
export function configFrom(env: CliDeps['env'], dataDir: string | undefined, overrides: Readonly<Record<string, string | undefined>> = {}): NightjarConfig {
  return withDataDirKeys(loadConfig({ ...env, ...(dataDir ? { NIGHTJAR_DATA_DIR: path.resolve(dataDir) } : {}), ...overrides }));
}

/** Runs `body` with a client, closing the connection whatever happens. */
export async function withTemporal<T>(deps: CliDeps, config: NightjarConfig, body: (client: Client) => Promise<T>): Promise<T> {
  const session = await deps.connect(config);
  try {
    return await body(session.client);
  } finally {
    await session.close();
  }
}

/** The local dev server as the configuration places it: address, UI port, database and log under the data directory. */
export function devServerOptions(config: NightjarConfig, logger: Logger): DevServerOptions {
  const [host, port] = config.temporal.address.split(':');
  return {
    temporalBin: venvTool(config.repoRoot, 'temporal'),
    dbFile: new DataLayout(config.dataDir).temporalDbFile(),
    host: host ?? '127.0.0.1',
    port: Number(port ?? 7233),
    uiPort: Number(new URL(config.temporal.uiUrl).port || 8233),
    logFile: path.join(config.dataDir, 'temporal', 'dev-server.log'),
    logger,
  };
}

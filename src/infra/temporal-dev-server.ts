import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { SEARCH_ATTRIBUTE_FLAGS } from '../workflows/search-attributes';
import { isListening } from '../common/net';

export interface DevServerOptions {
  readonly temporalBin: string;
  /** File-backed database: the nights survive a server restart. */
  readonly dbFile: string;
  readonly host: string;
  readonly port: number;
  readonly uiPort: number;
  readonly logFile: string;
  readonly logger: Logger;
  readonly startTimeoutMs?: number;
  /**
   * The codec server the Web UI sends payloads to for display (`--ui-codec-endpoint`). Only a
   * server started here gets it: a running server keeps the endpoint it was started with.
   */
  readonly uiCodecEndpoint?: string;
}

export interface DevServer {
  readonly address: string;
  readonly uiUrl: string;
  /** False when a server was already listening and has been reused. */
  readonly startedHere: boolean;
  readonly pid?: number;
}

/**
 * The codec endpoint a running Web UI was started with ('' for none), read from the UI's settings
 * API; undefined when the UI does not answer (then nobody can tell).
 */
export async function uiCodecEndpointOf(uiUrl: string, timeoutMs = 1_000): Promise<string | undefined> {
  try {
    const res = await fetch(`${uiUrl}/api/v1/settings`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    const settings = (await res.json()) as { Codec?: { Endpoint?: unknown } };
    const endpoint = settings.Codec?.Endpoint;
    return typeof endpoint === 'string' ? endpoint : '';
  } catch {
    return undefined;
  }
}

function pidFile(opts: DevServerOptions): string {
  return path.join(path.dirname(opts.dbFile), 'dev-server.pid');
}

/**
 * Starts the Temporal CLI dev server (with its Web UI) unless one already listens on the
 * port. The server is detached: it outlives the demo so the night can be inspected in the UI;
 * `stopDevServer` ends it.
 */
export async function ensureDevServer(opts: DevServerOptions): Promise<DevServer> {
  const address = `${opts.host}:${opts.port}`;
  const uiUrl = `http://localhost:${opts.uiPort}`;
  if (await isListening(opts.host, opts.port)) {
    opts.logger.info({ address, ...(opts.uiCodecEndpoint !== undefined ? { uiCodecEndpointIgnored: opts.uiCodecEndpoint } : {}) }, 'reusing the running Temporal dev server');
    return { address, uiUrl, startedHere: false };
  }
  if (!fs.existsSync(opts.temporalBin)) {
    throw new Error(`Temporal CLI not found at ${opts.temporalBin}: run 'npm run bootstrap' first`);
  }
  fs.mkdirSync(path.dirname(opts.dbFile), { recursive: true });
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const out = fs.openSync(opts.logFile, 'a');
  const child = spawn(
    opts.temporalBin,
    [
      'server', 'start-dev',
      '--db-filename', opts.dbFile,
      '--ip', opts.host,
      '--port', String(opts.port),
      '--ui-port', String(opts.uiPort),
      '--ui-disable-news-fetch',
      ...(opts.uiCodecEndpoint !== undefined ? ['--ui-codec-endpoint', opts.uiCodecEndpoint] : []),
      '--log-level', 'warn',
      ...SEARCH_ATTRIBUTE_FLAGS.flatMap((flag) => ['--search-attribute', flag]),
    ],
    { detached: true, stdio: ['ignore', out, out] },
  );
  fs.closeSync(out);
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${opts.temporalBin}`);
  fs.writeFileSync(pidFile(opts), String(child.pid));
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Temporal dev server exited with code ${child.exitCode}; see ${opts.logFile}`);
    if (await isListening(opts.host, opts.port)) {
      opts.logger.info({ address, uiUrl, pid: child.pid, db: opts.dbFile }, 'Temporal dev server started');
      return { address, uiUrl, startedHere: true, pid: child.pid };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Temporal dev server did not listen on ${address} within ${opts.startTimeoutMs ?? 60_000} ms; see ${opts.logFile}`);
}

function killByPidFile(file: string): boolean {
  if (!fs.existsSync(file)) return false;
  const pid = Number(fs.readFileSync(file, 'utf8'));
  fs.rmSync(file, { force: true });
  try {
    process.kill(pid, 'SIGTERM');
    return true;
  } catch {
    return false;
  }
}

/** Stops a dev server started by `ensureDevServer` (found by its pid file), and the UI's codec server beside it. */
export function stopDevServer(opts: Pick<DevServerOptions, 'dbFile'>): boolean {
  killByPidFile(codecPidFile(opts.dbFile));
  return killByPidFile(pidFile(opts as DevServerOptions));
}

export interface UiCodecServerOptions {
  /** The `nightjar` entry point (bin/nightjar.js) that runs `codec-server`. */
  readonly nightjarBin: string;
  /** The dev server's database file: the codec server's pid file lives beside it. */
  readonly dbFile: string;
  readonly host: string;
  readonly port: number;
  /** What the codec server reads its keys and CORS origins from (NIGHTJAR_* variables). */
  readonly env: Readonly<Record<string, string>>;
  readonly logFile: string;
  readonly logger: Logger;
  readonly startTimeoutMs?: number;
  /** The key the night's payloads are encrypted with: a running codec server is reused only if it holds it. */
  readonly requiredKeyId?: string;
  /** Where that key lives (for the refusal's words). */
  readonly keysDir?: string;
}

/**
 * The codec server's port is taken by something that cannot serve this data directory: not a codec
 * server, or one that lacks its key (reusing it would show the UI ciphertext and "Encoded
 * failure"). The message says which keys it holds (ids only), which one is needed and what to do.
 */
export class CodecServerUnusable extends Error {
  override readonly name = 'CodecServerUnusable';
}

/** What a codec server's `GET /healthz` says; undefined when nothing answers like one. */
export interface CodecServerHealth {
  /** Absent when the server does not name its keys (started by an older version). */
  readonly keyIds?: readonly string[];
}

function codecPidFile(dbFile: string): string {
  return path.join(path.dirname(dbFile), 'codec-server.pid');
}

export async function codecServerHealth(url: string): Promise<CodecServerHealth | undefined> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
    if (!res.ok) return undefined;
    const body = (await res.json().catch(() => ({}))) as { keyIds?: unknown };
    const keyIds = Array.isArray(body.keyIds) ? body.keyIds.filter((k): k is string => typeof k === 'string') : undefined;
    return keyIds !== undefined ? { keyIds } : {};
  } catch {
    return undefined;
  }
}

const answersHealth = async (url: string): Promise<boolean> => (await codecServerHealth(url)) !== undefined;

/** Why a running codec server must not be reused for payloads under `keyId`, or undefined when it may. */
export function codecServerReuseRefusal(url: string, health: CodecServerHealth, keyId: string, keysDir?: string): string | undefined {
  if (health.keyIds?.includes(keyId)) return undefined;
  const holds = health.keyIds === undefined ? 'does not say which keys it holds' : `holds key${health.keyIds.length === 1 ? '' : 's'} ${health.keyIds.join(', ') || '(none)'}`;
  return (
    `the codec server already running at ${url} ${holds}, not this data directory's key ${keyId}${keysDir ? ` (${keysDir})` : ''}, so the Web UI could not decrypt this night; ` +
    `stop the other data directory's servers ('nightjar server stop --data-dir <that directory>') or give this one its own ports (NIGHTJAR_CODEC_PORT, NIGHTJAR_TEMPORAL_ADDRESS, NIGHTJAR_TEMPORAL_UI_URL)`
  );
}

/**
 * Starts `nightjar codec-server` for the dev server's Web UI unless one already answers on the
 * port. Detached like the dev server: the UI keeps decoding after the demo has exited.
 */
export async function ensureUiCodecServer(opts: UiCodecServerOptions): Promise<{ readonly url: string; readonly startedHere: boolean; readonly pid?: number }> {
  const url = `http://${opts.host}:${opts.port}`;
  if (await isListening(opts.host, opts.port)) {
    const health = await codecServerHealth(url);
    if (health === undefined) throw new CodecServerUnusable(`port ${opts.port} on ${opts.host} is taken by something that is not a codec server: set NIGHTJAR_CODEC_PORT`);
    const refusal = opts.requiredKeyId === undefined ? undefined : codecServerReuseRefusal(url, health, opts.requiredKeyId, opts.keysDir);
    if (refusal !== undefined) throw new CodecServerUnusable(refusal);
    opts.logger.info({ url, keyIds: health.keyIds }, 'reusing the running codec server');
    return { url, startedHere: false };
  }
  if (!fs.existsSync(opts.nightjarBin)) throw new Error(`${opts.nightjarBin} not found: run 'npm run bootstrap' first`);
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const out = fs.openSync(opts.logFile, 'a');
  const child = spawn(process.execPath, [opts.nightjarBin, 'codec-server', '--host', opts.host, '--port', String(opts.port)], {
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, ...opts.env },
  });
  fs.closeSync(out);
  child.unref();
  if (child.pid === undefined) throw new Error('could not start the codec server');
  fs.mkdirSync(path.dirname(codecPidFile(opts.dbFile)), { recursive: true });
  fs.writeFileSync(codecPidFile(opts.dbFile), String(child.pid));
  const deadline = Date.now() + (opts.startTimeoutMs ?? 15_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the codec server exited with code ${child.exitCode}; see ${opts.logFile}`);
    if (await answersHealth(url)) {
      opts.logger.info({ url, pid: child.pid }, 'codec server started');
      return { url, startedHere: true, pid: child.pid };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the codec server did not answer on ${url} within ${opts.startTimeoutMs ?? 15_000} ms; see ${opts.logFile}`);
}

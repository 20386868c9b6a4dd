import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { SEARCH_ATTRIBUTE_FLAGS } from '../workflows/search-attributes';

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
}

export interface DevServer {
  readonly address: string;
  readonly uiUrl: string;
  /** False when a server was already listening and has been reused. */
  readonly startedHere: boolean;
  readonly pid?: number;
}

/** True when something accepts TCP connections on host:port. */
export function isListening(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
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
    opts.logger.info({ address }, 'reusing the running Temporal dev server');
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

/** Stops a dev server started by `ensureDevServer` (found by its pid file). */
export function stopDevServer(opts: Pick<DevServerOptions, 'dbFile'>): boolean {
  const file = pidFile(opts as DevServerOptions);
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

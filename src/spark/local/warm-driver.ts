import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino, { type Logger } from 'pino';
import type { SparkAttemptRequest } from '../platform';
import { javaOptionValue } from '../class-data';
import { freePort, isListening } from '../../common/net';
import { readFileTail } from '../../common/files';
import { childProcessIds, commandLineHas, environmentHas, liveProcessGroup, otherProcessIds, tryKill } from './processes';

/**
 * A warm local driver: one Spark Connect server (Spark's own, from the pyspark install) that
 * short attempts at the default memory run on as sessions, instead of each starting a JVM and a
 * SparkContext of its own. Its heap is `slots × slotMemoryMb`; at most `slots` attempts run on
 * it at once. An attempt given other memory (after an out-of-memory) or more cores, a long one,
 * or one arriving while every slot is taken runs cold in its own JVM as before, so the memory an
 * attempt records is the memory it had. The server exits on its first OutOfMemoryError (the
 * JVM's `-XX:+ExitOnOutOfMemoryError`), failing the attempts it held, and is started again
 * by the next attempt that needs it.
 */
export interface WarmDriverOptions {
  /** Attempts at once; 0 turns the warm driver off. */
  readonly slots: number;
  /** Each slot's share of the heap: the default driver memory. */
  readonly slotMemoryMb: number;
  /** The server's `local[N]`. */
  readonly cores: number;
  readonly sparkSubmit: string;
  readonly pythonPath: string;
  /** The server's state: its record, log, scratch and warehouse dirs. */
  readonly stateDir: string;
  /** JVM options of the server's driver (before its own). */
  readonly javaOptions?: readonly string[];
  /** More Spark configuration of the server (over its own; the bench's event log). */
  readonly extraConf?: Readonly<Record<string, string>>;
  /** A server nobody has used this long is stopped (this worker's slots empty, no client on this machine). Default 10 min. */
  readonly idleStopMs?: number;
  /** How long a start may take before it is given up. Default 180 s. */
  readonly startTimeoutMs?: number;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly logger?: Logger;
}

/** What `server.json` records: enough for another worker process to find the server again. */
interface ServerRecord {
  readonly pid: number;
  readonly port: number;
  readonly key: string;
  readonly startedAt: string;
  /** Its own log (one per start), so a death is read from the log of the server that died. */
  readonly logFile: string;
}

/** JVM system property on the server's command line; `/proc/<pid>/cmdline` proves the pid is ours. */
export const WARM_DRIVER_PROPERTY = '-Dnightjar.warm-driver';
const SERVER_CLASS = 'org.apache.spark.sql.connect.service.SparkConnectServer';
const RECORD_FILE = 'server.json';
const READY_POLL_MS = 200;
const STOP_WAIT_MS = 10_000;
/** Enough of the server's log to find the OutOfMemoryError it died of. */
const DEATH_TAIL_BYTES = 64 * 1024;
const DEFAULT_IDLE_STOP_MS = 10 * 60_000;
/** The environment variable a warm attempt's client carries: how a server's clients are found. */
export const REMOTE_ENV = 'NIGHTJAR_SPARK_REMOTE';

/**
 * Whether `request` may run on the warm driver: short, with exactly a slot's memory (more — an
 * escalated attempt — or less would make the memory the attempt records not the memory it had,
 * and the learned sizing would learn from it) and no more cores than the server has.
 */
export function fitsWarmDriver(
  request: Pick<SparkAttemptRequest, 'resources'>,
  warm: Pick<WarmDriverOptions, 'slots' | 'slotMemoryMb' | 'cores'>,
  short: boolean,
): boolean {
  return (
    warm.slots > 0 &&
    short &&
    request.resources.driverMemoryMb === warm.slotMemoryMb &&
    request.resources.driverCores <= warm.cores
  );
}

/**
 * The Spark Connect address of an attempt's session. The session id is derived from the
 * attempt id (a UUID's shape, which the server requires), so whoever holds the attempt id can
 * reach the attempt's session again, to interrupt and release it.
 */
export function sessionUrl(port: number, attemptId: string): string {
  const h = createHash('sha256').update(`nightjar-attempt:${attemptId}`).digest('hex');
  const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16] as string, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return `sc://127.0.0.1:${port}/;session_id=${uuid}`;
}

/** The session settings an attempt passes to the warm driver: the runtime SQL ones only. */
export function sessionConf(conf: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(conf).filter(([key]) => key.startsWith('spark.sql.')));
}

/** The spark-submit arguments that start the server: an array, never a shell string. */
export function warmDriverArgs(options: WarmDriverOptions, port: number, key: string): string[] {
  const { stateDir } = options;
  const tmp = path.join(stateDir, 'tmp');
  const javaOptions = [
    ...(options.javaOptions ?? []),
    // A JVM that ran out of heap is not trusted with the next attempt: it exits, and is started again.
    '-XX:+ExitOnOutOfMemoryError',
    `-Djava.io.tmpdir=${javaOptionValue(tmp)}`,
    `-Dderby.system.home=${javaOptionValue(stateDir)}`,
    '-XX:-UsePerfData',
    `${WARM_DRIVER_PROPERTY}=${key}`,
  ];
  const conf: Record<string, string> = {
    'spark.connect.grpc.binding.address': '127.0.0.1',
    'spark.connect.grpc.binding.port': String(port),
    'spark.ui.enabled': 'false',
    'spark.local.dir': tmp,
    'spark.sql.warehouse.dir': path.join(stateDir, 'warehouse'),
    // Attempts share the executor threads fairly rather than first come, first served.
    'spark.scheduler.mode': 'FAIR',
    // The jobs' own setting that is not a session's to set (see JOB_CONF in spark/nightjar_spark/cli.py).
    'spark.python.sql.dataFrameDebugging.enabled': 'false',
    ...options.extraConf,
    'spark.driver.extraJavaOptions': javaOptions.join(' '),
  };
  return [
    '--class',
    SERVER_CLASS,
    '--name',
    'nightjar-warm-driver',
    '--master',
    `local[${options.cores}]`,
    '--driver-memory',
    `${options.slots * options.slotMemoryMb}m`,
    ...Object.entries(conf).flatMap(([k, v]) => ['--conf', `${k}=${v}`]),
  ];
}

/** The server of one state dir: started on first use, found again by a later worker process. */
export class WarmDriver {
  private readonly logger: Logger;
  private readonly key: string;
  private starting: Promise<ServerRecord> | undefined;
  private held = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private lastBusy = Date.now();

  constructor(readonly options: WarmDriverOptions) {
    this.logger = options.logger ?? pino({ enabled: false });
    // Another memory, core count or option set is another server.
    this.key = createHash('sha256')
      .update(JSON.stringify([options.stateDir, options.slots, options.slotMemoryMb, options.cores, options.javaOptions ?? [], options.sparkSubmit]))
      .digest('hex')
      .slice(0, 16);
  }

  /** Takes a slot if one is free (released by {@link release}); false when all are taken. */
  tryAcquire(): boolean {
    if (this.held >= this.options.slots) return false;
    this.held += 1;
    return true;
  }

  release(): void {
    this.held = Math.max(0, this.held - 1);
  }

  /** The running server (started if needed): its pid and port. */
  async ensure(): Promise<{ pid: number; port: number; logFile: string }> {
    this.lastBusy = Date.now();
    this.watchIdle();
    const found = await this.running();
    if (found) return found;
    this.starting ??= this.start().finally(() => (this.starting = undefined));
    return this.starting;
  }

  /** Whether any process on this machine is a client of the server on `port` (a warm attempt running). */
  async inUse(port: number): Promise<boolean> {
    return (await clientsOf(port)) > 0;
  }

  /** Stops the server unless one of this worker's slots or a client on this machine uses it; true when stopped. */
  async stopIfIdle(): Promise<boolean> {
    const record = await this.running();
    if (!record || this.held > 0 || (await this.inUse(record.port))) return false;
    await this.stop();
    return true;
  }

  /** The worker is shutting down: no more idle checks; the server stops unless an attempt still runs on it. */
  async close(): Promise<void> {
    clearInterval(this.idleTimer);
    this.idleTimer = undefined;
    await this.stopIfIdle();
  }

  private watchIdle(): void {
    if (this.idleTimer) return;
    const idleMs = this.options.idleStopMs ?? DEFAULT_IDLE_STOP_MS;
    this.idleTimer = setInterval(() => {
      this.checkIdle(idleMs).catch((err: unknown) => this.logger.warn({ err }, 'warm driver idle check failed'));
    }, Math.min(idleMs, 30_000));
    this.idleTimer.unref();
  }

  private async checkIdle(idleMs: number): Promise<void> {
    const record = await this.running();
    if (!record) {
      clearInterval(this.idleTimer);
      this.idleTimer = undefined;
      return;
    }
    if (this.held > 0 || (await this.inUse(record.port))) this.lastBusy = Date.now();
    else if (Date.now() - this.lastBusy >= idleMs && (await this.stopIfIdle())) {
      this.logger.info({ pid: record.pid, idleMs }, 'warm driver stopped: idle');
      clearInterval(this.idleTimer);
      this.idleTimer = undefined;
    }
  }

  /** The server this state dir records, if it is alive and ours. */
  async running(): Promise<ServerRecord | undefined> {
    const record = await readRecord(path.join(this.options.stateDir, RECORD_FILE));
    if (!record || record.key !== this.key) return undefined;
    return (await isServerProcess(record.pid, this.key)) ? record : undefined;
  }

  /**
   * A server this state dir records with other settings (the worker was reconfigured): stopped
   * before ours starts, unless an attempt still runs on it — then it is left to finish (and to be
   * stopped by hand), since the record now names ours.
   */
  private async replaceOther(): Promise<void> {
    const record = await readRecord(path.join(this.options.stateDir, RECORD_FILE));
    if (!record || record.key === this.key || !(await warmServerAlive(record.pid))) return;
    if (await this.inUse(record.port)) {
      this.logger.warn({ pid: record.pid }, 'a warm driver with other settings still runs an attempt: left running');
      return;
    }
    await terminate(record.pid);
    this.logger.info({ pid: record.pid }, 'warm driver with other settings stopped');
  }

  /** Stops the server of this state dir (whoever started it). */
  async stop(): Promise<void> {
    const record = await this.running();
    if (!record) return;
    await terminate(record.pid);
    await fs.rm(path.join(this.options.stateDir, RECORD_FILE), { force: true });
    this.logger.info({ pid: record.pid }, 'warm driver stopped');
  }

  private async start(): Promise<ServerRecord> {
    const { stateDir } = this.options;
    await this.replaceOther();
    await fs.mkdir(path.join(stateDir, 'tmp'), { recursive: true });
    const port = await freePort();
    const started = Date.now();
    const logFile = path.join(stateDir, `server-${new Date(started).toISOString().replace(/[:.]/g, '')}.log`);
    const fd = openSync(logFile, 'a');
    let child;
    try {
      child = spawn(this.options.sparkSubmit, warmDriverArgs(this.options, port, this.key), {
        cwd: stateDir,
        env: { ...(this.options.env ?? process.env), PYSPARK_PYTHON: this.options.pythonPath, TMPDIR: path.join(stateDir, 'tmp') },
        // Its own process group, outliving this worker: attempts running on it are adopted by the next.
        detached: true,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(new Error(`cannot start the warm driver (${this.options.sparkSubmit}): ${err.message}`)));
    });
    child.unref();
    const pid = child.pid as number;
    let exited = false;
    child.once('exit', () => (exited = true));
    const timeoutMs = this.options.startTimeoutMs ?? 180_000;
    while (!(await isListening('127.0.0.1', port))) {
      if (exited || Date.now() - started > timeoutMs) {
        if (!exited) tryKill(-pid, 'SIGKILL');
        const tail = ((await readFileTail(logFile, 4096))?.text ?? '').split('\n').slice(-8).join(' | ');
        throw new Error(`the warm driver did not start${exited ? ' (it exited)' : ` within ${timeoutMs} ms`}; its log ${logFile} ends: ${tail}`);
      }
      await sleep(READY_POLL_MS);
    }
    const record: ServerRecord = { pid, port, key: this.key, startedAt: new Date().toISOString(), logFile };
    const file = path.join(stateDir, RECORD_FILE);
    await fs.writeFile(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
    await fs.rename(`${file}.tmp`, file);
    this.logger.info({ pid, port, ms: Date.now() - started, heapMb: this.options.slots * this.options.slotMemoryMb }, 'warm driver started');
    return record;
  }
}

async function readRecord(file: string): Promise<ServerRecord | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as ServerRecord;
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is still a warm driver (any settings'): what a worker checks for an attempt's
 * server, also a worker whose own warm driver is now off or configured otherwise.
 */
export function warmServerAlive(pid: number): Promise<boolean> {
  return isServerProcess(pid, undefined);
}

/** The end of the server's log when `pid` is no longer running (it died under an attempt). */
export async function serverDeathNotice(pid: number, logFile: string): Promise<string[] | undefined> {
  if (await warmServerAlive(pid)) return undefined;
  const text = (await readFileTail(logFile, DEATH_TAIL_BYTES))?.text ?? '';
  return [`the warm driver (Spark Connect server, pid ${pid}) died during this attempt; the end of its log:`, ...text.split('\n')];
}

/** `pid` is alive and a warm driver: of these settings (`key`), or of any. */
async function isServerProcess(pid: number, key: string | undefined): Promise<boolean> {
  if ((await liveProcessGroup(pid)) === undefined) return false;
  const marked = (word: string) => (key === undefined ? word.startsWith(`${WARM_DRIVER_PROPERTY}=`) : word === `${WARM_DRIVER_PROPERTY}=${key}`);
  if (await commandLineHas(pid, marked)) return true;
  // spark-submit's shell leads the group; its JVM child carries the property.
  for (const child of await childProcessIds(pid)) if (await commandLineHas(child, marked)) return true;
  return false;
}

/** Live processes whose environment names the server on `port` as their Spark Connect remote. */
async function clientsOf(port: number): Promise<number> {
  const prefix = `${REMOTE_ENV}=sc://127.0.0.1:${port}/`;
  let n = 0;
  for (const pid of await otherProcessIds()) if (await environmentHas(pid, (e) => e.startsWith(prefix))) n++;
  return n;
}

/** SIGTERM to the server's process group, SIGKILL if it is still there after the grace period. */
async function terminate(pid: number): Promise<void> {
  tryKill(-pid, 'SIGTERM');
  const deadline = Date.now() + STOP_WAIT_MS;
  while (Date.now() < deadline && (await warmServerAlive(pid))) await sleep(READY_POLL_MS);
  if (await warmServerAlive(pid)) tryKill(-pid, 'SIGKILL');
}

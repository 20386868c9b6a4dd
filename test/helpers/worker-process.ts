/**
 * A real `nightjar worker` as a child process, configured through its environment like a
 * deployment: tests wait for its (pino JSON) log lines, kill it with SIGKILL and start another.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './temporal';

/** One parsed log line of the worker (pino JSON); `raw` when the line was not JSON. */
export interface LogLine {
  readonly level?: number;
  readonly msg?: string;
  readonly raw?: string;
  readonly [key: string]: unknown;
}

export type LogMatcher = (line: LogLine) => boolean;

/** A matcher on the message and, optionally, a few fields of the line. */
export function logLine(msg: string | RegExp, fields: Readonly<Record<string, unknown>> = {}): LogMatcher {
  return (line) =>
    (typeof msg === 'string' ? line.msg === msg : typeof line.msg === 'string' && msg.test(line.msg)) &&
    Object.entries(fields).every(([k, v]) => line[k] === v);
}

function newestMtime(dir: string, ext: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full, ext));
    else if (entry.name.endsWith(ext)) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

let built = false;

/** Workers still running, killed when the test process exits however it ends. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Compiles the CLI (`dist/`) when any source file is newer than the compiled entry point, so a
 * developer's run never tests a stale worker. Once per test process.
 */
export function ensureCliBuilt(): void {
  if (built) return;
  const entry = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
  const compiledAt = fs.existsSync(entry) ? newestMtime(path.join(REPO_ROOT, 'dist'), '.js') : 0;
  if (Math.max(newestMtime(path.join(REPO_ROOT, 'src'), '.ts'), newestMtime(path.join(REPO_ROOT, 'demo'), '.ts')) > compiledAt) {
    try {
      execFileSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      // tsc still emits on type errors (the type check proper is `tsc --noEmit` in the test
      // command); only a build that wrote nothing is fatal here.
      const output = String((error as { stdout?: Buffer }).stdout ?? '');
      if (!fs.existsSync(entry) || newestMtime(path.join(REPO_ROOT, 'dist'), '.js') <= compiledAt) throw error;
      process.stderr.write(`worker-process: tsc reported type errors; running the emitted build anyway:\n${output}`);
    }
  }
  built = true;
}

interface Waiter {
  readonly match: LogMatcher;
  readonly resolve: (line: LogLine) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export interface WorkerProcessOptions {
  /** NIGHTJAR_* variables of this worker; the test process's own NIGHTJAR_* are not inherited. */
  readonly env: Readonly<Record<string, string>>;
  /** A name for error messages. */
  readonly name?: string;
  /** Every line is also handed here (e.g. to decide a kill point synchronously). */
  readonly onLine?: (line: LogLine, worker: WorkerProcess) => void;
  /** stdout and stderr are also appended here, for a look after a failed run. */
  readonly logFile?: string;
}

export class WorkerProcess {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private readonly waiters = new Set<Waiter>();
  private stderr = '';
  private partial = '';
  private exitedNow = false;
  private readonly logFd: number | undefined;

  private constructor(private readonly options: WorkerProcessOptions) {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NIGHTJAR_')));
    // No NODE_OPTIONS from jest (--experimental-vm-modules) in the worker: it runs like production.
    delete inherited.NODE_OPTIONS;
    this.child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'nightjar.js'), 'worker'], {
      cwd: REPO_ROOT,
      env: { ...inherited, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (options.logFile) {
      fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
      this.logFd = fs.openSync(options.logFile, 'a');
    }
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      if (this.logFd !== undefined) fs.writeSync(this.logFd, chunk);
      this.onStdout(chunk);
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      if (this.logFd !== undefined) fs.writeSync(this.logFd, chunk);
      this.stderr = (this.stderr + chunk).slice(-20_000);
    });
    live.add(this.child);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        live.delete(this.child);
        if (signal === null && code !== 0) this.crash = `${this.name} exited with code ${code}: ${this.stderr.slice(-3000)}`;
        this.exitedNow = true;
        if (this.logFd !== undefined) fs.closeSync(this.logFd);
        for (const w of [...this.waiters]) {
          clearTimeout(w.timer);
          w.reject(new Error(`${this.name} exited (code ${code}, signal ${signal}) before the awaited log line; stderr: ${this.stderr.slice(-2000)}`));
        }
        this.waiters.clear();
        resolve({ code, signal });
      });
    });
  }

  /** Starts a worker and waits until it polls its task queue ('worker running'). */
  static async start(options: WorkerProcessOptions, readyTimeoutMs = 120_000): Promise<WorkerProcess> {
    ensureCliBuilt();
    const worker = new WorkerProcess(options);
    await worker.waitFor(logLine('worker running'), readyTimeoutMs);
    return worker;
  }

  get name(): string {
    return this.options.name ?? `worker ${this.child.pid}`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.exitedNow;
  }

  /**
   * Set when the process ended by itself with a failure (an uncaught error, a non-zero exit),
   * not by a signal the test sent: what a crash looks like, with the end of its stderr.
   */
  crash: string | undefined;

  /** Resolves with the first line (already seen or coming) that matches. */
  waitFor(match: LogMatcher, timeoutMs = 120_000): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    if (this.exitedNow) return Promise.reject(new Error(`${this.name} has exited; stderr: ${this.stderr.slice(-2000)}`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`${this.name}: no matching log line within ${timeoutMs} ms; last lines:\n${this.tail(15)}`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** The last `n` lines, for error messages. */
  tail(n: number): string {
    return this.lines
      .slice(-n)
      .map((l) => l.raw ?? JSON.stringify(l))
      .join('\n');
  }

  /** SIGKILL: the process dies at once, in the middle of whatever it does. */
  async kill(): Promise<void> {
    if (this.exitedNow) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (graceful shutdown), SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.exitedNow) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private onStdout(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const text of parts) {
      if (text.trim() === '') continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { raw: text };
      }
      this.lines.push(line);
      this.options.onLine?.(line, this);
      for (const w of [...this.waiters]) {
        if (!w.match(line)) continue;
        clearTimeout(w.timer);
        this.waiters.delete(w);
        w.resolve(line);
      }
    }
  }
}

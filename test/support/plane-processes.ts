/**
 * The local plane's helpers as child processes, for tests that cannot load the Kubernetes client
 * in-process (the integration project runs jest with VM modules, which refuses that ES-module-only
 * package): the local container runtime and the operator stand-in, compiled from local-cluster/,
 * and kubectl for the little the test itself asks of the API server.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const REPO = path.resolve(__dirname, '..', '..');
const BUILD = path.join(REPO, '.cache', 'local-cluster-build', 'local-cluster');
let built = false;

/** Compiles local-cluster/ (and what it imports) once per test process. */
export function buildLocalCluster(): void {
  if (built) return;
  execFileSync(path.join(REPO, 'node_modules', '.bin', 'tsc'), ['-p', 'local-cluster/tsconfig.json'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  built = true;
}

/** kubectl of the plane's build (beside its state directory), else the one on PATH. */
export function kubectl(kubeconfig: string, args: readonly string[]): string {
  const beside = path.resolve(path.dirname(kubeconfig), '..', 'bin', 'kubectl');
  const binary = fs.existsSync(beside) ? beside : 'kubectl';
  return execFileSync(binary, ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A helper process that prints a ready line, then lines of its own; stopped with SIGTERM. */
export class HelperProcess {
  readonly lines: string[] = [];
  private stderr = '';
  private readonly exited: Promise<number | null>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    live.add(child);
    let partial = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      this.lines.push(...parts);
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-20_000);
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        live.delete(child);
        resolve(code);
      }),
    );
  }

  /** Starts `local-cluster/<script>` (compiled) and waits for a line starting with `ready`. */
  static async start(name: string, script: string, args: readonly string[], readyTimeoutMs = 60_000): Promise<HelperProcess> {
    buildLocalCluster();
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, [path.join(BUILD, script), ...args], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const helper = new HelperProcess(name, child);
    const until = Date.now() + readyTimeoutMs;
    while (!helper.lines.some((l) => l.startsWith('ready'))) {
      if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}: ${helper.stderr.slice(-3000)}`);
      if (Date.now() > until) throw new Error(`${name} not ready after ${readyTimeoutMs} ms: ${helper.stderr.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return helper;
  }

  /** SIGTERM, then its exit code (SIGKILL after `graceMs`); throws with its stderr when it was not 0. */
  async stop(graceMs = 30_000): Promise<void> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    if (code !== 0) throw new Error(`${this.name} exited with code ${code}: ${this.stderr.slice(-3000)}`);
  }
}

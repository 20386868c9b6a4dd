/**
 * The local control plane of scripts/k8s.sh: how long a start takes with the binaries present, how
 * long a rebuild takes on warm Go caches (binaries moved aside, then put back), and what the running
 * plane holds in memory, per component.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { procStatusBytes } from './stats';

export interface PlaneBench {
  readonly startSeconds: number;
  readonly rebuildSeconds?: number;
  readonly rssMb: Readonly<Record<string, number>>;
}

function k8s(repoRoot: string, command: 'up' | 'down' | 'build' | 'status'): string {
  return execFileSync('bash', [path.join(repoRoot, 'scripts', 'k8s.sh'), command], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

function seconds(run: () => void): number {
  const t0 = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Resident memory of each component the plane's pid files name. */
export function componentRss(stateDir: string): Record<string, number> {
  const out: Record<string, number> = {};
  const pids = path.join(stateDir, 'pids');
  for (const file of fs.readdirSync(pids).filter((f) => f.endsWith('.pid'))) {
    const pid = fs.readFileSync(path.join(pids, file), 'utf8').trim();
    out[file.replace(/\.pid$/, '')] = Math.round(procStatusBytes(pid, 'VmRSS') / 2 ** 20);
  }
  return out;
}

export async function benchPlane(opts: { repoRoot: string; rebuild: boolean }): Promise<PlaneBench> {
  const { repoRoot } = opts;
  let rebuildSeconds: number | undefined;
  k8s(repoRoot, 'down');
  const binDir = k8s(repoRoot, 'build').split('\n').pop() ?? ''; // `build` prints the binaries' directory last
  if (opts.rebuild) {
    const aside = `${binDir}.bench-aside`;
    fs.rmSync(aside, { recursive: true, force: true });
    fs.renameSync(binDir, aside);
    try {
      rebuildSeconds = seconds(() => k8s(repoRoot, 'build'));
    } finally {
      fs.rmSync(binDir, { recursive: true, force: true });
      fs.renameSync(aside, binDir);
    }
  }
  let admin = '';
  const startSeconds = seconds(() => {
    admin = k8s(repoRoot, 'up').split('\n').pop() ?? '';
  });
  // Settle: the controllers' first sync is part of what a running plane holds.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  const rssMb = componentRss(path.dirname(admin));
  return { startSeconds, ...(rebuildSeconds !== undefined ? { rebuildSeconds } : {}), rssMb };
}

/**
 * A pod's memory limit enforced by the kernel: a cgroup v1 memory controller per pod, as a
 * kubelet sets one up. A process that allocates past the limit is killed by the kernel's OOM
 * killer (SIGKILL, exit 137) and `memory.oom_control` counts the kill: that is `OOMKilled`.
 * Needs root and a mounted v1 memory hierarchy; `available` says whether this machine has both.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync, accessSync, constants } from 'node:fs';
import path from 'node:path';

export const DEFAULT_MEMORY_ROOT = '/sys/fs/cgroup/memory';

export function memoryCgroupAvailable(root = DEFAULT_MEMORY_ROOT): boolean {
  try {
    accessSync(path.join(root, 'cgroup.procs'), constants.W_OK);
    return existsSync(path.join(root, 'memory.limit_in_bytes'));
  } catch {
    return false;
  }
}

export class MemoryCgroup {
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Creates (or reuses) the group `<root>/<parent>/<name>` with the limit in bytes. */
  static create(root: string, parent: string, name: string, limitBytes: number): MemoryCgroup {
    const dir = path.join(root, parent, name);
    mkdirSync(dir, { recursive: true });
    // No swap here, but a swappiness of 0 keeps the limit a hard one where there is.
    try {
      writeFileSync(path.join(dir, 'memory.swappiness'), '0');
    } catch {
      // Not every kernel lets a child group set it; the limit still holds.
    }
    writeFileSync(path.join(dir, 'memory.limit_in_bytes'), String(limitBytes));
    return new MemoryCgroup(dir);
  }

  /** The file a starting process writes its own pid to, to enter the group before it allocates. */
  get procsFile(): string {
    return path.join(this.dir, 'cgroup.procs');
  }

  /** Times the kernel's OOM killer killed a process of this group. */
  oomKills(): number {
    try {
      const match = /^oom_kill (\d+)$/m.exec(readFileSync(path.join(this.dir, 'memory.oom_control'), 'utf8'));
      return match === null ? 0 : Number(match[1]);
    } catch {
      return 0;
    }
  }

  /** Pids still in the group. */
  pids(): number[] {
    try {
      return readFileSync(this.procsFile, 'utf8').split('\n').filter((line) => line !== '').map(Number);
    } catch {
      return [];
    }
  }

  /** Removes the group; the kernel refuses while a process is still in it. */
  remove(): boolean {
    try {
      rmdirSync(this.dir);
      return true;
    } catch {
      return !existsSync(this.dir);
    }
  }
}

/** Kubernetes quantity (`1Gi`, `512M`, `1500m`, `1e3`) in bytes; undefined when unparsable. */
export function quantityToBytes(quantity: string | undefined): number | undefined {
  if (quantity === undefined) return undefined;
  const match = /^([0-9.]+(?:e[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?$/.exec(quantity.trim());
  if (match === null) return undefined;
  const factors: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, m: 1e-3 };
  const value = Number(match[1]) * (match[2] === undefined ? 1 : (factors[match[2]] ?? 1));
  return Number.isFinite(value) ? Math.ceil(value) : undefined;
}

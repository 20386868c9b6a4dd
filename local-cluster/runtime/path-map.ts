/**
 * Paths as a container sees them (its mounts, the image's directories) mapped to where they are
 * on this machine. A local process has no mount namespace of its own, so the runtime rewrites the
 * paths it hands over instead: in the arguments, the environment and the mounted text files.
 * Pure.
 */

export interface PathMapping {
  /** Absolute path inside the container, no trailing slash. */
  readonly containerPath: string;
  /** Absolute path on this machine. */
  readonly hostPath: string;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class PathMap {
  private readonly pattern: RegExp | undefined;
  private readonly byPath: ReadonlyMap<string, string>;

  constructor(mappings: readonly PathMapping[]) {
    const clean = mappings.map((m) => ({ containerPath: m.containerPath.replace(/\/+$/, ''), hostPath: m.hostPath.replace(/\/+$/, '') }));
    this.byPath = new Map(clean.map((m) => [m.containerPath, m.hostPath]));
    // Longest first, so a mount inside an image directory wins over the directory.
    const alternatives = [...this.byPath.keys()].sort((a, b) => b.length - a.length).map(escape);
    this.pattern = alternatives.length === 0 ? undefined : new RegExp(`(^|[^A-Za-z0-9._-])(${alternatives.join('|')})(?=$|[^A-Za-z0-9._-])`, 'g');
  }

  /** Every container path in `text` replaced by its host path. */
  map(text: string): string {
    if (this.pattern === undefined) return text;
    return text.replace(this.pattern, (_whole, before: string, path: string) => `${before}${this.byPath.get(path) ?? path}`);
  }
}

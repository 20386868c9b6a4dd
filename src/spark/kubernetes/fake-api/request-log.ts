import type { KubeVerb } from './faults';

/** One request the fake API server answered (or dropped). */
export interface RecordedRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** Undefined for paths outside the served resources (discovery, unknown paths). */
  readonly verb?: KubeVerb;
  /** Plural, with `/status` for the status subresource. */
  readonly resource?: string;
  readonly namespace?: string;
  readonly name?: string;
  /** The HTTP status answered; 0 when the connection was dropped instead. */
  readonly status: number;
  /** Set when an injected fault decided the answer. */
  readonly fault?: 'status' | 'reset-before' | 'reset-after';
}

export class RequestLog {
  private entries: RecordedRequest[] = [];

  record(entry: RecordedRequest): void {
    this.entries.push(entry);
  }

  all(): readonly RecordedRequest[] {
    return [...this.entries];
  }

  /** Counts keyed `verb resource`, e.g. `{ 'create sparkapplications': 1, 'patch sparkapplications/status': 3 }`. */
  counts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const entry of this.entries) {
      if (!entry.verb || !entry.resource) continue;
      const key = `${entry.verb} ${entry.resource}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }

  clear(): void {
    this.entries = [];
  }
}

/** The Kubernetes verb of a request: what RBAC and audit logs call it. */
export type KubeVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

/** Which requests a fault applies to; every given field must match. */
export interface FaultMatch {
  /** HTTP method, any case. */
  readonly method?: string;
  /** Tested against the path (without the query string); a string matches as a substring. */
  readonly pathPattern?: RegExp | string;
  readonly verb?: KubeVerb;
  /** Plural, optionally with the subresource: `sparkapplications`, `sparkapplications/status`. */
  readonly resource?: string;
}

export interface StatusFault extends FaultMatch {
  readonly status: 429 | 500 | 503 | 504;
  /** How many matching requests fail. Default 1. */
  readonly times?: number;
  /** Sent as the `Retry-After` header and in the Status details. */
  readonly retryAfterSeconds?: number;
}

export interface ConnectionResetFault extends FaultMatch {
  /**
   * `before`: the connection drops before the request is handled (nothing happened).
   * `after`: the request is handled, then the connection drops instead of the answer: the write
   * happened but the client cannot know, the case idempotent retries exist for.
   */
  readonly when: 'before' | 'after';
  readonly times?: number;
}

export interface FaultTarget {
  readonly method: string;
  readonly path: string;
  readonly verb: KubeVerb | undefined;
  readonly resource: string | undefined;
}

export type ArmedFault =
  | { readonly kind: 'status'; readonly status: StatusFault['status']; readonly retryAfterSeconds?: number }
  | { readonly kind: 'reset'; readonly when: 'before' | 'after' };

interface Entry {
  readonly match: FaultMatch;
  readonly fault: ArmedFault;
  remaining: number;
}

function matches(match: FaultMatch, target: FaultTarget): boolean {
  if (match.method && match.method.toUpperCase() !== target.method.toUpperCase()) return false;
  if (match.verb && match.verb !== target.verb) return false;
  if (match.resource && match.resource !== target.resource) return false;
  if (match.pathPattern !== undefined) {
    const pattern = match.pathPattern;
    if (typeof pattern === 'string' ? !target.path.includes(pattern) : !pattern.test(target.path)) return false;
  }
  return true;
}

/** Faults armed by tests, consumed by matching requests in the order they were armed. */
export class FaultInjector {
  private entries: Entry[] = [];

  /** The next `times` matching requests are answered with this status instead of being handled. */
  next(fault: StatusFault): void {
    const { status, times, retryAfterSeconds, ...match } = fault;
    this.arm(match, { kind: 'status', status, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) }, times);
  }

  /** The next `times` matching requests lose their connection (before or after being handled). */
  resetConnection(fault: ConnectionResetFault): void {
    const { when, times, ...match } = fault;
    this.arm(match, { kind: 'reset', when }, times);
  }

  /** Faults armed but not yet consumed. */
  get pending(): number {
    return this.entries.reduce((sum, entry) => sum + entry.remaining, 0);
  }

  clear(): void {
    this.entries = [];
  }

  /** Consumes and returns the fault this request meets, if any. */
  take(target: FaultTarget): ArmedFault | undefined {
    const entry = this.entries.find((e) => e.remaining > 0 && matches(e.match, target));
    if (!entry) return undefined;
    entry.remaining -= 1;
    this.entries = this.entries.filter((e) => e.remaining > 0);
    return entry.fault;
  }

  private arm(match: FaultMatch, fault: ArmedFault, times = 1): void {
    if (!Number.isInteger(times) || times < 1) throw new Error(`a fault needs times >= 1, got ${times}`);
    this.entries.push({ match, fault, remaining: times });
  }
}

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

/**
 * How long an armed fault waits for its requests. Without it, a fault waits for ever: "the next
 * `times` matching requests fail" however late they come. A real API server's trouble is an
 * episode in time instead, and a client that backs off meets less of it; faults armed faster
 * than a backing-off client sends requests, and never lapsing, pile up into an outage that
 * outlasts every backoff.
 */
export interface FaultLifetime {
  /** The fault lapses (what is left of its `times`) this many milliseconds after it was armed. */
  readonly withinMs?: number;
}

export interface StatusFault extends FaultMatch, FaultLifetime {
  readonly status: 429 | 500 | 503 | 504;
  /** How many matching requests fail. Default 1. */
  readonly times?: number;
  /** Sent as the `Retry-After` header and in the Status details. */
  readonly retryAfterSeconds?: number;
}

export interface ConnectionResetFault extends FaultMatch, FaultLifetime {
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
  /** Epoch milliseconds after which the entry lapses; undefined: never. */
  readonly lapsesAt: number | undefined;
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

  /** `now`: epoch milliseconds, for `withinMs`. */
  constructor(private readonly now: () => number = Date.now) {}

  /** The next `times` matching requests are answered with this status instead of being handled. */
  next(fault: StatusFault): void {
    const { status, times, retryAfterSeconds, withinMs, ...match } = fault;
    this.arm(match, { kind: 'status', status, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) }, times, withinMs);
  }

  /** The next `times` matching requests lose their connection (before or after being handled). */
  resetConnection(fault: ConnectionResetFault): void {
    const { when, times, withinMs, ...match } = fault;
    this.arm(match, { kind: 'reset', when }, times, withinMs);
  }

  /** Faults armed but neither consumed nor lapsed. */
  get pending(): number {
    this.dropLapsed();
    return this.entries.reduce((sum, entry) => sum + entry.remaining, 0);
  }

  clear(): void {
    this.entries = [];
  }

  /** Consumes and returns the fault this request meets, if any. */
  take(target: FaultTarget): ArmedFault | undefined {
    this.dropLapsed();
    const entry = this.entries.find((e) => e.remaining > 0 && matches(e.match, target));
    if (!entry) return undefined;
    entry.remaining -= 1;
    this.entries = this.entries.filter((e) => e.remaining > 0);
    return entry.fault;
  }

  private arm(match: FaultMatch, fault: ArmedFault, times = 1, withinMs?: number): void {
    if (!Number.isInteger(times) || times < 1) throw new Error(`a fault needs times >= 1, got ${times}`);
    if (withinMs !== undefined && !(Number.isFinite(withinMs) && withinMs > 0)) throw new Error(`a fault needs withinMs > 0, got ${withinMs}`);
    this.entries.push({ match, fault, remaining: times, lapsesAt: withinMs === undefined ? undefined : this.now() + withinMs });
  }

  private dropLapsed(): void {
    const now = this.now();
    this.entries = this.entries.filter((e) => e.lapsesAt === undefined || now < e.lapsesAt);
  }
}

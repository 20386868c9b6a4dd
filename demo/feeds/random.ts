// Randomness: one small seeded PRNG (mulberry32) per purpose, so that e.g. changing the defect
// rate does not change the data itself.

export class Random {
  private state: number;

  constructor(seed: number, purpose: string) {
    // FNV-1a over the seed and purpose picks the stream.
    let h = 0x811c9dc5;
    const text = `${seed}/${purpose}`;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    this.state = h >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  between(low: number, high: number): number {
    return low + this.int(high - low + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(values: readonly T[]): T {
    return values[this.int(values.length)]!;
  }

  /** A log-normal-ish positive value with the given median (sum of three uniforms as the normal). */
  skewed(median: number, spread: number): number {
    const normal = (this.next() + this.next() + this.next() - 1.5) * 2;
    return median * Math.exp(spread * normal);
  }
}

/** Picks from a fixed table of weights in O(table size), fine for the short tables below. */
export class Weighted<T> {
  private readonly values: T[];
  private readonly cumulative: number[];

  constructor(table: readonly (readonly [T, number])[]) {
    const total = table.reduce((sum, [, weight]) => sum + weight, 0);
    let running = 0;
    this.values = table.map(([value]) => value);
    this.cumulative = table.map(([, weight]) => (running += weight) / total);
  }

  pick(random: Random): T {
    const u = random.next();
    for (let i = 0; i < this.cumulative.length; i++) if (u < this.cumulative[i]!) return this.values[i]!;
    return this.values[this.values.length - 1]!;
  }
}

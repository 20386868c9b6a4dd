import type { SparkResources } from './resources';

/**
 * How a job's resources grow after an out-of-memory attempt. Pure and deterministic:
 * the `sparkJob` workflow calls it, so the same history always yields the same sizes.
 */
export interface EscalationPolicy {
  /** Total attempts for one job, whatever their outcome (≥ 1). */
  readonly maxAttempts: number;
  /** Multiplier applied to driver/executor memory (and overhead) after an OOM (> 1). */
  readonly memoryFactor: number;
  /** Per-job caps: no attempt asks for more. */
  readonly maxDriverMemoryMb: number;
  readonly maxExecutorMemoryMb: number;
  /** Optional: multiply shuffle partitions too (smaller tasks also relieve memory). */
  readonly shufflePartitionsFactor?: number;
  readonly maxShufflePartitions?: number;
  /**
   * Optional, executor OOM only: multiply the executor count (rounded, at least 1). Below 1
   * trades executors for bigger ones; above 1 spreads the work.
   */
  readonly executorInstancesFactor?: number;
  readonly maxExecutorInstances?: number;
  /**
   * Optional namespace cap on a whole attempt's memory ({@link attemptFootprintMb}), such as
   * the namespace's memory quota. Escalation grows less to stay within it, or not at all.
   */
  readonly maxTotalMemoryMb?: number;
}

export const DEFAULT_ESCALATION: EscalationPolicy = {
  maxAttempts: 4,
  memoryFactor: 2,
  maxDriverMemoryMb: 8192,
  maxExecutorMemoryMb: 16384,
  shufflePartitionsFactor: 1,
};

/** Spark's default overhead factor for non-JVM (PySpark) applications, and its floor. */
const NON_JVM_OVERHEAD_FACTOR = 0.4;
const MIN_OVERHEAD_MB = 384;

/**
 * Memory of one Spark pod: the heap plus the overhead. A null overhead is what Spark derives
 * for a PySpark application, max(384, ⌊0.40 × memory⌋) (Spark truncates the product).
 */
export function podMemoryMb(memoryMb: number, overheadMb: number | null): number {
  return memoryMb + (overheadMb ?? Math.max(MIN_OVERHEAD_MB, Math.floor(NON_JVM_OVERHEAD_FACTOR * memoryMb)));
}

/**
 * Memory one attempt asks of the cluster: the driver pod and every executor pod. One
 * `memoryOverheadMb` is sent for both the driver and the executors, so it counts on each pod.
 */
export function attemptFootprintMb(resources: SparkResources): number {
  const driver = podMemoryMb(resources.driverMemoryMb, resources.memoryOverheadMb);
  const executor = podMemoryMb(resources.executorMemoryMb, resources.memoryOverheadMb);
  return driver + resources.executorInstances * executor;
}

/** Round up to a whole multiple of 64 MiB, as memory requests are usually written. */
function roundMb(mb: number): number {
  return Math.ceil(mb / 64) * 64;
}

export type EscalationDecision =
  | {
      readonly escalate: true;
      readonly resources: SparkResources;
      /** Present when a cap held growth back, e.g. "executor memory capped at 16384 MiB". */
      readonly note?: string;
    }
  | { readonly escalate: false; readonly reason: string };

/** One memory field growing from `from` to at most `to`; `build` gives the attempt at a size. */
interface Growth {
  readonly what: 'driver memory' | 'executor memory';
  readonly from: number;
  readonly to: number;
  readonly build: (memoryMb: number) => SparkResources;
}

/**
 * The largest size in (from, to] whose attempt fits within `capMb`: `to` itself, else the
 * largest multiple of 64 MiB below it. The footprint only grows with the size, so the first
 * fit found walking down is the largest.
 */
function largestFitting(growth: Growth, capMb: number): number | undefined {
  if (attemptFootprintMb(growth.build(growth.to)) <= capMb) return growth.to;
  for (let mb = Math.floor((growth.to - 1) / 64) * 64; mb > growth.from; mb -= 64) {
    if (attemptFootprintMb(growth.build(mb)) <= capMb) return mb;
  }
  return undefined;
}

/** The smallest size escalation would ever try: the next multiple of 64 MiB, or `to` if lower. */
function smallestStep(growth: Growth): number {
  return Math.min(growth.to, Math.floor(growth.from / 64) * 64 + 64);
}

function namespaceRefusal(growth: Growth, current: SparkResources, capMb: number): string {
  const step = smallestStep(growth);
  return (
    `${growth.what} cannot grow within the namespace cap of ${capMb} MiB: the current attempt needs ` +
    `${attemptFootprintMb(current)} MiB and the smallest step (${growth.what} ${step} MiB) would need ` +
    `${attemptFootprintMb(growth.build(step))} MiB`
  );
}

/** A count multiplied by an optional factor (rounded, at least 1) and held under an optional cap. */
function scaleCount(
  current: number,
  factor: number | undefined,
  cap: number | undefined,
  round: (n: number) => number,
): { readonly value: number; readonly capped: boolean } {
  const wanted = Math.max(1, round(current * (factor ?? 1)));
  return cap !== undefined && wanted > cap ? { value: cap, capped: true } : { value: wanted, capped: false };
}

/**
 * The next attempt's resources after an OOM on `side`, or why there is none. The side that
 * ran out grows by the factor (capped); the other side stays. If the side is already at its
 * cap there is nothing left to try. With a namespace cap, the side grows only as far as the
 * whole attempt still fits; on an executor OOM that asks for more executors, the executor
 * count stays as it was when the extra executors would leave no room to grow.
 */
export function escalateAfterOom(
  current: SparkResources,
  side: 'driver' | 'executor',
  policy: EscalationPolicy,
): EscalationDecision {
  const grow = (mb: number, cap: number) => Math.min(cap, roundMb(mb * policy.memoryFactor));
  const shuffle = scaleCount(current.shufflePartitions, policy.shufflePartitionsFactor, policy.maxShufflePartitions, Math.ceil);
  const jobCap = side === 'driver' ? policy.maxDriverMemoryMb : policy.maxExecutorMemoryMb;
  const from = side === 'driver' ? current.driverMemoryMb : current.executorMemoryMb;
  if (from >= jobCap) {
    return { escalate: false, reason: `${side} memory already at the cap of ${jobCap} MiB` };
  }
  const to = grow(from, jobCap);
  const instances =
    side === 'executor'
      ? scaleCount(current.executorInstances, policy.executorInstancesFactor, policy.maxExecutorInstances, Math.round)
      : { value: current.executorInstances, capped: false };

  const growthWith = (executorInstances: number): Growth =>
    side === 'driver'
      ? {
          what: 'driver memory',
          from,
          to,
          build: (driverMemoryMb) => ({ ...current, driverMemoryMb, shufflePartitions: shuffle.value }),
        }
      : {
          what: 'executor memory',
          from,
          to,
          build: (executorMemoryMb) => ({
            ...current,
            executorMemoryMb,
            // An explicit overhead grows with the memory; null stays null (Spark derives it).
            memoryOverheadMb:
              current.memoryOverheadMb === null ? null : roundMb((current.memoryOverheadMb * executorMemoryMb) / from),
            executorInstances,
            shufflePartitions: shuffle.value,
          }),
        };
  const growths = [growthWith(instances.value)];
  if (instances.value > current.executorInstances) growths.push(growthWith(current.executorInstances));

  const capMb = policy.maxTotalMemoryMb;
  const fit =
    capMb === undefined
      ? { growth: growths[0] as Growth, mb: to, fallback: false }
      : growths
          .map((growth, i) => ({ growth, mb: largestFitting(growth, capMb), fallback: i > 0 }))
          .find((f): f is { growth: Growth; mb: number; fallback: boolean } => f.mb !== undefined);
  if (fit === undefined) {
    // Only reachable with a namespace cap: without one the first growth always fits.
    return { escalate: false, reason: namespaceRefusal(growths[growths.length - 1] as Growth, current, capMb as number) };
  }

  const resources = fit.growth.build(fit.mb);
  const limitedByNamespace = fit.mb < to;
  const notes = [
    to < roundMb(from * policy.memoryFactor) && !limitedByNamespace ? `${side} memory capped at ${jobCap} MiB` : undefined,
    limitedByNamespace ? `${side} memory limited by namespace cap ${capMb} MiB (attempt needs ${attemptFootprintMb(resources)} MiB)` : undefined,
    instances.capped && !fit.fallback ? `executor instances capped at ${instances.value}` : undefined,
    fit.fallback ? `executor instances kept at ${current.executorInstances} by namespace cap ${capMb} MiB` : undefined,
    shuffle.capped ? `shuffle partitions capped at ${shuffle.value}` : undefined,
  ].filter((n): n is string => n !== undefined);
  return notes.length === 0 ? { escalate: true, resources } : { escalate: true, resources, note: notes.join('; ') };
}

/** Validates a policy; returns the problems (empty when fine). */
export function policyProblems(policy: EscalationPolicy): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) problems.push('maxAttempts must be an integer ≥ 1');
  if (!(policy.memoryFactor > 1)) problems.push('memoryFactor must be > 1');
  if (!(policy.maxDriverMemoryMb > 0)) problems.push('maxDriverMemoryMb must be > 0');
  if (!(policy.maxExecutorMemoryMb > 0)) problems.push('maxExecutorMemoryMb must be > 0');
  if (policy.shufflePartitionsFactor !== undefined && !(policy.shufflePartitionsFactor > 0)) {
    problems.push('shufflePartitionsFactor must be > 0');
  }
  if (policy.maxShufflePartitions !== undefined && !(Number.isInteger(policy.maxShufflePartitions) && policy.maxShufflePartitions >= 1)) {
    problems.push('maxShufflePartitions must be an integer ≥ 1');
  }
  if (policy.executorInstancesFactor !== undefined && !(policy.executorInstancesFactor > 0 && Number.isFinite(policy.executorInstancesFactor))) {
    problems.push('executorInstancesFactor must be a finite number > 0');
  }
  if (policy.maxExecutorInstances !== undefined && !(Number.isInteger(policy.maxExecutorInstances) && policy.maxExecutorInstances >= 1)) {
    problems.push('maxExecutorInstances must be an integer ≥ 1');
  }
  if (policy.maxTotalMemoryMb !== undefined && !(policy.maxTotalMemoryMb > 0)) problems.push('maxTotalMemoryMb must be > 0');
  return problems;
}

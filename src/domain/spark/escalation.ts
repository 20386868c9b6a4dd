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
}

export const DEFAULT_ESCALATION: EscalationPolicy = {
  maxAttempts: 4,
  memoryFactor: 2,
  maxDriverMemoryMb: 8192,
  maxExecutorMemoryMb: 16384,
  shufflePartitionsFactor: 1,
};

/** Round up to a whole multiple of 64 MiB, as memory requests are usually written. */
function roundMb(mb: number): number {
  return Math.ceil(mb / 64) * 64;
}

export type EscalationDecision =
  | { readonly escalate: true; readonly resources: SparkResources }
  | { readonly escalate: false; readonly reason: string };

/**
 * The next attempt's resources after an OOM on `side`, or why there is none. The side that
 * ran out grows by the factor (capped); the other side stays. If the side is already at its
 * cap there is nothing left to try.
 */
export function escalateAfterOom(
  current: SparkResources,
  side: 'driver' | 'executor',
  policy: EscalationPolicy,
): EscalationDecision {
  const grow = (mb: number, cap: number) => Math.min(cap, roundMb(mb * policy.memoryFactor));
  const shuffle = Math.min(
    policy.maxShufflePartitions ?? Number.MAX_SAFE_INTEGER,
    Math.ceil(current.shufflePartitions * (policy.shufflePartitionsFactor ?? 1)),
  );
  if (side === 'driver') {
    if (current.driverMemoryMb >= policy.maxDriverMemoryMb) {
      return { escalate: false, reason: `driver memory already at the cap of ${policy.maxDriverMemoryMb} MiB` };
    }
    return {
      escalate: true,
      resources: { ...current, driverMemoryMb: grow(current.driverMemoryMb, policy.maxDriverMemoryMb), shufflePartitions: shuffle },
    };
  }
  if (current.executorMemoryMb >= policy.maxExecutorMemoryMb) {
    return { escalate: false, reason: `executor memory already at the cap of ${policy.maxExecutorMemoryMb} MiB` };
  }
  const executorMemoryMb = grow(current.executorMemoryMb, policy.maxExecutorMemoryMb);
  const ratio = executorMemoryMb / current.executorMemoryMb;
  return {
    escalate: true,
    resources: {
      ...current,
      executorMemoryMb,
      memoryOverheadMb: current.memoryOverheadMb === null ? null : roundMb(current.memoryOverheadMb * ratio),
      shufflePartitions: shuffle,
    },
  };
}

/** Validates a policy; returns the problems (empty when fine). */
export function policyProblems(policy: EscalationPolicy): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) problems.push('maxAttempts must be an integer ≥ 1');
  if (!(policy.memoryFactor > 1)) problems.push('memoryFactor must be > 1');
  if (!(policy.maxDriverMemoryMb > 0)) problems.push('maxDriverMemoryMb must be > 0');
  if (!(policy.maxExecutorMemoryMb > 0)) problems.push('maxExecutorMemoryMb must be > 0');
  return problems;
}

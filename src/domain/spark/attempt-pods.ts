import type { AttemptPod } from './resources';

/**
 * At most this many pods of one attempt travel in workflow payloads and the manifest: a job with
 * hundreds of executors would otherwise grow every history that records it. The pods that tell
 * the story (the driver, the executors that failed) are kept first.
 */
export const MAX_RECORDED_PODS = 24;

/** What the manifest keeps of an attempt's pods: a bounded list, and how many were left out. */
export interface RecordedPods {
  readonly pods: readonly AttemptPod[];
  /** Pods seen but not listed (0 when every pod is listed). */
  readonly omitted: number;
}

function rank(pod: AttemptPod): number {
  if (pod.role === 'driver') return 0;
  return pod.phase === 'Failed' || (pod.exitCode !== undefined && pod.exitCode !== 0) ? 1 : 2;
}

/**
 * The pods to record, driver first, then failed executors, then the others, each group by name;
 * at most `max` of them. Pure: the same pods give the same record.
 */
export function recordedPods(pods: readonly AttemptPod[], max = MAX_RECORDED_PODS): RecordedPods {
  const ordered = [...pods].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
  const kept = ordered.slice(0, Math.max(0, max));
  return { pods: kept, omitted: ordered.length - kept.length };
}

/** `executor nj-…-exec-1 on kwok-a2: Failed, exit 137 OOMKilled`: one pod as an operator reads it. */
export function describePod(pod: AttemptPod): string {
  const end = [pod.exitCode !== undefined ? `exit ${pod.exitCode}` : undefined, pod.reason].filter((s): s is string => s !== undefined).join(' ');
  const state = [pod.phase ?? 'unknown', end].filter((s) => s.length > 0).join(', ');
  return `${pod.role} ${pod.name}${pod.node !== undefined ? ` on ${pod.node}` : ''}: ${state}`;
}

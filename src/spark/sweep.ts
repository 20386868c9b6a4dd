/**
 * The janitor's rule, the same on every platform: something an attempt left goes when the
 * workflow that made it is closed or unknown to Temporal and it is older than the minimum age (a
 * workflow that has just started making it may not be visible yet). Platforms list what they
 * hold as {@link SweepCandidate}s and delete what {@link decideSweep} says; {@link carryOutSweep}
 * does the deleting and the report.
 */
import type { SweepOptions, SweepReport, SweptObject, WorkflowState } from './platform';

/** One thing a platform holds for an attempt, as the rule sees it. */
export interface SweepCandidate<K extends string = string> {
  readonly kind: K;
  readonly name: string;
  readonly workflowId: string | null;
  readonly attemptId: string | null;
  /** Epoch ms it was made; `NaN` when nobody knows (then it counts as old). */
  readonly createdMs: number;
  /** Already going (a Kubernetes object with a deletion timestamp): left to finish. */
  readonly beingDeleted?: boolean;
}

/** A swept object that keeps its platform's kind (what the delete needs). */
export type SweptOf<K extends string> = SweptObject & { readonly kind: K };

export interface SweepDecision<K extends string = string> {
  readonly remove: readonly SweptOf<K>[];
  readonly keep: readonly SweptOf<K>[];
}

/** Which candidates go, each with the reason it goes or stays. Pure. */
export function decideSweep<K extends string>(
  candidates: readonly SweepCandidate<K>[],
  states: ReadonlyMap<string, WorkflowState>,
  now: number,
  minAgeMs: number,
): SweepDecision<K> {
  const remove: SweptOf<K>[] = [];
  const keep: SweptOf<K>[] = [];
  for (const c of candidates) {
    const entry = (reason: string): SweptOf<K> => ({ kind: c.kind, name: c.name, workflowId: c.workflowId, attemptId: c.attemptId, reason });
    if (c.beingDeleted === true) {
      keep.push(entry('already being deleted'));
      continue;
    }
    const ageMs = Number.isNaN(c.createdMs) ? Number.POSITIVE_INFINITY : now - c.createdMs;
    const state: WorkflowState = c.workflowId === null ? 'UNKNOWN' : (states.get(c.workflowId) ?? 'UNKNOWN');
    if (state === 'RUNNING') {
      keep.push(entry('its workflow is running'));
    } else if (ageMs < minAgeMs) {
      keep.push(entry(`younger than ${Math.round(minAgeMs / 1000)} s`));
    } else {
      remove.push(entry(state === 'CLOSED' ? 'its workflow is closed' : c.workflowId === null ? 'no workflow recorded' : 'its workflow is unknown to Temporal'));
    }
  }
  return { remove, keep };
}

/** Asks Temporal once about each workflow the candidates name. */
export async function workflowStates(
  candidates: readonly SweepCandidate[],
  workflowState: (workflowId: string) => Promise<WorkflowState>,
): Promise<Map<string, WorkflowState>> {
  const states = new Map<string, WorkflowState>();
  for (const id of new Set(candidates.map((c) => c.workflowId).filter((id): id is string => id !== null))) {
    states.set(id, await workflowState(id));
  }
  return states;
}

/**
 * Deletes what the decision removes, in the order given (unless a dry run), and reports it: an
 * object whose delete throws is reported as failed with the error, and the sweep goes on.
 */
export async function carryOutSweep<K extends string>(
  where: string,
  examined: number,
  decision: SweepDecision<K>,
  remove: (obj: SweptOf<K>) => Promise<unknown>,
  options: Pick<SweepOptions, 'dryRun'>,
): Promise<SweepReport> {
  const removed: SweptObject[] = [];
  const failed: (SweptObject & { error: string })[] = [];
  if (options.dryRun !== true) {
    for (const obj of decision.remove) {
      try {
        await remove(obj);
        removed.push(obj);
      } catch (error) {
        failed.push({ ...obj, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }
  return {
    namespace: where,
    examined,
    removed: options.dryRun === true ? decision.remove : removed,
    kept: decision.keep,
    failed,
    dryRun: options.dryRun === true,
  };
}

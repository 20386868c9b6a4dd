/**
 * Finds what Nightjar left on the cluster and removes what nobody owns any more: objects labelled
 * as Nightjar's whose workflow is closed or unknown to Temporal. A per-attempt cleanup normally
 * leaves nothing; the janitor catches what a crash, a terminated workflow or a failed delete
 * left behind. The decision is pure ({@link decideSweep}); {@link sweepLeftovers} does the I/O.
 */
import { type KubeApi, MANAGED_KINDS, type ManagedKind, type ObjectRef } from './kube-api';
import type { SweepOptions, SweepReport, SweptObject, WorkflowState } from '../platform';
import { Annotation, LabelKey, managedSelector } from './labels';

// The sweep's types are the platform contract's (the platform names them, this implementation fills them).
export type { SweepOptions, SweepReport, SweptObject, WorkflowState } from '../platform';

/** A swept object of one of the kinds Nightjar makes on the cluster (what the delete needs). */
interface SweptClusterObject extends SweptObject {
  readonly kind: ManagedKind;
}

export interface SweepDecision {
  readonly remove: readonly SweptClusterObject[];
  readonly keep: readonly SweptClusterObject[];
}

/** The workflow an object belongs to: the exact id from the annotation, else the label. */
export function workflowIdOf(obj: ObjectRef): string | null {
  return obj.annotations[Annotation.workflowId] ?? obj.labels[LabelKey.workflowId] ?? null;
}

/**
 * Which objects go. An object is removed when its workflow is closed or unknown and it is older
 * than `minAgeMs` (a workflow that has just started creating it may not be visible yet).
 * Objects already being deleted are left to finish.
 */
export function decideSweep(
  objects: readonly ObjectRef[],
  states: ReadonlyMap<string, WorkflowState>,
  now: number,
  minAgeMs: number,
): SweepDecision {
  const remove: SweptClusterObject[] = [];
  const keep: SweptClusterObject[] = [];
  for (const obj of objects) {
    const workflowId = workflowIdOf(obj);
    const attemptId = obj.annotations[Annotation.attemptId] ?? obj.labels[LabelKey.attemptId] ?? null;
    const entry = (reason: string): SweptClusterObject => ({ kind: obj.kind, name: obj.name, workflowId, attemptId, reason });
    if (obj.deletionTimestamp !== undefined) {
      keep.push(entry('already being deleted'));
      continue;
    }
    const created = obj.creationTimestamp === undefined ? Number.NaN : Date.parse(obj.creationTimestamp);
    const ageMs = Number.isNaN(created) ? Number.POSITIVE_INFINITY : now - created;
    const state: WorkflowState = workflowId === null ? 'UNKNOWN' : (states.get(workflowId) ?? 'UNKNOWN');
    if (state === 'RUNNING') {
      keep.push(entry('its workflow is running'));
    } else if (ageMs < minAgeMs) {
      keep.push(entry(`younger than ${Math.round(minAgeMs / 1000)} s`));
    } else {
      remove.push(entry(state === 'CLOSED' ? 'its workflow is closed' : workflowId === null ? 'no workflow recorded' : 'its workflow is unknown to Temporal'));
    }
  }
  return { remove, keep };
}

/** Lists every Nightjar-labelled object, asks Temporal about their workflows, deletes the orphans. */
export async function sweepLeftovers(
  api: KubeApi,
  workflowState: (workflowId: string) => Promise<WorkflowState>,
  options: SweepOptions,
): Promise<SweepReport> {
  const objects: ObjectRef[] = [];
  for (const kind of MANAGED_KINDS) objects.push(...(await api.list(kind, { labelSelector: managedSelector() })));

  const states = new Map<string, WorkflowState>();
  for (const id of new Set(objects.map(workflowIdOf).filter((id): id is string => id !== null))) {
    states.set(id, await workflowState(id));
  }
  const decision = decideSweep(objects, states, options.now, options.minAgeMs);

  const removed: SweptObject[] = [];
  const failed: (SweptObject & { error: string })[] = [];
  if (!options.dryRun) {
    // SparkApplications first (foreground: their pods go with them), then whatever is left.
    const ordered = [...decision.remove].sort((a, b) => Number(b.kind === 'SparkApplication') - Number(a.kind === 'SparkApplication'));
    for (const obj of ordered) {
      try {
        await api.delete(obj.kind, obj.name, obj.kind === 'SparkApplication' ? 'Foreground' : 'Background');
        removed.push(obj);
      } catch (error) {
        failed.push({ ...obj, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }
  return {
    namespace: api.namespace,
    examined: objects.length,
    removed: options.dryRun ? decision.remove : removed,
    kept: decision.keep,
    failed,
    dryRun: options.dryRun === true,
  };
}

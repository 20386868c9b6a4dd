/**
 * Finds what Nightjar left on the cluster and removes what nobody owns any more: objects labelled
 * as Nightjar's whose workflow is closed or unknown to Temporal. A per-attempt cleanup normally
 * leaves nothing; the janitor catches what a crash, a terminated workflow or a failed delete
 * left behind. The rule is the platforms' own (`../sweep`); {@link decideSweep} applies it to the
 * cluster's objects and {@link sweepLeftovers} does the I/O.
 */
import { type KubeApi, MANAGED_KINDS, type ManagedKind, type ObjectRef } from './kube-api';
import type { SweepOptions, SweepReport, WorkflowState } from '../platform';
import { Annotation, LabelKey, managedSelector } from './labels';
import {
  carryOutSweep,
  decideSweep as decideCandidates,
  workflowStates,
  type SweepCandidate,
  type SweepDecision as SharedDecision,
} from '../sweep';

// The sweep's types are the platform contract's (the platform names them, this implementation fills them).
export type { SweepOptions, SweepReport, SweptObject, WorkflowState } from '../platform';

export type SweepDecision = SharedDecision<ManagedKind>;

/** The workflow an object belongs to: the exact id from the annotation, else the label. */
export function workflowIdOf(obj: ObjectRef): string | null {
  return obj.annotations[Annotation.workflowId] ?? obj.labels[LabelKey.workflowId] ?? null;
}

/** An object on the cluster as the janitor's rule sees it. */
function candidateOf(obj: ObjectRef): SweepCandidate<ManagedKind> {
  return {
    kind: obj.kind,
    name: obj.name,
    workflowId: workflowIdOf(obj),
    attemptId: obj.annotations[Annotation.attemptId] ?? obj.labels[LabelKey.attemptId] ?? null,
    createdMs: obj.creationTimestamp === undefined ? Number.NaN : Date.parse(obj.creationTimestamp),
    beingDeleted: obj.deletionTimestamp !== undefined,
  };
}

/**
 * Which objects go: the platform-neutral rule ({@link decideCandidates}) over the cluster's
 * objects. Objects already being deleted are left to finish.
 */
export function decideSweep(
  objects: readonly ObjectRef[],
  states: ReadonlyMap<string, WorkflowState>,
  now: number,
  minAgeMs: number,
): SweepDecision {
  return decideCandidates(objects.map(candidateOf), states, now, minAgeMs);
}

/** Lists every Nightjar-labelled object, asks Temporal about their workflows, deletes the orphans. */
export async function sweepLeftovers(
  api: KubeApi,
  workflowState: (workflowId: string) => Promise<WorkflowState>,
  options: SweepOptions,
): Promise<SweepReport> {
  const objects: ObjectRef[] = [];
  for (const kind of MANAGED_KINDS) objects.push(...(await api.list(kind, { labelSelector: managedSelector() })));
  const candidates = objects.map(candidateOf);
  const decision = decideCandidates(candidates, await workflowStates(candidates, workflowState), options.now, options.minAgeMs);
  // SparkApplications first (foreground: their pods go with them), then whatever is left.
  const ordered = [...decision.remove].sort((a, b) => Number(b.kind === 'SparkApplication') - Number(a.kind === 'SparkApplication'));
  const remove = (obj: { kind: ManagedKind; name: string }) =>
    api.delete(obj.kind, obj.name, obj.kind === 'SparkApplication' ? 'Foreground' : 'Background');
  return carryOutSweep(api.namespace, objects.length, { ...decision, remove: ordered }, remove, options);
}

import type { ObjectRef } from '../../../src/spark/kubernetes/kube-api';
import { decideSweep, workflowIdOf, type SweptObject, type WorkflowState } from '../../../src/spark/kubernetes/janitor';
import { Annotation, LabelKey } from '../../../src/spark/kubernetes/labels';

const NOW = Date.parse('2026-11-24T03:00:00Z');
const MIN_AGE_MS = 10 * 60_000;
const OLD = new Date(NOW - 60 * 60_000).toISOString();
const YOUNG = new Date(NOW - 60_000).toISOString();

/** An object of `workflowId` (as annotation and label), created an hour before NOW unless told otherwise. */
function object(name: string, workflowId: string | null, overrides: Partial<ObjectRef> = {}): ObjectRef {
  const ids: Record<string, string> = workflowId === null ? {} : { [LabelKey.workflowId]: workflowId };
  return {
    kind: 'Pod',
    name,
    labels: { [LabelKey.managedBy]: 'nightjar', ...ids },
    annotations: workflowId === null ? {} : { [Annotation.workflowId]: workflowId },
    creationTimestamp: OLD,
    ...overrides,
  };
}

const states = (entries: Record<string, WorkflowState>) => new Map(Object.entries(entries));
const names = (objects: readonly SweptObject[]) => objects.map((o) => o.name);

describe('workflowIdOf', () => {
  test('the annotation holds the exact id and wins over the label', () => {
    const obj = object('p', null, {
      labels: { [LabelKey.workflowId]: 'nightjar-daily-2026-11-23-a1b2c3d4e5' },
      annotations: { [Annotation.workflowId]: 'nightjar-daily-2026-11-23' },
    });
    expect(workflowIdOf(obj)).toBe('nightjar-daily-2026-11-23');
  });

  test('without the annotation, the label is used', () => {
    expect(workflowIdOf(object('p', null, { labels: { [LabelKey.workflowId]: 'wf-label' } }))).toBe('wf-label');
  });

  test('with neither, there is no workflow id', () => {
    expect(workflowIdOf(object('p', null))).toBeNull();
  });
});

describe('decideSweep', () => {
  test('an old object of a closed workflow is removed, saying so', () => {
    const decision = decideSweep([object('closed-pod', 'wf-closed')], states({ 'wf-closed': 'CLOSED' }), NOW, MIN_AGE_MS);
    expect(decision.keep).toEqual([]);
    expect(decision.remove).toEqual([{ kind: 'Pod', name: 'closed-pod', workflowId: 'wf-closed', attemptId: null, reason: 'its workflow is closed' }]);
  });

  test('an old object of a workflow Temporal does not know is removed, whether reported UNKNOWN or not asked about', () => {
    const decision = decideSweep(
      [object('reported', 'wf-unknown'), object('unasked', 'wf-unasked')],
      states({ 'wf-unknown': 'UNKNOWN' }),
      NOW,
      MIN_AGE_MS,
    );
    expect(names(decision.remove)).toEqual(['reported', 'unasked']);
    expect(decision.remove.map((o) => o.reason)).toEqual(['its workflow is unknown to Temporal', 'its workflow is unknown to Temporal']);
    expect(decision.keep).toEqual([]);
  });

  test('an old object with no workflow id at all is removed as having no workflow recorded', () => {
    const decision = decideSweep([object('orphan', null)], states({}), NOW, MIN_AGE_MS);
    expect(decision.remove).toEqual([expect.objectContaining({ name: 'orphan', workflowId: null, reason: 'no workflow recorded' })]);
  });

  test('objects of a running workflow are kept, however old', () => {
    const ancient = object('ancient', 'wf-running', { creationTimestamp: '2020-01-01T00:00:00Z' });
    const decision = decideSweep([object('running-pod', 'wf-running'), ancient], states({ 'wf-running': 'RUNNING' }), NOW, MIN_AGE_MS);
    expect(decision.remove).toEqual([]);
    expect(decision.keep.map((o) => [o.name, o.reason])).toEqual([
      ['running-pod', 'its workflow is running'],
      ['ancient', 'its workflow is running'],
    ]);
  });

  test('objects younger than the minimum age are kept even when their workflow is closed, unknown or missing', () => {
    const young = { creationTimestamp: YOUNG };
    const decision = decideSweep(
      [object('young-closed', 'wf-closed', young), object('young-unknown', 'wf-unknown', young), object('young-orphan', null, young)],
      states({ 'wf-closed': 'CLOSED' }),
      NOW,
      MIN_AGE_MS,
    );
    expect(decision.remove).toEqual([]);
    expect(decision.keep.map((o) => [o.name, o.reason])).toEqual([
      ['young-closed', 'younger than 600 s'],
      ['young-unknown', 'younger than 600 s'],
      ['young-orphan', 'younger than 600 s'],
    ]);
  });

  test('an object exactly as old as the minimum age is removed', () => {
    const exact = object('exact', 'wf-closed', { creationTimestamp: new Date(NOW - MIN_AGE_MS).toISOString() });
    expect(names(decideSweep([exact], states({ 'wf-closed': 'CLOSED' }), NOW, MIN_AGE_MS).remove)).toEqual(['exact']);
  });

  test('an object without a readable creation time counts as old', () => {
    const { creationTimestamp: _omitted, ...noTime } = object('no-time', 'wf-closed');
    const garbled = object('garbled', 'wf-closed', { creationTimestamp: 'yesterday-ish' });
    expect(names(decideSweep([noTime, garbled], states({ 'wf-closed': 'CLOSED' }), NOW, MIN_AGE_MS).remove)).toEqual(['no-time', 'garbled']);
  });

  test('an object already being deleted is left to finish, even when its workflow is closed', () => {
    const going = object('going', 'wf-closed', { deletionTimestamp: new Date(NOW - 5_000).toISOString() });
    const decision = decideSweep([going], states({ 'wf-closed': 'CLOSED' }), NOW, MIN_AGE_MS);
    expect(decision.remove).toEqual([]);
    expect(decision.keep).toEqual([expect.objectContaining({ name: 'going', reason: 'already being deleted' })]);
  });

  test("the annotation's workflow decides, not the label's", () => {
    // A long workflow id only fits the label hashed; the annotation holds it whole.
    const runningByAnnotation = object('by-annotation', null, {
      labels: { [LabelKey.workflowId]: 'wf-closed' },
      annotations: { [Annotation.workflowId]: 'wf-running' },
    });
    const closedByAnnotation = object('closed-by-annotation', null, {
      labels: { [LabelKey.workflowId]: 'wf-running' },
      annotations: { [Annotation.workflowId]: 'wf-closed' },
    });
    const decision = decideSweep([runningByAnnotation, closedByAnnotation], states({ 'wf-running': 'RUNNING', 'wf-closed': 'CLOSED' }), NOW, MIN_AGE_MS);
    expect(decision.keep).toEqual([expect.objectContaining({ name: 'by-annotation', workflowId: 'wf-running', reason: 'its workflow is running' })]);
    expect(decision.remove).toEqual([expect.objectContaining({ name: 'closed-by-annotation', workflowId: 'wf-closed', reason: 'its workflow is closed' })]);
  });

  test('the attempt id comes from the annotation, else the label', () => {
    const annotated = object('annotated', 'wf-closed', {
      labels: { [LabelKey.attemptId]: 'label-attempt' },
      annotations: { [Annotation.workflowId]: 'wf-closed', [Annotation.attemptId]: 'annotation-attempt' },
    });
    const labelled = object('labelled', null, { labels: { [LabelKey.workflowId]: 'wf-closed', [LabelKey.attemptId]: 'label-attempt' } });
    const decision = decideSweep([annotated, labelled], states({ 'wf-closed': 'CLOSED' }), NOW, MIN_AGE_MS);
    expect(decision.remove.map((o) => [o.name, o.attemptId])).toEqual([
      ['annotated', 'annotation-attempt'],
      ['labelled', 'label-attempt'],
    ]);
  });

  test('a mixed set is split into what goes and what stays, keeping the kind of each object', () => {
    const decision = decideSweep(
      [
        object('app-closed', 'wf-closed', { kind: 'SparkApplication' }),
        object('svc-running', 'wf-running', { kind: 'Service' }),
        object('cm-unknown', 'wf-unknown', { kind: 'ConfigMap' }),
        object('pvc-young', 'wf-closed', { kind: 'PersistentVolumeClaim', creationTimestamp: YOUNG }),
      ],
      states({ 'wf-closed': 'CLOSED', 'wf-running': 'RUNNING', 'wf-unknown': 'UNKNOWN' }),
      NOW,
      MIN_AGE_MS,
    );
    expect(decision.remove.map((o) => `${o.kind}/${o.name}`)).toEqual(['SparkApplication/app-closed', 'ConfigMap/cm-unknown']);
    expect(decision.keep.map((o) => `${o.kind}/${o.name}`)).toEqual(['Service/svc-running', 'PersistentVolumeClaim/pvc-young']);
  });
});

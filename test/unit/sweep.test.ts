import { carryOutSweep, decideSweep, workflowStates, type SweepCandidate } from '../../src/spark/sweep';

const NOW = Date.parse('2026-12-06T03:00:00Z');
const OLD = NOW - 2 * 3600_000;

function candidate(name: string, workflowId: string | null, createdMs = OLD): SweepCandidate<'Thing'> {
  return { kind: 'Thing', name, workflowId, attemptId: `${name}-attempt`, createdMs };
}

describe('the janitor rule, platform-neutral', () => {
  test('asks Temporal once per workflow, not per object', async () => {
    const asked: string[] = [];
    const states = await workflowStates([candidate('a', 'wf-1'), candidate('b', 'wf-1'), candidate('c', null), candidate('d', 'wf-2')], async (id) => {
      asked.push(id);
      return 'CLOSED';
    });
    expect(asked).toEqual(['wf-1', 'wf-2']);
    expect([...states.keys()]).toEqual(['wf-1', 'wf-2']);
  });

  test('a delete that throws is reported as failed with its error, and the others still go', async () => {
    const decision = decideSweep([candidate('a', null), candidate('b', null), candidate('c', null)], new Map(), NOW, 60_000);
    const deleted: string[] = [];
    const report = await carryOutSweep('here', 3, decision, async (obj) => {
      if (obj.name === 'b') throw new Error('permission denied');
      deleted.push(obj.name);
    }, {});
    expect(deleted).toEqual(['a', 'c']);
    expect(report.removed.map((o) => o.name)).toEqual(['a', 'c']);
    expect(report.failed).toEqual([{ kind: 'Thing', name: 'b', workflowId: null, attemptId: 'b-attempt', reason: 'no workflow recorded', error: 'permission denied' }]);
    expect(report).toMatchObject({ namespace: 'here', examined: 3, dryRun: false });
  });

  test('a dry run deletes nothing and reports what would go', async () => {
    const decision = decideSweep([candidate('a', 'wf'), candidate('young', 'wf', NOW - 1000)], new Map([['wf', 'CLOSED' as const]]), NOW, 60_000);
    const report = await carryOutSweep('here', 2, decision, async () => {
      throw new Error('must not be called');
    }, { dryRun: true });
    expect(report.removed.map((o) => o.name)).toEqual(['a']);
    expect(report.kept.map((o) => `${o.name}: ${o.reason}`)).toEqual(['young: younger than 60 s']);
    expect(report).toMatchObject({ failed: [], dryRun: true });
  });
});

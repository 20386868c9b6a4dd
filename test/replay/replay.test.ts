import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import * as workflows from '../../src/workflows';
import { REPO_ROOT, workflowBundle } from '../helpers/temporal';

jest.setTimeout(120_000);

const dir = path.join(REPO_ROOT, 'test', 'fixtures', 'histories');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

const workflowTypeOf = (file: string): string =>
  (JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { history: { events: { workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } } }[] } })
    .history.events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '?';

test('every workflow type the worker registers has a recorded history, and every history is of a registered type', () => {
  const recorded = new Set(files.map(workflowTypeOf));
  expect([...recorded].sort()).toEqual(Object.keys(workflows).sort());
});

// The determinism guard: today's workflow code must replay every recorded history. A change
// that would break running nights fails here; version it with patched() (see README).
test.each(files)('%s replays without nondeterminism', async (file) => {
  const { workflowId, history } = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  await expect(
    Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId),
  ).resolves.toBeUndefined();
});

import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { REPO_ROOT, workflowBundle } from '../helpers/temporal';

jest.setTimeout(120_000);

const dir = path.join(REPO_ROOT, 'test', 'fixtures', 'histories');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

test('recorded histories exist for both workflow types', () => {
  expect(files.some((f) => f.startsWith('daily-pipeline-'))).toBe(true);
  expect(files.some((f) => f.startsWith('spark-job-'))).toBe(true);
});

// The determinism guard: today's workflow code must replay every recorded history. A change
// that would break running nights fails here; version it with patched() (see README).
test.each(files)('%s replays without nondeterminism', async (file) => {
  const { workflowId, history } = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  await expect(
    Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId),
  ).resolves.toBeUndefined();
});

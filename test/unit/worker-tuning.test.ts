import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import { loadConfig } from '../../src/config/config';
import { limitWorkflowThreadHeap, workerTuning } from '../../src/worker/tuning';

const root = '/opt/nightjar';

test('the configured tuning reaches the SDK under its option names', () => {
  const worker = loadConfig(
    {
      NIGHTJAR_WORKER_MAX_CACHED_WORKFLOWS: '120',
      NIGHTJAR_WORKER_MAX_WORKFLOW_TASKS: '16',
      NIGHTJAR_WORKER_WORKFLOW_TASK_POLLS: '8',
      NIGHTJAR_WORKER_MAX_ACTIVITIES: '90',
      NIGHTJAR_WORKER_ACTIVITY_TASK_POLLS: '5',
      NIGHTJAR_WORKER_WORKFLOW_THREADS: '2',
    },
    root,
  ).worker;
  expect(workerTuning(worker)).toEqual({
    maxCachedWorkflows: 120,
    maxConcurrentWorkflowTaskExecutions: 16,
    maxConcurrentWorkflowTaskPolls: 8,
    maxConcurrentActivityTaskExecutions: 90,
    maxConcurrentActivityTaskPolls: 5,
    workflowThreadPoolSize: 2,
    reuseV8Context: true,
  });
});

/** The heap limit of a worker thread started now, MiB. */
function newThreadHeapLimitMb(): Promise<number> {
  const source = `require('node:worker_threads').parentPort.postMessage(require('node:v8').getHeapStatistics().heap_size_limit / 2 ** 20)`;
  return new Promise((resolve, reject) => {
    const thread = new Worker(source, { eval: true });
    thread.once('message', (mb: number) => void thread.terminate().then(() => resolve(mb)));
    thread.once('error', reject);
  });
}

// The flag is process-wide: give threads of later test files in this process V8's own sizing back (0).
afterAll(() => v8.setFlagsFromString('--max-old-space-size=0'));

test('the workflow heap limit caps threads started afterwards and leaves the main heap as it was', async () => {
  const mainBefore = v8.getHeapStatistics().heap_size_limit;
  limitWorkflowThreadHeap({ ...loadConfig({}, root).worker, workflowHeapMb: 96 });
  const limit = await newThreadHeapLimitMb();
  // The old generation as configured, plus V8's young generation (a few MiB to tens of MiB).
  expect(limit).toBeGreaterThanOrEqual(96);
  expect(limit).toBeLessThan(96 + 64);
  expect(v8.getHeapStatistics().heap_size_limit).toBe(mainBefore);
  v8.setFlagsFromString('--max-old-space-size=0');
  expect(await newThreadHeapLimitMb()).toBeGreaterThan(96 + 64);
});

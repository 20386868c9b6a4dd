import { spawnSync } from 'node:child_process';
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import { loadConfig } from '../../src/config/config';
import { applyV8Flags, v8Flags, workerTuning } from '../../src/worker/tuning';

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
  applyV8Flags({ ...loadConfig({}, root).worker, workflowHeapMb: 96, v8EscapeAnalysis: true });
  const limit = await newThreadHeapLimitMb();
  // The old generation as configured, plus V8's young generation (a few MiB to tens of MiB).
  expect(limit).toBeGreaterThanOrEqual(96);
  expect(limit).toBeLessThan(96 + 64);
  expect(v8.getHeapStatistics().heap_size_limit).toBe(mainBefore);
  v8.setFlagsFromString('--max-old-space-size=0');
  expect(await newThreadHeapLimitMb()).toBeGreaterThan(96 + 64);
});

test('the V8 flags: the workflow heap limit, and escape analysis off unless asked for', () => {
  expect(v8Flags(loadConfig({}, root).worker)).toEqual(['--max-old-space-size=256', '--no-turbo-escape']);
  expect(v8Flags(loadConfig({ NIGHTJAR_WORKER_V8_ESCAPE_ANALYSIS: 'true', NIGHTJAR_WORKER_WORKFLOW_HEAP_MB: '300' }, root).worker)).toEqual(['--max-old-space-size=300']);
  // The bench's "before" arm: V8's own sizing and compiler.
  expect(v8Flags({ workflowHeapMb: 0, v8EscapeAnalysis: true })).toEqual([]);
  expect(() => loadConfig({ NIGHTJAR_WORKER_V8_ESCAPE_ANALYSIS: 'maybe' }, root)).toThrow(/NIGHTJAR_WORKER_V8_ESCAPE_ANALYSIS=.*expected one of/);
});

/**
 * Young-generation collections while a hot loop calls a function that builds a small object:
 * with escape analysis the optimized loop allocates nothing; without it every call allocates.
 * The flags are set at run time, as the worker sets them, in a process of its own.
 */
function scavengesWithFlags(flags: string[]): number {
  const script = `
    for (const flag of ${JSON.stringify(flags)}) require('node:v8').setFlagsFromString(flag);
    function pair(n) { const o = { a: n, b: n + 1 }; return o.a + o.b; }
    function sum() { let s = 0; for (let i = 0; i < 2e7; i++) s += pair(i); return s; }
    if (sum() <= 0) process.exit(3);`;
  // Optimized on the main thread, not in the background: a busy machine cannot delay the optimized code.
  const run = spawnSync(process.execPath, ['--trace-gc', '--no-concurrent-recompilation', '--no-concurrent-osr', '-e', script], { encoding: 'utf8' });
  expect(run.status).toBe(0);
  return run.stdout.split('\n').filter((line) => line.includes('Scavenge')).length;
}

test('escape analysis turned off at run time reaches the optimizing compiler', () => {
  const defaults = loadConfig({}, root).worker;
  const off = scavengesWithFlags(v8Flags(defaults));
  const on = scavengesWithFlags(v8Flags({ ...defaults, v8EscapeAnalysis: true }));
  expect(on).toBeLessThan(20);
  expect(off).toBeGreaterThan(100);
});

import type { WorkerConfig } from '../src/config/worker';
import type { ScaleArm } from './scale';

/**
 * The worker set-ups the scale bench can compare (`--scale-arms=a,b,…`): the configured tuning,
 * the defaults before the worker's weight was measured apart (no workflow heap limit: 0), and one
 * knob moved at a time (from `before` for the SDK's options, from `configured` for the process's
 * memory settings: malloc arenas, V8's young generation, the optimizing compiler's escape analysis).
 */
export function scaleArms(configured: WorkerConfig, names: readonly string[]): ScaleArm[] {
  const before: WorkerConfig = { ...configured, maxCachedWorkflows: 500, maxConcurrentWorkflowTasks: 20, maxWorkflowTaskPolls: 10, maxConcurrentActivities: 200, maxActivityTaskPolls: 10, workflowThreads: 1, workflowHeapMb: 0, v8EscapeAnalysis: true };
  const arms: Record<string, ScaleArm> = {
    configured: { name: 'configured', tuning: configured },
    before: { name: 'before', tuning: before },
    'cache-50': { name: 'cache-50', tuning: { ...before, maxCachedWorkflows: 50 } },
    'cache-200': { name: 'cache-200', tuning: { ...before, maxCachedWorkflows: 200 } },
    'threads-2': { name: 'threads-2', tuning: { ...before, workflowThreads: 2 } },
    'wft-40': { name: 'wft-40', tuning: { ...before, maxConcurrentWorkflowTasks: 40, maxWorkflowTaskPolls: 20 } },
    'wft-8': { name: 'wft-8', tuning: { ...before, maxConcurrentWorkflowTasks: 8, maxWorkflowTaskPolls: 4 } },
    'heap-256': { name: 'heap-256', tuning: { ...before, workflowHeapMb: 256 } },
    'heap-192': { name: 'heap-192', tuning: { ...configured, workflowHeapMb: 192, maxCachedWorkflows: 200 } },
    'arena-2': { name: 'arena-2', tuning: configured, env: { MALLOC_ARENA_MAX: '2' } },
    'semi-8': { name: 'semi-8', tuning: configured, execArgv: ['--max-semi-space-size=8'] },
    'escape-on': { name: 'escape-on', tuning: { ...configured, v8EscapeAnalysis: true } },
  };
  return names.map((name) => {
    const arm = arms[name];
    if (arm === undefined) throw new Error(`unknown scale arm ${name}; known: ${Object.keys(arms).join(', ')}`);
    return arm;
  });
}

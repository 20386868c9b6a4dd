import v8 from 'node:v8';
import type { WorkerOptions } from '@temporalio/worker';
import type { WorkerConfig } from '../config/worker';

type TuningOptions =
  | 'maxConcurrentActivityTaskExecutions'
  | 'maxCachedWorkflows'
  | 'maxConcurrentWorkflowTaskExecutions'
  | 'maxConcurrentWorkflowTaskPolls'
  | 'maxConcurrentActivityTaskPolls'
  | 'workflowThreadPoolSize'
  | 'reuseV8Context';

/** How much the worker runs and keeps at once (README, "The worker's own weight"). */
export function workerTuning(worker: WorkerConfig): Pick<WorkerOptions, TuningOptions> {
  return {
    // Awaiting Spark attempts is most of what runs at once: one slot per attempt being watched.
    maxConcurrentActivityTaskExecutions: worker.maxConcurrentActivities,
    maxCachedWorkflows: worker.maxCachedWorkflows,
    maxConcurrentWorkflowTaskExecutions: worker.maxConcurrentWorkflowTasks,
    maxConcurrentWorkflowTaskPolls: worker.maxWorkflowTaskPolls,
    maxConcurrentActivityTaskPolls: worker.maxActivityTaskPolls,
    workflowThreadPoolSize: worker.workflowThreads,
    // One V8 context per workflow thread, each workflow's globals swapped in and out (the SDK's
    // default, stated so that no one runs the per-workflow-context model by accident).
    reuseV8Context: true,
  };
}

/** What the V8 flags are made from. */
type V8Settings = Pick<WorkerConfig, 'workflowHeapMb' | 'v8EscapeAnalysis'>;

/**
 * The V8 flags the worker sets before Worker.create (README, "The worker's own weight"):
 * - `--max-old-space-size`: caps the old generation of every V8 heap created from then on: the
 *   SDK's workflow threads, made by Worker.create without resource limits, take their heap size
 *   from V8's flags. The main thread's heap is already sized (by NODE_OPTIONS, if at all) and
 *   keeps its limit. 0 (the bench's "before" arm) leaves V8's own sizing.
 * - `--no-turbo-escape` unless escape analysis is asked for: the optimizing compiler's escape
 *   analysis over the bundle's largest module functions held hundreds of MiB (see WorkerConfig).
 */
export function v8Flags(worker: V8Settings): string[] {
  return [
    ...(worker.workflowHeapMb > 0 ? [`--max-old-space-size=${worker.workflowHeapMb}`] : []),
    ...(worker.v8EscapeAnalysis ? [] : ['--no-turbo-escape']),
  ];
}

/** Sets `v8Flags(worker)`; call it before Worker.create. */
export function applyV8Flags(worker: V8Settings): void {
  for (const flag of v8Flags(worker)) v8.setFlagsFromString(flag);
}

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

/**
 * Caps the old generation of every V8 heap created from now on: the SDK's workflow threads, made
 * by Worker.create without resource limits, take their heap size from V8's flags. The main
 * thread's heap is already sized (by NODE_OPTIONS, if at all) and keeps its limit. Call it
 * before Worker.create.
 */
export function limitWorkflowThreadHeap(worker: WorkerConfig): void {
  v8.setFlagsFromString(`--max-old-space-size=${worker.workflowHeapMb}`);
}

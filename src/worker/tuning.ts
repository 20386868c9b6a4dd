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

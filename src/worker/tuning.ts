import type { WorkerOptions } from '@temporalio/worker';
import type { WorkerConfig } from '../config/worker';

/** How much the worker runs and keeps at once (README, "The worker's own weight"). */
export function workerTuning(worker: WorkerConfig): Pick<WorkerOptions, 'maxConcurrentActivityTaskExecutions' | 'maxCachedWorkflows' | 'maxConcurrentWorkflowTaskExecutions'> {
  return {
    // Awaiting Spark attempts is most of what runs at once: one slot per attempt being watched.
    maxConcurrentActivityTaskExecutions: worker.maxConcurrentActivities,
    maxCachedWorkflows: worker.maxCachedWorkflows,
    maxConcurrentWorkflowTaskExecutions: worker.maxConcurrentWorkflowTasks,
  };
}

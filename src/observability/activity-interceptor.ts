import { performance } from 'node:perf_hooks';
import { CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { businessDateOf, tenantOf, withLogContext, type LogContext } from './log-context';
import type { NightjarMetrics, StepOutcome } from './metrics';

/**
 * Runs every activity inside its log context (workflow id, step, attempt, business date,
 * tenant: the pino mixin adds them to each line) and times it into
 * `nightjar_step_duration_seconds`.
 */
export function observeActivities(metrics: NightjarMetrics): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const { info } = ctx;
        const workflowId = info.workflowExecution?.workflowId;
        const businessDate = businessDateOf(input.args, workflowId);
        const tenant = tenantOf(input.args, workflowId);
        const context: LogContext = {
          ...(workflowId !== undefined ? { workflowId } : {}),
          ...(info.workflowExecution?.runId !== undefined ? { runId: info.workflowExecution.runId } : {}),
          step: info.activityType,
          attempt: info.attempt,
          ...(businessDate !== undefined ? { businessDate } : {}),
          ...(tenant !== undefined ? { tenant } : {}),
        };
        const started = performance.now();
        let outcome: StepOutcome = 'failed';
        try {
          const result = await withLogContext(context, () => next(input));
          outcome = 'succeeded';
          return result;
        } catch (error) {
          if (error instanceof CancelledFailure || ctx.cancellationSignal.aborted) outcome = 'cancelled';
          throw error;
        } finally {
          metrics.stepFinished(info.activityType, outcome, (performance.now() - started) / 1000);
        }
      },
    },
  });
}

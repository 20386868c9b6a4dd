/**
 * The worker's half of tenant isolation: every activity of a night names its tenant (in its input
 * or its workflow id), and a worker runs only its own tenant's. A night of another tenant that
 * reached this task queue (a trigger configured with the wrong queue, a start by hand) fails its
 * first activity with `TenantNotServed`, non-retryable, before it reads a file or a key.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { FailureType } from '../common/failures';
import { nightOfWorkflowId } from '../domain/ids';

/** The tenants an activity's input and workflow id name (none for tenant-less work: the janitor). */
export function tenantsNamed(args: readonly unknown[], workflowId: string | undefined): string[] {
  const named = new Set<string>();
  const first = args[0];
  if (typeof first === 'object' && first !== null) {
    const tenant = (first as { tenant?: unknown }).tenant;
    if (typeof tenant === 'string') named.add(tenant);
    const manifest = (first as { manifest?: { tenant?: unknown } }).manifest;
    if (typeof manifest === 'object' && manifest !== null && typeof manifest.tenant === 'string') named.add(manifest.tenant);
  }
  const night = workflowId === undefined ? undefined : nightOfWorkflowId(workflowId, { children: true });
  if (night !== undefined) named.add(night.tenant);
  return [...named];
}

export function guardTenant(tenant: string, taskQueue: string): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const workflowId = ctx.info.workflowExecution?.workflowId;
        const foreign = tenantsNamed(input.args, workflowId).filter((t) => t !== tenant);
        if (foreign.length > 0) {
          throw ApplicationFailure.create({
            type: FailureType.TenantNotServed,
            nonRetryable: true,
            message:
              `this worker serves tenant '${tenant}' on task queue '${taskQueue}', not '${foreign.join("', '")}' ` +
              `(workflow ${workflowId ?? '?'}, activity ${ctx.info.activityType}): the night was started on the wrong task queue`,
          });
        }
        return next(input);
      },
    },
  });
}

/**
 * Identifiers derived from the business date, so that every trigger for a date converges on
 * one workflow and every retry finds what the first try created.
 */
export function dailyWorkflowId(businessDate: string, tenant = 'default'): string {
  return tenant === 'default' ? `nightjar-daily-${businessDate}` : `nightjar-daily-${tenant}-${businessDate}`;
}

/**
 * A daily workflow id (`nightjar-daily-[<tenant>-]<date>`), optionally followed by the suffix of a
 * workflow the night started (`-<job>`, `-<job>-r2`: always a letter first, never a date).
 */
const DAILY_WORKFLOW_ID = /^nightjar-daily-(?:([a-z0-9][-a-z0-9]*)-)?(\d{4}-\d{2}-\d{2})(?:-([a-z][-a-z0-9]*))?$/;

/**
 * The night a workflow id belongs to (the inverse of `dailyWorkflowId`): the daily workflow's
 * own id, or with `children` also the id of a workflow it started.
 */
export function nightOfWorkflowId(workflowId: string, opts: { readonly children?: boolean } = {}): { readonly tenant: string; readonly businessDate: string } | undefined {
  const m = DAILY_WORKFLOW_ID.exec(workflowId);
  if (!m || (m[3] !== undefined && !opts.children)) return undefined;
  return { tenant: m[1] ?? 'default', businessDate: m[2] as string };
}

export function sparkJobWorkflowId(parentWorkflowId: string, job: string): string {
  return `${parentWorkflowId}-${job}`;
}

/**
 * One Spark attempt: unique per workflow run (a forced re-run of a date must not adopt the
 * previous run's attempts) and stable across activity retries within the run. Short and
 * DNS-1123 friendly, since it also names Kubernetes objects.
 */
export function sparkAttemptId(businessDate: string, job: string, runId: string, attempt: number): string {
  const run = runId.replace(/[^a-z0-9]/gi, '').slice(0, 8).toLowerCase();
  return `nj-${businessDate.replace(/-/g, '')}-${job}-${run}-a${attempt}`;
}

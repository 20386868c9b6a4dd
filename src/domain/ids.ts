/**
 * Identifiers derived from the business date, so that every trigger for a date converges on
 * one workflow and every retry finds what the first try created.
 */
export function dailyWorkflowId(businessDate: string, tenant = 'default'): string {
  return tenant === 'default' ? `nightjar-daily-${businessDate}` : `nightjar-daily-${tenant}-${businessDate}`;
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

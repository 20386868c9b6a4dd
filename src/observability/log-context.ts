import { AsyncLocalStorage } from 'node:async_hooks';
import { nightOfWorkflowId } from '../domain/ids';

/** What every log line written while an activity runs carries, with no change to the activity. */
export interface LogContext {
  readonly workflowId?: string;
  readonly runId?: string;
  /** The activity type: planRun, ingestFeed, awaitSparkJob, exportReports, … */
  readonly step: string;
  readonly attempt: number;
  readonly businessDate?: string;
  readonly tenant?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

/** Runs `fn` with `context` visible to every log line written under it (pino mixin). */
export function withLogContext<T>(context: LogContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The context of the activity running on this async path, if any. */
export function currentLogContext(): LogContext | undefined {
  return storage.getStore();
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const ANY_DATE = /(?:^|\D)(\d{4}-\d{2}-\d{2})(?:\D|$)/;

/**
 * The business date of an activity call: the first argument's `businessDate` (or its manifest's),
 * else the date in the workflow id.
 */
export function businessDateOf(args: readonly unknown[], workflowId: string | undefined): string | undefined {
  const first = args[0];
  if (isRecord(first)) {
    if (typeof first.businessDate === 'string' && DATE.test(first.businessDate)) return first.businessDate;
    if (isRecord(first.manifest) && typeof first.manifest.businessDate === 'string') return first.manifest.businessDate;
  }
  if (workflowId === undefined) return undefined;
  return (nightOfWorkflowId(workflowId, { children: true })?.businessDate ?? ANY_DATE.exec(workflowId)?.[1]) || undefined;
}

/** The tenant of an activity call: the first argument's `tenant`, else the one in a daily workflow id. */
export function tenantOf(args: readonly unknown[], workflowId: string | undefined): string | undefined {
  const first = args[0];
  if (isRecord(first)) {
    if (typeof first.tenant === 'string') return first.tenant;
    if (isRecord(first.manifest) && typeof first.manifest.tenant === 'string') return first.manifest.tenant;
  }
  return workflowId === undefined ? undefined : nightOfWorkflowId(workflowId, { children: true })?.tenant;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

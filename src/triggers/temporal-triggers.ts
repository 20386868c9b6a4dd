/**
 * The triggers every door uses (HTTP API, Kafka bridge, CLI, the nightly trigger), on the
 * Temporal client: one workflow per tenant and business date, joined when it runs, started again
 * only when the previous run failed or was cancelled — a completed night is never redone by a
 * trigger (a forced re-run is explicit: `start --force`).
 *
 * Every call first passes the deployment's `TriggerPolicy`: another tenant's night is refused
 * (never started on this deployment's task queue), so are dates outside the window and overrides
 * above the caps. A night carries its search attributes from the start request on, so it is
 * listed before any worker has run it, and its overrides in its memo, so a second start with other
 * overrides is refused with the running night's settings instead of being dropped.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowIdReusePolicy,
} from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { dailyWorkflowId } from '../domain/ids';
import type { SparkOverrides } from '../domain/pipeline';
import type { FeedArrival, FeedArrivalInput } from '../domain/triggers';
import { DAILY_PIPELINE, feedArrivedSignal, statusQuery, type DailyPipeline, type PipelineStatus } from '../workflows/messages';
import { SearchAttr } from '../workflows/search-attributes';
import { ApiErrorCode, TriggerRejected, TriggerUnavailable, type RunningNight } from './errors';
import type { NightTriggers } from './http-api';
import type { NightjarConfig } from '../config/config';
import { admitNight, tenantRefusal, triggerPolicy, type TriggerPolicy } from './policy';

export interface StartNightRequest {
  readonly businessDate: string;
  readonly tenant: string;
  readonly sparkOverrides?: SparkOverrides;
  /** Run again even if the date completed (replaces its reports; nothing is doubled). */
  readonly force?: boolean;
}

/** Where this deployment's nights run, and what it admits. */
export interface TriggerTarget {
  readonly namespace: string;
  readonly taskQueue: string;
  readonly policy: TriggerPolicy;
  /** How long a status query may wait for a worker's answer (default 5 s). */
  readonly queryTimeoutMs?: number;
}

/** This deployment's target: its namespace, its tenant's task queue, its policy. */
export function triggerTargetOf(config: NightjarConfig, now?: () => number): TriggerTarget {
  return { namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue, policy: triggerPolicy(config, now) };
}

const RERUN_FAILED_ONLY: WorkflowIdReusePolicy = 'ALLOW_DUPLICATE_FAILED_ONLY';
/** The memo field holding the overrides a night started with (encrypted like every payload). */
const OVERRIDES_MEMO = 'sparkOverrides';
const DEFAULT_QUERY_TIMEOUT_MS = 5_000;
/** What a caller is told to wait before asking again when no worker polls. */
const NO_WORKER_RETRY_AFTER_SECONDS = 30;

/** The search attributes a night carries from its start request on (the workflow keeps them current). */
export function nightSearchAttributes(night: { readonly businessDate: string; readonly tenant: string }): TypedSearchAttributes {
  return new TypedSearchAttributes([
    { key: SearchAttr.businessDate, value: night.businessDate },
    { key: SearchAttr.tenant, value: night.tenant },
    { key: SearchAttr.status, value: 'RUNNING' },
    { key: SearchAttr.stage, value: 'awaiting-feeds' },
  ]);
}

/** Structural equality of two JSON values (object keys in any order). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

const isEmpty = (overrides: SparkOverrides | undefined) => overrides === undefined || Object.values(overrides).every((o) => o === undefined || Object.keys(o).length === 0);

export class TemporalNightTriggers implements NightTriggers {
  constructor(
    private readonly client: Client,
    private readonly target: TriggerTarget,
  ) {}

  async startNight(req: StartNightRequest): Promise<{ workflowId: string; runId: string; started: boolean }> {
    admitNight(this.target.policy, req);
    const workflowId = dailyWorkflowId(req.businessDate, req.tenant);
    const overrides = isEmpty(req.sparkOverrides) ? undefined : req.sparkOverrides;
    try {
      // The server decides who starts it: two triggers at once get one run, and the loser learns
      // it joined (a running night) or was refused (a completed one).
      const handle = await this.client.workflow.start<DailyPipeline>(DAILY_PIPELINE, {
        taskQueue: this.target.taskQueue,
        workflowId,
        args: [{ businessDate: req.businessDate, tenant: req.tenant, ...(overrides ? { sparkOverrides: overrides } : {}) }],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: req.force ? 'ALLOW_DUPLICATE' : RERUN_FAILED_ONLY,
        typedSearchAttributes: nightSearchAttributes(req),
        ...(overrides ? { memo: { [OVERRIDES_MEMO]: overrides } } : {}),
        staticSummary: `Night ${req.tenant} ${req.businessDate}`,
      });
      return { workflowId, runId: handle.firstExecutionRunId, started: true };
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      const existing = await this.describe(workflowId);
      if (existing?.status !== 'RUNNING') {
        throw new TriggerRejected({
          code: 'NIGHT_COMPLETED',
          status: 409,
          message: `the night ${req.tenant} ${req.businessDate} already completed; re-run it explicitly (force) to replace its reports`,
        });
      }
      // Joining is only honest when the night runs as asked: other overrides would be dropped.
      if (overrides !== undefined && !sameJson(overrides, existing.night.sparkOverrides ?? {})) {
        throw new TriggerRejected({
          code: 'OVERRIDES_NOT_APPLIED',
          status: 409,
          message:
            `the night ${req.tenant} ${req.businessDate} is already running with ${existing.night.sparkOverrides ? 'other overrides' : 'no overrides'}; ` +
            'its sizes cannot change now: wait for it, or cancel it and start again, or retry a parked Spark step with overrides (resolveStep)',
          night: existing.night,
        });
      }
      return { workflowId, runId: existing.night.runId, started: false };
    }
  }

  async reportFeedArrival(arrival: FeedArrival): Promise<{ workflowId: string; runId: string }> {
    admitNight(this.target.policy, arrival);
    const workflowId = dailyWorkflowId(arrival.businessDate, arrival.tenant);
    try {
      const handle = await this.client.workflow.signalWithStart<DailyPipeline, [FeedArrivalInput]>(DAILY_PIPELINE, {
        taskQueue: this.target.taskQueue,
        workflowId,
        args: [{ businessDate: arrival.businessDate, tenant: arrival.tenant }],
        signal: feedArrivedSignal,
        signalArgs: [arrival],
        workflowIdReusePolicy: RERUN_FAILED_ONLY,
        typedSearchAttributes: nightSearchAttributes(arrival),
        staticSummary: `Night ${arrival.tenant} ${arrival.businessDate}`,
      });
      return { workflowId, runId: handle.signaledRunId };
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        throw new TriggerRejected(
          { code: 'NIGHT_COMPLETED', status: 409, message: `the night ${arrival.tenant} ${arrival.businessDate} already completed; a feed cannot join it` },
          { cause: error },
        );
      }
      throw error;
    }
  }

  /**
   * The night's status query. Refused at once (no query sent) when no worker polls the night's
   * task queue, and after a short deadline when none answers, instead of the server's minute.
   */
  async status(req: { businessDate: string; tenant: string }): Promise<PipelineStatus | undefined> {
    const foreign = tenantRefusal(this.target.policy, req.tenant);
    if (foreign) throw foreign;
    const workflowId = dailyWorkflowId(req.businessDate, req.tenant);
    const described = await this.describe(workflowId);
    if (described === undefined) return undefined;
    if (described.status === 'RUNNING' && !(await this.hasPollers(described.taskQueue))) {
      throw new TriggerUnavailable(
        ApiErrorCode.NoWorker,
        `no worker is polling task queue '${described.taskQueue}': the night ${req.tenant} ${req.businessDate} cannot answer until one runs (nightjar worker)`,
        NO_WORKER_RETRY_AFTER_SECONDS,
      );
    }
    const timeoutMs = this.target.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
    try {
      return await this.client.withDeadline(Date.now() + timeoutMs, () => this.client.workflow.getHandle(workflowId).query(statusQuery));
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      if (isDeadlineExceeded(error)) {
        throw new TriggerUnavailable(
          ApiErrorCode.NoWorker,
          `no worker answered the status query of ${req.tenant} ${req.businessDate} within ${timeoutMs / 1000} s (task queue '${described.taskQueue}'); the workers may be busy or stopping`,
          Math.ceil(timeoutMs / 1000),
          { cause: error },
        );
      }
      throw error;
    }
  }

  /** True when at least one worker polled the workflow task queue recently. */
  private async hasPollers(taskQueue: string): Promise<boolean> {
    const described = await this.client.workflowService.describeTaskQueue({
      namespace: this.target.namespace,
      taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    return (described.pollers ?? []).length > 0;
  }

  private async describe(workflowId: string): Promise<{ status: string; taskQueue: string; night: RunningNight } | undefined> {
    try {
      const d = await this.client.workflow.getHandle(workflowId).describe();
      const memo = d.memo?.[OVERRIDES_MEMO];
      return {
        status: d.status.name,
        taskQueue: d.taskQueue,
        night: { workflowId, runId: d.runId, ...(memo && typeof memo === 'object' ? { sparkOverrides: memo as Record<string, unknown> } : {}) },
      };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  }
}

const GRPC_DEADLINE_EXCEEDED = 4;

function isDeadlineExceeded(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === 'object' && depth < 4; depth += 1) {
    if ((e as { code?: unknown }).code === GRPC_DEADLINE_EXCEEDED) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * The triggers every door uses (HTTP API, Kafka bridge, CLI, the nightly trigger), on the
 * Temporal client: one workflow per tenant and business date, joined when it runs, started again
 * only when the previous run failed or was cancelled — a completed night is never redone by a
 * trigger (a forced re-run is explicit: `start --force`).
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowIdReusePolicy,
} from '@temporalio/client';
import { dailyWorkflowId } from '../domain/ids';
import type { SparkOverrides } from '../domain/pipeline';
import type { FeedArrival, FeedArrivalInput } from '../domain/triggers';
import { DAILY_PIPELINE, feedArrivedSignal, statusQuery, type DailyPipeline, type PipelineStatus } from '../workflows/messages';
import { TriggerRejected } from './errors';
import type { NightTriggers } from './http-api';

export interface StartNightRequest {
  readonly businessDate: string;
  readonly tenant: string;
  readonly sparkOverrides?: SparkOverrides;
  /** Run again even if the date completed (replaces its reports; nothing is doubled). */
  readonly force?: boolean;
}


const RERUN_FAILED_ONLY: WorkflowIdReusePolicy = 'ALLOW_DUPLICATE_FAILED_ONLY';

export class TemporalNightTriggers implements NightTriggers {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  async startNight(req: StartNightRequest): Promise<{ workflowId: string; runId: string; started: boolean }> {
    const workflowId = dailyWorkflowId(req.businessDate, req.tenant);
    const completed = () =>
      new TriggerRejected({
        code: 'NIGHT_COMPLETED',
        status: 409,
        message: `the night ${req.tenant} ${req.businessDate} already completed; re-run it explicitly (force) to replace its reports`,
      });
    try {
      // The server decides who starts it: two triggers at once get one run, and the loser learns
      // it joined (a running night) or was refused (a completed one).
      const handle = await this.client.workflow.start<DailyPipeline>(DAILY_PIPELINE, {
        taskQueue: this.taskQueue,
        workflowId,
        args: [{ businessDate: req.businessDate, tenant: req.tenant, ...(req.sparkOverrides ? { sparkOverrides: req.sparkOverrides } : {}) }],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: req.force ? 'ALLOW_DUPLICATE' : RERUN_FAILED_ONLY,
        staticSummary: `Night ${req.tenant} ${req.businessDate}`,
      });
      return { workflowId, runId: handle.firstExecutionRunId, started: true };
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      const existing = await this.describe(workflowId);
      if (existing?.status === 'RUNNING') return { workflowId, runId: existing.runId, started: false };
      throw completed();
    }
  }

  async reportFeedArrival(arrival: FeedArrival): Promise<{ workflowId: string; runId: string }> {
    const workflowId = dailyWorkflowId(arrival.businessDate, arrival.tenant);
    try {
      const handle = await this.client.workflow.signalWithStart<DailyPipeline, [FeedArrivalInput]>(DAILY_PIPELINE, {
        taskQueue: this.taskQueue,
        workflowId,
        args: [{ businessDate: arrival.businessDate, tenant: arrival.tenant }],
        signal: feedArrivedSignal,
        signalArgs: [arrival],
        workflowIdReusePolicy: RERUN_FAILED_ONLY,
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

  async status(req: { businessDate: string; tenant: string }): Promise<PipelineStatus | undefined> {
    const handle = this.client.workflow.getHandle(dailyWorkflowId(req.businessDate, req.tenant));
    try {
      return await handle.query(statusQuery);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  }

  private async describe(workflowId: string): Promise<{ status: string; runId: string } | undefined> {
    try {
      const d = await this.client.workflow.getHandle(workflowId).describe();
      return { status: d.status.name, runId: d.runId };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  }
}

import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  ActivityFailure,
  executeChild,
  isCancellation,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { FailureType } from '../common/failures';
import type {
  AttemptRecord,
  FeedIngested,
  FeedManifestEntry,
  FeedNormalized,
  ReportProduced,
  RunManifest,
  RunStatus,
  SizingManifestEntry,
  SparkOverrides,
  StepName,
  StepRecord,
  TableExported,
} from '../domain/pipeline';
import type { SparkJobName } from '../domain/spark/resources';
import { sparkJobWorkflowId } from '../domain/ids';
import { reconcileFeeds } from '../domain/reconcile';
import { EXPORT_ACTIVITY, FINALIZE_ACTIVITY, INGEST_ACTIVITY, PLAN_ACTIVITY, SIZING_ACTIVITY } from './presets';
import { statusQuery } from './messages';
import { SearchAttr } from './search-attributes';
import { sparkJob, type SparkJobFailureDetails, type SparkJobResult } from './spark-job';

type Activities = ReturnType<typeof createActivities>;
type RunPlan = Awaited<ReturnType<Activities['planRun']>>;

const { planRun } = proxyActivities<Activities>(PLAN_ACTIVITY);
const { ingestFeed } = proxyActivities<Activities>(INGEST_ACTIVITY);
const { exportReports } = proxyActivities<Activities>(EXPORT_ACTIVITY);
const { finalizeRun } = proxyActivities<Activities>(FINALIZE_ACTIVITY);
const { recordSparkSizing } = proxyActivities<Activities>(SIZING_ACTIVITY);

export interface DailyPipelineInput {
  readonly businessDate: string;
  /** Per-job resource overrides for this night only (e.g. an operator's re-run with more memory). */
  readonly sparkOverrides?: SparkOverrides;
}

export interface DailyPipelineResult {
  readonly businessDate: string;
  readonly status: RunStatus;
  readonly manifestUri: string;
  readonly feeds: readonly FeedManifestEntry[];
  readonly reports: readonly TableExported[];
}

interface StepError {
  step: StepName;
  type: string;
  message: string;
}

/** The unwrapped cause of an activity or child workflow failure: its type and message. */
function describeFailure(err: unknown): { type: string; message: string } {
  let e: unknown = err;
  while ((e instanceof ActivityFailure || e instanceof ChildWorkflowFailure) && e.cause) e = e.cause;
  if (e instanceof ApplicationFailure) return { type: e.type ?? 'ApplicationFailure', message: e.message };
  if (e instanceof Error) return { type: e.name, message: e.message };
  return { type: 'Unknown', message: String(err) };
}

/** Attempt history carried in a sparkJob failure's details, so a failed night still shows it. */
function attemptsFromFailure(err: unknown): AttemptRecord[] {
  let e: unknown = err;
  while (e instanceof ChildWorkflowFailure && e.cause) e = e.cause;
  if (e instanceof ApplicationFailure) {
    const details = e.details?.[0] as SparkJobFailureDetails | undefined;
    if (details && Array.isArray(details.attempts)) return [...details.attempts];
  }
  return [];
}

/**
 * One business date, end to end: ingest every feed → Spark normalize → Spark transform →
 * export to the reporting store → finalize (manifest + operational reports). The workflow id
 * is derived from the date, so a second trigger joins this run instead of duplicating it.
 */
export async function dailyPipeline(input: DailyPipelineInput): Promise<DailyPipelineResult> {
  const { businessDate } = input;
  const info = workflowInfo();
  const startedAt = new Date().toISOString();

  let status: RunStatus = 'RUNNING';
  let stage: StepName | 'done' = 'ingest';
  let error: StepError | undefined;
  const steps: StepRecord[] = [];
  let feeds: FeedManifestEntry[] = [];
  let reports: TableExported[] = [];
  const sizing: SizingManifestEntry[] = [];
  upsertSearchAttributes([{ key: SearchAttr.businessDate, value: businessDate }]);
  setHandler(statusQuery, () => ({ businessDate, status, stage, feeds, steps, error }));

  /** Runs one step, recording its timing and attempts whatever the outcome. */
  async function step<T>(name: StepName, body: () => Promise<{ value: T; attempts: AttemptRecord[] }>): Promise<T> {
    stage = name;
    setCurrentDetails(`**${businessDate}**: ${name}`);
    const begun = new Date().toISOString();
    try {
      const { value, attempts } = await body();
      steps.push({ step: name, status: 'COMPLETED', startedAt: begun, finishedAt: new Date().toISOString(), attempts });
      return value;
    } catch (err) {
      const cancelled = isCancellation(err);
      steps.push({
        step: name,
        status: cancelled ? 'CANCELLED' : 'FAILED',
        startedAt: begun,
        finishedAt: new Date().toISOString(),
        attempts: attemptsFromFailure(err),
      });
      if (!cancelled) error = { step: name, ...describeFailure(err) };
      throw err;
    }
  }

  /** A non-Spark step's single attempt record (activity retries happen inside Temporal). */
  const simpleAttempt = (begun: Date, attempt: number): AttemptRecord => {
    const end = new Date();
    return {
      attempt,
      outcome: 'SUCCEEDED',
      resources: null,
      startedAt: begun.toISOString(),
      finishedAt: end.toISOString(),
      durationMs: end.getTime() - begun.getTime(),
    };
  };

  /** Records what the job's night says about its size (learned sizing); never fails the night. */
  async function learnSizing(job: SparkJobName, plan: RunPlan, attempts: readonly AttemptRecord[], succeeded: boolean): Promise<void> {
    const planned = plan.jobs[job];
    const last = attempts[attempts.length - 1];
    try {
      sizing.push(
        await recordSparkSizing.executeWithOptions({ ...SIZING_ACTIVITY, summary: `record ${job} sizing` }, [
          {
            businessDate,
            job,
            source: planned.sizingSource,
            configured: planned.configured,
            startedFrom: planned.resources,
            finalResources: last?.resources ?? planned.resources,
            attempts: attempts.length,
            succeeded,
          },
        ]),
      );
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn('could not record learned sizing', { job, error: describeFailure(err) });
    }
  }

  async function runSpark(job: SparkJobName, inputs: Record<string, string>, plan: RunPlan): Promise<SparkJobResult> {
    let result: SparkJobResult;
    try {
      result = await runSparkStep(job, inputs, plan);
    } catch (err) {
      if (plan.learnSizing && !isCancellation(err)) await learnSizing(job, plan, attemptsFromFailure(err), false);
      throw err;
    }
    if (plan.learnSizing) await learnSizing(job, plan, result.attempts, true);
    return result;
  }

  async function runSparkStep(job: SparkJobName, inputs: Record<string, string>, plan: RunPlan): Promise<SparkJobResult> {
    return step(job, async () => {
      const result = await executeChild(sparkJob, {
        workflowId: sparkJobWorkflowId(info.workflowId, job),
        staticSummary: `Spark ${job} for ${businessDate}`,
        args: [
          {
            businessDate,
            job,
            parentWorkflowId: info.workflowId,
            parentRunId: info.runId,
            inputs,
            resources: plan.jobs[job].resources,
            policy: plan.jobs[job].policy,
          },
        ],
      });
      return { value: result, attempts: [...result.attempts] };
    });
  }

  let manifestUri = '';
  try {
    const plan = await planRun({ businessDate, sparkOverrides: input.sparkOverrides });

    const ingested = await step('ingest', async () => {
      const begun = new Date();
      const results = await Promise.all(
        plan.feeds.map(({ feed }) =>
          ingestFeed.executeWithOptions({ ...INGEST_ACTIVITY, summary: `ingest ${feed} for ${businessDate}` }, [{ businessDate, feed }]),
        ),
      );
      const maxAttempt = Math.max(...results.map((r) => r.attempt));
      return { value: results, attempts: [simpleAttempt(begun, maxAttempt)] };
    });
    feeds = ingested.map((f) => manifestEntry(f, undefined));

    const present = ingested.filter((f) => f.status === 'INGESTED' && f.rawUri !== null);
    const normalize = await runSpark('normalize', Object.fromEntries(present.map((f) => [f.feed, f.rawUri as string])), plan);
    if (normalize.output.job !== 'normalize') throw ApplicationFailure.nonRetryable('normalize returned another job\'s output', FailureType.SparkJobFailed);
    const normalized = normalize.output.feeds;
    feeds = ingested.map((f) => manifestEntry(f, normalized.find((n) => n.feed === f.feed)));
    const problems = reconcileFeeds(ingested, normalized);
    if (problems.length > 0) {
      error = { step: 'normalize', type: FailureType.ReconciliationFailed, message: problems.join('; ') };
      throw ApplicationFailure.nonRetryable(`reconciliation failed: ${problems.join('; ')}`, FailureType.ReconciliationFailed);
    }

    const transform = await runSpark('transform', Object.fromEntries(normalized.map((n) => [n.feed, n.curatedUri])), plan);
    if (transform.output.job !== 'transform') throw ApplicationFailure.nonRetryable('transform returned another job\'s output', FailureType.SparkJobFailed);
    const produced: readonly ReportProduced[] = transform.output.reports;

    const exported = await step('export', async () => {
      const begun = new Date();
      const result = await exportReports({ businessDate, reports: produced });
      return { value: result, attempts: [simpleAttempt(begun, 1)] };
    });
    reports = [...exported.tables];
    status = 'COMPLETED';
  } catch (err) {
    status = isCancellation(err) ? 'CANCELLED' : 'FAILED';
    if (!error && !isCancellation(err)) error = { step: stage as StepName, ...describeFailure(err) };
    throw err;
  } finally {
    // The manifest is the audit trail: it is written for failed and cancelled nights too.
    stage = 'finalize';
    const manifest: RunManifest = {
      businessDate,
      status,
      workflowId: info.workflowId,
      runId: info.runId,
      startedAt,
      finishedAt: new Date().toISOString(),
      ...(error ? { error } : {}),
      feeds,
      steps,
      reports,
      ...(sizing.length > 0 ? { sizing } : {}),
    };
    try {
      const finalized = await CancellationScope.nonCancellable(() => finalizeRun({ manifest }));
      manifestUri = finalized.manifestUri;
      reports = [...reports, ...finalized.tables];
    } catch (finalizeErr) {
      log.error('finalize failed', { businessDate, error: describeFailure(finalizeErr) });
      if (status === 'COMPLETED') throw finalizeErr;
    }
    stage = 'done';
    setCurrentDetails(`**${businessDate}**: ${status}`);
  }
  return { businessDate, status, manifestUri, feeds, reports };
}

function manifestEntry(ingested: FeedIngested, normalized: FeedNormalized | undefined): FeedManifestEntry {
  return {
    feed: ingested.feed,
    status: ingested.status,
    rowsIn: ingested.rowsIn,
    rowsAccepted: normalized?.rowsAccepted ?? 0,
    rowsRejected: normalized?.rowsRejected ?? 0,
    rejectReasons: normalized?.rejectReasons ?? {},
    controlCount: ingested.controlCount,
    controlSum: ingested.controlSum,
    sha256: ingested.sha256,
    rawUri: ingested.rawUri,
    rejectsUri: normalized?.rejectsUri ?? null,
  };
}

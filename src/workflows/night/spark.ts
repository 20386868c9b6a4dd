import { ApplicationFailure, executeChild, isCancellation, log } from '@temporalio/workflow';
import { FailureType } from '../../common/failures';
import { sparkJobWorkflowId } from '../../domain/ids';
import { sparkChildSummary } from '../../domain/night-story';
import type { AttemptRecord, ReportProduced, RunPlan } from '../../domain/pipeline';
import { reconcileFeeds } from '../../domain/reconcile';
import type { SparkJobName } from '../../domain/spark/resources';
import { SIZING_ACTIVITY } from '../presets';
import { sparkJob, type SparkJobInput, type SparkJobResult } from '../spark-job';
import { recordSparkSizing } from './proxies';
import { attemptsFromFailure, describeFailure } from './failures';
import { parkOnFailure } from './park';
import type { Night } from './state';
import { recordedStep } from './step';

/** Spark normalize over the ingested feeds (the night's manifest then shows what it accepted and rejected). */
export async function normalize(night: Night, plan: RunPlan): Promise<void> {
  const present = night.ingestedFeeds.filter((f) => f.status === 'INGESTED' && f.rawUri !== null);
  const result = await runSpark(night, plan, 'normalize', Object.fromEntries(present.map((f) => [f.feed, f.rawUri as string])));
  if (result.output.job !== 'normalize') throw ApplicationFailure.nonRetryable("normalize returned another job's output", FailureType.SparkJobFailed);
  night.normalizedAll(result.output.feeds);
}

/** Control counts and sums of every feed must match what normalize accounted for. */
export function reconcile(night: Night): void {
  const problems = reconcileFeeds(night.ingestedFeeds, night.normalizedFeeds);
  if (problems.length > 0) {
    throw ApplicationFailure.nonRetryable(`reconciliation failed: ${problems.join('; ')}`, FailureType.ReconciliationFailed);
  }
}

/** Spark transform over the curated feeds: the reports to export. */
export async function transform(night: Night, plan: RunPlan): Promise<readonly ReportProduced[]> {
  const curated = Object.fromEntries(night.normalizedFeeds.map((n) => [n.feed, n.curatedUri]));
  const result = await runSpark(night, plan, 'transform', curated);
  if (result.output.job !== 'transform') throw ApplicationFailure.nonRetryable("transform returned another job's output", FailureType.SparkJobFailed);
  return result.output.reports;
}

/**
 * One Spark job as a child workflow, parked when it fails for good; an operator's retry runs a
 * new child that continues the attempt numbering. What the job learned about its size is
 * recorded after every outcome but a cancellation.
 */
async function runSpark(night: Night, plan: RunPlan, job: SparkJobName, inputs: Record<string, string>): Promise<SparkJobResult> {
  const result = await parkOnFailure(night, { step: job }, async () => {
    const round = night.sparkRoundStarted(job);
    try {
      const done = await recordedStep(night, job, async () => {
        const value = await executeChild(sparkJob, sparkChild(night, plan, job, inputs, round));
        return { value, attempts: [...value.attempts] };
      });
      night.sparkRoundEnded(job, done.attempts, true);
      return done;
    } catch (err) {
      const failed = attemptsFromFailure(err);
      night.sparkRoundEnded(job, failed, false);
      if (plan.learnSizing && !isCancellation(err)) await learnSizing(night, plan, job, failed, false);
      throw err;
    }
  });
  if (result === undefined) throw ApplicationFailure.nonRetryable(`${job} cannot be skipped`, FailureType.InvalidInput);
  if (plan.learnSizing) await learnSizing(night, plan, job, result.attempts, true);
  return result;
}

/** The child's id derives from the night's id (a retry round adds `-rN`), so a replayed start finds it. */
function sparkChild(
  night: Night,
  plan: RunPlan,
  job: SparkJobName,
  inputs: Record<string, string>,
  { round, nextAttempt }: { round: number; nextAttempt: number },
): { workflowId: string; staticSummary: string; args: [SparkJobInput] } {
  const planned = plan.jobs[job];
  const { workflowId, runId } = night.workflow;
  return {
    workflowId: sparkJobWorkflowId(workflowId, job) + (round > 1 ? `-r${round}` : ''),
    staticSummary: sparkChildSummary(night, job, round),
    args: [
      {
        businessDate: night.businessDate,
        job,
        parentWorkflowId: workflowId,
        parentRunId: runId,
        inputs,
        resources: { ...planned.resources, ...night.overrides[job] },
        policy: planned.policy,
        ...(nextAttempt > 1 ? { firstAttempt: nextAttempt } : {}),
      },
    ],
  };
}

/** Records what the job's night says about its size (learned sizing); never fails the night. */
async function learnSizing(night: Night, plan: RunPlan, job: SparkJobName, attempts: readonly AttemptRecord[], succeeded: boolean): Promise<void> {
  const planned = plan.jobs[job];
  const last = attempts[attempts.length - 1];
  try {
    const entry = await recordSparkSizing.executeWithOptions({ ...SIZING_ACTIVITY, summary: `record ${job} sizing` }, [
      {
        businessDate: night.businessDate,
        job,
        source: night.overrides[job] ? 'override' : planned.sizingSource,
        configured: planned.configured,
        startedFrom: attempts[0]?.resources ?? planned.resources,
        finalResources: last?.resources ?? planned.resources,
        attempts: attempts.length,
        succeeded,
      },
    ]);
    night.sizingLearned(entry);
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn('could not record learned sizing', { job, error: describeFailure(err) });
  }
}

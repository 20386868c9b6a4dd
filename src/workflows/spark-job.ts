import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { FailureType } from '../common/failures';
import { attemptEnding, attemptEndingSentence, sparkActivitySummary, type AttemptEnding, type AttemptRef } from '../domain/night-story';
import { escalateAfterOom, type EscalationPolicy } from '../domain/spark/escalation';
import type { SparkJobName, SparkResources } from '../domain/spark/resources';
import type { AttemptRecord, SparkJobOutput, SparkSubmission } from '../domain/pipeline';
import { sparkAttemptId } from '../domain/ids';
import { SPARK_AWAIT_ACTIVITY, SPARK_CLEANUP_ACTIVITY, SPARK_SUBMIT_ACTIVITY } from './presets';
import { sparkJobStatusQuery, type SparkJobStatus } from './messages';
import { SearchAttr } from './search-attributes';

type Activities = ReturnType<typeof createActivities>;

const { submitSparkJob } = proxyActivities<Activities>(SPARK_SUBMIT_ACTIVITY);
const { awaitSparkJob } = proxyActivities<Activities>(SPARK_AWAIT_ACTIVITY);
const { cleanupSparkJob } = proxyActivities<Activities>(SPARK_CLEANUP_ACTIVITY);

export interface SparkJobInput {
  readonly businessDate: string;
  readonly job: SparkJobName;
  /** The daily run this job belongs to (names attempts so a forced re-run never adopts old ones). */
  readonly parentWorkflowId: string;
  readonly parentRunId: string;
  readonly inputs: Readonly<Record<string, string>>;
  readonly resources: SparkResources;
  readonly policy: EscalationPolicy;
  /**
   * Number of this run's first attempt (default 1). An operator's retry of the step continues
   * the numbering, so its attempts never share an id (nor Kubernetes names) with earlier ones.
   */
  readonly firstAttempt?: number;
}

export interface SparkJobResult {
  readonly job: SparkJobName;
  readonly output: SparkJobOutput;
  readonly attempts: readonly AttemptRecord[];
  readonly finalResources: SparkResources;
}

/** Failure details carry the attempt history, so the parent can record it in the manifest. */
export interface SparkJobFailureDetails {
  readonly attempts: readonly AttemptRecord[];
}

/**
 * Runs one Spark job through attempts: submit, await, classify; on out-of-memory resubmit
 * with more memory (escalation policy, capped); transient failures retry with the same size.
 * Every attempt is cleaned up, whatever happens, in a non-cancellable scope.
 */
export async function sparkJob(input: SparkJobInput): Promise<SparkJobResult> {
  const { job, businessDate, policy } = input;
  const attempts: AttemptRecord[] = [];
  let current: SparkJobStatus['current'];
  setHandler(sparkJobStatusQuery, () => ({ job, attempts, current }));

  let resources = input.resources;
  let escalations = 0;
  upsertSearchAttributes([
    { key: SearchAttr.businessDate, value: businessDate },
    { key: SearchAttr.sparkJob, value: job },
    { key: SearchAttr.oomEscalations, value: 0 },
  ]);
  const first = input.firstAttempt ?? 1;
  const last = first + policy.maxAttempts - 1;
  for (let attempt = first; attempt <= last; attempt++) {
    const ref: AttemptRef = { job, attempt, maxAttempts: last };
    const attemptId = sparkAttemptId(businessDate, job, input.parentRunId, attempt);
    current = { attempt, attemptId, state: 'SUBMITTING' };
    upsertSearchAttributes([
      { key: SearchAttr.sparkAttempt, value: attempt },
      { key: SearchAttr.sparkOutcome, value: 'RUNNING' },
    ]);
    setCurrentDetails(sparkActivitySummary(ref, 'submit', resources));
    const { base, outcome, ending, output, failure } = await runAttempt(input, ref, attemptId, resources, () => {
      current = { attempt, attemptId, state: 'RUNNING' };
    });
    if (failure !== undefined) {
      const cancelled = isCancellation(failure);
      upsertSearchAttributes([{ key: SearchAttr.sparkOutcome, value: cancelled ? 'CANCELLED' : 'FAILED' }]);
      attempts.push({ ...base, outcome: cancelled ? 'CANCELLED' : 'FAILED', reason: failure instanceof Error ? failure.message : String(failure) });
      if (failure instanceof ApplicationFailure || cancelled) throw failure;
      throw ApplicationFailure.create({
        type: FailureType.SparkJobFailed,
        message: `${job} attempt ${attempt} failed: ${failure instanceof Error ? failure.message : String(failure)}`,
        nonRetryable: true,
        cause: failure instanceof Error ? failure : undefined,
        details: [{ attempts } satisfies SparkJobFailureDetails],
      });
    }
    if (!outcome || !ending) throw new Error('unreachable: an attempt ended with neither outcome nor failure');
    attempts.push(endedAttempt(base, outcome));
    upsertSearchAttributes([{ key: SearchAttr.sparkOutcome, value: outcome.kind }]);
    // The attempt's ending as the UI shows it at the top of the job's page.
    setCurrentDetails(attemptEndingSentence(ending));
    log.info('spark attempt ended', { job, attempt, outcome: outcome.kind, reason: outcome.reason });

    switch (outcome.kind) {
      case 'SUCCEEDED':
        if (!output) throw ApplicationFailure.nonRetryable(`${job} succeeded without output`, FailureType.SparkJobFailed);
        return { job, output, attempts, finalResources: resources };
      case 'OUT_OF_MEMORY': {
        const decision = escalateAfterOom(resources, outcome.oomSide ?? 'driver', policy);
        if (!decision.escalate) {
          throw ApplicationFailure.create({
            type: FailureType.SparkOutOfMemory,
            message: `${job} ran out of memory on attempt ${attempt} and cannot grow: ${decision.reason}`,
            nonRetryable: true,
            details: [{ attempts } satisfies SparkJobFailureDetails],
          });
        }
        log.warn('spark job out of memory: escalating', { job, attempt, side: outcome.oomSide ?? 'driver', from: resources, to: decision.resources, note: decision.note });
        resources = decision.resources;
        escalations += 1;
        upsertSearchAttributes([{ key: SearchAttr.oomEscalations, value: escalations }]);
        break;
      }
      case 'TRANSIENT':
        break;
      case 'PERMANENT':
        throw ApplicationFailure.create({
          type: FailureType.SparkJobFailed,
          message: `${job} failed permanently on attempt ${attempt}: ${outcome.reason}`,
          nonRetryable: true,
          details: [{ attempts, diagnostics: outcome.diagnostics }],
        });
    }
  }
  const final = attempts[attempts.length - 1];
  throw ApplicationFailure.create({
    type: final?.outcome === 'OUT_OF_MEMORY' ? FailureType.SparkOutOfMemory : FailureType.SparkJobFailed,
    message: `${job} did not succeed in ${policy.maxAttempts} attempts (last: ${final?.outcome}: ${final?.reason})`,
    nonRetryable: true,
    details: [{ attempts } satisfies SparkJobFailureDetails],
  });
}

type AttemptOutcome = Awaited<ReturnType<Activities['awaitSparkJob']>>['outcome'];

/** The record of an attempt that ended with an outcome, with its pods as the platform saw them (Kubernetes only, bounded by the activity). */
function endedAttempt(base: AttemptRun['base'], outcome: AttemptOutcome): AttemptRecord {
  return {
    ...base,
    outcome: outcome.kind,
    reason: outcome.reason,
    ...(outcome.oomSide !== undefined ? { oomSide: outcome.oomSide } : {}),
    ...(outcome.pods !== undefined ? { pods: outcome.pods } : {}),
    ...(outcome.podsOmitted !== undefined ? { podsOmitted: outcome.podsOmitted } : {}),
  };
}

interface AttemptRun {
  base: Omit<AttemptRecord, 'outcome'>;
  outcome?: AttemptOutcome;
  ending?: AttemptEnding;
  output?: SparkJobOutput;
  failure?: unknown;
}

/**
 * One attempt: submit, await, and clean up, on success, failure and cancellation alike. Returns
 * the attempt's record so far and either its outcome (and output) or the failure that ended it.
 * The clean-up's summary tells how the attempt ended, so an out-of-memory attempt reads as one
 * in the timeline.
 */
async function runAttempt(input: SparkJobInput, ref: AttemptRef, attemptId: string, resources: SparkResources, running: () => void): Promise<AttemptRun> {
  const { job, businessDate } = input;
  const { attempt } = ref;
  const startedAt = new Date();
  let outcome: AttemptOutcome | undefined;
  let ending: AttemptEnding | undefined;
  let output: SparkJobOutput | undefined;
  let leftovers: number | undefined;
  let failure: unknown;
  try {
    const submission: SparkSubmission = await submitSparkJob.executeWithOptions(
      { ...SPARK_SUBMIT_ACTIVITY, summary: sparkActivitySummary(ref, 'submit', resources) },
      [{ attemptId, workflowId: input.parentWorkflowId, businessDate, job, attempt, resources, inputs: input.inputs }],
    );
    running();
    const awaited = await awaitSparkJob.executeWithOptions({ ...SPARK_AWAIT_ACTIVITY, summary: sparkActivitySummary(ref, 'await') }, [submission]);
    outcome = awaited.outcome;
    output = awaited.output;
    ending = attemptEnding(ref, outcome, resources, input.policy);
  } catch (err) {
    failure = err;
  } finally {
    // Cleanup of the attempt runs on success, failure and cancellation alike.
    const report = await CancellationScope.nonCancellable(() =>
      cleanupSparkJob.executeWithOptions(
        { ...SPARK_CLEANUP_ACTIVITY, summary: sparkActivitySummary(ref, 'clean up', undefined, ending) },
        [{ attemptId, job, businessDate, keepOutput: outcome?.kind === 'SUCCEEDED' }],
      ),
    );
    leftovers = report.remaining;
  }
  const finishedAt = new Date();
  const base = {
    attempt,
    attemptId,
    resources,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    leftovers,
  };
  return { base, ...(outcome ? { outcome } : {}), ...(ending ? { ending } : {}), ...(output ? { output } : {}), ...(failure !== undefined ? { failure } : {}) };
}

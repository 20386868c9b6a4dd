import { isCancellation, setCurrentDetails } from '@temporalio/workflow';
import type { AttemptRecord, StepName } from '../../domain/pipeline';
import { attemptsFromFailure } from './failures';
import type { Night } from './state';

/** Runs one step as the night's current stage, recording its timing and attempts whatever the outcome. */
export async function recordedStep<T>(night: Night, name: StepName, body: () => Promise<{ value: T; attempts: AttemptRecord[] }>): Promise<T> {
  night.setStage(name);
  setCurrentDetails(`**${night.tenant} ${night.businessDate}**: ${name}`);
  const startedAt = new Date().toISOString();
  try {
    const { value, attempts } = await body();
    night.stepEnded({ step: name, status: 'COMPLETED', startedAt, finishedAt: new Date().toISOString(), attempts });
    return value;
  } catch (err) {
    const status = isCancellation(err) ? 'CANCELLED' : 'FAILED';
    night.stepEnded({ step: name, status, startedAt, finishedAt: new Date().toISOString(), attempts: attemptsFromFailure(err) });
    throw err;
  }
}

/** A non-Spark step's single attempt record (activity retries happen inside Temporal). */
export function simpleAttempt(begun: Date, attempt: number): AttemptRecord {
  const end = new Date();
  return { attempt, outcome: 'SUCCEEDED', resources: null, startedAt: begun.toISOString(), finishedAt: end.toISOString(), durationMs: end.getTime() - begun.getTime() };
}

import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure } from '@temporalio/workflow';
import type { AttemptRecord } from '../../domain/pipeline';
import { ABORTED_BY_OPERATOR } from '../messages';
import type { SparkJobFailureDetails } from '../spark-job';

/** The unwrapped cause of an activity or child workflow failure: its type and message. */
export function describeFailure(err: unknown): { type: string; message: string } {
  let e: unknown = err;
  while ((e instanceof ActivityFailure || e instanceof ChildWorkflowFailure) && e.cause) e = e.cause;
  if (e instanceof ApplicationFailure) return { type: e.type ?? 'ApplicationFailure', message: e.message };
  if (e instanceof Error) return { type: e.name, message: e.message };
  return { type: 'Unknown', message: String(err) };
}

/** Attempt history carried in a sparkJob failure's details, so a failed night still shows it. */
export function attemptsFromFailure(err: unknown): AttemptRecord[] {
  let e: unknown = err;
  while (e instanceof ChildWorkflowFailure && e.cause) e = e.cause;
  if (e instanceof ApplicationFailure) {
    const details = e.details?.[0] as SparkJobFailureDetails | undefined;
    if (details && Array.isArray(details.attempts)) return [...details.attempts];
  }
  return [];
}

/** An operator's abort: it ends the night, whatever step it was raised in. */
export function isAbort(err: unknown): boolean {
  return err instanceof ApplicationFailure && err.type === ABORTED_BY_OPERATOR;
}

/**
 * What both Kubernetes platforms (spark-operator SparkApplications, spark-submit's cluster mode)
 * share around an attempt: the typed refusal, the adoption check on a name that exists, the
 * await's wake-up, and the limits they apply alike.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../common/failures';
import type { AwaitOptions } from '../platform';
import { KubeCallError } from './kube-api';
import { Annotation, LabelKey, toLabelValue } from './labels';

/** A ConfigMap holds at most 1 MiB; what is left after its metadata carries the job spec. */
export const MAX_CONFIGMAP_BYTES = 1024 * 1024 - 16 * 1024;
/** Spark's own progress lines, left out of the driver log lines attached to a failure. */
export const SPARK_CHATTER = /^\S+ \S+ (?:INFO|DEBUG|TRACE) /;
/** Cleanup re-checks what is left with a pause doubling from the first to the second. */
export const CLEANUP_POLL_MIN_MS = 25;
export const CLEANUP_POLL_MAX_MS = 1000;

type Json = { metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string>; deletionTimestamp?: unknown } };

/** The error a submission gets when Kubernetes refuses it for good (forbidden, invalid, taken). */
export function rejected(message: string, cause?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.SparkPlatformRejected,
    message,
    nonRetryable: true,
    cause: cause instanceof Error ? cause : undefined,
  });
}

/** Permanent API errors become typed failures; transient ones stay plain errors (retried). */
export function typed(error: unknown): unknown {
  if (error instanceof KubeCallError && !error.transient && error.code !== 404 && error.code !== 409) {
    return rejected(error.message, error);
  }
  return error;
}

/** A name that exists must belong to this attempt: anything else is a collision, never adopted. */
export function requireSameAttempt(kind: string, name: string, object: unknown, attemptId: string): void {
  const meta = (object as Json).metadata ?? {};
  const owner = meta.annotations?.[Annotation.attemptId] ?? meta.labels?.[LabelKey.attemptId];
  if (owner !== attemptId && owner !== toLabelValue(attemptId)) {
    throw rejected(`${kind} ${name} already exists and belongs to ${owner === undefined ? 'something else' : `attempt ${owner}`}; refusing to adopt it`);
  }
  if (meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null) {
    // Being deleted (a cleanup of this very attempt ran): the retry comes back once it is gone.
    throw new KubeCallError(`create ${kind} ${name}`, 409, 'the existing object is being deleted');
  }
}

/** Resolves when `notify` is called or the timer runs out, whichever first. */
export class Wakeup {
  private resolve: (() => void) | undefined;
  notify = (): void => {
    const r = this.resolve;
    this.resolve = undefined;
    r?.();
  };
  wait(ms: number, signals: readonly AbortSignal[]): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        for (const s of signals) s.removeEventListener('abort', done);
        this.resolve = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      for (const s of signals) s.addEventListener('abort', done, { once: true });
      this.resolve = done;
    });
  }
}

/** The signals that end an await: cancellation, and detaching when there is one. */
export function signalsOf(options: AwaitOptions): AbortSignal[] {
  return options.detach === undefined ? [options.signal] : [options.signal, options.detach];
}

/** The value, or undefined when reading it throws (a malformed object from the API). */
export function safe<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** The argument after `flag` in an argument array (`--spec <file>`). */
export function argumentAfter(args: readonly string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at >= 0 ? args[at + 1] : undefined;
}

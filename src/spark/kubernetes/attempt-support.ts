/**
 * What both Kubernetes platforms (spark-operator SparkApplications, spark-submit's cluster mode)
 * share around an attempt: the SparkApplication's input from their settings, the typed refusal, the adoption check on a name that exists, the
 * await's wake-up, and the limits they apply alike.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../common/failures';
import { attemptJavaOptions, type SparkJavaOptions } from '../../domain/spark/java-options';
import type { AwaitOptions, SparkAttemptRequest } from '../platform';
import { KubeCallError, type ManagedKind, type ObjectRef } from './kube-api';
import { Annotation, LabelKey, toLabelValue } from './labels';
import type { KubernetesPlatformSettings } from './settings';
import type { PlacementInput, SparkApplicationInput } from './spark-application';

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

/**
 * Deletes what an attempt left until nothing is left or the deadline passes: each object not
 * already going is deleted once (in the background), then the kinds that still had objects are
 * listed again, soon at first and then less often (deletions usually finish within a moment).
 * Records what it asked to delete in `removed`; returns what is still there.
 */
export async function deleteUntilGone(opts: {
  readonly first: readonly ObjectRef[];
  readonly remaining: (kinds: ReadonlySet<ManagedKind>) => Promise<ObjectRef[]>;
  readonly remove: (obj: ObjectRef) => Promise<boolean>;
  /** Objects already on their way out by other means (e.g. the application under foreground deletion). */
  readonly goingAlready?: (obj: ObjectRef) => boolean;
  readonly deadline: number;
  readonly now: () => number;
  readonly removed: string[];
}): Promise<readonly ObjectRef[]> {
  let left = opts.first;
  const asked = new Set<string>();
  let pause = CLEANUP_POLL_MIN_MS;
  while (left.length > 0) {
    for (const obj of left) {
      const key = `${obj.kind}/${obj.name}`;
      if (obj.deletionTimestamp !== undefined || opts.goingAlready?.(obj)) continue;
      if (await opts.remove(obj)) {
        if (!asked.has(key)) opts.removed.push(key);
        asked.add(key);
      }
    }
    if (opts.now() >= opts.deadline) break;
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(CLEANUP_POLL_MAX_MS, pause * 2);
    left = await opts.remaining(new Set(left.map((o) => o.kind)));
  }
  return left;
}

/** What differs between attempts in the SparkApplication's input (the rest is the platform's settings). */
export interface AttemptApplication {
  readonly request: SparkAttemptRequest;
  /** `local://` path of the job's entry point in the image. */
  readonly mainFile: string;
  readonly specConfigMap: string | undefined;
  readonly placement: PlacementInput;
  readonly annotations: Readonly<Record<string, string>>;
}

/**
 * The SparkApplication input of one attempt: the same for both submit paths (the operator's
 * and spark-submit's), which differ only in how the application reaches the cluster. The JVM
 * options are the attempt's by its job and input size, when the platform was given any.
 */
export function applicationInput(
  settings: KubernetesPlatformSettings,
  javaOptions: SparkJavaOptions | undefined,
  attempt: AttemptApplication,
): SparkApplicationInput {
  const { request, mainFile, specConfigMap } = attempt;
  return {
    request: { ...request, mainFile },
    namespace: settings.namespace,
    image: settings.image,
    ...(settings.imagePullPolicy !== undefined ? { imagePullPolicy: settings.imagePullPolicy } : {}),
    serviceAccount: settings.serviceAccount,
    mainApplicationFile: mainFile,
    ...(specConfigMap !== undefined ? { specConfigMap } : {}),
    ...(settings.sparkConfConfigMap !== undefined ? { sparkConfConfigMap: settings.sparkConfConfigMap } : {}),
    ...(settings.secretEnv !== undefined ? { secretEnv: settings.secretEnv } : {}),
    placement: attempt.placement,
    ...(settings.batchScheduler !== undefined ? { batchScheduler: settings.batchScheduler } : {}),
    ...(settings.dataVolume !== undefined ? { dataVolume: settings.dataVolume } : {}),
    annotations: attempt.annotations,
    ttlSeconds: settings.ttlSeconds,
    sparkVersion: settings.sparkVersion,
    pythonVersion: '3',
    ...(javaOptions !== undefined ? { javaOptions: attemptJavaOptions(javaOptions, request.job, request.inputBytes) } : {}),
  };
}

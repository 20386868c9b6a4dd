import type { SparkJobName } from './resources';

/** JVM options for an attempt whose input is known and at most its job's `maxInputBytes`. */
export interface ShortJobJavaOptions {
  readonly maxInputBytes: Readonly<Record<SparkJobName, number>>;
  /** Start-up and JIT settings right for a short job (the client compiler alone), not for a long one. */
  readonly javaOptions: readonly string[];
}

/** JVM options for every attempt that is not short (its input larger, or not known). */
export interface LongJobJavaOptions {
  /** Settings right for a long job (the throughput collector), which a short one replaces. */
  readonly javaOptions: readonly string[];
}

/** The JVM options every platform gives its attempts: the driver's own, then those of the attempt's size. */
export interface SparkJavaOptions {
  /** Of every attempt's driver, first. */
  readonly driverJavaOptions?: readonly string[];
  readonly shortJob?: ShortJobJavaOptions;
  readonly longJob?: LongJobJavaOptions;
}

/** Whether an attempt of `job` with this much input is a short one (its size must be known). */
export function isShortAttempt(options: SparkJavaOptions, job: SparkJobName, inputBytes: number | undefined): boolean {
  const limit = options.shortJob?.maxInputBytes[job];
  return limit !== undefined && inputBytes !== undefined && inputBytes <= limit;
}

/**
 * An attempt's JVM options: the driver's own followed by the short- or long-job options; the
 * executors (where there are any) get the size's options only.
 */
export function attemptJavaOptions(options: SparkJavaOptions, job: SparkJobName, inputBytes: number | undefined): { readonly driver: readonly string[]; readonly executor: readonly string[] } {
  const sized = isShortAttempt(options, job, inputBytes) ? (options.shortJob?.javaOptions ?? []) : (options.longJob?.javaOptions ?? []);
  return { driver: [...(options.driverJavaOptions ?? []), ...sized], executor: [...sized] };
}

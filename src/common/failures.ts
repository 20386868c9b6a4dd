/**
 * The small set of typed failures Nightjar raises. The same names are used as
 * `ApplicationFailure.type` by activities and in `nonRetryableErrorTypes` of the
 * retry presets, so a failure's type is the contract between the two sides.
 * Never rely on `error.constructor.name`: bundlers rename classes.
 */
export const FailureType = {
  /** Input that can never become valid by retrying (bad flags, bad config, malformed request). */
  InvalidInput: 'InvalidInput',
  /** A required feed file is not (yet) in the landing zone. Retryable: it may still arrive. */
  FeedNotFound: 'FeedNotFound',
  /** The feed file changed while it was read (still being written, or replaced). Retryable. */
  FeedChanging: 'FeedChanging',
  /** A feed file failed its structural checks (header, trailer, checksum). Needs a corrected file. */
  FeedRejected: 'FeedRejected',
  /** Counts do not add up between steps (rows in != accepted + rejected). */
  ReconciliationFailed: 'ReconciliationFailed',
  /** A Spark job failed for a reason that retrying the same job cannot fix. */
  SparkJobFailed: 'SparkJobFailed',
  /** A Spark job ran out of memory and the escalation policy has no larger size left. */
  SparkOutOfMemory: 'SparkOutOfMemory',
  /** The reporting store rejected the data (schema mismatch, constraint violation). */
  ExportRejected: 'ExportRejected',
  /**
   * The Spark platform refused the request for good: Kubernetes said forbidden or invalid, or
   * the attempt's name is taken by something that is not this attempt.
   */
  SparkPlatformRejected: 'SparkPlatformRejected',
  /**
   * Work of another tenant reached this worker (a night started on the wrong task queue): it is
   * refused, never run with this tenant's data, keys and database.
   */
  TenantNotServed: 'TenantNotServed',
} as const;

export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** Failure types that retrying cannot fix; used by every retry preset. */
export const NON_RETRYABLE_FAILURES: readonly FailureType[] = [
  FailureType.InvalidInput,
  FailureType.FeedRejected,
  FailureType.ReconciliationFailed,
  FailureType.SparkJobFailed,
  FailureType.SparkOutOfMemory,
  FailureType.ExportRejected,
  FailureType.SparkPlatformRejected,
  FailureType.TenantNotServed,
];

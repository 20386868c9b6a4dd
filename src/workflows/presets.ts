import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_FAILURES } from '../common/failures';

/**
 * Timeouts and retry policies, one named preset per kind of activity. Every preset bounds its
 * attempts: Temporal's default is to retry forever.
 */
const nonRetryableErrorTypes = [...NON_RETRYABLE_FAILURES];

/**
 * Long activities heartbeat every 5 s; a worker that dies (SIGKILL, node lost) is noticed after
 * this long and the activity retried on another worker.
 */
const HEARTBEAT_TIMEOUT = '30 seconds';

export const PLAN_ACTIVITY = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5, nonRetryableErrorTypes },
} as const satisfies ActivityOptions;

/** Ingest retries a missing required feed for about an hour before giving up. */
export const INGEST_ACTIVITY = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 10, nonRetryableErrorTypes },
} as const satisfies ActivityOptions;

/** Waiting for feeds may take the whole night; the heartbeat proves the worker still looks. */
export const AWAIT_FEEDS_ACTIVITY = {
  startToCloseTimeout: '24 hours',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 10, nonRetryableErrorTypes },
} as const satisfies ActivityOptions;

/**
 * A submission rides out an API server that is away for about five minutes (2 s doubling to
 * 1 min, 10 attempts): a restart of a real control plane (a rolling upgrade, an etcd restart)
 * takes from seconds to a minute or two; 5 attempts gave up after 30 s. Creates adopt on 409,
 * so a retry after a lost answer never duplicates.
 */
export const SPARK_SUBMIT_ACTIVITY = {
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes },
} as const satisfies ActivityOptions;

/** A Spark job may run for hours; its heartbeat proves the worker still watches it. */
export const SPARK_AWAIT_ACTIVITY = {
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 5, nonRetryableErrorTypes },
} as const satisfies ActivityOptions;

/** Cleanup must eventually happen: many attempts, patient backoff. */
export const SPARK_CLEANUP_ACTIVITY = {
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 30, nonRetryableErrorTypes },
} as const satisfies ActivityOptions;

/**
 * A cancelled night waits for the export to settle: it rolls back (nothing published) or it had
 * already committed, and the manifest says which, instead of CANCELLED over published reports.
 */
export const EXPORT_ACTIVITY = {
  startToCloseTimeout: '30 minutes',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 6, nonRetryableErrorTypes },
} as const satisfies ActivityOptions;

export const FINALIZE_ACTIVITY = {
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes },
} as const satisfies ActivityOptions;

/** The janitor lists and deletes on the cluster; a failed sweep is retried by the next schedule tick too. */
export const JANITOR_ACTIVITY = {
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes },
} as const satisfies ActivityOptions;

/** Learned sizing is a small file write; losing it costs one night of learning, never the night. */
export const SIZING_ACTIVITY = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5, nonRetryableErrorTypes },
} as const satisfies ActivityOptions;

export const NIGHTS_ACTIVITY = {
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes },
} as const satisfies ActivityOptions;

/** Waits for one whole night (it may park for hours waiting for a decision). */
export const RUN_NIGHT_ACTIVITY = {
  startToCloseTimeout: '48 hours',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 20, nonRetryableErrorTypes },
} as const satisfies ActivityOptions;

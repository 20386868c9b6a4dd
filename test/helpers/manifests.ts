/**
 * Run manifests of the four ways a night ends — completed (with an out-of-memory escalation),
 * parked then repaired, failed, cancelled — for the report's unit and browser tests and the CLI's.
 */
import type { AttemptRecord, FeedManifestEntry, RunManifest, StepRecord } from '../../src/domain/pipeline';
import type { SparkResources } from '../../src/domain/spark/resources';

export const RESOURCES: SparkResources = {
  driverMemoryMb: 1024,
  driverCores: 2,
  executorMemoryMb: 2048,
  executorCores: 2,
  executorInstances: 2,
  memoryOverheadMb: null,
  shufflePartitions: 8,
};
const bigger: SparkResources = { ...RESOURCES, executorMemoryMb: 4096 };

const at = (date: string, minute: number, second = 0) => `${nextDay(date)}T02:${String(minute).padStart(2, '0')}:${String(second).padStart(2, '0')}.000Z`;

function nextDay(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

function feed(name: FeedManifestEntry['feed'], rowsIn: number, rejectReasons: Record<string, number> = {}, extra: Partial<FeedManifestEntry> = {}): FeedManifestEntry {
  const rejected = Object.values(rejectReasons).reduce((a, b) => a + b, 0);
  return {
    feed: name,
    status: 'INGESTED',
    rowsIn,
    rowsAccepted: rowsIn - rejected,
    rowsRejected: rejected,
    rejectReasons,
    controlCount: rowsIn,
    controlSum: (rowsIn * 12.5).toFixed(2),
    sha256: 'a'.repeat(64),
    rawUri: `file:///data/raw/${name}.csv`,
    rejectsUri: rejected > 0 ? `file:///data/curated/rejects/${name}` : null,
    ...extra,
  };
}

function attempt(date: string, n: number, from: number, to: number, outcome: AttemptRecord['outcome'], extra: Partial<AttemptRecord> = {}): AttemptRecord {
  return {
    attempt: n,
    outcome,
    resources: null,
    startedAt: at(date, from),
    finishedAt: at(date, to),
    durationMs: (to - from) * 60_000,
    ...extra,
  };
}

function step(date: string, name: StepRecord['step'], status: StepRecord['status'], attempts: AttemptRecord[]): StepRecord {
  const first = attempts[0];
  const last = attempts[attempts.length - 1];
  return { step: name, status, startedAt: first?.startedAt ?? at(date, 0), finishedAt: last?.finishedAt ?? at(date, 0), attempts };
}

const FEEDS = (date: string, scale = 1): FeedManifestEntry[] => [
  feed('customers', Math.round(3000 * scale), { MISSING_VALUE: 4 }),
  feed('accounts', Math.round(4000 * scale)),
  feed('transactions', Math.round(20000 * scale), { UNKNOWN_CURRENCY: 31, INVALID_FORMAT: 12, DUPLICATE_KEY: 3 }),
  feed('payments', Math.round(6000 * scale), { OUT_OF_RANGE: 9 }),
  feed('fx_rates', 30),
].map((f) => ({ ...f, rawUri: `file:///data/raw/${date}/${f.feed}.csv` }));

const REPORTS = [
  { table: 'eod_account_balances', rows: 4000 },
  { table: 'customer_daily_activity', rows: 2810 },
  { table: 'payments_daily_summary', rows: 96 },
  { table: 'risk_alerts', rows: 17 },
];

/** A completed night whose normalize ran out of executor memory once and succeeded with more. */
export function completedNight(date: string, scale = 1): RunManifest {
  return {
    businessDate: date,
    tenant: 'default',
    status: 'COMPLETED',
    workflowId: `nightjar-daily-${date}`,
    runId: `run-${date}`,
    startedAt: at(date, 0),
    finishedAt: at(date, 14),
    feeds: FEEDS(date, scale),
    steps: [
      step(date, 'ingest', 'COMPLETED', [attempt(date, 1, 0, 1, 'SUCCEEDED')]),
      step(date, 'normalize', 'COMPLETED', [
        attempt(date, 1, 1, 5, 'OUT_OF_MEMORY', { resources: RESOURCES, oomSide: 'executor', reason: 'executors lost: 2 × OOMKilled (exit 137)', leftovers: 0, attemptId: 'n-1' }),
        attempt(date, 2, 5, 9, 'SUCCEEDED', { resources: bigger, leftovers: 0, attemptId: 'n-2' }),
      ]),
      step(date, 'transform', 'COMPLETED', [attempt(date, 1, 9, 12, 'SUCCEEDED', { resources: bigger, leftovers: 0 })]),
      step(date, 'export', 'COMPLETED', [attempt(date, 1, 12, 13, 'SUCCEEDED')]),
      step(date, 'finalize', 'COMPLETED', [attempt(date, 1, 13, 14, 'SUCCEEDED')]),
    ],
    reports: REPORTS,
    sizing: [
      { job: 'normalize', source: 'configured', startedFrom: RESOURCES, finalResources: bigger, next: bigger, cleanNights: 0, change: 'learned' },
      { job: 'transform', source: 'learned', startedFrom: bigger, finalResources: bigger, next: bigger, cleanNights: 3, change: null },
    ],
  };
}

/** A night whose payments file was refused at ingest, parked, and completed after an operator's retry. */
export function repairedNight(date: string): RunManifest {
  const done = completedNight(date);
  return {
    ...done,
    steps: [
      step(date, 'ingest', 'FAILED', [attempt(date, 1, 0, 1, 'FAILED', { reason: 'payments.csv: trailer count 6001, file has 6000 records' })]),
      step(date, 'ingest', 'COMPLETED', [attempt(date, 2, 3, 4, 'SUCCEEDED')]),
      ...done.steps.slice(1),
    ],
    decisions: [
      {
        step: 'ingest',
        feed: 'payments',
        action: 'retry',
        reason: 'corrected file delivered',
        by: 'ops-jane',
        at: at(date, 3),
        error: { type: 'FeedRejected', message: 'payments.csv: trailer count 6001, file has 6000 records' },
      },
    ],
  };
}

/** A night that failed: transform ran out of memory at its cap and the operator aborted. */
export function failedNight(date: string): RunManifest {
  const done = completedNight(date);
  const error = { step: 'transform' as const, type: 'SparkOutOfMemory', message: 'transform ran out of memory on attempt 3 and cannot grow: driver at its cap (4096 MiB)' };
  return {
    ...done,
    status: 'FAILED',
    finishedAt: at(date, 20),
    error,
    steps: [
      ...done.steps.slice(0, 2),
      step(date, 'transform', 'FAILED', [
        attempt(date, 1, 9, 11, 'OUT_OF_MEMORY', { resources: bigger, oomSide: 'driver', reason: 'java.lang.OutOfMemoryError: Java heap space', leftovers: 0 }),
        attempt(date, 2, 11, 14, 'OUT_OF_MEMORY', { resources: { ...bigger, driverMemoryMb: 2048 }, oomSide: 'driver', reason: 'java.lang.OutOfMemoryError: Java heap space', leftovers: 0 }),
        attempt(date, 3, 14, 18, 'OUT_OF_MEMORY', { resources: { ...bigger, driverMemoryMb: 4096 }, oomSide: 'driver', reason: 'java.lang.OutOfMemoryError: Java heap space', leftovers: 0 }),
      ]),
      step(date, 'finalize', 'COMPLETED', [attempt(date, 1, 19, 20, 'SUCCEEDED')]),
    ],
    reports: [],
    decisions: [{ step: 'transform', action: 'abort', reason: 'escalate to the data team', by: 'ops-jane', at: at(date, 19), error: { type: error.type, message: error.message } }],
  };
}

/** A night cancelled by an operator while normalize ran. */
export function cancelledNight(date: string): RunManifest {
  const done = completedNight(date);
  return {
    ...done,
    status: 'CANCELLED',
    finishedAt: at(date, 4),
    error: { step: 'normalize', type: 'CancelledFailure', message: 'cancelled by an operator' },
    steps: [
      done.steps[0] as StepRecord,
      step(date, 'normalize', 'CANCELLED', [attempt(date, 1, 1, 3, 'CANCELLED', { resources: RESOURCES, reason: 'cancelled', leftovers: 0 })]),
      step(date, 'finalize', 'COMPLETED', [attempt(date, 1, 3, 4, 'SUCCEEDED')]),
    ],
    reports: [],
    sizing: [],
  };
}

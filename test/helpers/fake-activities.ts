import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Activities } from '../../src/activities';
import { FEEDS, type FeedName } from '../../src/domain/feeds/catalog';
import { SPARK_REPORTS } from '../../src/domain/reports/catalog';
import type { SparkAttemptOutcome } from '../../src/domain/spark/resources';
import type { FinalizeRunInput, IngestFeedInput, RecordSizingInput, SparkSubmitInput, SparkCleanupInput } from '../../src/domain/pipeline';
import { FailureType } from '../../src/common/failures';

export { SMALL_RESOURCES as RESOURCES } from './resources';
import { SMALL_RESOURCES as RESOURCES } from './resources';

export interface FakeScript {
  /** Outcome of each await call for a job, in order; SUCCEEDED once the list runs out. */
  outcomes?: Partial<Record<'normalize' | 'transform', SparkAttemptOutcome[]>>;
  /** Errors thrown by ingestFeed before it succeeds, per feed. */
  ingestErrors?: Partial<Record<FeedName, Error[]>>;
  /** When set, awaitSparkJob for this job blocks (heartbeating) until cancelled. */
  hangOn?: 'normalize' | 'transform';
  /** awaitSparkJob for this job blocks (heartbeating) until `until` settles, then goes on as scripted. */
  pauseOn?: { job: 'normalize' | 'transform'; until: Promise<unknown> };
  /** Rows normalize reports as read for a feed (default: the control count), to break reconciliation. */
  normalizeRowsIn?: Partial<Record<FeedName, number>>;
  /** The amount normalize reports as held in rejects for a feed (default 1.00 of the control sum 100.00). */
  normalizeAmountRejected?: Partial<Record<FeedName, string>>;
  maxAttempts?: number;
  /** The plan's driver memory cap (default 2048 MiB): escalation stops there, and so do an operator's overrides. */
  maxDriverMemoryMb?: number;
  /** Errors thrown by exportReports before it succeeds. */
  exportErrors?: Error[];
  /** Feeds the landing zone does not show (they can still arrive by signal); read at each look. */
  absentFeeds?: FeedName[];
  /** Feeds treated as optional by the plan. */
  optionalFeeds?: FeedName[];
  /**
   * Cut-offs and deadline, in ms from the plan's start (defaults: 1 h and 2 h). The start is the
   * server's time (when planRun was scheduled), which the time-skipping server moves ahead of the
   * wall clock.
   */
  cutoffInMs?: number;
  deadlineInMs?: number;
  /** Plan with learned sizing on (the run then records sizing after each Spark job). */
  learnSizing?: boolean;
  /** recordSparkSizing fails with a non-retryable ApplicationFailure (the call is still recorded). */
  sizingFails?: boolean;
  /** Business dates owedNights returns (none by default). */
  owedNights?: string[];
}

export interface FakeCalls {
  order: string[];
  submits: SparkSubmitInput[];
  cleanups: SparkCleanupInput[];
  finalized: FinalizeRunInput[];
  ingestAttempts: Record<string, number>;
  /** The input of every ingestFeed call, failed ones included. */
  ingests: IngestFeedInput[];
  sizings: RecordSizingInput[];
}

const outcome = (kind: SparkAttemptOutcome['kind'], extra: Partial<SparkAttemptOutcome> = {}): SparkAttemptOutcome => ({
  kind,
  reason: kind.toLowerCase(),
  diagnostics: [],
  ...extra,
});
export const OOM = outcome('OUT_OF_MEMORY', { reason: 'java.lang.OutOfMemoryError: Java heap space', oomSide: 'driver' });
export const TRANSIENT = outcome('TRANSIENT', { reason: 'driver process lost' });
export const PERMANENT = outcome('PERMANENT', { reason: 'AnalysisException: column not found' });

/** Fake activities as a typed object literal: they stand in for I/O, the workflows are real. */
export function fakeActivities(script: FakeScript = {}): { activities: Activities; calls: FakeCalls } {
  const calls: FakeCalls = { order: [], submits: [], cleanups: [], finalized: [], ingestAttempts: {}, ingests: [], sizings: [] };
  const inputsOf = new Map<string, SparkSubmitInput['inputs']>();
  const remaining = {
    normalize: [...(script.outcomes?.normalize ?? [])],
    transform: [...(script.outcomes?.transform ?? [])],
  };
  const rows = 100;
  const activities: Activities = {
    async planRun(input) {
      calls.order.push('plan');
      const job = (name: 'normalize' | 'transform') => ({
        resources: { ...RESOURCES, ...input.sparkOverrides?.[name] },
        configured: RESOURCES,
        sizingSource: input.sparkOverrides?.[name] ? ('override' as const) : ('configured' as const),
        policy: { maxAttempts: script.maxAttempts ?? 3, memoryFactor: 2, maxDriverMemoryMb: script.maxDriverMemoryMb ?? 2048, maxExecutorMemoryMb: 4096 },
      });
      const now = Context.current().info.currentAttemptScheduledTimestampMs;
      const cutoff = new Date(now + (script.cutoffInMs ?? 3_600_000)).toISOString();
      return {
        platform: 'local',
        feeds: FEEDS.map((f) => ({ feed: f.name, required: f.required && !(script.optionalFeeds ?? []).includes(f.name) })),
        feedWait: {
          cutoffs: Object.fromEntries(FEEDS.map((f) => [f.name, cutoff])) as Record<FeedName, string>,
          deadlineAt: new Date(now + (script.deadlineInMs ?? 7_200_000)).toISOString(),
          pollSeconds: 60,
        },
        jobs: { normalize: job('normalize'), transform: job('transform') },
        learnSizing: script.learnSizing ?? false,
      };
    },
    async awaitFeeds(input) {
      calls.order.push('awaitFeeds');
      const absent = script.absentFeeds ?? [];
      return { found: input.feeds.filter((f) => !absent.includes(f)).map((feed) => ({ feed, uri: `file:///landing/${input.businessDate}/${feed}.csv` })) };
    },
    async ingestFeed(input) {
      const { feed } = input;
      calls.ingestAttempts[feed] = (calls.ingestAttempts[feed] ?? 0) + 1;
      calls.ingests.push(input);
      const errors = script.ingestErrors?.[feed];
      const err = errors?.shift();
      if (err) throw err;
      calls.order.push(`ingest:${feed}`);
      return {
        feed,
        status: 'INGESTED',
        rawUri: `file:///lake/raw/${feed}.csv`,
        rowsIn: rows,
        controlCount: rows,
        controlSum: '100.00',
        sha256: 'ab'.repeat(32),
        bytes: 1000,
        attempt: Context.current().info.attempt,
      };
    },
    async submitSparkJob(input) {
      calls.order.push(`submit:${input.job}:${input.attempt}`);
      calls.submits.push(input);
      inputsOf.set(input.attemptId, input.inputs);
      return {
        attemptId: input.attemptId,
        job: input.job,
        businessDate: input.businessDate,
        platform: 'local',
        handle: '4242',
        submittedAt: new Date().toISOString(),
        outputUri: `file:///lake/${input.attemptId}`,
        resultUri: `file:///lake/${input.attemptId}/_result.json`,
      };
    },
    async awaitSparkJob(submission) {
      calls.order.push(`await:${submission.job}`);
      if (script.hangOn === submission.job) {
        const ctx = Context.current();
        for (;;) {
          ctx.heartbeat({ state: 'RUNNING' });
          await ctx.sleep(200); // rejects with CancelledFailure once the cancellation arrives
        }
      }
      if (script.pauseOn?.job === submission.job) {
        const ctx = Context.current();
        let settled = false;
        const settle = () => {
          settled = true;
        };
        script.pauseOn.until.then(settle, settle);
        while (!settled) {
          ctx.heartbeat({ state: 'RUNNING' });
          await ctx.sleep(100);
        }
      }
      const next = remaining[submission.job].shift() ?? outcome('SUCCEEDED');
      if (next.kind !== 'SUCCEEDED') return { outcome: next };
      if (submission.job === 'normalize') {
        return {
          outcome: next,
          output: {
            job: 'normalize',
            // Spark reads only the feeds it was given: a skipped feed is not in the result.
            feeds: FEEDS.filter((f) => f.name in (inputsOf.get(submission.attemptId) ?? {})).map((f) => {
              const rowsIn = script.normalizeRowsIn?.[f.name] ?? rows;
              const amountRejected = script.normalizeAmountRejected?.[f.name] ?? '1.00';
              return {
                feed: f.name, rowsIn, rowsAccepted: rowsIn - 2, rowsRejected: 2, rejectReasons: { DUPLICATE_KEY: 2 },
                amountAccepted: '99.00', amountRejected, curatedUri: `file:///c/${f.name}`, rejectsUri: `file:///r/${f.name}`,
              };
            }),
          },
        };
      }
      return { outcome: next, output: { job: 'transform', reports: SPARK_REPORTS.map((r) => ({ report: r.name, uri: `file:///rep/${r.name}`, rows: 10 })) } };
    },
    async cleanupSparkJob(input) {
      calls.order.push(`cleanup:${input.job}`);
      calls.cleanups.push(input);
      return { attemptId: input.attemptId, removed: ['work dir'], remaining: 0 };
    },
    async exportReports(input) {
      const err = script.exportErrors?.shift();
      if (err) throw err;
      calls.order.push('export');
      return { store: 'pglite', tables: input.reports.map((r) => ({ table: r.report, rows: r.rows })), durationMs: 5 };
    },
    async recordSparkSizing(input) {
      calls.order.push(`sizing:${input.job}`);
      calls.sizings.push(input);
      if (script.sizingFails) {
        throw ApplicationFailure.create({ type: FailureType.InvalidInput, message: `invalid sizing record of ${input.job}`, nonRetryable: true });
      }
      const grew = input.succeeded && input.attempts > 1;
      return {
        job: input.job,
        source: input.source,
        startedFrom: input.startedFrom,
        finalResources: input.finalResources,
        next: grew ? input.finalResources : input.startedFrom,
        cleanNights: grew ? 0 : 1,
        change: grew ? 'learned' : null,
      };
    },
    async owedNights(input) {
      calls.order.push('owedNights');
      return { runDate: input.scheduledAt.slice(0, 10), owed: script.owedNights ?? [], done: [] };
    },
    async runNight(input) {
      calls.order.push(`runNight:${input.businessDate}`);
      return { businessDate: input.businessDate, workflowId: `nightjar-daily-${input.businessDate}`, status: 'COMPLETED' };
    },
    async sweepSparkLeftovers(input) {
      calls.order.push('sweep');
      return { namespace: 'nightly', examined: 0, removed: [], kept: [], failed: [], dryRun: input.dryRun === true };
    },
    async finalizeRun(input) {
      calls.order.push('finalize');
      calls.finalized.push(input);
      return { manifestUri: 'file:///runs/manifest.json', reportUri: 'file:///runs/report.html', tables: [{ table: 'pipeline_step_metrics', rows: input.manifest.steps.length }] };
    },
  };
  return { activities, calls };
}

export const retryableIoError = () => new Error('EIO: transient read error');
export const feedRejected = () =>
  ApplicationFailure.create({ type: FailureType.FeedRejected, message: 'trailer count mismatch', nonRetryable: true });
export const exportRejected = () =>
  ApplicationFailure.create({ type: FailureType.ExportRejected, message: 'duplicate key value violates unique constraint', nonRetryable: true });

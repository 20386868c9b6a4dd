/**
 * The messages that cross the workflow/activity boundary. Types only (plus tiny pure
 * helpers): workflows import this module, so it must stay free of Node built-ins and I/O.
 * Payloads carry references (URIs), ids and counts, never rows.
 */
import type { FeedName } from './feeds/catalog';
import type { ReportName } from './reports/catalog';
import type { AttemptPod, SparkAttemptOutcome, SparkJobName, SparkResources } from './spark/resources';

export interface IngestFeedInput {
  readonly businessDate: string;
  readonly feed: FeedName;
  /** Where the file is, when a `feedArrived` notice said so; the landing zone's file otherwise. */
  readonly sourceUri?: string;
  /** The sender's SHA-256 of the file; ingest refuses a file that does not match. */
  readonly expectedSha256?: string;
}

/** Waits (heartbeating) until the feeds' files are in the landing zone, or until `until`. */
export interface AwaitFeedsInput {
  readonly businessDate: string;
  readonly feeds: readonly FeedName[];
  /** ISO instant: return with what was found by then. */
  readonly until: string;
  readonly pollSeconds: number;
}

export interface AwaitFeedsResult {
  readonly found: readonly { readonly feed: FeedName; readonly uri: string }[];
}

export interface FeedIngested {
  readonly feed: FeedName;
  readonly status: 'INGESTED' | 'MISSING_OPTIONAL' | 'SKIPPED';
  /** Immutable copy in the raw zone. */
  readonly rawUri: string | null;
  /** Data lines in the file (== the trailer's record count once verified). */
  readonly rowsIn: number;
  readonly controlCount: number;
  /** Trailer control sum as written, e.g. "1234.50". */
  readonly controlSum: string;
  readonly sha256: string;
  readonly bytes: number;
  /** Which activity attempt succeeded (1 = first try). */
  readonly attempt: number;
}

/** Per-feed outcome of the normalize job, read from its result file. */
export interface FeedNormalized {
  readonly feed: FeedName;
  readonly rowsIn: number;
  readonly rowsAccepted: number;
  readonly rowsRejected: number;
  /** Reject counts by reason code, e.g. { "UNKNOWN_CURRENCY": 3 }. */
  readonly rejectReasons: Readonly<Record<string, number>>;
  /**
   * Money quarantined, reconciled: the sum of the feed's control column over its accepted rows,
   * and over its rejected lines whose control value the trailer counts, both written with the
   * column's scale ("1234.50"; "0" for a count-only feed). Accepted + rejected must equal the
   * trailer's control sum exactly. Optional: results recorded before them still read.
   */
  readonly amountAccepted?: string;
  readonly amountRejected?: string;
  readonly curatedUri: string;
  readonly rejectsUri: string;
}

export interface ReportProduced {
  readonly report: ReportName;
  readonly uri: string;
  readonly rows: number;
}

/** What a succeeded Spark job produced; small by construction. */
export type SparkJobOutput =
  | { readonly job: 'normalize'; readonly feeds: readonly FeedNormalized[] }
  | { readonly job: 'transform'; readonly reports: readonly ReportProduced[] };

export interface SparkSubmitInput {
  /** Deterministic: derived from the workflow id, the job and the attempt number. */
  readonly attemptId: string;
  readonly workflowId: string;
  readonly businessDate: string;
  readonly job: SparkJobName;
  readonly attempt: number;
  readonly resources: SparkResources;
  /** Input datasets by name (feed name for normalize, feed name for transform's curated input). */
  readonly inputs: Readonly<Record<string, string>>;
}

export interface SparkSubmission {
  readonly attemptId: string;
  readonly job: SparkJobName;
  readonly businessDate: string;
  readonly platform: 'local' | 'kubernetes';
  /** Platform handle: a process id locally, a SparkApplication name on Kubernetes. */
  readonly handle: string;
  readonly submittedAt: string;
  readonly outputUri: string;
  readonly resultUri: string;
}

export interface SparkAwaitResult {
  readonly outcome: SparkAttemptOutcome;
  /** Present when the outcome is SUCCEEDED. */
  readonly output?: SparkJobOutput;
}

export interface SparkCleanupInput {
  readonly attemptId: string;
  readonly job: SparkJobName;
  readonly businessDate: string;
  /** A succeeded attempt keeps its output; any other attempt's partial output is removed. */
  readonly keepOutput: boolean;
}

export interface CleanupReport {
  readonly attemptId: string;
  /** Things removed by this call (processes, files, Kubernetes objects). */
  readonly removed: readonly string[];
  /** Things still there after cleanup; must be 0. */
  readonly remaining: number;
}

export interface ExportReportsInput {
  readonly businessDate: string;
  readonly reports: readonly ReportProduced[];
}

export interface TableExported {
  readonly table: string;
  readonly rows: number;
}

export interface ExportReportsResult {
  readonly store: 'postgres' | 'pglite';
  readonly tables: readonly TableExported[];
  readonly durationMs: number;
}

export type StepName = 'ingest' | 'normalize' | 'transform' | 'export' | 'finalize';

export interface AttemptRecord {
  readonly attempt: number;
  readonly outcome: SparkAttemptOutcome['kind'] | 'FAILED' | 'CANCELLED';
  readonly reason?: string;
  readonly resources: SparkResources | null;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  readonly attemptId?: string;
  /** Where an out-of-memory attempt ran out: the next attempt grows that side. */
  readonly oomSide?: 'driver' | 'executor';
  /** Objects the attempt's cleanup could not remove (must be 0). */
  readonly leftovers?: number;
  /** On Kubernetes: the attempt's driver and executor pods as last seen, driver and failed ones first (bounded). */
  readonly pods?: readonly AttemptPod[];
  /** Pods of the attempt left out of `pods` to keep the record small. */
  readonly podsOmitted?: number;
}

export interface StepRecord {
  readonly step: StepName;
  readonly status: 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'SKIPPED';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly attempts: readonly AttemptRecord[];
}

export type RunStatus = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';

/** How a night reads in the UI (search attribute `NightjarStatus`) and the status query. */
export type NightStatus = 'RUNNING' | 'AWAITING_FEEDS' | 'LATE' | 'NEEDS_ATTENTION' | 'COMPLETED' | 'FAILED' | 'CANCELLED';

/** An operator's decision on a parked step, as the manifest keeps it (audit trail). */
export interface DecisionRecord {
  readonly step: StepName;
  readonly feed?: FeedName;
  readonly action: 'retry' | 'skip' | 'abort';
  readonly reason?: string;
  readonly by?: string;
  readonly at: string;
  readonly error: { readonly type: string; readonly message: string };
}

export interface FeedManifestEntry {
  readonly feed: FeedName;
  readonly status: FeedIngested['status'];
  readonly rowsIn: number;
  readonly rowsAccepted: number;
  readonly rowsRejected: number;
  readonly rejectReasons: Readonly<Record<string, number>>;
  readonly controlCount: number;
  readonly controlSum: string;
  readonly sha256: string;
  readonly rawUri: string | null;
  readonly rejectsUri: string | null;
}

/**
 * Money quarantined, reconciled: the control column's sum over a feed's accepted rows and over its
 * rejects (see FeedNormalized), which add up to `controlSum`; null before normalize ran, absent in
 * manifests written before they existed. Apart from FeedManifestEntry, whose keys the HTTP API's
 * schema enumerates; the manifest's feed entries carry both.
 */
export interface FeedAmounts {
  readonly amountAccepted?: string | null;
  readonly amountRejected?: string | null;
}

/** The run manifest: the audit trail of one business date, written by finalize. */
export interface RunManifest {
  readonly businessDate: string;
  readonly tenant?: string;
  readonly status: RunStatus;
  /** A required feed missed its cut-off. */
  readonly late?: boolean;
  /** Operators' decisions on parked steps, in order. */
  readonly decisions?: readonly DecisionRecord[];
  readonly workflowId: string;
  readonly runId: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly error?: { readonly step: StepName; readonly type: string; readonly message: string };
  readonly feeds: readonly (FeedManifestEntry & FeedAmounts)[];
  readonly steps: readonly StepRecord[];
  readonly reports: readonly TableExported[];
  /** Learned sizing per Spark job (absent when learning is off). */
  readonly sizing?: readonly SizingManifestEntry[];
}

/** One janitor sweep of what Spark attempts left on the platform (the `sweepSparkLeftovers` activity's input). */
export interface SweepInput {
  /** Objects younger than this are left alone (their workflow may not be visible yet). */
  readonly minAgeSeconds: number;
  readonly dryRun?: boolean;
}

export interface FinalizeRunInput {
  readonly manifest: RunManifest;
}

export interface FinalizeRunResult {
  readonly manifestUri: string;
  readonly tables: readonly TableExported[];
  /** The night's report page beside the manifest; absent when it could not be written. */
  readonly reportUri?: string;
}

export type SparkOverrides = Partial<Record<'normalize' | 'transform', Partial<import('./spark/resources').SparkResources>>>;

export interface PlanRunInput {
  readonly businessDate: string;
  readonly tenant?: string;
  readonly sparkOverrides?: SparkOverrides;
}

/** How the night waits for its feeds, decided by the plan in the bank's time zone. */
export interface FeedWaitPlan {
  /** Each feed's cut-off as an instant: a required feed still missing then makes the night LATE. */
  readonly cutoffs: Readonly<Record<FeedName, string>>;
  /** After this instant a missing optional feed is skipped and a missing required one parks the night. */
  readonly deadlineAt: string;
  /** How often the landing zone is looked at while waiting. */
  readonly pollSeconds: number;
}

export interface JobPlan {
  /** What the first attempt asks for tonight. */
  readonly resources: SparkResources;
  /** The configured baseline (before learned sizing and overrides). */
  readonly configured: SparkResources;
  /** Where `resources` came from: configuration, what the job learned, or tonight's override. */
  readonly sizingSource: 'configured' | 'learned' | 'override';
  readonly policy: import('./spark/escalation').EscalationPolicy;
}

export interface RecordSizingInput {
  readonly businessDate: string;
  readonly job: SparkJobName;
  readonly source: JobPlan['sizingSource'];
  readonly configured: SparkResources;
  readonly startedFrom: SparkResources;
  readonly finalResources: SparkResources;
  readonly attempts: number;
  readonly succeeded: boolean;
}

/** One job's sizing, as the manifest shows it. */
export interface SizingManifestEntry {
  readonly job: SparkJobName;
  readonly source: JobPlan['sizingSource'];
  readonly startedFrom: SparkResources;
  readonly finalResources: SparkResources;
  /** What the next night starts from. */
  readonly next: SparkResources;
  readonly cleanNights: number;
  /** What tonight changed in the learned size, if anything. */
  readonly change: 'learned' | 'stepped-down' | 'reset' | null;
}

/** What tonight's run will do, decided once from configuration and recorded in history. */
export interface RunPlan {
  readonly platform: 'local' | 'kubernetes';
  readonly feeds: readonly { readonly feed: FeedName; readonly required: boolean }[];
  readonly feedWait: FeedWaitPlan;
  readonly jobs: Readonly<Record<SparkJobName, JobPlan>>;
  /** Whether the run records what each job learned about its size. */
  readonly learnSizing: boolean;
}

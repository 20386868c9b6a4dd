import { ApplicationFailure, defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { FailureType } from '../common/failures';
import type { FeedName } from '../domain/feeds/catalog';
import { refusalMessage } from '../domain/night-story';
import { sparkResourcesOverrideWithin, type OverrideCaps } from '../domain/bounds';
import { SPARK_JOBS, SparkResourcesOverrideSchema, type SparkJobName } from '../domain/spark/resources';
import { describeIssues, quotable, type FeedArrivalInput } from '../domain/triggers';
import type { AttemptRecord, FeedManifestEntry, NightStatus, RunStatus, SparkOverrides, StepName, StepRecord, TableExported } from '../domain/pipeline';

// ---- the daily pipeline's contract -------------------------------------------------------------
// What clients (triggers, the CLI, activities that start nights) need of the night: its input,
// its result, its messages. They start it by type name with these types, and never import the
// workflow's code.

/** The workflow type the worker registers for one night. */
export const DAILY_PIPELINE = 'dailyPipeline';

export interface DailyPipelineInput {
  readonly businessDate: string;
  /** Tenant of the night (ids, search attributes, manifest); `default` when absent. */
  readonly tenant?: string;
  /** Per-job resource overrides for this night only (e.g. an operator's re-run with more memory). */
  readonly sparkOverrides?: SparkOverrides;
}

export interface DailyPipelineResult {
  readonly businessDate: string;
  readonly status: RunStatus;
  readonly manifestUri: string;
  readonly feeds: readonly FeedManifestEntry[];
  readonly reports: readonly TableExported[];
}

/** The signature of the night's workflow, for typed starts by name (`client.workflow.start<DailyPipeline>`). */
export type DailyPipeline = (input: DailyPipelineInput) => Promise<DailyPipelineResult>;

/** Type of a failure raised when an operator aborts a parked night. */
export const ABORTED_BY_OPERATOR = 'AbortedByOperator';


/** Where one feed stands tonight. */
export interface FeedState {
  readonly feed: FeedName;
  readonly required: boolean;
  readonly state: 'WAITING' | 'ARRIVED' | 'INGESTED' | 'SKIPPED' | 'FAILED';
  readonly uri?: string;
  /** How it was found: a `feedArrived` signal or the landing-zone discovery. */
  readonly via?: 'signal' | 'discovery';
  readonly arrivedAt?: string;
  /** The feed's own cut-off (UTC ISO); after it the night is LATE. */
  readonly cutoffAt: string;
}

/** A step that failed for good and waits for a decision (`resolveStep`). */
export interface ParkedStep {
  readonly step: StepName;
  /** For ingest: the feed that failed. */
  readonly feed?: FeedName;
  readonly error: { readonly type: string; readonly message: string };
  readonly since: string;
  readonly actions: readonly ResolveAction[];
}

export interface PipelineStatus {
  readonly businessDate: string;
  readonly tenant: string;
  readonly status: NightStatus;
  readonly stage: StepName | 'awaiting-feeds' | 'done';
  readonly late: boolean;
  readonly feeds: readonly FeedState[];
  readonly manifestFeeds: readonly FeedManifestEntry[];
  readonly steps: readonly StepRecord[];
  readonly parked?: ParkedStep;
  readonly exportHold?: { readonly reason: string; readonly by?: string; readonly since: string };
  readonly decisions: readonly ResolveStepRequest[];
  readonly error?: { readonly step: StepName; readonly type: string; readonly message: string };
  readonly startedAt: string;
}

/** The night's state, for the CLI, the UI's query tab and other services. */
export const statusQuery = defineQuery<PipelineStatus>('status');

/** A feed file arrived (from the HTTP trigger API, the Kafka bridge, or by hand in the UI). */
export const feedArrivedSignal = defineSignal<[FeedArrivalInput]>('feedArrived');

export interface HoldRequest {
  readonly reason: string;
  readonly by?: string;
}

/** Keep the export from starting (e.g. while finance checks the numbers); the rest runs on. */
export const holdExportSignal = defineSignal<[HoldRequest]>('holdExport');
export const releaseExportSignal = defineSignal<[{ readonly by?: string }?]>('releaseExport');

export type ResolveAction = 'retry' | 'skip' | 'abort';

export interface ResolveStepRequest {
  /** The parked step (must match what `status.parked.step` says). */
  readonly step: StepName;
  /** For ingest: the feed (must match `status.parked.feed`). */
  readonly feed?: FeedName;
  readonly action: ResolveAction;
  /** For a Spark step's retry: resources for its next attempts, e.g. `{ "driverMemoryMb": 4096 }`. */
  readonly overrides?: NonNullable<SparkOverrides['normalize']>;
  readonly reason?: string;
  readonly by?: string;
}

export interface ResolveStepResult {
  readonly accepted: true;
  readonly step: StepName;
  readonly feed?: FeedName;
  readonly action: ResolveAction;
}

/**
 * The decision for a parked step. The validator refuses what cannot apply (no parked step, the
 * wrong step or feed, an unknown action, skipping a mandatory step, bad overrides) and a refused
 * update leaves the night untouched.
 */
export const resolveStepUpdate = defineUpdate<ResolveStepResult, [ResolveStepRequest]>('resolveStep');

/** The same decision as a signal, for senders that cannot wait for an update's answer. */
export const resolveStepSignal = defineSignal<[ResolveStepRequest]>('resolveStepSignal');

export interface SparkJobStatus {
  readonly job: string;
  readonly attempts: readonly AttemptRecord[];
  readonly current?: { readonly attempt: number; readonly attemptId: string; readonly state: string };
}

export const sparkJobStatusQuery = defineQuery<SparkJobStatus>('sparkJobStatus');

// ---- checking what senders send ----------------------------------------------------------------
// Signal and update arguments arrive as whatever JSON a sender wrote, whatever the types above say.
// These checks are pure and never throw on any value (not even `{"toString": 1}`, which makes
// `String(value)` throw): a throw in a signal handler fails the workflow task on every replay.

/** Longest `reason` / `by` kept from a decision or a hold (they are shown in the status and the manifest). */
export const MAX_NOTE_LENGTH = 500;

const RESOLVE_ACTIONS: readonly ResolveAction[] = ['retry', 'skip', 'abort'];
const RESOLVE_FIELDS: readonly string[] = ['step', 'feed', 'action', 'overrides', 'reason', 'by'];

/** A received value as a refusal may quote it: a string clipped and without control characters, otherwise its kind. */
function shown(value: unknown): string {
  if (typeof value === 'string') return quotable(value);
  if (value === undefined || value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return Array.isArray(value) ? '(an array)' : `(${typeof value === 'object' ? 'an object' : typeof value})`;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A note (`reason`, `by`) is absent, null, or a string of at most MAX_NOTE_LENGTH characters. */
const badNote = (value: unknown): boolean => value !== undefined && value !== null && (typeof value !== 'string' || value.length > MAX_NOTE_LENGTH);

const unexpectedFields = (value: Record<string, unknown>, known: readonly string[]): string[] =>
  Object.keys(value)
    .filter((k) => !known.includes(k))
    .map(shown);

/**
 * Why a `resolveStep` decision cannot apply to the night as it stands (`parked`, and whether a
 * decision is already being applied), or undefined when it can. Overrides are held to the night's
 * caps (`caps`, the same numbers escalation stops at) once the night has its plan. Pure, for the
 * update's validator and the signal alike.
 */
export function resolveStepRefusal(req: unknown, parked: ParkedStep | undefined, deciding: boolean, caps?: Readonly<Record<SparkJobName, OverrideCaps>>): string | undefined {
  if (!isRecord(req)) return 'expected an object { step, action }';
  if (!parked) return 'no step is waiting for a decision';
  if (req['step'] !== parked.step) return `the night waits on step '${parked.step}', not '${shown(req['step'])}'`;
  if ((req['feed'] ?? undefined) !== (parked.feed ?? undefined)) return `the night waits on feed '${parked.feed ?? '(none)'}', not '${shown(req['feed'])}'`;
  const action = req['action'];
  if (!RESOLVE_ACTIONS.includes(action as ResolveAction)) return `unknown action '${shown(action)}': retry, skip or abort`;
  if (!parked.actions.includes(action as ResolveAction)) return `'${String(action)}' is not allowed for ${parked.step}${parked.feed ? ` (${parked.feed})` : ''}: ${parked.actions.join(', ')}`;
  if (req['overrides'] !== undefined) {
    if (action !== 'retry' || !(SPARK_JOBS as readonly StepName[]).includes(parked.step)) return 'overrides apply only to a retry of a Spark step (normalize, transform)';
    const schema = caps === undefined ? SparkResourcesOverrideSchema : sparkResourcesOverrideWithin(caps[parked.step as SparkJobName]);
    const checked = schema.safeParse(req['overrides']);
    if (!checked.success) return `invalid overrides: ${describeIssues(checked.error)}`;
  }
  for (const note of ['reason', 'by'] as const) {
    if (badNote(req[note])) return `${note} must be a string of at most ${MAX_NOTE_LENGTH} characters`;
  }
  // A misspelt field (`override`) would otherwise be dropped without a word: a retry without the memory asked for.
  const unexpected = unexpectedFields(req, RESOLVE_FIELDS);
  if (unexpected.length > 0) return `unexpected field(s) ${unexpected.slice(0, 5).join(', ')}${unexpected.length > 5 ? ', …' : ''}`;
  if (deciding) return 'a decision is already being applied';
  return undefined;
}

/**
 * The `resolveStep` update's validator: throws a non-retryable `InvalidInput` failure naming the
 * problem and the bodies that would be accepted. Its message starts with `resolveStep refused: `,
 * which the failure converter leaves readable in the UI (it quotes no customer data).
 */
export function validateResolveStep(req: unknown, parked: ParkedStep | undefined, deciding: boolean, caps?: Readonly<Record<SparkJobName, OverrideCaps>>): void {
  const why = resolveStepRefusal(req, parked, deciding, caps);
  if (why !== undefined) throw ApplicationFailure.create({ type: FailureType.InvalidInput, message: refusalMessage(why, parked), nonRetryable: true });
}

/**
 * A `holdExport` signal's hold. A malformed one still holds (holding is the safe side, and an
 * operator releases it by hand) with the default reason 'held'; `problem` says what was wrong.
 */
export function readHoldRequest(raw: unknown): { readonly hold: HoldRequest; readonly problem?: string } {
  if (!isRecord(raw)) return { hold: { reason: 'held' }, problem: 'expected an object { reason, by }' };
  const problems: string[] = [];
  const reason = raw['reason'];
  const by = raw['by'];
  const goodReason = typeof reason === 'string' && reason.trim() !== '' && !badNote(reason);
  if (!goodReason) problems.push(`reason must be a non-empty string of at most ${MAX_NOTE_LENGTH} characters`);
  const goodBy = typeof by === 'string' && by !== '' && !badNote(by);
  if (by !== undefined && by !== null && !goodBy) problems.push(`by must be a string of at most ${MAX_NOTE_LENGTH} characters`);
  const unexpected = unexpectedFields(raw, ['reason', 'by']);
  if (unexpected.length > 0) problems.push(`unexpected field(s) ${unexpected.slice(0, 5).join(', ')}`);
  return {
    hold: { reason: goodReason ? reason : 'held', ...(goodBy ? { by } : {}) },
    ...(problems.length > 0 ? { problem: problems.join('; ') } : {}),
  };
}

/** A `releaseExport` signal's sender. Any release releases; a `by` that is not a short string is dropped. */
export function readReleaseRequest(raw: unknown): { readonly by?: string; readonly problem?: string } {
  if (raw === undefined || raw === null) return {};
  if (!isRecord(raw)) return { problem: 'expected an object { by } or nothing' };
  const by = raw['by'];
  const goodBy = typeof by === 'string' && by !== '' && !badNote(by);
  const problems: string[] = [];
  if (by !== undefined && by !== null && !goodBy) problems.push(`by must be a string of at most ${MAX_NOTE_LENGTH} characters`);
  const unexpected = unexpectedFields(raw, ['by']);
  if (unexpected.length > 0) problems.push(`unexpected field(s) ${unexpected.slice(0, 5).join(', ')}`);
  return { ...(goodBy ? { by } : {}), ...(problems.length > 0 ? { problem: problems.join('; ') } : {}) };
}

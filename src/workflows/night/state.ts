import { isCancellation, upsertSearchAttributes } from '@temporalio/workflow';
import type { FeedName } from '../../domain/feeds/catalog';
import type {
  AttemptRecord,
  DecisionRecord,
  FeedIngested,
  FeedManifestEntry,
  FeedNormalized,
  NightStatus,
  RunManifest,
  RunPlan,
  RunStatus,
  SizingManifestEntry,
  SparkOverrides,
  StepName,
  StepRecord,
  TableExported,
} from '../../domain/pipeline';
import type { SparkJobName } from '../../domain/spark/resources';
import type { FeedArrival } from '../../domain/triggers';
import type { OverrideCaps } from '../../domain/bounds';
import { feedManifestEntry } from '../../domain/reconcile';
import type {
  DailyPipelineInput,
  DailyPipelineResult,
  FeedState,
  HoldRequest,
  ParkedStep,
  PipelineStatus,
  ResolveStepRequest,
} from '../messages';
import { SearchAttr } from '../search-attributes';
import { describeFailure } from './failures';

export type Stage = PipelineStatus['stage'];
export type StepError = NonNullable<PipelineStatus['error']>;
export type ExportHold = NonNullable<PipelineStatus['exportHold']>;

/** Where a Spark job's retries stand: the child workflow round and the next attempt number. */
interface SparkRounds {
  round: number;
  nextAttempt: number;
}

/**
 * The state of one night and the few transitions that change it. The workflow's steps and the
 * message handlers act on it; the status query, the manifest and the result are derived from it.
 * Every change of `status` or `stage` is also written to the night's search attributes.
 */
export class Night {
  readonly businessDate: string;
  readonly tenant: string;
  readonly overrides: { -readonly [J in SparkJobName]?: NonNullable<SparkOverrides[J]> };
  // Changed only by the transitions below; read through the getters.
  private _outcome: RunStatus = 'RUNNING';
  private _status: NightStatus = 'RUNNING';
  private _stage: Stage = 'awaiting-feeds';
  private _late = false;
  private _error: StepError | undefined;
  private _parked: ParkedStep | undefined;
  private _decision: ResolveStepRequest | undefined;
  private _exportHold: ExportHold | undefined;
  private _manifestUri = '';
  /** Tonight's caps per Spark job (the plan's escalation policies): an operator's overrides stay within them. */
  private _overrideCaps: Readonly<Record<SparkJobName, OverrideCaps>> | undefined;
  private readonly _feeds = new Map<FeedName, FeedState>();
  private readonly _arrivals = new Map<FeedName, FeedArrival>();
  private readonly steps: StepRecord[] = [];
  private readonly decisions: DecisionRecord[] = [];
  private readonly sizing: SizingManifestEntry[] = [];
  private readonly sparkRounds: Record<SparkJobName, SparkRounds> = { normalize: { round: 0, nextAttempt: 1 }, transform: { round: 0, nextAttempt: 1 } };
  private ingested: readonly FeedIngested[] = [];
  private normalized: readonly FeedNormalized[] = [];
  private reports: readonly TableExported[] = [];

  constructor(
    readonly input: DailyPipelineInput,
    readonly workflow: { readonly workflowId: string; readonly runId: string },
    readonly startedAt: string,
  ) {
    this.businessDate = input.businessDate;
    this.tenant = input.tenant ?? 'default';
    this.overrides = { ...input.sparkOverrides };
  }

  /** The night's end state, as the manifest and the result say it. */
  get outcome(): RunStatus {
    return this._outcome;
  }
  /** How the night reads in the UI (search attribute) and the status query. */
  get status(): NightStatus {
    return this._status;
  }
  get stage(): Stage {
    return this._stage;
  }
  get late(): boolean {
    return this._late;
  }
  /** The step waiting for an operator's decision (one at a time). */
  get overrideCaps(): Readonly<Record<SparkJobName, OverrideCaps>> | undefined {
    return this._overrideCaps;
  }

  get parked(): ParkedStep | undefined {
    return this._parked;
  }
  /** A decision accepted for the parked step, not yet applied. */
  get decision(): ResolveStepRequest | undefined {
    return this._decision;
  }
  get exportHold(): ExportHold | undefined {
    return this._exportHold;
  }
  get feeds(): ReadonlyMap<FeedName, FeedState> {
    return this._feeds;
  }
  get arrivals(): ReadonlyMap<FeedName, FeedArrival> {
    return this._arrivals;
  }

  /** Writes the night's search attributes for the first time. */
  announce(): void {
    upsertSearchAttributes([
      { key: SearchAttr.businessDate, value: this.businessDate },
      { key: SearchAttr.tenant, value: this.tenant },
      { key: SearchAttr.status, value: this._status },
      { key: SearchAttr.stage, value: this._stage },
    ]);
  }

  setStatus(next: NightStatus): void {
    this._status = next;
    upsertSearchAttributes([{ key: SearchAttr.status, value: next }]);
  }

  setStage(next: Stage): void {
    this._stage = next;
    upsertSearchAttributes([{ key: SearchAttr.stage, value: next }]);
  }

  // ---- feeds ---------------------------------------------------------------------------------

  /** The plan names tonight's feeds; those a signal already announced are ARRIVED. */
  planned(plan: RunPlan): void {
    this._overrideCaps = { normalize: plan.jobs.normalize.policy, transform: plan.jobs.transform.policy };
    for (const f of plan.feeds) {
      const arrival = this._arrivals.get(f.feed);
      this._feeds.set(f.feed, {
        feed: f.feed,
        required: f.required,
        cutoffAt: plan.feedWait.cutoffs[f.feed],
        ...(arrival ? { state: 'ARRIVED' as const, uri: arrival.uri, via: 'signal' as const, arrivedAt: arrival.arrivedAt ?? new Date().toISOString() } : { state: 'WAITING' as const }),
      });
    }
  }

  /** A `feedArrived` signal for this night. The first notice counts; later ones only before ingest started. */
  feedArrived(arrival: FeedArrival): void {
    const state = this._feeds.get(arrival.feed);
    if (state && state.state !== 'WAITING') return;
    this._arrivals.set(arrival.feed, arrival);
    if (state) this._feeds.set(arrival.feed, { ...state, state: 'ARRIVED', uri: arrival.uri, via: 'signal', arrivedAt: arrival.arrivedAt ?? new Date().toISOString() });
  }

  /** Feeds the landing-zone discovery found. */
  feedsDiscovered(found: readonly { feed: FeedName; uri: string }[]): void {
    for (const { feed, uri } of found) {
      const state = this._feeds.get(feed);
      if (state?.state === 'WAITING') this._feeds.set(feed, { ...state, state: 'ARRIVED', uri, via: 'discovery', arrivedAt: new Date().toISOString() });
    }
  }

  feedIs(feed: FeedName, state: FeedState['state']): boolean {
    return this._feeds.get(feed)?.state === state;
  }

  feedSettled(feed: FeedName, state: 'INGESTED' | 'SKIPPED'): void {
    this._feeds.set(feed, { ...(this._feeds.get(feed) as FeedState), state });
  }

  /** Every feed ingested (again): what was normalized before no longer describes them. */
  ingestedAll(ingested: readonly FeedIngested[]): void {
    this.ingested = ingested;
    this.normalized = [];
  }

  normalizedAll(normalized: readonly FeedNormalized[]): void {
    this.normalized = normalized;
  }

  get ingestedFeeds(): readonly FeedIngested[] {
    return this.ingested;
  }

  get normalizedFeeds(): readonly FeedNormalized[] {
    return this.normalized;
  }

  /** What the manifest says of each feed: its ingest, and its normalize once that ran. */
  get manifestFeeds(): FeedManifestEntry[] {
    return this.ingested.map((f) => feedManifestEntry(f, this.normalized.find((n) => n.feed === f.feed)));
  }

  /** A required feed missed its cut-off: the night is LATE (once). */
  becameLate(): void {
    this._late = true;
    this.setStatus('LATE');
  }

  // ---- steps ---------------------------------------------------------------------------------

  stepEnded(record: StepRecord): void {
    this.steps.push(record);
  }

  /** A Spark step runs (again): a new round of its child workflow. */
  sparkRoundStarted(job: SparkJobName): Readonly<SparkRounds> {
    this.sparkRounds[job].round += 1;
    return { ...this.sparkRounds[job] };
  }

  /** A Spark round ended: the next round continues the attempt numbering (a failed round uses at least one number). */
  sparkRoundEnded(job: SparkJobName, attempts: readonly AttemptRecord[], succeeded: boolean): void {
    const rounds = this.sparkRounds[job];
    const after = Math.max(rounds.nextAttempt, ...attempts.map((a) => a.attempt + 1));
    rounds.nextAttempt = succeeded ? after : Math.max(rounds.nextAttempt + 1, after);
  }

  sizingLearned(entry: SizingManifestEntry): void {
    this.sizing.push(entry);
  }

  // ---- export hold ---------------------------------------------------------------------------

  hold(hold: HoldRequest): void {
    this._exportHold = { ...hold, since: new Date().toISOString() };
  }

  release(): void {
    this._exportHold = undefined;
  }

  // ---- parking -------------------------------------------------------------------------------

  /** A step failed for good: it waits for a decision, and the night reads NEEDS_ATTENTION. */
  park(parked: ParkedStep): void {
    this._parked = parked;
    this._error = { step: parked.step, ...parked.error };
    this.setStatus('NEEDS_ATTENTION');
  }

  /** A decision for the parked step arrived (from the update or the signal). */
  decide(decision: ResolveStepRequest): void {
    this._decision = decision;
  }

  /** The parked step's decision is applied: the step leaves the parking place and the decision is on record. */
  unpark(chosen: ResolveStepRequest, error: { type: string; message: string }): void {
    const { step, feed } = this._parked as ParkedStep;
    this._decision = undefined;
    this._parked = undefined;
    this.decisions.push({
      step,
      ...(feed ? { feed } : {}),
      action: chosen.action,
      ...(chosen.reason ? { reason: chosen.reason } : {}),
      ...(chosen.by ? { by: chosen.by } : {}),
      at: new Date().toISOString(),
      error,
    });
  }

  /** After a retry or skip the night runs on as it was before the step parked. */
  resumed(step: StepName, before: NightStatus, chosen: ResolveStepRequest): void {
    this._error = undefined;
    this.setStatus(before === 'NEEDS_ATTENTION' ? 'RUNNING' : before);
    if (chosen.overrides && (step === 'normalize' || step === 'transform')) this.overrides[step] = { ...this.overrides[step], ...chosen.overrides };
  }

  // ---- the end -------------------------------------------------------------------------------

  completed(reports: readonly TableExported[]): void {
    this.reports = reports;
    this._outcome = 'COMPLETED';
  }

  /** The night ends in failure or cancellation; the error names the step it was at. */
  failed(err: unknown): void {
    this._outcome = isCancellation(err) ? 'CANCELLED' : 'FAILED';
    if (!this._error && !isCancellation(err)) {
      this._error = { step: this._stage === 'awaiting-feeds' || this._stage === 'done' ? 'ingest' : this._stage, ...describeFailure(err) };
    }
  }

  /** The night is over, whatever its end: nothing waits any longer, finalize writes the manifest. */
  closing(): void {
    this._parked = undefined;
    this.setStage('finalize');
  }

  finalized(manifestUri: string, tables: readonly TableExported[]): void {
    this._manifestUri = manifestUri;
    this.reports = [...this.reports, ...tables];
  }

  // ---- views ---------------------------------------------------------------------------------

  /** What the `status` query answers. */
  view(): PipelineStatus {
    return {
      businessDate: this.businessDate,
      tenant: this.tenant,
      status: this._status,
      stage: this._stage,
      late: this._late,
      feeds: [...this._feeds.values()],
      manifestFeeds: this.manifestFeeds,
      steps: this.steps,
      ...(this._parked ? { parked: this._parked } : {}),
      ...(this._exportHold ? { exportHold: this._exportHold } : {}),
      decisions: this.decisions.map(({ step, feed, action, reason, by }) => ({ step, action, ...(feed ? { feed } : {}), ...(reason ? { reason } : {}), ...(by ? { by } : {}) })),
      ...(this._error ? { error: this._error } : {}),
      startedAt: this.startedAt,
    };
  }

  /** The audit trail finalize writes, for failed and cancelled nights too. */
  manifest(): RunManifest {
    return {
      businessDate: this.businessDate,
      tenant: this.tenant,
      status: this._outcome,
      ...(this._late ? { late: this._late } : {}),
      workflowId: this.workflow.workflowId,
      runId: this.workflow.runId,
      startedAt: this.startedAt,
      finishedAt: new Date().toISOString(),
      ...(this._error ? { error: this._error } : {}),
      feeds: this.manifestFeeds,
      steps: this.steps,
      reports: this.reports,
      ...(this.sizing.length > 0 ? { sizing: this.sizing } : {}),
      ...(this.decisions.length > 0 ? { decisions: this.decisions } : {}),
    };
  }

  result(): DailyPipelineResult {
    return { businessDate: this.businessDate, status: this._outcome, manifestUri: this._manifestUri, feeds: this.manifestFeeds, reports: this.reports };
  }
}

import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  executeChild,
  isCancellation,
  log,
  metricMeter,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { FailureType } from '../common/failures';
import type { FeedName } from '../domain/feeds/catalog';
import { sparkJobWorkflowId } from '../domain/ids';
import type {
  AttemptRecord,
  DecisionRecord,
  FeedIngested,
  FeedManifestEntry,
  FeedNormalized,
  NightStatus,
  ReportProduced,
  RunManifest,
  RunStatus,
  SizingManifestEntry,
  SparkOverrides,
  StepName,
  StepRecord,
  TableExported,
} from '../domain/pipeline';
import { feedManifestEntry as manifestEntry, reconcileFeeds } from '../domain/reconcile';
import type { SparkJobName } from '../domain/spark/resources';
import { FeedArrivalSchema, describeIssues, type FeedArrival } from '../domain/triggers';
import { METRICS } from '../observability/catalog';
import {
  feedArrivedSignal,
  holdExportSignal,
  releaseExportSignal,
  readHoldRequest,
  readReleaseRequest,
  resolveStepRefusal,
  resolveStepSignal,
  resolveStepUpdate,
  validateResolveStep,
  statusQuery,
  type FeedState,
  type ParkedStep,
  type ResolveAction,
  type ResolveStepRequest,
} from './messages';
import { AWAIT_FEEDS_ACTIVITY, EXPORT_ACTIVITY, FINALIZE_ACTIVITY, INGEST_ACTIVITY, PLAN_ACTIVITY, SIZING_ACTIVITY } from './presets';
import { SearchAttr } from './search-attributes';
import { sparkJob, type SparkJobFailureDetails, type SparkJobResult } from './spark-job';

type Activities = ReturnType<typeof createActivities>;
type RunPlan = Awaited<ReturnType<Activities['planRun']>>;

const { planRun } = proxyActivities<Activities>(PLAN_ACTIVITY);
const { awaitFeeds } = proxyActivities<Activities>(AWAIT_FEEDS_ACTIVITY);
const { ingestFeed } = proxyActivities<Activities>(INGEST_ACTIVITY);
const { exportReports } = proxyActivities<Activities>(EXPORT_ACTIVITY);
const { finalizeRun } = proxyActivities<Activities>(FINALIZE_ACTIVITY);
const { recordSparkSizing } = proxyActivities<Activities>(SIZING_ACTIVITY);

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

interface StepError {
  step: StepName;
  type: string;
  message: string;
}

/** Type of a failure raised when an operator aborts a parked night. */
export const ABORTED_BY_OPERATOR = 'AbortedByOperator';

/** Steps that may be skipped, and when: only the ingest of a feed that is not required. */

/** The unwrapped cause of an activity or child workflow failure: its type and message. */
function describeFailure(err: unknown): { type: string; message: string } {
  let e: unknown = err;
  while ((e instanceof ActivityFailure || e instanceof ChildWorkflowFailure) && e.cause) e = e.cause;
  if (e instanceof ApplicationFailure) return { type: e.type ?? 'ApplicationFailure', message: e.message };
  if (e instanceof Error) return { type: e.name, message: e.message };
  return { type: 'Unknown', message: String(err) };
}

/** Attempt history carried in a sparkJob failure's details, so a failed night still shows it. */
function attemptsFromFailure(err: unknown): AttemptRecord[] {
  let e: unknown = err;
  while (e instanceof ChildWorkflowFailure && e.cause) e = e.cause;
  if (e instanceof ApplicationFailure) {
    const details = e.details?.[0] as SparkJobFailureDetails | undefined;
    if (details && Array.isArray(details.attempts)) return [...details.attempts];
  }
  return [];
}

/**
 * One business date, end to end: wait for the feeds (signals or the landing zone) → ingest every
 * feed → Spark normalize → reconcile → Spark transform → export (unless held) → finalize
 * (manifest + operational reports). The workflow id derives from the tenant and date, so every
 * trigger joins this run instead of duplicating it.
 *
 * A step that fails for good does not fail the night: it parks in NEEDS_ATTENTION and waits for
 * an operator's `resolveStep` decision — retry (only that step and what follows), skip (an
 * optional feed) or abort.
 */
export async function dailyPipeline(input: DailyPipelineInput): Promise<DailyPipelineResult> {
  const { businessDate } = input;
  const tenant = input.tenant ?? 'default';
  const info = workflowInfo();
  const startedAt = new Date().toISOString();

  let status: RunStatus = 'RUNNING';
  let nightStatus: NightStatus = 'RUNNING';
  let stage: StepName | 'awaiting-feeds' | 'done' = 'awaiting-feeds';
  let late = false;
  let error: StepError | undefined;
  let parked: ParkedStep | undefined;
  let decision: ResolveStepRequest | undefined;
  let exportHold: { reason: string; by?: string; since: string } | undefined;
  let plan: RunPlan | undefined;
  const decisions: DecisionRecord[] = [];
  const steps: StepRecord[] = [];
  let manifestFeeds: FeedManifestEntry[] = [];
  let reports: TableExported[] = [];
  const sizing: SizingManifestEntry[] = [];
  const feedStates = new Map<FeedName, FeedState>();
  const arrivals = new Map<FeedName, FeedArrival>();
  const overrides: { -readonly [J in SparkJobName]?: NonNullable<SparkOverrides[J]> } = { ...input.sparkOverrides };
  const sparkRounds: Record<SparkJobName, { round: number; nextAttempt: number }> = {
    normalize: { round: 0, nextAttempt: 1 },
    transform: { round: 0, nextAttempt: 1 },
  };

  const setStatus = (next: NightStatus) => {
    nightStatus = next;
    upsertSearchAttributes([{ key: SearchAttr.status, value: next }]);
  };
  const setStage = (next: typeof stage) => {
    stage = next;
    upsertSearchAttributes([{ key: SearchAttr.stage, value: next }]);
  };
  upsertSearchAttributes([
    { key: SearchAttr.businessDate, value: businessDate },
    { key: SearchAttr.tenant, value: tenant },
    { key: SearchAttr.status, value: nightStatus },
    { key: SearchAttr.stage, value: stage },
  ]);

  setHandler(statusQuery, () => ({
    businessDate,
    tenant,
    status: nightStatus,
    stage,
    late,
    feeds: [...feedStates.values()],
    manifestFeeds,
    steps,
    ...(parked ? { parked } : {}),
    ...(exportHold ? { exportHold } : {}),
    decisions: decisions.map(({ step, feed, action, reason, by }) => ({ step, action, ...(feed ? { feed } : {}), ...(reason ? { reason } : {}), ...(by ? { by } : {}) })),
    ...(error ? { error } : {}),
    startedAt,
  }));

  // ---- messages ------------------------------------------------------------------------------

  setHandler(feedArrivedSignal, (raw) => {
    const parsed = FeedArrivalSchema.safeParse(raw);
    if (!parsed.success) {
      log.warn('feedArrived signal refused', { problem: describeIssues(parsed.error) });
      return;
    }
    const arrival = parsed.data;
    if (arrival.businessDate !== businessDate || arrival.tenant !== tenant) {
      log.warn('feedArrived signal for another night ignored', { feed: arrival.feed, businessDate: arrival.businessDate, tenant: arrival.tenant });
      return;
    }
    const state = feedStates.get(arrival.feed);
    // The first notice counts; later ones (redeliveries) only matter before ingest started.
    if (state && state.state !== 'WAITING') return;
    arrivals.set(arrival.feed, arrival);
    if (state) feedStates.set(arrival.feed, { ...state, state: 'ARRIVED', uri: arrival.uri, via: 'signal', arrivedAt: arrival.arrivedAt ?? new Date().toISOString() });
  });

  setHandler(holdExportSignal, (raw) => {
    // A malformed hold still holds (the safe side); nothing a sender writes may throw here, or the
    // workflow task would fail on every replay.
    const { hold, problem } = readHoldRequest(raw);
    if (problem) log.warn('holdExport signal malformed: holding anyway', { problem });
    exportHold = { ...hold, since: new Date().toISOString() };
    log.info('export held', { reason: exportHold.reason, by: exportHold.by });
  });
  setHandler(releaseExportSignal, (raw) => {
    const { by, problem } = readReleaseRequest(raw);
    if (problem) log.warn('releaseExport signal malformed', { problem });
    if (exportHold) log.info('export released', { by });
    exportHold = undefined;
  });

  const accept = (req: ResolveStepRequest) => {
    decision = req;
  };
  setHandler(
    resolveStepUpdate,
    (req) => {
      accept(req);
      return { accepted: true as const, step: req.step, action: req.action, ...(req.feed ? { feed: req.feed } : {}) };
    },
    { validator: (req) => validateResolveStep(req, parked, decision !== undefined) },
  );
  setHandler(resolveStepSignal, (req) => {
    const why = resolveStepRefusal(req, parked, decision !== undefined);
    if (why !== undefined) {
      log.warn('resolveStep signal refused', { why });
      return;
    }
    accept(req);
  });

  // ---- steps ---------------------------------------------------------------------------------

  /** Runs one step, recording its timing and attempts whatever the outcome. */
  async function step<T>(name: StepName, body: () => Promise<{ value: T; attempts: AttemptRecord[] }>): Promise<T> {
    setStage(name);
    setCurrentDetails(`**${tenant} ${businessDate}**: ${name}`);
    const begun = new Date().toISOString();
    try {
      const { value, attempts } = await body();
      steps.push({ step: name, status: 'COMPLETED', startedAt: begun, finishedAt: new Date().toISOString(), attempts });
      return value;
    } catch (err) {
      const cancelled = isCancellation(err);
      steps.push({ step: name, status: cancelled ? 'CANCELLED' : 'FAILED', startedAt: begun, finishedAt: new Date().toISOString(), attempts: attemptsFromFailure(err) });
      throw err;
    }
  }

  /**
   * Runs `body` until it succeeds. When it fails for good the night parks and waits for a
   * decision: retry runs it again, skip returns `undefined` (only where allowed), abort fails the
   * night. Cancellation passes straight through.
   */
  async function withAttention<T>(name: StepName, feed: FeedName | undefined, skippable: boolean, body: () => Promise<T>): Promise<T | undefined> {
    for (;;) {
      try {
        return await body();
      } catch (err) {
        // Cancellation and an operator's abort (of a step nested in this one) end the night.
        if (isCancellation(err) || (err instanceof ApplicationFailure && err.type === ABORTED_BY_OPERATOR)) throw err;
        const failure = describeFailure(err);
        const actions: ResolveAction[] = skippable ? ['retry', 'skip', 'abort'] : ['retry', 'abort'];
        // One parked step at a time (feeds are ingested in parallel): the others queue up here.
        // The check and the claim below run with no await between them.
        while (parked !== undefined) await condition(() => parked === undefined);
        parked = { step: name, ...(feed ? { feed } : {}), error: failure, since: new Date().toISOString(), actions };
        error = { step: name, ...failure };
        const previous = nightStatus;
        setStatus('NEEDS_ATTENTION');
        // Workflow metrics are not emitted while replaying: one count per park.
        metricMeter.createCounter(METRICS.nightsParked.name, METRICS.nightsParked.unit, METRICS.nightsParked.help).add(1, { step: name });
        setCurrentDetails(
          `**NEEDS ATTENTION** — ${name}${feed ? ` (${feed})` : ''} failed: [${failure.type}] ${failure.message}\n\n` +
            `Decide with the \`resolveStep\` update: \`{"step": "${name}"${feed ? `, "feed": "${feed}"` : ''}, "action": "${actions.join('" | "')}"}\``,
        );
        log.warn('step parked: needs attention', { step: name, feed, ...failure });
        let chosen: ResolveStepRequest | undefined;
        while (chosen === undefined) {
          await condition(() => decision !== undefined);
          chosen = decision;
        }
        decision = undefined;
        parked = undefined;
        decisions.push({
          step: name,
          ...(feed ? { feed } : {}),
          action: chosen.action,
          ...(chosen.reason ? { reason: chosen.reason } : {}),
          ...(chosen.by ? { by: chosen.by } : {}),
          at: new Date().toISOString(),
          error: failure,
        });
        log.info('operator decision', { step: name, feed, action: chosen.action, by: chosen.by });
        if (chosen.action === 'abort') {
          throw ApplicationFailure.create({
            type: ABORTED_BY_OPERATOR,
            message: `aborted by ${chosen.by ?? 'an operator'} at ${name}${feed ? ` (${feed})` : ''}${chosen.reason ? `: ${chosen.reason}` : ''}; the step had failed with [${failure.type}] ${failure.message}`,
            nonRetryable: true,
          });
        }
        error = undefined;
        setStatus(previous === 'NEEDS_ATTENTION' ? 'RUNNING' : previous);
        if (chosen.action === 'skip') return undefined;
        if (chosen.overrides && (name === 'normalize' || name === 'transform')) overrides[name] = { ...overrides[name], ...chosen.overrides };
      }
    }
  }

  /** A non-Spark step's single attempt record (activity retries happen inside Temporal). */
  const simpleAttempt = (begun: Date, attempt: number): AttemptRecord => {
    const end = new Date();
    return { attempt, outcome: 'SUCCEEDED', resources: null, startedAt: begun.toISOString(), finishedAt: end.toISOString(), durationMs: end.getTime() - begun.getTime() };
  };

  const markDiscovered = (found: readonly { feed: FeedName; uri: string }[]) => {
    for (const { feed, uri } of found) {
      const state = feedStates.get(feed);
      if (state?.state === 'WAITING') feedStates.set(feed, { ...state, state: 'ARRIVED', uri, via: 'discovery', arrivedAt: new Date().toISOString() });
    }
  };

  /** Waits until every required feed arrived (signal or landing zone); LATE after a cut-off; the deadline decides the rest. */
  async function waitForFeeds(p: RunPlan): Promise<void> {
    setStage('awaiting-feeds');
    const missing = () => p.feeds.filter((f) => feedStates.get(f.feed)?.state === 'WAITING');
    const missingRequired = () => missing().filter((f) => f.required);
    while (missing().length > 0) {
      const now = Date.now();
      const deadline = Date.parse(p.feedWait.deadlineAt);
      if (now >= deadline) break;
      const cutoffs = missingRequired().map((f) => Date.parse(p.feedWait.cutoffs[f.feed]));
      // A cut-off already passed (a late start, a backfill): look once right away, and only a
      // feed still missing after that look makes the night late.
      const overdue = !late && cutoffs.some((c) => c <= now);
      const nextCutoff = late ? undefined : cutoffs.filter((c) => c > now).sort((a, b) => a - b)[0];
      if (nightStatus === 'RUNNING') setStatus('AWAITING_FEEDS');
      const until = new Date(overdue ? now : Math.min(deadline, nextCutoff ?? deadline)).toISOString();
      setCurrentDetails(`**${tenant} ${businessDate}**: waiting for ${missing().map((f) => f.feed).join(', ')} (until ${until})`);

      // Look in the landing zone until then, and stop looking as soon as signals bring the rest.
      const waiting = missing().map((f) => f.feed);
      const scope = new CancellationScope();
      const found = await scope.run(() => {
        const look = awaitFeeds.executeWithOptions({ ...AWAIT_FEEDS_ACTIVITY, summary: `wait for ${waiting.join(', ')}` }, [
          { businessDate, feeds: waiting, until, pollSeconds: p.feedWait.pollSeconds },
        ]);
        const signalled = condition(() => missing().length === 0);
        // Whichever loses is cancelled below; its rejection is expected.
        look.catch(() => undefined);
        signalled.catch(() => undefined);
        return Promise.race([look.then((r) => r.found), signalled.then(() => [])]);
      });
      scope.cancel();
      markDiscovered(found);
      if (!late && missingRequired().some((f) => Date.parse(p.feedWait.cutoffs[f.feed]) <= Date.now())) {
        late = true;
        setStatus('LATE');
        const lateFeeds = metricMeter.createCounter(METRICS.feedsLate.name, METRICS.feedsLate.unit, METRICS.feedsLate.help);
        for (const f of missingRequired()) if (Date.parse(p.feedWait.cutoffs[f.feed]) <= Date.now()) lateFeeds.add(1, { feed: f.feed });
        log.warn('feeds late: a required feed missed its cut-off', { missing: missingRequired().map((f) => f.feed) });
      }
      // The look may end early (a worker going away, a landing zone it could not read): wait out
      // the rest of the period here, woken by signals, rather than looking again at once.
      const left = Date.parse(until) - Date.now();
      if (missing().length > 0 && left > 0) await condition(() => missing().length === 0, left);
    }
    if (missing().length === 0) {
      if (nightStatus === 'AWAITING_FEEDS') setStatus('RUNNING');
      return;
    }
    // The deadline passed: optional feeds are skipped, required ones wait for a decision.
    for (const f of missing()) {
      const state = feedStates.get(f.feed) as FeedState;
      if (!f.required) {
        feedStates.set(f.feed, { ...state, state: 'SKIPPED' });
        log.warn('optional feed missed the deadline: skipped', { feed: f.feed });
        continue;
      }
      await withAttention('ingest', f.feed, false, async () => {
        if (feedStates.get(f.feed)?.state === 'WAITING') {
          // A retry looks once more (the file may have landed since), then gives up again.
          const { found } = await awaitFeeds.executeWithOptions({ ...AWAIT_FEEDS_ACTIVITY, summary: `look for ${f.feed}` }, [
            { businessDate, feeds: [f.feed], until: new Date().toISOString(), pollSeconds: p.feedWait.pollSeconds },
          ]);
          markDiscovered(found);
        }
        if (feedStates.get(f.feed)?.state === 'WAITING') {
          throw ApplicationFailure.create({
            type: FailureType.FeedNotFound,
            message: `required feed '${f.feed}' did not arrive by the deadline ${p.feedWait.deadlineAt}: deliver it (landing zone or feedArrived), then retry`,
            nonRetryable: true,
          });
        }
      });
    }
    if (nightStatus === 'AWAITING_FEEDS' || nightStatus === 'LATE') setStatus(late ? 'LATE' : 'RUNNING');
  }

  /** Ingests every arrived feed; a feed that fails parks (skip allowed when it is optional). */
  async function ingestAll(p: RunPlan): Promise<FeedIngested[]> {
    return step('ingest', async () => {
      const begun = new Date();
      const results = await Promise.all(
        p.feeds.map(async ({ feed, required }): Promise<FeedIngested> => {
          const skipped = (): FeedIngested => ({ feed, status: 'SKIPPED', rawUri: null, rowsIn: 0, controlCount: 0, controlSum: '0', sha256: '', bytes: 0, attempt: 0 });
          if (feedStates.get(feed)?.state === 'SKIPPED') return skipped();
          const result = await withAttention('ingest', feed, !required, async () => {
            const arrival = arrivals.get(feed);
            const state = feedStates.get(feed) as FeedState;
            return ingestFeed.executeWithOptions({ ...INGEST_ACTIVITY, summary: `ingest ${feed} for ${businessDate}` }, [
              {
                businessDate,
                feed,
                ...(state.uri ? { sourceUri: state.uri } : {}),
                ...(arrival?.sha256 ? { expectedSha256: arrival.sha256 } : {}),
              },
            ]);
          });
          const state = feedStates.get(feed) as FeedState;
          feedStates.set(feed, { ...state, state: result ? 'INGESTED' : 'SKIPPED' });
          return result ?? skipped();
        }),
      );
      const maxAttempt = Math.max(1, ...results.map((r) => r.attempt));
      return { value: results, attempts: [simpleAttempt(begun, maxAttempt)] };
    });
  }

  /** Records what the job's night says about its size (learned sizing); never fails the night. */
  async function learnSizing(job: SparkJobName, p: RunPlan, attempts: readonly AttemptRecord[], succeeded: boolean): Promise<void> {
    const planned = p.jobs[job];
    const last = attempts[attempts.length - 1];
    try {
      sizing.push(
        await recordSparkSizing.executeWithOptions({ ...SIZING_ACTIVITY, summary: `record ${job} sizing` }, [
          {
            businessDate,
            job,
            source: overrides[job] ? 'override' : planned.sizingSource,
            configured: planned.configured,
            startedFrom: attempts[0]?.resources ?? planned.resources,
            finalResources: last?.resources ?? planned.resources,
            attempts: attempts.length,
            succeeded,
          },
        ]),
      );
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn('could not record learned sizing', { job, error: describeFailure(err) });
    }
  }

  /** One Spark job; an operator's retry runs a new child that continues the attempt numbering. */
  async function runSpark(job: SparkJobName, inputs: Record<string, string>, p: RunPlan): Promise<SparkJobResult> {
    const result = await withAttention(job, undefined, false, async () => {
      const rounds = sparkRounds[job];
      rounds.round += 1;
      const planned = p.jobs[job];
      const resources = { ...planned.resources, ...overrides[job] };
      try {
        const done = await step(job, async () => {
          const value = await executeChild(sparkJob, {
            workflowId: sparkJobWorkflowId(info.workflowId, job) + (rounds.round > 1 ? `-r${rounds.round}` : ''),
            staticSummary: `Spark ${job} for ${tenant} ${businessDate}${rounds.round > 1 ? ` (retry ${rounds.round - 1})` : ''}`,
            args: [
              {
                businessDate,
                job,
                parentWorkflowId: info.workflowId,
                parentRunId: info.runId,
                inputs,
                resources,
                policy: planned.policy,
                ...(rounds.nextAttempt > 1 ? { firstAttempt: rounds.nextAttempt } : {}),
              },
            ],
          });
          return { value, attempts: [...value.attempts] };
        });
        rounds.nextAttempt = nextAttemptAfter(rounds.nextAttempt, done.attempts);
        return done;
      } catch (err) {
        const failed = attemptsFromFailure(err);
        rounds.nextAttempt = Math.max(rounds.nextAttempt + 1, nextAttemptAfter(rounds.nextAttempt, failed));
        if (p.learnSizing && !isCancellation(err)) await learnSizing(job, p, failed, false);
        throw err;
      }
    });
    if (result === undefined) throw ApplicationFailure.nonRetryable(`${job} cannot be skipped`, FailureType.InvalidInput);
    if (p.learnSizing) await learnSizing(job, p, result.attempts, true);
    return result;
  }

  // ---- the night -----------------------------------------------------------------------------

  let manifestUri = '';
  try {
    plan = await planRun({ businessDate, tenant, ...(input.sparkOverrides ? { sparkOverrides: input.sparkOverrides } : {}) });
    const p = plan;
    for (const f of p.feeds) {
      const arrival = arrivals.get(f.feed);
      feedStates.set(f.feed, {
        feed: f.feed,
        required: f.required,
        cutoffAt: p.feedWait.cutoffs[f.feed],
        ...(arrival ? { state: 'ARRIVED' as const, uri: arrival.uri, via: 'signal' as const, arrivedAt: arrival.arrivedAt ?? new Date().toISOString() } : { state: 'WAITING' as const }),
      });
    }

    await waitForFeeds(p);
    let ingested = await ingestAll(p);
    manifestFeeds = ingested.map((f) => manifestEntry(f, undefined));

    let normalized: readonly FeedNormalized[] = [];
    let firstTry = true;
    await withAttention('normalize', undefined, false, async () => {
      // A retry after a reconciliation failure is a repair: corrected files are ingested again
      // (the raw zone is content-addressed, so unchanged files change nothing), then normalized.
      if (!firstTry) {
        ingested = await ingestAll(p);
        manifestFeeds = ingested.map((f) => manifestEntry(f, undefined));
      }
      firstTry = false;
      const present = ingested.filter((f) => f.status === 'INGESTED' && f.rawUri !== null);
      const normalize = await runSpark('normalize', Object.fromEntries(present.map((f) => [f.feed, f.rawUri as string])), p);
      if (normalize.output.job !== 'normalize') throw ApplicationFailure.nonRetryable("normalize returned another job's output", FailureType.SparkJobFailed);
      normalized = normalize.output.feeds;
      manifestFeeds = ingested.map((f) => manifestEntry(f, normalized.find((n) => n.feed === f.feed)));
      const problems = reconcileFeeds(ingested, normalized);
      if (problems.length > 0) {
        throw ApplicationFailure.nonRetryable(`reconciliation failed: ${problems.join('; ')}`, FailureType.ReconciliationFailed);
      }
    });

    const transform = await runSpark('transform', Object.fromEntries(normalized.map((n) => [n.feed, n.curatedUri])), p);
    if (transform.output.job !== 'transform') throw ApplicationFailure.nonRetryable("transform returned another job's output", FailureType.SparkJobFailed);
    const produced: readonly ReportProduced[] = transform.output.reports;

    if (exportHold) {
      setStage('export');
      setCurrentDetails(`**${tenant} ${businessDate}**: export held by ${exportHold.by ?? 'an operator'}: ${exportHold.reason} — send \`releaseExport\` to continue`);
      log.info('waiting for the export hold to be released');
      await condition(() => exportHold === undefined);
    }
    const exported = await withAttention('export', undefined, false, () =>
      step('export', async () => {
        const begun = new Date();
        const result = await exportReports({ businessDate, reports: produced });
        return { value: result, attempts: [simpleAttempt(begun, 1)] };
      }),
    );
    reports = [...(exported?.tables ?? [])];
    status = 'COMPLETED';
  } catch (err) {
    status = isCancellation(err) ? 'CANCELLED' : 'FAILED';
    if (!error && !isCancellation(err)) error = { step: stage === 'awaiting-feeds' || stage === 'done' ? 'ingest' : stage, ...describeFailure(err) };
    throw err;
  } finally {
    // The manifest is the audit trail: it is written for failed and cancelled nights too.
    parked = undefined;
    setStage('finalize');
    const manifest: RunManifest = {
      businessDate,
      tenant,
      status,
      ...(late ? { late } : {}),
      workflowId: info.workflowId,
      runId: info.runId,
      startedAt,
      finishedAt: new Date().toISOString(),
      ...(error ? { error } : {}),
      feeds: manifestFeeds,
      steps,
      reports,
      ...(sizing.length > 0 ? { sizing } : {}),
      ...(decisions.length > 0 ? { decisions } : {}),
    };
    try {
      const finalized = await CancellationScope.nonCancellable(() => finalizeRun({ manifest }));
      manifestUri = finalized.manifestUri;
      reports = [...reports, ...finalized.tables];
    } catch (finalizeErr) {
      log.error('finalize failed', { businessDate, error: describeFailure(finalizeErr) });
      if (status === 'COMPLETED') throw finalizeErr;
    }
    setStage('done');
    setStatus(status === 'RUNNING' ? 'FAILED' : status);
    setCurrentDetails(`**${tenant} ${businessDate}**: ${status}${late ? ' (late)' : ''}`);
  }
  return { businessDate, status, manifestUri, feeds: manifestFeeds, reports };
}

/** The attempt number after the highest one used (never going back). */
function nextAttemptAfter(current: number, attempts: readonly AttemptRecord[]): number {
  return Math.max(current, ...attempts.map((a) => a.attempt + 1));
}

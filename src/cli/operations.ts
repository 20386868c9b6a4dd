/**
 * What an operator does to nights from the command line, on the Temporal client: start one, look
 * at it, decide a parked step, hold or release the export, cancel, report a feed, backfill a
 * range, manage the nightly schedule and run the janitor. Each function returns plain data (the
 * CLI prints it as text or JSON) and throws `OperationRefused` with the reason when Temporal or the
 * workflow says no.
 */
import { randomUUID } from 'node:crypto';
import {
  ScheduleNotFoundError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowExecutionStatusName,
} from '@temporalio/client';
import type { Logger } from 'pino';
import type { NightjarConfig } from '../config/config';
import { dailyWorkflowId, nightOfWorkflowId } from '../domain/ids';
import type { NightStatus, RunManifest, SparkOverrides } from '../domain/pipeline';
import type { FeedArrival } from '../domain/triggers';
import type { SweepInput } from '../domain/pipeline';
import {
  describeNightlySchedule,
  ensureNightlySchedule,
  nightlyScheduleId,
  pauseNightlySchedule,
  unpauseNightlySchedule,
  type NightlyScheduleOptions,
  type NightlyScheduleSummary,
} from '../schedules/nightly-schedule';
import type { SweepReport } from '../spark/platform';
import { backfill, type BackfillOptions, type BackfillReport } from '../triggers/backfill';
import { TriggerRejected, TriggerUnavailable } from '../triggers/errors';
import type { RunningTriggers } from '../triggers/serve';
import { TemporalNightTriggers, triggerTargetOf, type TriggerTarget } from '../triggers/temporal-triggers';
import { janitorScheduleId } from '../worker/janitor-schedule';
import type { DailyPipelineResult, dailyPipeline } from '../workflows/daily-pipeline';
import type { sparkJanitor } from '../workflows/janitor';
import {
  holdExportSignal,
  releaseExportSignal,
  resolveStepUpdate,
  type HoldRequest,
  type PipelineStatus,
  type ResolveStepRequest,
  type ResolveStepResult,
} from '../workflows/messages';
import { SearchAttr } from '../workflows/search-attributes';
import { OperationRefused } from './exit-codes';

/** Where nights run, what this deployment admits (its tenant, window, caps) and where the UI shows them. */
export interface TemporalTarget extends TriggerTarget {
  /** The tenant this configuration serves (NIGHTJAR_TENANT). */
  readonly tenant: string;
  readonly uiUrl: string;
}

/** The CLI's target from its configuration: it serves NIGHTJAR_TENANT only, like every door of the deployment. */
export function temporalTargetOf(config: NightjarConfig): TemporalTarget {
  return { ...triggerTargetOf(config), tenant: config.tenant, uiUrl: config.temporal.uiUrl };
}

/** One night: a tenant's business date. */
export interface NightRef {
  readonly businessDate: string;
  readonly tenant: string;
}

const DAILY_WORKFLOW_TYPE = 'dailyPipeline' satisfies (typeof dailyPipeline)['name'];
const JANITOR_WORKFLOW_TYPE = 'sparkJanitor' satisfies (typeof sparkJanitor)['name'];

/** The workflow's page in the Temporal Web UI. */
export function workflowUiLink(target: Pick<TemporalTarget, 'namespace' | 'uiUrl'>, workflowId: string): string {
  return `${target.uiUrl}/namespaces/${encodeURIComponent(target.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

const nightName = (ref: NightRef) => `${ref.tenant} ${ref.businessDate}`;

/** The night's latest run as Temporal describes it; refused when Temporal never heard of it. */
async function describeNight(client: Client, ref: NightRef): Promise<WorkflowExecutionDescription> {
  const workflowId = dailyWorkflowId(ref.businessDate, ref.tenant);
  try {
    return await client.workflow.getHandle(workflowId).describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      throw new OperationRefused(`no night ${nightName(ref)} is known to Temporal (workflow ${workflowId})`, { cause: error });
    }
    throw error;
  }
}

/** The night's running execution; refused when it is unknown or closed. */
async function runningNight(client: Client, ref: NightRef, doing: string): Promise<WorkflowExecutionDescription> {
  const night = await describeNight(client, ref);
  if (night.status.name !== 'RUNNING') {
    throw new OperationRefused(`cannot ${doing}: the night ${nightName(ref)} is not running (${night.status.name})`);
  }
  return night;
}

// ---- start and status ------------------------------------------------------------------------

export interface StartNightOptions extends NightRef {
  /** Driver memory (MiB) for both Spark jobs' first attempts tonight. */
  readonly driverMemoryMb?: number;
  /** Run again even if the night completed (its reports are replaced, never doubled). */
  readonly force?: boolean;
}

export interface NightStarted extends NightRef {
  readonly workflowId: string;
  readonly runId: string;
  /** False when the night was already running and this call joined it. */
  readonly started: boolean;
  readonly uiLink: string;
}

export async function startNight(client: Client, target: TemporalTarget, options: StartNightOptions): Promise<NightStarted> {
  const { businessDate, tenant } = options;
  const sparkOverrides: SparkOverrides | undefined =
    options.driverMemoryMb === undefined ? undefined : { normalize: { driverMemoryMb: options.driverMemoryMb }, transform: { driverMemoryMb: options.driverMemoryMb } };
  try {
    const night = await new TemporalNightTriggers(client, target).startNight({
      businessDate,
      tenant,
      ...(sparkOverrides ? { sparkOverrides } : {}),
      ...(options.force ? { force: true } : {}),
    });
    return {
      businessDate,
      tenant,
      ...night,
      uiLink: workflowUiLink(target, night.workflowId),
    };
  } catch (error) {
    if (error instanceof TriggerRejected) {
      const message = error.code === 'NIGHT_COMPLETED' ? `the night ${nightName(options)} already completed; add --force to run it again (its reports are replaced)` : error.message;
      throw new OperationRefused(message, { cause: error });
    }
    throw error;
  }
}

/** The night's status query; refused when there is no such night, or at once when no worker can answer. */
export async function nightStatus(client: Client, target: TemporalTarget, ref: NightRef): Promise<PipelineStatus> {
  let status: PipelineStatus | undefined;
  try {
    status = await new TemporalNightTriggers(client, target).status(ref);
  } catch (error) {
    if (error instanceof TriggerRejected) throw new OperationRefused(error.message, { cause: error });
    if (!(error instanceof TriggerUnavailable)) throw error;
    // What Temporal itself knows still helps: the search attributes are set from the start on.
    const night = await describeNight(client, ref);
    const known = [night.typedSearchAttributes.get(SearchAttr.status), night.typedSearchAttributes.get(SearchAttr.stage)].filter(Boolean).join(', stage ');
    throw new OperationRefused(`${error.message} (Temporal: ${night.status.name}${known ? `, ${known}` : ''})`, { cause: error });
  }
  if (status === undefined) {
    throw new OperationRefused(`no night ${nightName(ref)} is known to Temporal (workflow ${dailyWorkflowId(ref.businessDate, ref.tenant)})`);
  }
  return status;
}

/** A night that no longer runs, told from what outlives its worker: its manifest, else its result. */
export interface ClosedNight extends NightRef {
  readonly workflowId: string;
  readonly runId: string;
  /** How Temporal closed it: COMPLETED, FAILED, CANCELED, TERMINATED, TIMED_OUT, CONTINUED_AS_NEW. */
  readonly execution: WorkflowExecutionStatusName;
  /** The night's status (search attribute NightjarStatus), Temporal's when the night never set it. */
  readonly status: string;
  readonly closeTime?: string;
  /** Where the story below comes from. */
  readonly source: 'manifest' | 'result' | 'temporal';
  readonly manifest?: RunManifest;
  readonly manifestPath?: string;
  readonly result?: DailyPipelineResult;
  /** Why it failed, when the manifest does not say (the workflow's failure). */
  readonly failure?: string;
  /** The night's last words from its memo (`nightjarStory`, domain/night-story closedStoryMemo), when it keeps them. */
  readonly story?: string;
}

/** `status`: a running night answers its query; a closed one is told without a worker. */
export type NightView = { readonly open: true; readonly status: PipelineStatus } | { readonly open: false; readonly night: ClosedNight };

/** Reads the manifest a night wrote (`<data-dir>/runs/<date>/manifest.json`), if any. */
export type ManifestReader = (businessDate: string) => Promise<{ readonly manifest: RunManifest; readonly path: string } | undefined>;

/**
 * Where a night stands. A running night answers the status query (a worker is needed); a closed
 * night is read from its manifest when it belongs to this run, else from the workflow's result or
 * failure, so it answers with no worker at all. An unknown night is refused in one line.
 */
export async function nightView(client: Client, target: TemporalTarget, ref: NightRef, readManifest: ManifestReader): Promise<NightView> {
  const described = await describeNight(client, ref);
  if (described.status.name === 'RUNNING') return { open: true, status: await nightStatus(client, target, ref) };
  const base = {
    ...ref,
    workflowId: described.workflowId,
    runId: described.runId,
    execution: described.status.name,
    status: described.typedSearchAttributes.get(SearchAttr.status) ?? described.status.name,
    ...(described.closeTime ? { closeTime: described.closeTime.toISOString() } : {}),
    ...(typeof described.memo?.['nightjarStory'] === 'string' ? { story: described.memo['nightjarStory'] } : {}),
  };
  const written = await readManifest(ref.businessDate);
  // A manifest of an earlier run (before a forced re-run) or of another tenant does not tell this one.
  if (written && written.manifest.workflowId === described.workflowId && written.manifest.runId === described.runId && (written.manifest.tenant ?? ref.tenant) === ref.tenant) {
    return { open: false, night: { ...base, status: written.manifest.status, source: 'manifest', manifest: written.manifest, manifestPath: written.path } };
  }
  const handle = client.workflow.getHandle<typeof dailyPipeline>(described.workflowId, described.runId);
  if (described.status.name === 'COMPLETED') {
    const result = await handle.result();
    return { open: false, night: { ...base, status: result.status, source: 'result', result } };
  }
  const failure = await handle.result().then(
    () => undefined,
    (error: unknown) => failureText(error),
  );
  return { open: false, night: { ...base, source: 'temporal', ...(failure ? { failure } : {}) } };
}

/** The innermost message of a workflow's failure (`WorkflowFailedError` → its cause). */
function failureText(error: unknown): string | undefined {
  let text: string | undefined;
  for (let e: unknown = error; e instanceof Error; e = e.cause) text = e.message;
  return text;
}

// ---- list --------------------------------------------------------------------------------------

export interface NightFilter {
  /** All tenants when absent. */
  readonly tenant?: string;
  readonly status?: NightStatus;
  /** Business dates from, inclusive. */
  readonly from?: string;
  /** Business dates to, inclusive. */
  readonly to?: string;
}

/** Statuses of a night still in progress: a closed execution (terminated, timed out) is not in them. */
const OPEN_STATUSES: readonly NightStatus[] = ['RUNNING', 'AWAITING_FEEDS', 'LATE', 'NEEDS_ATTENTION'];

const quoted = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The visibility query for nights matching `filter`, on Nightjar's search attributes. */
export function nightsQuery(filter: NightFilter): string {
  const clauses = [`WorkflowType = ${quoted(DAILY_WORKFLOW_TYPE)}`];
  if (filter.tenant !== undefined) clauses.push(`${SearchAttr.tenant.name} = ${quoted(filter.tenant)}`);
  if (filter.status !== undefined) {
    clauses.push(`${SearchAttr.status.name} = ${quoted(filter.status)}`);
    if (OPEN_STATUSES.includes(filter.status)) clauses.push(`ExecutionStatus = 'Running'`);
  }
  if (filter.from !== undefined) clauses.push(`${SearchAttr.businessDate.name} >= ${quoted(filter.from)}`);
  if (filter.to !== undefined) clauses.push(`${SearchAttr.businessDate.name} <= ${quoted(filter.to)}`);
  return clauses.join(' AND ');
}


export interface NightListEntry {
  readonly businessDate?: string;
  readonly tenant?: string;
  /** The night's status; Temporal's when the execution was terminated or timed out. */
  readonly status: string;
  readonly stage?: string;
  readonly execution: WorkflowExecutionStatusName;
  readonly workflowId: string;
  readonly runId: string;
  readonly startTime: string;
  readonly closeTime?: string;
}

export interface NightList {
  readonly query: string;
  /** Most recently started first, at most `limit`. */
  readonly nights: readonly NightListEntry[];
}

export async function listNights(client: Client, filter: NightFilter & { readonly limit: number }): Promise<NightList> {
  const query = nightsQuery(filter);
  const nights: NightListEntry[] = [];
  if (filter.limit < 1) return { query, nights };
  for await (const wf of client.workflow.list({ query, pageSize: Math.min(filter.limit, 1000) })) {
    const attrs = wf.typedSearchAttributes;
    // A night no worker has picked up yet has no search attributes: its id still names it.
    const named = nightOfWorkflowId(wf.workflowId);
    const businessDate = attrs.get(SearchAttr.businessDate) ?? named?.businessDate;
    const tenant = attrs.get(SearchAttr.tenant) ?? named?.tenant;
    const stage = attrs.get(SearchAttr.stage);
    const closedByTemporal = wf.status.name === 'TERMINATED' || wf.status.name === 'TIMED_OUT';
    nights.push({
      ...(businessDate !== undefined ? { businessDate } : {}),
      ...(tenant !== undefined ? { tenant } : {}),
      status: closedByTemporal ? wf.status.name : (attrs.get(SearchAttr.status) ?? wf.status.name),
      ...(stage !== undefined ? { stage } : {}),
      execution: wf.status.name,
      workflowId: wf.workflowId,
      runId: wf.runId,
      startTime: wf.startTime.toISOString(),
      ...(wf.closeTime ? { closeTime: wf.closeTime.toISOString() } : {}),
    });
    if (nights.length >= filter.limit) break;
  }
  return { query, nights };
}

// ---- decisions, hold, cancel ---------------------------------------------------------------------

export interface StepResolved extends ResolveStepResult {
  readonly workflowId: string;
}

/** Sends the `resolveStep` update; the workflow's validator's refusal comes back as OperationRefused. */
export async function resolveStep(client: Client, ref: NightRef, request: ResolveStepRequest): Promise<StepResolved> {
  const workflowId = dailyWorkflowId(ref.businessDate, ref.tenant);
  try {
    const result = await client.workflow.getHandle<typeof dailyPipeline>(workflowId).executeUpdate(resolveStepUpdate, { args: [request] });
    return { workflowId, ...result };
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) throw new OperationRefused(error.cause?.message ?? error.message, { cause: error });
    if (error instanceof WorkflowNotFoundError) {
      // Unknown, or closed: say which.
      await runningNight(client, ref, `resolve ${request.step}`);
      throw new OperationRefused(`cannot resolve ${request.step}: the night ${nightName(ref)} is not running`, { cause: error });
    }
    throw error;
  }
}

export interface ExportHeld extends NightRef {
  readonly workflowId: string;
  readonly runId: string;
  readonly reason: string;
  readonly by?: string;
}

/** Keeps the night's export from starting until released; refused once the export ran. */
export async function holdExport(client: Client, ref: NightRef, hold: HoldRequest): Promise<ExportHeld> {
  const night = await runningNight(client, ref, 'hold the export');
  const stage = night.typedSearchAttributes.get(SearchAttr.stage);
  if (stage === 'finalize' || stage === 'done') {
    throw new OperationRefused(`too late to hold the export of ${nightName(ref)}: it already ran (stage ${stage})`);
  }
  await client.workflow.getHandle<typeof dailyPipeline>(night.workflowId).signal(holdExportSignal, hold);
  return { ...ref, workflowId: night.workflowId, runId: night.runId, reason: hold.reason, ...(hold.by ? { by: hold.by } : {}) };
}

export interface ExportReleased extends NightRef {
  readonly workflowId: string;
  readonly runId: string;
  readonly by?: string;
}

export async function releaseExport(client: Client, ref: NightRef, by?: string): Promise<ExportReleased> {
  const night = await runningNight(client, ref, 'release the export');
  await client.workflow.getHandle<typeof dailyPipeline>(night.workflowId).signal(releaseExportSignal, by ? { by } : {});
  return { ...ref, workflowId: night.workflowId, runId: night.runId, ...(by ? { by } : {}) };
}

export interface CancelRequested extends NightRef {
  readonly workflowId: string;
  readonly runId: string;
  readonly reason?: string;
}

/**
 * Requests cancellation of the running night. The workflow stops its current step, cleans up
 * (Spark attempts included) and writes its manifest as CANCELLED. The reason is kept in the
 * workflow's history.
 */
export async function cancelNight(client: Client, ref: NightRef, reason?: string): Promise<CancelRequested> {
  const night = await runningNight(client, ref, 'cancel');
  await client.workflowService.requestCancelWorkflowExecution({
    namespace: client.options.namespace,
    identity: client.options.identity,
    requestId: randomUUID(),
    workflowExecution: { workflowId: night.workflowId, runId: night.runId },
    ...(reason ? { reason } : {}),
  });
  return { ...ref, workflowId: night.workflowId, runId: night.runId, ...(reason ? { reason } : {}) };
}

// ---- feeds and backfill ---------------------------------------------------------------------------

export interface FeedReported {
  readonly workflowId: string;
  readonly runId: string;
  readonly arrival: FeedArrival;
}

/** Reports a feed's arrival (signal-with-start: a night not yet running starts). */
export async function reportFeedArrival(client: Client, target: TemporalTarget, arrival: FeedArrival): Promise<FeedReported> {
  try {
    return { ...(await new TemporalNightTriggers(client, target).reportFeedArrival(arrival)), arrival };
  } catch (error) {
    if (error instanceof TriggerRejected) throw new OperationRefused(error.message, { cause: error });
    throw error;
  }
}

/** A backfill as the CLI asks for it: the client and triggers come from the connection. */
export type BackfillRequest = Omit<BackfillOptions, 'client' | 'triggers'>;

export function runBackfill(client: Client, target: TemporalTarget, request: BackfillRequest): Promise<BackfillReport> {
  return backfill({ client, triggers: new TemporalNightTriggers(client, target), ...request });
}

// ---- the nightly schedule -------------------------------------------------------------------------

export interface ScheduleUpserted {
  readonly outcome: 'created' | 'updated';
  readonly schedule: NightlyScheduleSummary;
}

async function onSchedule<T>(tenant: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) {
      throw new OperationRefused(`tenant ${tenant} has no nightly schedule (${nightlyScheduleId(tenant)}); create it with: nightjar schedule upsert --tenant ${tenant}`, {
        cause: error,
      });
    }
    throw error;
  }
}

export async function upsertSchedule(client: Client, options: NightlyScheduleOptions): Promise<ScheduleUpserted> {
  const outcome = await ensureNightlySchedule(client, options);
  return { outcome, schedule: await describeNightlySchedule(client, options.tenant) };
}

export function describeSchedule(client: Client, tenant: string): Promise<NightlyScheduleSummary> {
  return onSchedule(tenant, () => describeNightlySchedule(client, tenant));
}

export function pauseSchedule(client: Client, tenant: string, note: string): Promise<NightlyScheduleSummary> {
  return onSchedule(tenant, async () => {
    await pauseNightlySchedule(client, tenant, note);
    return describeNightlySchedule(client, tenant);
  });
}

export function unpauseSchedule(client: Client, tenant: string, note: string): Promise<NightlyScheduleSummary> {
  return onSchedule(tenant, async () => {
    await unpauseNightlySchedule(client, tenant, note);
    return describeNightlySchedule(client, tenant);
  });
}

export interface ScheduleDeleted {
  readonly scheduleId: string;
  readonly tenant: string;
}

/** Deletes the tenant's nightly schedule; nights it started are not touched. */
export function deleteSchedule(client: Client, tenant: string): Promise<ScheduleDeleted> {
  return onSchedule(tenant, async () => {
    const scheduleId = nightlyScheduleId(tenant);
    await client.schedule.getHandle(scheduleId).delete();
    return { scheduleId, tenant };
  });
}

// ---- janitor and trigger services -------------------------------------------------------------------

export interface JanitorRun extends SweepReport {
  readonly workflowId: string;
}

/** One `sparkJanitor` run on the task queue, waited for: a worker must be polling it. */
export async function runJanitor(client: Client, target: TemporalTarget, input: SweepInput): Promise<JanitorRun> {
  const workflowId = `${janitorScheduleId(target.tenant)}-manual-${new Date().toISOString()}`;
  const report = await client.workflow.execute<typeof sparkJanitor>(JANITOR_WORKFLOW_TYPE, {
    taskQueue: target.taskQueue,
    workflowId,
    args: [input],
    staticSummary: input.dryRun ? 'Janitor sweep requested from the CLI (dry run)' : 'Janitor sweep requested from the CLI',
  });
  return { workflowId, ...report };
}

/**
 * Serves the trigger API and/or the Kafka bridge until `stopped` settles, then stops them. The
 * services load only here: the Kafka client is an ES module other commands need not load.
 */
export async function serveTriggersUntil(
  config: NightjarConfig,
  client: Client,
  logger: Logger,
  stopped: Promise<unknown>,
  onReady: (running: Pick<RunningTriggers, 'httpUrl' | 'kafkaTopic'>) => void,
): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { serveTriggers } = require('../triggers/serve') as typeof import('../triggers/serve');
  const running = await serveTriggers(config, client, logger);
  try {
    onReady({ ...(running.httpUrl ? { httpUrl: running.httpUrl } : {}), ...(running.kafkaTopic ? { kafkaTopic: running.kafkaTopic } : {}) });
    await stopped;
  } finally {
    await running.stop();
  }
}

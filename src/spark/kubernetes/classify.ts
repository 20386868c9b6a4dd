/**
 * How a Spark attempt on Kubernetes is doing, decided from what the API shows: the
 * SparkApplication's state and error message, the driver and executor pods, and the Events.
 * Pure: the platform gathers the facts on every poll, this decides.
 *
 * The order of the checks is the contract:
 * 1. COMPLETED is success, whatever else was seen on the way.
 * 2. A driver killed for memory (OOMKilled) beats everything else that failed.
 * 3. An evicted or preempted driver is the node's fault: retry as is.
 * 4. A driver that exited 137 or 52 without being evicted ran out of memory.
 * 5. A container that cannot start (bad image, missing Secret key) will never start.
 * 6. Executors keep dying of OOM while Spark replaces them: the operator never reports this, so
 *    the attempt is stopped once `executorOomLimit` distinct executors were lost to it. An executor
 *    counts as lost to OOM when its container was OOMKilled, exited 52 (the JVM's own
 *    OutOfMemoryError), or exited 137 with no reason given. A 137 with another reason (`Error`) is
 *    a SIGKILL from outside — a process killed by hand, its machine going down — which Spark
 *    replaces like any lost executor: counting it would stop a healthy attempt and escalate
 *    memory for nothing.
 * 7. Only then the terminal states: submission failures, then failed applications.
 * 8. An attempt waiting too long before it runs is stuck: retry it.
 */
import type { SparkAttemptOutcome } from '../../domain/spark/resources';
import { redact } from '../outcome';
import type { ApplicationStateName, ContainerStatus, KubeEvent, Pod } from './status';

export interface ApplicationObservation {
  /** `status.applicationState` of the SparkApplication. */
  readonly app: { readonly state: ApplicationStateName; readonly errorMessage?: string };
  /** The driver pod, when it exists (`status.driverInfo.podName`). */
  readonly driverPod?: Pod;
  /** The attempt's executor pods still present (Spark deletes failed executors by default). */
  readonly executorPods: readonly Pod[];
  /** Events about the SparkApplication and its pods. */
  readonly events: readonly KubeEvent[];
  /** When set, executor events about any other SparkApplication are ignored. */
  readonly applicationName?: string;
  /** Epoch milliseconds. */
  readonly now: number;
  /** Epoch milliseconds of the submission (the attempt handle's `submittedAt`). */
  readonly submittedAt: number;
  /** How long the attempt may wait in a state before RUNNING. */
  readonly stuckAfterMs: number;
  /** Distinct executors lost to OOM after which the attempt counts as out of memory (≥ 1). */
  readonly executorOomLimit: number;
  /** The `executorOoms` returned by the previous classification of this attempt (0 at first). */
  readonly executorOomSeen: number;
}

export interface StillRunning {
  readonly kind: 'RUNNING';
  /** Distinct executors lost to OOM so far: pass it back as `executorOomSeen` next time. */
  readonly executorOoms: number;
  /** One line for progress reports. */
  readonly detail: string;
}

export type ApplicationClassification = StillRunning | SparkAttemptOutcome;

/** spark-operator's Warning Event for a failed executor (recorded on the SparkApplication). */
export const EXECUTOR_FAILED_EVENT = 'SparkExecutorFailed';

/** 128 + SIGKILL: a container OOM kill when the reason is OOMKilled (or missing). */
const EXIT_SIGKILL = 137;
/** The JVM's exit code for an uncaught OutOfMemoryError (Spark's SparkExitCode.OOM). */
const EXIT_JVM_OOM = 52;
const OOM_EXIT_CODES = new Set([EXIT_SIGKILL, EXIT_JVM_OOM]);
const MAX_REASON = 200;
const MAX_DIAGNOSTIC_LINE = 300;
const MAX_NAMED_EXECUTORS = 5;

const DRIVER_CONTAINERS = ['spark-kubernetes-driver'];
const EXECUTOR_CONTAINERS = ['spark-kubernetes-executor', 'executor'];

/** Pod `status.reason` values set when the node, not the job, ended the pod. */
const DISRUPTION_POD_REASONS = new Set(['Evicted', 'Preempting']);
/** Event reasons about a pod removed by the node or the scheduler. */
const DISRUPTION_EVENT_REASONS = new Set(['Evicted', 'Preempted', 'Preempting', 'TaintManagerEviction']);
/** How a pod message reads when the node evicted or preempted it. */
const DISRUPTION_MESSAGE = /\bEvicted\b|low on resource|Preempt|node shutdown/i;

const CANNOT_START = new Set(['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'CreateContainerConfigError']);
const IMAGE_PULL = new Set(['ImagePullBackOff', 'ErrImagePull']);
/** A registry that is down or throttling, not an image that does not exist. */
const TRANSIENT_PULL = /timeout|timed out|connection refused|connection reset|too many requests|\b429\b|\b50[0234]\b|service unavailable|temporar/i;

/** States before the application runs: waiting in them too long means stuck. */
const WAITING_STATES = new Set<ApplicationStateName>(['', 'SUBMITTED', 'PENDING_RERUN', 'INVALIDATING', 'SUSPENDING', 'SUSPENDED', 'RESUMING']);

/** spark-operator's error message prefix when its spark-submit failed. */
const SUBMIT_FAILED = /failed to run spark-submit/i;
/** Submissions refused for what they ask: the same spec is refused again. */
const INVALID_SUBMISSION = [
  /\bis invalid\b/i,
  /Invalid value/,
  /Unsupported value/,
  /Required value/,
  /unknown field/i,
  /denied the request/i,
  /cannot create resource/i,
  /IllegalArgumentException/,
  /\bnot found\b.*\b(?:serviceaccounts?|secrets?|configmaps?)\b|\b(?:serviceaccounts?|secrets?|configmaps?)\b.*\bnot found\b/i,
];
/** Refusals that pass by themselves (capacity frees up at the end of other jobs). */
const PASSING_SUBMISSION = [/exceeded quota/i];

/** The operator's message for a failed driver: `driver container failed with ExitCode: 137, Reason: OOMKilled`. */
const DRIVER_EXIT = /driver (?:container|pod) failed with ExitCode:\s*(-?\d+)(?:,\s*Reason:\s*([^,]*))?/i;
const EXECUTOR_FAILED = /^Executor\s+(\S+)\s+failed with ExitCode:\s*(-?\d+),\s*Reason:\s*(.*?)(?:,\s*Pod Message:\s*([\s\S]*))?$/;

export function classifyApplication(observation: ApplicationObservation): ApplicationClassification {
  const { app, driverPod } = observation;
  const state = app.state;
  const errorMessage = app.errorMessage ?? '';
  const executors = executorEvidence(observation);
  const executorOoms = Math.max(observation.executorOomSeen, executors.ooms.size);
  const driverEnd = driverPod === undefined ? undefined : terminatedOf(mainContainer(driverPod, DRIVER_CONTAINERS));
  const messageExit = parseDriverExit(errorMessage);
  const exitCode = driverEnd?.exitCode ?? messageExit?.exitCode ?? null;

  const diagnostics = () => buildDiagnostics(observation, executors, executorOoms);
  const outcome = (kind: SparkAttemptOutcome['kind'], reason: string, extra: Partial<SparkAttemptOutcome> = {}): SparkAttemptOutcome => ({
    kind,
    reason: shortReason(reason),
    exitCode,
    diagnostics: diagnostics(),
    ...extra,
  });

  // 1
  if (state === 'COMPLETED') return outcome('SUCCEEDED', 'application completed');

  // 2
  // The error message speaks of the driver unless spark-submit failed (then it is stderr text).
  const aboutDriver = !SUBMIT_FAILED.test(errorMessage);
  if (driverEnd?.reason === 'OOMKilled' || (aboutDriver && /OOMKilled/i.test(errorMessage))) {
    return outcome('OUT_OF_MEMORY', `driver container OOMKilled (exit code ${exitCode ?? 'unknown'})`, { oomSide: 'driver' });
  }

  // 3
  const driverDisruption = driverPod === undefined ? undefined : disruptionOf(driverPod, observation.events);
  if (driverDisruption !== undefined) return outcome('TRANSIENT', `driver pod ${driverDisruption}`);

  // 4
  const driverOomExit = [driverEnd?.exitCode, messageExit?.exitCode].find((c) => c !== undefined && OOM_EXIT_CODES.has(c));
  if (driverOomExit !== undefined) {
    const how = driverOomExit === EXIT_JVM_OOM ? 'JVM OutOfMemoryError' : 'killed, likely by the memory limit';
    return outcome('OUT_OF_MEMORY', `driver exited with code ${driverOomExit} (${how})`, { oomSide: 'driver', exitCode: driverOomExit });
  }

  // 5
  const stuckContainer = cannotStart(observation);
  if (stuckContainer !== undefined) {
    const { role, reason, message } = stuckContainer;
    if (IMAGE_PULL.has(reason) && TRANSIENT_PULL.test(message)) {
      return outcome('TRANSIENT', `${role} image pull failing (${reason}), registry unavailable: ${message}`);
    }
    return outcome('PERMANENT', `${role} container cannot start: ${reason}${message ? ` (${message})` : ''}`);
  }

  // 6
  if (observation.executorOomLimit >= 1 && executorOoms >= observation.executorOomLimit) {
    return outcome(
      'OUT_OF_MEMORY',
      `${executorOoms} executors lost to out-of-memory (limit ${observation.executorOomLimit}): ${namedExecutors(executors.ooms)}`,
      { oomSide: 'executor', exitCode: null },
    );
  }

  // 7
  const terminal = state === 'FAILED' || state === 'FAILING' || state === 'SUBMISSION_FAILED';
  if (terminal) {
    // With restartPolicy Never the operator moves SUBMISSION_FAILED on to FAILED, keeping the message.
    if (state === 'SUBMISSION_FAILED' || SUBMIT_FAILED.test(errorMessage)) {
      const what = oneLine(errorMessage) || 'no error message';
      if (PASSING_SUBMISSION.some((re) => re.test(errorMessage))) return outcome('TRANSIENT', `submission refused for now: ${what}`);
      if (INVALID_SUBMISSION.some((re) => re.test(errorMessage))) return outcome('PERMANENT', `submission rejected: ${what}`);
      return outcome('TRANSIENT', `submission failed: ${what}`);
    }
    if (/driver pod not found|driver container status missing/i.test(errorMessage)) {
      return outcome('TRANSIENT', `driver lost: ${oneLine(errorMessage)}`);
    }
    if (executorOoms > 0) {
      return outcome('OUT_OF_MEMORY', `application failed after ${executorOoms} executor(s) lost to out-of-memory: ${namedExecutors(executors.ooms)}`, {
        oomSide: 'executor',
      });
    }
    if (executors.disruptions.size > 0) {
      return outcome('TRANSIENT', `application failed after ${executors.disruptions.size} executor(s) were evicted or preempted`);
    }
    if (exitCode !== null && exitCode > 128 && exitCode < 160) {
      return outcome('TRANSIENT', `driver terminated by a signal (exit code ${exitCode})`);
    }
    return outcome('PERMANENT', `application failed: ${oneLine(errorMessage) || 'no error message'}`);
  }

  // 8
  const waitedMs = observation.now - observation.submittedAt;
  if (WAITING_STATES.has(state) && waitedMs > observation.stuckAfterMs) {
    const pending = driverPod === undefined ? '' : pendingDetail(driverPod);
    return outcome('TRANSIENT', `stuck in ${stateName(state)} for ${formatDuration(waitedMs)}${pending ? ` (${pending})` : ''}`);
  }

  const oomNote = executorOoms > 0 ? `, ${executorOoms}/${observation.executorOomLimit} executor OOMs` : '';
  return { kind: 'RUNNING', executorOoms, detail: `${stateName(state)}${oomNote}` };
}

/** Kubernetes API status codes worth retrying: throttling and server-side trouble. */
export function isTransientApiError(code: number | undefined): boolean {
  return code !== undefined && (code === 429 || (code >= 500 && code <= 599));
}

// ---- executors -----------------------------------------------------------------------------

interface ExecutorEvidence {
  /** Executor pod name (or event id) → what showed the OOM. */
  readonly ooms: ReadonlyMap<string, string>;
  readonly disruptions: ReadonlySet<string>;
}

/**
 * Distinct executors lost to OOM and to the node, from the pods still present and from the
 * operator's SparkExecutorFailed events (the only trace once Spark deleted a failed executor).
 * Keyed by pod name, so a pod and its event, a repeated event or an aggregated one (count > 1)
 * all count once.
 */
function executorEvidence(observation: ApplicationObservation): ExecutorEvidence {
  const ooms = new Map<string, string>();
  const disruptions = new Set<string>();
  const driverName = observation.driverPod?.metadata.name;

  for (const pod of observation.executorPods) {
    const name = pod.metadata.name;
    const end = terminatedOf(mainContainer(pod, EXECUTOR_CONTAINERS));
    const disrupted = isDisrupted(pod);
    if (end !== undefined && (end.reason === 'OOMKilled' || (!disrupted && executorOomExit(end.exitCode, end.reason)))) {
      ooms.set(name, `exit code ${end.exitCode}${end.reason ? ` (${end.reason})` : ''}`);
    } else if (disrupted) {
      disruptions.add(name);
    }
  }

  for (const event of observation.events) {
    const reason = event.reason ?? '';
    const subject = event.involvedObject.name;
    if (reason === EXECUTOR_FAILED_EVENT && event.type !== 'Normal') {
      if (observation.applicationName !== undefined && subject !== undefined && subject !== observation.applicationName) continue;
      const message = event.message ?? '';
      const parsed = EXECUTOR_FAILED.exec(message.trim());
      if (parsed !== null) {
        const [, pod = '', code = '', why = '', podMessage = ''] = parsed;
        const exit = Number(code);
        const oomKilled = /OOMKilled/i.test(why);
        const disrupted = DISRUPTION_MESSAGE.test(podMessage) || DISRUPTION_POD_REASONS.has(why.trim());
        if (oomKilled || (!disrupted && executorOomExit(exit, why))) {
          if (!ooms.has(pod)) ooms.set(pod, `exit code ${exit}${why.trim() ? ` (${why.trim()})` : ''}`);
          disruptions.delete(pod);
        } else if (disrupted && !ooms.has(pod)) {
          disruptions.add(pod);
        }
      } else if (/OOMKilled|ExitCode:\s*(?:137|52)\b/i.test(message)) {
        const key = `event ${event.metadata.uid ?? event.metadata.name ?? message}`;
        if (!ooms.has(key)) ooms.set(key, oneLine(message));
      }
    } else if (DISRUPTION_EVENT_REASONS.has(reason) && event.involvedObject.kind === 'Pod' && subject !== undefined && subject !== driverName) {
      if (!ooms.has(subject)) disruptions.add(subject);
    }
  }
  return { ooms, disruptions };
}

/**
 * Whether an executor's container end reads as out of memory: OOMKilled, the JVM's OOM exit (52),
 * or 137 with no reason (a runtime that does not say why). 137 with a reason of its own (`Error`:
 * killed by someone, not by the memory limit) is not.
 */
function executorOomExit(exitCode: number, reason: string | undefined): boolean {
  const why = (reason ?? '').trim();
  if (why === 'OOMKilled' || exitCode === EXIT_JVM_OOM) return true;
  return exitCode === EXIT_SIGKILL && why === '';
}

function namedExecutors(ooms: ReadonlyMap<string, string>): string {
  const names = [...ooms.keys()].sort();
  const shown = names.slice(0, MAX_NAMED_EXECUTORS).join(', ');
  return names.length > MAX_NAMED_EXECUTORS ? `${shown} and ${names.length - MAX_NAMED_EXECUTORS} more` : shown;
}

// ---- pods ----------------------------------------------------------------------------------

type Terminated = NonNullable<NonNullable<ContainerStatus['state']>['terminated']>;

/** Spark's own container in the pod (sidecars are not the job). */
function mainContainer(pod: Pod, names: readonly string[]): ContainerStatus | undefined {
  const statuses = pod.status.containerStatuses ?? [];
  return statuses.find((c) => names.includes(c.name)) ?? statuses[0];
}

function terminatedOf(container: ContainerStatus | undefined): Terminated | undefined {
  return container?.state?.terminated ?? container?.lastState?.terminated ?? undefined;
}

function isDisrupted(pod: Pod): boolean {
  if (DISRUPTION_POD_REASONS.has(pod.status.reason ?? '')) return true;
  return (pod.status.conditions ?? []).some((c) => c.type === 'DisruptionTarget' && c.status === 'True');
}

/** How the node or the scheduler removed the pod, or undefined when it did not. */
function disruptionOf(pod: Pod, events: readonly KubeEvent[]): string | undefined {
  const reason = pod.status.reason;
  if (reason !== undefined && DISRUPTION_POD_REASONS.has(reason)) {
    return `${reason === 'Evicted' ? 'evicted' : 'preempted'}${pod.status.message ? `: ${firstSentence(pod.status.message)}` : ''}`;
  }
  const condition = (pod.status.conditions ?? []).find((c) => c.type === 'DisruptionTarget' && c.status === 'True');
  if (condition !== undefined) return `disrupted (${condition.reason ?? 'DisruptionTarget'})`;
  const event = events.find(
    (e) => DISRUPTION_EVENT_REASONS.has(e.reason ?? '') && e.involvedObject.kind === 'Pod' && e.involvedObject.name === pod.metadata.name,
  );
  if (event !== undefined) return `${(event.reason ?? '').toLowerCase()}${event.message ? `: ${firstSentence(event.message)}` : ''}`;
  return undefined;
}

interface CannotStart {
  readonly role: 'driver' | 'executor';
  readonly reason: string;
  readonly message: string;
}

function cannotStart(observation: ApplicationObservation): CannotStart | undefined {
  const candidates: { role: CannotStart['role']; pod: Pod; names: readonly string[] }[] = [];
  if (observation.driverPod !== undefined) candidates.push({ role: 'driver', pod: observation.driverPod, names: DRIVER_CONTAINERS });
  for (const pod of observation.executorPods) candidates.push({ role: 'executor', pod, names: EXECUTOR_CONTAINERS });
  for (const { role, pod, names } of candidates) {
    const waiting = mainContainer(pod, names)?.state?.waiting;
    if (waiting?.reason !== undefined && CANNOT_START.has(waiting.reason)) {
      return { role, reason: waiting.reason, message: firstSentence(waiting.message ?? '') };
    }
  }
  return undefined;
}

/** Why a driver pod has not started yet, e.g. `Unschedulable: 0/12 nodes are available…`. */
function pendingDetail(pod: Pod): string {
  if (pod.status.phase !== 'Pending') return '';
  const unscheduled = (pod.status.conditions ?? []).find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unscheduled !== undefined) return `driver pod ${unscheduled.reason ?? 'not scheduled'}${unscheduled.message ? `: ${firstSentence(unscheduled.message)}` : ''}`;
  const waiting = mainContainer(pod, DRIVER_CONTAINERS)?.state?.waiting;
  return waiting?.reason ? `driver container ${waiting.reason}` : 'driver pod Pending';
}

// ---- text ----------------------------------------------------------------------------------

function parseDriverExit(errorMessage: string): { exitCode: number; reason: string } | undefined {
  const match = DRIVER_EXIT.exec(errorMessage);
  if (match === null) return undefined;
  return { exitCode: Number(match[1]), reason: (match[2] ?? '').trim() };
}

function stateName(state: ApplicationStateName): string {
  return state === '' ? 'NEW' : state;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${String(s % 60).padStart(2, '0')}s` : ''}`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m % 60).padStart(2, '0')}m`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function firstSentence(text: string): string {
  const line = oneLine(text);
  const end = line.search(/\.\s/);
  return end > 0 ? line.slice(0, end + 1) : line;
}

function shortReason(reason: string): string {
  const line = redact(oneLine(reason));
  return line.length <= MAX_REASON ? line : `${line.slice(0, MAX_REASON - 1)}…`;
}

/** Facts behind the decision, one per line, for the failure details. Redacted. */
function buildDiagnostics(observation: ApplicationObservation, executors: ExecutorEvidence, executorOoms: number): string[] {
  const { app, driverPod } = observation;
  const lines = [`application state: ${stateName(app.state)}`];
  if (app.errorMessage) lines.push(`error message: ${oneLine(app.errorMessage)}`);
  if (driverPod !== undefined) {
    const { phase, reason } = driverPod.status;
    lines.push(`driver pod ${driverPod.metadata.name}: ${phase ?? 'no phase'}${reason ? ` (${reason})` : ''}`);
    const container = mainContainer(driverPod, DRIVER_CONTAINERS);
    const end = terminatedOf(container);
    if (end !== undefined) lines.push(`driver container terminated: exit code ${end.exitCode}${end.reason ? ` (${end.reason})` : ''}`);
    const waiting = container?.state?.waiting;
    if (waiting?.reason) lines.push(`driver container waiting: ${waiting.reason}`);
  }
  if (executorOoms > 0) {
    const seen = [...executors.ooms.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, how]) => `${name} ${how}`);
    lines.push(`executors lost to out-of-memory: ${executorOoms}${seen.length ? ` (${seen.join('; ')})` : ''}`);
  }
  if (executors.disruptions.size > 0) lines.push(`executors evicted or preempted: ${[...executors.disruptions].sort().join(', ')}`);
  return lines.map((l) => {
    const masked = redact(l);
    return masked.length <= MAX_DIAGNOSTIC_LINE ? masked : `${masked.slice(0, MAX_DIAGNOSTIC_LINE - 1)}…`;
  });
}

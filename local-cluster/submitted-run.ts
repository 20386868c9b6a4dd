import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { SimulatedApplication } from './application';
import { rfc3339 } from './clock';
import type { EventRecorder, EventType } from './event-recorder';
import { Gone, isRecord, type KubeWriter, type StoredObject } from './kube';
import { buildOperatorSubmission, DRIVER_CONTAINER, EXECUTOR_CONTAINER } from './operator-submission';
import { OperatorLabel } from './spark-objects';
import type { SimulatorStats, TimelineWhat } from './timeline';

/** How the stand-in runs real Spark: pyspark's spark-submit against the plane, pods run by a local runtime. */
export interface RealSparkOptions {
  /** The spark-submit executable (the checkout's `.venv/bin/spark-submit`). */
  readonly sparkSubmit: string;
  /** The kubeconfig spark-submit authenticates with (the operator's own account, here the plane's admin). */
  readonly kubeConfigPath: string;
  /** Labels added to every driver and executor pod: the local runtime's `nightjar.io/runtime=<value>`. */
  readonly podLabels?: Readonly<Record<string, string>>;
  /** Where the pod template files of a submission are written (removed after it). */
  readonly workDir: string;
  /** How long one spark-submit may take; default 180 s. */
  readonly submitTimeoutMs?: number;
  /** How long a SUBMITTED application may wait for its driver pod (the operator's `driver-pod-creation-grace-period`); default 10 s. */
  readonly driverPodGraceMs?: number;
}

/** What a submitted run needs from the operator stand-in. */
export interface SubmittedRunEnvironment {
  readonly api: KubeWriter;
  readonly events: EventRecorder;
  readonly stats: SimulatorStats;
  readonly real: RealSparkOptions;
  /** `k8s://https://…` of the plane. */
  readonly master: string;
  /** The pods of the namespace the operator's pod watch holds (labelled as launched by it). */
  pods(): readonly StoredObject[];
  note(app: SimulatedApplication, what: TimelineWhat, detail?: string): void;
  reportError(error: unknown): void;
  now(): Date;
}

type DriverState = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'UNKNOWN';
type ExecutorState = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'UNKNOWN';

interface Terminated {
  readonly exitCode: number;
  readonly reason?: string;
}

interface PodView {
  readonly name: string;
  readonly phase: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly node?: string;
  readonly message?: string;
  terminated(container: string): Terminated | undefined;
}

function view(pod: StoredObject): PodView {
  const status = isRecord(pod.status) ? pod.status : {};
  const spec = isRecord(pod.spec) ? pod.spec : {};
  const statuses = Array.isArray(status.containerStatuses) ? status.containerStatuses.filter(isRecord) : [];
  return {
    name: pod.metadata.name,
    phase: typeof status.phase === 'string' ? status.phase : 'Pending',
    labels: pod.metadata.labels ?? {},
    ...(typeof spec.nodeName === 'string' ? { node: spec.nodeName } : {}),
    ...(typeof status.message === 'string' ? { message: status.message } : {}),
    terminated(container) {
      const found = statuses.find((c) => c.name === container);
      const state = found !== undefined && isRecord(found.state) ? found.state : undefined;
      const end = state !== undefined && isRecord(state.terminated) ? state.terminated : undefined;
      if (end === undefined || typeof end.exitCode !== 'number') return undefined;
      return { exitCode: end.exitCode, ...(typeof end.reason === 'string' ? { reason: end.reason } : {}) };
    },
  };
}

/** `util.GetDriverState`. */
export function driverStateOf(pod: PodView): DriverState {
  const end = pod.terminated(DRIVER_CONTAINER);
  switch (pod.phase) {
    case 'Pending':
      return 'PENDING';
    case 'Running':
      return end === undefined ? 'RUNNING' : end.exitCode === 0 ? 'COMPLETED' : 'FAILED';
    case 'Succeeded':
      return 'COMPLETED';
    case 'Failed':
      return end !== undefined && end.exitCode === 0 ? 'COMPLETED' : 'FAILED';
    default:
      return 'UNKNOWN';
  }
}

/** `util.GetExecutorState`. */
export function executorStateOf(pod: PodView): ExecutorState {
  switch (pod.phase) {
    case 'Pending':
      return 'PENDING';
    case 'Running':
      return 'RUNNING';
    case 'Succeeded':
      return 'COMPLETED';
    case 'Failed':
      return 'FAILED';
    default:
      return 'UNKNOWN';
  }
}

/** `util.DriverStateToApplicationState`. */
const APPLICATION_STATE: Readonly<Record<DriverState, string>> = {
  PENDING: 'SUBMITTED',
  RUNNING: 'RUNNING',
  COMPLETED: 'SUCCEEDING',
  FAILED: 'FAILING',
  UNKNOWN: 'UNKNOWN',
};

const DRIVER_EVENTS: Readonly<Record<DriverState, [EventType, string, string]>> = {
  PENDING: ['Normal', 'SparkDriverPending', 'is pending'],
  RUNNING: ['Normal', 'SparkDriverRunning', 'is running'],
  COMPLETED: ['Normal', 'SparkDriverCompleted', 'completed'],
  FAILED: ['Warning', 'SparkDriverFailed', 'failed'],
  UNKNOWN: ['Warning', 'SparkDriverUnknown', 'in unknown state'],
};

const SUBMIT_OUTPUT_LINES = 8;
/** How often the run looks at its pods when no watch event woke it. */
const RECHECK_MS = 1_000;
const SPARK_CHATTER = /^\S+ \S+ (INFO|DEBUG) |^\s*$/;

/**
 * One SparkApplication run as the spark-operator runs it: a submission (a fresh submission id,
 * `spark-submit --deploy-mode cluster` with the operator's arguments and pod templates), then
 * the operator's reconciliation of the application's status from the real pods — the driver
 * pod's phase and container end give `applicationState` (SUBMITTED → RUNNING → SUCCEEDING /
 * FAILING → COMPLETED / FAILED, `errorMessage` in the operator's words), the executor pods give
 * `executorState`, the pods' `spark-app-selector` gives `sparkApplicationId` — with the
 * operator's Events. The pods are Spark's, run by the local runtime: nothing about them is played.
 */
export class SubmittedRun {
  private readonly controller = new AbortController();
  private done: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private submissionId = '';
  private driverPodName = '';
  private submittedAt = 0;
  private state = '';
  private driverState: DriverState | undefined;
  private readonly executors = new Map<string, ExecutorState>();
  private readonly seenRunning = new Set<string>();
  /** The application as last written (Events point at it). */
  private current: StoredObject;

  constructor(
    private readonly env: SubmittedRunEnvironment,
    readonly app: SimulatedApplication,
  ) {
    this.current = app.object;
  }

  start(): Promise<void> {
    this.done ??= this.run().catch((error: unknown) => {
      if (this.aborted || error instanceof Gone) return;
      this.env.reportError(error);
    });
    return this.done;
  }

  get finished(): Promise<void> {
    return this.done ?? Promise.resolve();
  }

  get aborted(): boolean {
    return this.controller.signal.aborted;
  }

  /** Stops following the application and kills a spark-submit still running. No write happens after this. */
  abort(): void {
    this.controller.abort();
    this.wake?.();
  }

  onPodGone(): void {
    this.wake?.();
  }

  onPodChanged(): void {
    this.wake?.();
  }

  // ---- submission --------------------------------------------------------------------------

  private async run(): Promise<void> {
    const { real } = this.env;
    this.submissionId = randomUUID();
    const dir = await fs.mkdtemp(path.join(real.workDir, `${this.app.name}-`));
    let result: { code: number; output: string };
    try {
      const submission = buildOperatorSubmission({
        app: this.app.object,
        submissionId: this.submissionId,
        master: this.env.master,
        driverTemplatePath: path.join(dir, 'driver-pod-template.json'),
        executorTemplatePath: path.join(dir, 'executor-pod-template.json'),
        ...(real.podLabels !== undefined ? { extraPodLabels: real.podLabels } : {}),
      });
      this.driverPodName = submission.driverPodName;
      await fs.writeFile(path.join(dir, 'driver-pod-template.json'), JSON.stringify(submission.driverTemplate));
      await fs.writeFile(path.join(dir, 'executor-pod-template.json'), JSON.stringify(submission.executorTemplate));
      result = await this.sparkSubmit(submission.args);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
    this.controller.signal.throwIfAborted();
    const submitted = {
      submissionID: this.submissionId,
      driverInfo: { podName: this.driverPodName },
      lastSubmissionAttemptTime: this.timestamp(),
      submissionAttempts: 1,
    };
    if (result.code !== 0) {
      await this.submissionFailed(submitted, result.output);
      return;
    }
    this.submittedAt = this.env.now().getTime();
    await this.patch({ ...submitted, applicationState: { state: 'SUBMITTED' }, executionAttempts: 1 });
    this.state = 'SUBMITTED';
    await this.event('Normal', 'SparkApplicationSubmitted', `SparkApplication ${this.app.name} was submitted successfully`);
    this.env.stats.submissions += 1;
    this.note('submitted', 'spark-submit');
    await this.follow();
  }

  private sparkSubmit(args: readonly string[]): Promise<{ code: number; output: string }> {
    const { real } = this.env;
    // spark-submit finds its Spark (and pyspark's python) beside itself, as in a virtualenv.
    const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: real.kubeConfigPath, PATH: [path.dirname(real.sparkSubmit), process.env.PATH ?? ''].join(path.delimiter) };
    return new Promise((resolve) => {
      execFile(
        real.sparkSubmit,
        [...args],
        { env, timeout: real.submitTimeoutMs ?? 180_000, maxBuffer: 8 * 1024 * 1024, signal: this.controller.signal },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1;
          resolve({ code, output: `${stdout}\n${stderr}` });
        },
      );
    });
  }

  /** The operator's FailedSubmission, then (restart policy Never) FAILED. */
  private async submissionFailed(submitted: Record<string, unknown>, output: string): Promise<void> {
    const exists = /AlreadyExists|already exists/.test(output);
    const tail = output
      .split(/\r?\n/)
      .filter((l) => !SPARK_CHATTER.test(l))
      .slice(-SUBMIT_OUTPUT_LINES)
      .join('\n');
    const message = `failed to submit spark application: failed to run spark-submit: ${exists ? 'driver pod already exist' : `failed to run spark-submit: ${tail}`}`;
    await this.patch({ ...submitted, applicationState: { state: 'SUBMISSION_FAILED', errorMessage: message } });
    await this.event('Warning', 'SparkApplicationSubmissionFailed', `failed to submit SparkApplication ${this.app.name}: ${message}`);
    this.note('submission-failed', message);
    await this.patch({ applicationState: { state: 'FAILED', errorMessage: message }, terminationTime: this.timestamp() });
    await this.event('Warning', 'SparkApplicationFailed', `SparkApplication ${this.app.name} failed: ${message}`);
    this.env.stats.failed += 1;
    this.note('failed', message);
  }

  // ---- reconciliation ------------------------------------------------------------------------

  /** Reconciles on every pod change (and now and then) until the application is COMPLETED or FAILED. */
  private async follow(): Promise<void> {
    const signal = this.controller.signal;
    for (;;) {
      signal.throwIfAborted();
      const waiting = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RECHECK_MS);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (await this.reconcile()) return;
      await waiting;
    }
  }

  /** One pass of the operator's updateDriverState + updateExecutorState; true once terminal. */
  private async reconcile(): Promise<boolean> {
    const pods = this.env.pods().filter((p) => p.metadata.labels?.[OperatorLabel.submissionId] === this.submissionId && p.metadata.deletionTimestamp === undefined);
    const driverObject = pods.find((p) => p.metadata.name === this.driverPodName);
    const status: Record<string, unknown> = {};
    if (driverObject === undefined) {
      if (this.state === 'SUBMITTED' && this.env.now().getTime() - this.submittedAt <= (this.env.real.driverPodGraceMs ?? 10_000)) return false;
      await this.event('Warning', 'SparkDriverNotFound', `Driver pod ${this.driverPodName} not found, marking application as Failing`);
      this.env.stats.driversLost += 1;
      this.note('driver-lost');
      return this.terminate('driver pod not found', pods);
    }
    const driver = view(driverObject);
    const appId = driver.labels['spark-app-selector'];
    if (appId !== undefined) status.sparkApplicationId = appId;
    const driverState = driverStateOf(driver);
    if (driverState !== this.driverState) await this.driverChanged(driver, driverState);
    await this.executorsChanged(pods, status);
    const next = APPLICATION_STATE[driverState];
    const end = driver.terminated(DRIVER_CONTAINER);
    const errorMessage =
      driverState !== 'FAILED' ? undefined : end === undefined ? 'driver container status missing' : `driver container failed with ExitCode: ${end.exitCode}, Reason: ${end.reason ?? ''}`;
    if (next !== this.state || Object.keys(status).length > 0) {
      await this.patch({ ...status, applicationState: errorMessage === undefined ? { state: next } : { state: next, errorMessage } });
    }
    this.state = next;
    if (driverState === 'COMPLETED' || driverState === 'FAILED') return this.terminate(errorMessage, pods);
    return false;
  }

  private async driverChanged(driver: PodView, state: DriverState): Promise<void> {
    this.driverState = state;
    const [type, reason, words] = DRIVER_EVENTS[state];
    await this.event(type, reason, `Driver ${driver.name} ${words}`);
    if (state === 'PENDING') {
      this.env.stats.podsCreated += 1;
      this.env.stats.driverPodsCreated += 1;
      this.note('driver-pending');
    } else if (state === 'RUNNING') {
      this.note('driver-running', driver.node);
    } else if (state === 'COMPLETED') {
      this.note('driver-completed');
    } else if (state === 'FAILED') {
      const end = driver.terminated(DRIVER_CONTAINER);
      if (end?.reason === 'OOMKilled') {
        this.env.stats.driverOoms += 1;
        this.note('driver-oom', `exit code ${end.exitCode}`);
      } else {
        this.env.stats.applicationErrors += 1;
        this.note('driver-failed', end === undefined ? 'no container status' : `exit code ${end.exitCode} (${end.reason ?? ''})`);
      }
    }
  }

  /** New and changed executor states (with their Events); executors whose pod is gone read as UNKNOWN while the driver runs. */
  private async executorsChanged(pods: readonly StoredObject[], status: Record<string, unknown>): Promise<void> {
    const states: Record<string, ExecutorState> = {};
    for (const object of pods) {
      if (object.metadata.labels?.['spark-role'] !== 'executor') continue;
      const pod = view(object);
      const state = executorStateOf(pod);
      states[pod.name] = state;
      if (this.executors.get(pod.name) === state) continue;
      if (!this.executors.has(pod.name)) {
        this.env.stats.podsCreated += 1;
        this.env.stats.executorPodsCreated += 1;
      }
      this.executors.set(pod.name, state);
      await this.executorEvent(pod, state);
    }
    for (const [name, state] of this.executors) {
      if (name in states || state === 'COMPLETED' || state === 'FAILED') continue;
      const gone: ExecutorState = this.state === 'RUNNING' ? 'UNKNOWN' : 'FAILED';
      if (gone === state) continue;
      states[name] = gone;
      this.executors.set(name, gone);
    }
    if (Object.keys(states).length > 0) status.executorState = states;
  }

  private async executorEvent(pod: PodView, state: ExecutorState): Promise<void> {
    switch (state) {
      case 'PENDING':
        return this.event('Normal', 'SparkExecutorPending', `Executor ${pod.name} is pending`);
      case 'RUNNING':
        if (!this.seenRunning.has(pod.name)) {
          this.seenRunning.add(pod.name);
          this.note('executor-running', `${pod.name} on ${pod.node ?? '?'}`);
        }
        return this.event('Normal', 'SparkExecutorRunning', `Executor ${pod.name} is running`);
      case 'COMPLETED':
        return this.event('Normal', 'SparkExecutorCompleted', `Executor ${pod.name} completed`);
      case 'UNKNOWN':
        return this.event('Warning', 'SparkExecutorUnknown', `Executor ${pod.name} in unknown state`);
      case 'FAILED': {
        const end = pod.terminated(EXECUTOR_CONTAINER);
        const exitCode = end?.exitCode ?? -1;
        const reason = end?.reason ?? 'Unknown (Container not Found)';
        // 137 is the kernel's OOM kill of the container, 52 the JVM's own OutOfMemoryError exit.
        if (reason === 'OOMKilled' || exitCode === 52) {
          this.env.stats.executorOoms += 1;
          this.note('executor-oom', `${pod.name} exit code ${exitCode} (${reason})`);
        }
        return this.event('Warning', 'SparkExecutorFailed', `Executor ${pod.name} failed with ExitCode: ${exitCode}, Reason: ${reason}, Pod Message: ${pod.message ?? ''}`);
      }
    }
  }

  /**
   * SUCCEEDING / FAILING, then — the restart policy is Never — COMPLETED / FAILED with the
   * executors' last states (those whose pods are gone: COMPLETED after a success, else FAILED).
   */
  private async terminate(errorMessage: string | undefined, pods: readonly StoredObject[]): Promise<true> {
    const terminationTime = this.timestamp();
    if (this.state !== 'SUCCEEDING' && this.state !== 'FAILING') {
      await this.patch({ applicationState: errorMessage === undefined ? { state: 'SUCCEEDING' } : { state: 'FAILING', errorMessage }, terminationTime });
    } else {
      await this.patch({ terminationTime });
    }
    const executorState: Record<string, ExecutorState> = {};
    const present = new Set(pods.map((p) => p.metadata.name));
    for (const [name, state] of this.executors) {
      if (present.has(name) || state === 'COMPLETED' || state === 'FAILED') continue;
      executorState[name] = errorMessage === undefined ? 'COMPLETED' : 'FAILED';
    }
    const final = errorMessage === undefined ? 'COMPLETED' : 'FAILED';
    await this.patch({ applicationState: errorMessage === undefined ? { state: final } : { state: final, errorMessage }, ...(Object.keys(executorState).length > 0 ? { executorState } : {}) });
    this.state = final;
    if (errorMessage === undefined) {
      await this.event('Normal', 'SparkApplicationCompleted', `SparkApplication ${this.app.name} completed`);
      this.env.stats.completed += 1;
      this.note('completed');
    } else {
      await this.event('Warning', 'SparkApplicationFailed', `SparkApplication ${this.app.name} failed: ${errorMessage}`);
      this.env.stats.failed += 1;
      this.note('failed', errorMessage);
    }
    return true;
  }

  // ---- writes ------------------------------------------------------------------------------

  private async patch(status: Record<string, unknown>): Promise<void> {
    this.controller.signal.throwIfAborted();
    this.current = await this.env.api.patchStatus('sparkapplications', this.app.name, status);
  }

  private async event(type: EventType, reason: string, message: string): Promise<void> {
    this.controller.signal.throwIfAborted();
    await this.env.events.record({ involved: this.current, type, reason, message, source: { component: 'spark-operator' } });
    this.env.stats.eventsRecorded += 1;
  }

  private note(what: TimelineWhat, detail?: string): void {
    this.env.note(this.app, what, detail);
  }

  private timestamp(): string {
    return rfc3339(this.env.now());
  }
}

import { KubeApiError, type ClusterStore, type PodLogs, type StoredObject } from '../fake-api';
import { SPEC_FILE_KEY, SPEC_MOUNT_DIR } from '../spark-application';
import type { SimulatedApplication } from './application';
import { rfc3339, sleep, untilAborted } from './clock';
import type { DriverContext, DriverExit, DriverRuntime } from './driver-runtime';
import type { EventRecorder, EventSource, EventType } from './event-recorder';
import { pythonTraceback, type ExecutorFate, type ScenarioScript } from './scenarios';
import {
  DRIVER_CONTAINER,
  EXECUTOR_CONTAINER,
  SIMULATED_NODE,
  driverPodBody,
  driverServiceBody,
  executorPodBody,
  executorPodName,
  newContainerId,
  newSubmission,
  podIp,
  podStatus,
  sparkConfigMapBody,
  stragglerBodies,
  type ContainerState,
  type PodStatusInput,
  type Submission,
} from './spark-objects';
import type { SimulatorStats, TimelineWhat } from './timeline';
import type { SimulatorTiming } from './timing';

/** What one application's run needs from the simulator. */
export interface RunEnvironment {
  readonly store: ClusterStore;
  readonly podLogs: PodLogs;
  readonly events: EventRecorder;
  readonly timing: SimulatorTiming;
  readonly runtime: DriverRuntime;
  readonly stats: SimulatorStats;
  note(app: SimulatedApplication, what: TimelineWhat, detail?: string): void;
  /** An unexpected error (a bug, not an object gone): surfaced by the simulator's `stop()`. */
  reportError(error: unknown): void;
  now(): Date;
}

type DriverEnd =
  | { readonly kind: 'exited'; readonly exitCode: number; readonly reason: DriverExit['reason'] }
  | { readonly kind: 'evicted'; readonly message: string }
  /** The driver pod was deleted under the application. */
  | { readonly kind: 'lost' };

/** The object being worked on is gone (404): the run stops quietly. */
class Gone extends Error {
  constructor(what: string) {
    super(`${what} is gone`);
    this.name = 'Gone';
  }
}

/** A pod the simulated kubelet runs: what stays the same across its status updates. */
interface PodRuntime {
  readonly name: string;
  readonly container: string;
  readonly containerId: string;
  readonly podIP: string;
  uid: string;
  startTime: string;
  startedAt?: string;
}

interface ExecutorHandle extends PodRuntime {
  readonly id: number;
  readonly controller: AbortController;
  state: 'PENDING' | 'RUNNING' | 'FAILED';
}

const OPERATOR: EventSource = { component: 'spark-operator' };
const KUBELET: EventSource = { component: 'kubelet', host: SIMULATED_NODE };
const SCHEDULER: EventSource = { component: 'default-scheduler' };
const TERMINAL_EXECUTOR_STATES = new Set(['COMPLETED', 'FAILED']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The life of one SparkApplication, played by the operator, spark-submit, the Spark driver and
 * the kubelet together: from submission to COMPLETED or FAILED, as its {@link ScenarioScript}
 * says. Every write goes through the cluster store, so clients see it exactly as they would see
 * the real components' writes, watch events included.
 */
export class ApplicationRun {
  private readonly controller = new AbortController();
  private current: StoredObject;
  private submission: Submission | undefined;
  private driverPod: StoredObject | undefined;
  private driver: PodRuntime | undefined;
  /** Set while the driver container may run; aborting it ends the driver (the pod was deleted). */
  private driverScope: AbortController | undefined;
  private driverSignal: AbortSignal | undefined;
  private driverLost = false;
  private readonly executors = new Map<string, ExecutorHandle>();
  private readonly deletedBySpark = new Set<string>();
  private readonly tasks = new Set<Promise<void>>();
  private nextExecutorId = 1;
  private losses = 0;
  private abortJob: (() => void) | undefined;
  private done: Promise<void> | undefined;

  constructor(
    private readonly env: RunEnvironment,
    readonly app: SimulatedApplication,
    readonly script: ScenarioScript,
  ) {
    this.current = app.object;
  }

  /** Starts the run once; the promise settles when it ended (it never rejects). */
  start(): Promise<void> {
    this.done ??= this.run().catch((error: unknown) => this.env.reportError(error));
    return this.done;
  }

  get finished(): Promise<void> {
    return this.done ?? Promise.resolve();
  }

  get aborted(): boolean {
    return this.controller.signal.aborted;
  }

  /** Stops everything: timers, executors, the driver runtime. No write happens after this. */
  abort(): void {
    this.controller.abort();
  }

  /** A pod of this application was deleted (or is being deleted) by someone else. */
  onPodGone(pod: StoredObject): void {
    if (this.aborted || this.driverScope === undefined) return;
    const { name, uid } = pod.metadata;
    if (this.driver !== undefined && name === this.driver.name) {
      if (uid !== this.driver.uid || this.driverLost) return;
      this.driverLost = true;
      this.driverScope.abort();
      return;
    }
    const handle = this.executors.get(name);
    if (handle === undefined || handle.uid !== uid || this.deletedBySpark.has(name) || this.driverLost) return;
    this.executors.delete(name);
    handle.controller.abort();
    try {
      // The operator reports an executor that vanished under a running driver as UNKNOWN.
      if (handle.state !== 'FAILED') this.setExecutorState(name, 'UNKNOWN');
      this.replaceExecutor(name);
    } catch (error) {
      if (!(error instanceof Gone) && !this.aborted) throw error;
    }
  }

  // ---- the run ---------------------------------------------------------------------------

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    const { timing } = this.env;
    try {
      await sleep(timing.submitDelayMs, signal);
      const submission = newSubmission(this.app);
      this.submission = submission;
      if (this.script.driver.kind === 'no-pod') {
        this.markSubmitted();
        this.note('stuck');
        await untilAborted(signal);
        return;
      }
      if (this.env.store.get('pods', this.app.namespace, submission.driverPodName) !== undefined) {
        await this.submissionFailed(submission);
        return;
      }
      const end = await this.driverPhase();
      const errorMessage = this.driverEnded(end);
      await sleep(timing.terminalDelayMs, signal);
      this.finish(errorMessage);
    } catch (error) {
      if (signal.aborted || error instanceof Gone) return;
      throw error;
    }
  }

  private async submissionFailed(submission: Submission): Promise<void> {
    const { namespace } = this.app;
    const message =
      `failed to run spark-submit for SparkApplication ${namespace}/${this.app.name}: Exception in thread "main" ` +
      `io.fabric8.kubernetes.client.KubernetesClientException: Failure executing: POST at: https://10.96.0.1/api/v1/namespaces/${namespace}/pods. ` +
      `Message: pods "${submission.driverPodName}" already exists. Received status: Status(code=409, reason=AlreadyExists).`;
    this.patchApp({
      applicationState: { state: 'SUBMISSION_FAILED', errorMessage: message },
      submissionAttempts: 1,
      lastSubmissionAttemptTime: this.timestamp(),
    });
    this.appEvent('Warning', 'SparkApplicationSubmissionFailed', `failed to submit SparkApplication ${this.app.name}: ${message}`);
    this.note('submission-failed', message);
    await sleep(this.env.timing.terminalDelayMs, this.controller.signal);
    this.finish(message);
  }

  private markSubmitted(): void {
    const submission = this.requireSubmission();
    this.patchApp({
      applicationState: { state: 'SUBMITTED' },
      sparkApplicationId: submission.appId,
      submissionID: submission.submissionId,
      submissionAttempts: 1,
      executionAttempts: 1,
      lastSubmissionAttemptTime: this.timestamp(),
      driverInfo: { podName: submission.driverPodName },
    });
    this.appEvent('Normal', 'SparkApplicationSubmitted', `SparkApplication ${this.app.name} was submitted successfully`);
    this.env.stats.submissions += 1;
    this.note('submitted', this.script.scenario);
  }

  /** From the driver pod's creation to the end of its container. */
  private async driverPhase(): Promise<DriverEnd> {
    const scope = new AbortController();
    const signal = AbortSignal.any([this.controller.signal, scope.signal]);
    this.driverScope = scope;
    this.driverSignal = signal;
    try {
      this.createDriver();
      this.markSubmitted();
      const fate = this.script.driver;
      if (fate.kind === 'image-pull-backoff') await this.failPulling(fate.pullError, signal);
      await sleep(this.env.timing.podStartMs, signal);
      this.startDriver();
      if (this.script.stragglers) this.plantStragglers();
      return await this.driverLifetime(signal);
    } catch (error) {
      if (!this.aborted && (this.driverLost || this.driverPodMissing())) return { kind: 'lost' };
      throw error;
    } finally {
      this.driverScope = undefined;
      scope.abort();
      while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
    }
  }

  private createDriver(): void {
    const submission = this.requireSubmission();
    const { namespace } = this.app;
    const at = this.timestamp();
    const runtime: PodRuntime = { name: submission.driverPodName, container: DRIVER_CONTAINER, containerId: newContainerId(), podIP: podIp(), uid: '', startTime: at };
    const pod = this.write(() =>
      this.env.store.upsert('pods', namespace, {
        ...driverPodBody(submission, this.current),
        status: this.statusOf(runtime, { waiting: { reason: 'ContainerCreating' } }),
      }),
    );
    runtime.uid = pod.metadata.uid;
    this.driver = runtime;
    this.driverPod = pod;
    this.env.stats.podsCreated += 1;
    this.env.stats.driverPodsCreated += 1;
    // spark-submit creates these after the driver pod, owned by it.
    this.write(() => this.env.store.upsert('services', namespace, driverServiceBody(submission, pod)));
    this.write(() => this.env.store.upsert('configmaps', namespace, sparkConfigMapBody(submission, pod, submission.driverConfigMapName)));
    this.write(() => this.env.store.upsert('configmaps', namespace, sparkConfigMapBody(submission, pod, submission.executorConfigMapName)));
    this.podEvent(pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${pod.metadata.name} to ${SIMULATED_NODE}`, SCHEDULER);
    this.note('driver-pending');
  }

  /** The kubelet failing to pull the driver image, backing off, and trying again, until stopped. */
  private async failPulling(pullError: string, signal: AbortSignal): Promise<never> {
    const driver = this.requireDriver();
    const { image } = this.requireSubmission();
    const fieldPath = `spec.containers{${DRIVER_CONTAINER}}`;
    const { imagePullBackoffMs } = this.env.timing;
    let backoff = imagePullBackoffMs;
    for (let attempt = 1; ; attempt += 1) {
      const pod = this.setPodStatus(driver, { waiting: { reason: 'ErrImagePull', message: pullError } });
      this.podEvent(pod, 'Normal', 'Pulling', `Pulling image "${image}"`, KUBELET, fieldPath);
      this.podEvent(pod, 'Warning', 'Failed', `Failed to pull image "${image}": ${pullError}`, KUBELET, fieldPath);
      this.podEvent(pod, 'Warning', 'Failed', 'Error: ErrImagePull', KUBELET, fieldPath);
      this.env.stats.imagePullFailures += 1;
      if (attempt === 1) this.note('image-pull-backoff', pullError);
      await sleep(imagePullBackoffMs, signal);
      const waiting = this.setPodStatus(driver, {
        waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}": ErrImagePull: ${pullError}` },
      });
      this.podEvent(waiting, 'Normal', 'BackOff', `Back-off pulling image "${image}"`, KUBELET, fieldPath);
      this.podEvent(waiting, 'Warning', 'Failed', 'Error: ImagePullBackOff', KUBELET, fieldPath);
      await sleep(backoff, signal);
      backoff = Math.min(backoff * 2, imagePullBackoffMs * 16);
    }
  }

  private startDriver(): void {
    const driver = this.requireDriver();
    driver.startedAt = this.timestamp();
    const pod = this.setPodStatus(driver, { running: { startedAt: driver.startedAt } });
    this.podEvent(pod, 'Normal', 'Started', `Started container ${DRIVER_CONTAINER}`, KUBELET, `spec.containers{${DRIVER_CONTAINER}}`);
    this.patchApp({ applicationState: { state: 'RUNNING' } });
    this.appEvent('Normal', 'SparkDriverRunning', `Driver ${driver.name} is running`);
    this.note('driver-running');
    const { instances } = this.app.executor;
    this.log(`INFO SparkContext: Running Spark version ${this.app.sparkVersion}`);
    this.log(`INFO SparkContext: Submitted application: ${this.app.name}`);
    this.log(`INFO Utils: Successfully started service 'sparkDriver' on port 7078.`);
    this.log(`INFO ExecutorPodsAllocator: Going to request ${instances} executors from Kubernetes for ResourceProfile Id: 0, target: ${instances}.`);
  }

  private plantStragglers(): void {
    const { claim, service } = stragglerBodies(this.requireSubmission());
    const stored = [
      this.write(() => this.env.store.upsert('persistentvolumeclaims', this.app.namespace, claim)),
      this.write(() => this.env.store.upsert('services', this.app.namespace, service)),
    ];
    for (const object of stored) {
      this.env.stats.stragglers += 1;
      this.note('straggler', `${object.kind === 'Service' ? 'services' : 'persistentvolumeclaims'}/${object.metadata.name}`);
    }
  }

  /** The driver container running, with its executors: how it ends. */
  private async driverLifetime(signal: AbortSignal): Promise<DriverEnd> {
    for (let i = 0; i < this.app.executor.instances; i += 1) this.launchExecutor(signal);
    const fate = this.script.driver;
    const runtimeScope = new AbortController();
    const runtimeSignal = AbortSignal.any([signal, runtimeScope.signal]);
    let running: Promise<DriverEnd> | undefined;
    const startRuntime = (): Promise<DriverEnd> => {
      const started = this.runRuntime(runtimeSignal);
      // Marked handled at once: a runtime aborted while the scenario's timer runs rejects early.
      started.catch(() => undefined);
      running = started;
      return started;
    };
    const stopRuntime = async (): Promise<void> => {
      runtimeScope.abort();
      await running?.catch(() => undefined);
    };
    const { driverFailAfterMs } = this.env.timing;
    try {
      switch (fate.kind) {
        case 'runs': {
          const executors = this.script.executors;
          if (executors.kind === 'oom') return await this.starvedJob(executors, signal);
          return await startRuntime();
        }
        case 'oom-killed':
          // The scenario kills the driver whatever its runtime is doing.
          void startRuntime();
          await sleep(driverFailAfterMs, signal);
          return { kind: 'exited', exitCode: 137, reason: 'OOMKilled' };
        case 'evicted':
          void startRuntime();
          await sleep(driverFailAfterMs, signal);
          return { kind: 'evicted', message: fate.message };
        case 'fails':
          void startRuntime();
          await sleep(driverFailAfterMs, signal);
          await stopRuntime();
          for (const line of fate.logLines) this.log(line);
          return { kind: 'exited', exitCode: fate.exitCode, reason: 'Error' };
        case 'image-pull-backoff':
        case 'no-pod':
          throw new Error(`a driver whose fate is ${fate.kind} never runs`);
      }
    } finally {
      await stopRuntime();
    }
  }

  /**
   * A job whose executors keep dying makes no progress: the driver waits for ever, or until
   * Spark gives up on the stage after `abortAfterLosses` lost executors.
   */
  private async starvedJob(fate: Extract<ExecutorFate, { kind: 'oom' }>, signal: AbortSignal): Promise<DriverEnd> {
    if (fate.abortAfterLosses === undefined) return untilAborted(signal);
    const limit = fate.abortAfterLosses;
    await Promise.race([
      untilAborted(signal),
      new Promise<void>((resolve) => {
        this.abortJob = resolve;
        if (this.losses >= limit) resolve();
      }),
    ]);
    this.log(`ERROR TaskSetManager: Task 0 in stage 1.0 failed ${limit} times; aborting job`);
    this.log('py4j.protocol.Py4JJavaError: An error occurred while calling o112.save.');
    this.log(
      `: org.apache.spark.SparkException: Job aborted due to stage failure: Task 0 in stage 1.0 failed ${limit} times, most recent failure: ` +
        `ExecutorLostFailure (executor ${this.nextExecutorId - 1} exited caused by one of the running tasks) Reason: The executor exited with exit code ${fate.exitCode}.`,
    );
    return { kind: 'exited', exitCode: 1, reason: 'Error' };
  }

  private async runRuntime(signal: AbortSignal): Promise<DriverEnd> {
    const ctx: DriverContext = {
      app: this.current,
      signal,
      timing: this.env.timing,
      log: (line) => this.log(line),
      readSpec: () => Promise.resolve().then(() => this.readSpec()),
    };
    try {
      const exit = await this.env.runtime.run(ctx);
      signal.throwIfAborted();
      return { kind: 'exited', exitCode: exit.exitCode, reason: exit.reason };
    } catch (error) {
      if (signal.aborted) throw error;
      // A runtime that throws is a job that crashed.
      const message = error instanceof Error ? `${error.name}: ${error.message}` : `RuntimeError: ${String(error)}`;
      for (const line of pythonTraceback(this.app.mainApplicationFile, message)) this.log(line);
      return { kind: 'exited', exitCode: 1, reason: 'Error' };
    }
  }

  private readSpec(): unknown {
    const mounts = this.app.driver.configMaps;
    const mount = mounts.find((m) => m.path.replace(/\/+$/, '') === SPEC_MOUNT_DIR) ?? mounts[0];
    if (mount === undefined) return undefined;
    const configMap = this.env.store.get('configmaps', this.app.namespace, mount.name);
    const data = configMap?.data;
    if (!isRecord(data) || typeof data[SPEC_FILE_KEY] !== 'string') return undefined;
    return JSON.parse(data[SPEC_FILE_KEY]) as unknown;
  }

  // ---- executors -------------------------------------------------------------------------

  private launchExecutor(driverSignal: AbortSignal): string | undefined {
    if (driverSignal.aborted) return undefined;
    const id = this.nextExecutorId;
    this.nextExecutorId += 1;
    const handle: ExecutorHandle = {
      id,
      name: executorPodName(this.app, id),
      container: EXECUTOR_CONTAINER,
      containerId: newContainerId(),
      podIP: podIp(),
      uid: '',
      startTime: '',
      controller: new AbortController(),
      state: 'PENDING',
    };
    this.executors.set(handle.name, handle);
    const signal = AbortSignal.any([driverSignal, handle.controller.signal]);
    const task: Promise<void> = this.executorLife(handle, signal, driverSignal)
      .catch((error: unknown) => {
        if (signal.aborted || error instanceof Gone) return;
        this.env.reportError(error);
      })
      .finally(() => this.tasks.delete(task));
    this.tasks.add(task);
    return handle.name;
  }

  private async executorLife(handle: ExecutorHandle, signal: AbortSignal, driverSignal: AbortSignal): Promise<void> {
    const submission = this.requireSubmission();
    const driverPod = this.driverPod;
    if (driverPod === undefined) throw new Error('executors need a driver pod');
    const { timing, store } = this.env;
    handle.startTime = this.timestamp();
    const pod = this.write(
      () => store.upsert('pods', this.app.namespace, { ...executorPodBody(submission, driverPod, handle.id), status: this.statusOf(handle, { waiting: { reason: 'ContainerCreating' } }) }),
      signal,
    );
    handle.uid = pod.metadata.uid;
    this.env.stats.podsCreated += 1;
    this.env.stats.executorPodsCreated += 1;
    this.podEvent(pod, 'Normal', 'Scheduled', `Successfully assigned ${this.app.namespace}/${handle.name} to ${SIMULATED_NODE}`, SCHEDULER);
    this.setExecutorState(handle.name, 'PENDING', signal);
    this.appEvent('Normal', 'SparkExecutorPending', `Executor ${handle.name} is pending`);

    await sleep(timing.executorStartMs, signal);
    handle.startedAt = this.timestamp();
    const running = this.setPodStatus(handle, { running: { startedAt: handle.startedAt } }, signal);
    this.podEvent(running, 'Normal', 'Started', `Started container ${EXECUTOR_CONTAINER}`, KUBELET, `spec.containers{${EXECUTOR_CONTAINER}}`);
    handle.state = 'RUNNING';
    this.setExecutorState(handle.name, 'RUNNING', signal);
    this.appEvent('Normal', 'SparkExecutorRunning', `Executor ${handle.name} is running`);
    this.note('executor-running', handle.name);

    const fate = this.script.executors;
    if (fate.kind !== 'oom') return untilAborted(signal);
    await sleep(timing.executorOomAfterMs, signal);
    const { exitCode } = fate;
    // 137 is the kernel's OOM kill of the container; 52 the JVM's own OutOfMemoryError exit.
    const reason = exitCode === 137 ? 'OOMKilled' : 'Error';
    this.setPodStatus(handle, { terminated: { exitCode, reason, startedAt: handle.startedAt, finishedAt: this.timestamp() } }, signal);
    handle.state = 'FAILED';
    this.setExecutorState(handle.name, 'FAILED', signal);
    this.appEvent('Warning', 'SparkExecutorFailed', `Executor ${handle.name} failed with ExitCode: ${exitCode}, Reason: ${reason}, Pod Message: `);
    this.env.stats.executorOoms += 1;
    this.note('executor-oom', `${handle.name} exit code ${exitCode} (${reason})`);
    const why = exitCode === 137 ? 'SIGKILL, possible container OOM' : 'java.lang.OutOfMemoryError';
    this.log(`ERROR TaskSchedulerImpl: Lost executor ${handle.id} on ${handle.podIP}: The executor with id ${handle.id} exited with exit code ${exitCode}(${why}).`);
    this.log(
      `WARN TaskSetManager: Lost task 0.${this.losses} in stage 1.0 (executor ${handle.id}): ExecutorLostFailure (executor ${handle.id} exited caused by one of the running tasks) Reason: exit code ${exitCode}`,
    );
    this.losses += 1;
    if (fate.abortAfterLosses !== undefined && this.losses >= fate.abortAfterLosses) this.abortJob?.();

    await sleep(timing.executorDeleteAfterMs, signal);
    // Spark deletes the dead executor's pod and asks for a replacement.
    this.deletedBySpark.add(handle.name);
    this.write(() => store.delete('pods', this.app.namespace, handle.name), signal);
    this.executors.delete(handle.name);
    if (!driverSignal.aborted) this.replaceExecutor(handle.name);
  }

  private replaceExecutor(old: string): void {
    const signal = this.driverSignal;
    if (signal === undefined) return;
    const replacement = this.launchExecutor(signal);
    if (replacement === undefined) return;
    this.env.stats.executorReplacements += 1;
    this.note('executor-replaced', `${old} -> ${replacement}`);
  }

  // ---- the end -----------------------------------------------------------------------------

  /** Writes how the driver ended; returns the operator's error message, undefined on success. */
  private driverEnded(end: DriverEnd): string | undefined {
    const driver = this.requireDriver();
    // The driver deletes its executors when it stops.
    for (const handle of [...this.executors.values()]) {
      handle.controller.abort();
      this.deletedBySpark.add(handle.name);
      this.write(() => this.env.store.delete('pods', this.app.namespace, handle.name));
    }
    this.executors.clear();
    const finishedAt = this.timestamp();
    const startedAt = driver.startedAt ?? finishedAt;
    let errorMessage: string | undefined;
    switch (end.kind) {
      case 'exited': {
        const { exitCode, reason } = end;
        this.setPodStatus(driver, { terminated: { exitCode, reason, startedAt, finishedAt } });
        if (exitCode === 0) {
          this.log('INFO SparkContext: Successfully stopped SparkContext');
          this.note('driver-completed');
          break;
        }
        errorMessage = `driver container failed with ExitCode: ${exitCode}, Reason: ${reason}`;
        if (reason === 'OOMKilled') {
          this.env.stats.driverOoms += 1;
          this.note('driver-oom', `exit code ${exitCode}`);
        } else {
          this.env.stats.applicationErrors += 1;
          this.note('driver-failed', `exit code ${exitCode} (${reason})`);
        }
        break;
      }
      case 'evicted': {
        // Hard eviction: no grace period, so the JVM dies of SIGKILL.
        const pod = this.setPodStatus(
          driver,
          { terminated: { exitCode: 137, reason: 'Error', startedAt, finishedAt } },
          this.controller.signal,
          { reason: 'Evicted', message: end.message, disruption: { reason: 'TerminationByKubelet', message: end.message } },
        );
        this.podEvent(pod, 'Warning', 'Evicted', end.message, KUBELET);
        this.podEvent(pod, 'Normal', 'Killing', `Stopping container ${DRIVER_CONTAINER}`, KUBELET, `spec.containers{${DRIVER_CONTAINER}}`);
        errorMessage = 'driver container failed with ExitCode: 137, Reason: Error';
        this.env.stats.evictions += 1;
        this.note('evicted', end.message);
        break;
      }
      case 'lost':
        errorMessage = 'driver pod not found';
        this.env.stats.driversLost += 1;
        this.note('driver-lost');
        break;
    }
    this.patchApp({
      applicationState: errorMessage === undefined ? { state: 'SUCCEEDING' } : { state: 'FAILING', errorMessage },
      terminationTime: finishedAt,
    });
    if (errorMessage === undefined) this.appEvent('Normal', 'SparkDriverCompleted', `Driver ${driver.name} completed`);
    else if (end.kind !== 'lost') this.appEvent('Warning', 'SparkDriverFailed', `Driver ${driver.name} failed`);
    return errorMessage;
  }

  private finish(errorMessage: string | undefined): void {
    const states = isRecord(this.current.status) && isRecord(this.current.status.executorState) ? this.current.status.executorState : {};
    const executorState: Record<string, string> = {};
    for (const [name, state] of Object.entries(states)) {
      if (typeof state !== 'string' || !TERMINAL_EXECUTOR_STATES.has(state)) executorState[name] = errorMessage === undefined ? 'COMPLETED' : 'FAILED';
    }
    this.patchApp({
      applicationState: errorMessage === undefined ? { state: 'COMPLETED' } : { state: 'FAILED', errorMessage },
      ...(Object.keys(executorState).length > 0 ? { executorState } : {}),
    });
    if (errorMessage === undefined) {
      this.appEvent('Normal', 'SparkApplicationCompleted', `SparkApplication ${this.app.name} completed`);
      this.env.stats.completed += 1;
      this.note('completed');
    } else {
      this.appEvent('Warning', 'SparkApplicationFailed', `SparkApplication ${this.app.name} failed: ${errorMessage}`);
      this.env.stats.failed += 1;
      this.note('failed', errorMessage);
    }
  }

  // ---- writes ------------------------------------------------------------------------------

  /** Runs a store write unless the run was stopped; a 404 means the object is gone. */
  private write<T>(action: () => T, signal: AbortSignal = this.controller.signal): T {
    signal.throwIfAborted();
    this.controller.signal.throwIfAborted();
    try {
      return action();
    } catch (error) {
      if (error instanceof KubeApiError && error.code === 404) throw new Gone(error.message);
      throw error;
    }
  }

  private patchApp(status: Record<string, unknown>): StoredObject {
    this.current = this.write(() => this.env.store.patchStatus('sparkapplications', this.app.namespace, this.app.name, status));
    return this.current;
  }

  private setExecutorState(name: string, state: 'PENDING' | 'RUNNING' | 'FAILED' | 'UNKNOWN', signal?: AbortSignal): void {
    if (signal !== undefined) signal.throwIfAborted();
    this.patchApp({ executorState: { [name]: state } });
  }

  private statusOf(pod: PodRuntime, state: ContainerState, extra: Pick<PodStatusInput, 'reason' | 'message' | 'disruption'> = {}): Record<string, unknown> {
    return podStatus({
      container: pod.container,
      image: this.requireSubmission().image,
      state,
      at: this.timestamp(),
      startTime: pod.startTime,
      containerId: pod.containerId,
      ...('waiting' in state ? {} : { podIP: pod.podIP }),
      ...extra,
    });
  }

  private setPodStatus(
    pod: PodRuntime,
    state: ContainerState,
    signal: AbortSignal = this.controller.signal,
    extra: Pick<PodStatusInput, 'reason' | 'message' | 'disruption'> = {},
  ): StoredObject {
    return this.write(() => this.env.store.patchStatus('pods', this.app.namespace, pod.name, this.statusOf(pod, state, extra)), signal);
  }

  private appEvent(type: EventType, reason: string, message: string): void {
    this.write(() => this.env.events.record({ involved: this.current, type, reason, message, source: OPERATOR }));
    this.env.stats.eventsRecorded += 1;
  }

  private podEvent(pod: StoredObject, type: EventType, reason: string, message: string, source: EventSource, fieldPath?: string): void {
    this.write(() => this.env.events.record({ involved: pod, type, reason, message, source, ...(fieldPath === undefined ? {} : { fieldPath }) }));
    this.env.stats.eventsRecorded += 1;
  }

  private log(line: string): void {
    const driver = this.driver;
    if (driver === undefined) return;
    if (this.env.podLogs.append(this.app.namespace, driver.name, line, DRIVER_CONTAINER)) this.env.stats.driverLogLines += 1;
  }

  private note(what: TimelineWhat, detail?: string): void {
    this.env.note(this.app, what, detail);
  }

  private timestamp(): string {
    return rfc3339(this.env.now());
  }

  private driverPodMissing(): boolean {
    const driver = this.driver;
    if (driver === undefined) return false;
    const pod = this.env.store.get('pods', this.app.namespace, driver.name);
    return pod === undefined || pod.metadata.uid !== driver.uid || pod.metadata.deletionTimestamp !== undefined;
  }

  private requireSubmission(): Submission {
    if (this.submission === undefined) throw new Error('the application has not been submitted');
    return this.submission;
  }

  private requireDriver(): PodRuntime {
    if (this.driver === undefined) throw new Error('the application has no driver pod');
    return this.driver;
  }
}

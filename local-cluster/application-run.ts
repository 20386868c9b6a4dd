import { SPEC_FILE_KEY, SPEC_MOUNT_DIR } from '../src/spark/kubernetes/spark-application';
import type { SimulatedApplication } from './application';
import { rfc3339, sleep, untilAborted } from './clock';
import type { DriverContext, DriverExit, DriverRuntime } from './driver-runtime';
import type { EventRecorder, EventSource, EventType } from './event-recorder';
import { Gone, isRecord, type KubeWriter, type NodeAddresses, type StoredObject } from './kube';
import { pythonTraceback, type ExecutorFate, type ScenarioScript } from './scenarios';
import {
  DRIVER_CONTAINER,
  EXECUTOR_CONTAINER,
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

/** The driver logs the stand-in kubelet keeps (kwok serves no container logs). */
export interface DriverLogs {
  append(pod: string, line: string): void;
}

/** What one application's run needs from the operator stand-in. */
export interface RunEnvironment {
  readonly api: KubeWriter;
  readonly nodes: NodeAddresses;
  readonly logs: DriverLogs;
  /** Resolves with the node the scheduler bound the pod (this uid) to; rejects with Gone when it goes first. */
  scheduled(pod: string, uid: string, signal: AbortSignal): Promise<string>;
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

/** A pod the simulated kubelet runs: what stays the same across its status updates. */
interface PodRuntime {
  readonly name: string;
  readonly container: string;
  readonly containerId: string;
  readonly podIP: string;
  uid: string;
  startTime: string;
  startedAt?: string;
  hostIP?: string;
  node?: string;
}

interface ExecutorHandle extends PodRuntime {
  readonly id: number;
  readonly controller: AbortController;
  state: 'PENDING' | 'RUNNING' | 'FAILED';
}

const OPERATOR: EventSource = { component: 'spark-operator' };
const kubelet = (pod: PodRuntime): EventSource => ({ component: 'kubelet', ...(pod.node === undefined ? {} : { host: pod.node }) });
const TERMINAL_EXECUTOR_STATES = new Set(['COMPLETED', 'FAILED']);

/**
 * The life of one SparkApplication, played by the operator, spark-submit, the Spark driver and
 * the kubelet together: from submission to COMPLETED or FAILED, as its {@link ScenarioScript}
 * says. Every write goes through the API server (pods and the application through their `status`
 * subresource), so clients see exactly what they would see of the real components' writes; the
 * real scheduler binds the pods, the real garbage collector removes what the owners leave.
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
    this.track(
      (async () => {
        // The operator reports an executor that vanished under a running driver as UNKNOWN.
        if (handle.state !== 'FAILED') await this.setExecutorState(name, 'UNKNOWN');
        this.replaceExecutor(name);
      })(),
      this.controller.signal,
    );
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
        await this.markSubmitted();
        this.note('stuck');
        await untilAborted(signal);
        return;
      }
      if ((await this.env.api.get('pods', submission.driverPodName)) !== undefined) {
        await this.submissionFailed(submission);
        return;
      }
      const end = await this.driverPhase();
      const errorMessage = await this.driverEnded(end);
      await sleep(timing.terminalDelayMs, signal);
      await this.finish(errorMessage);
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
    await this.patchApp({
      applicationState: { state: 'SUBMISSION_FAILED', errorMessage: message },
      // The CRD requires driverInfo in every status (the operator's type has no omitempty on it).
      driverInfo: {},
      submissionAttempts: 1,
      lastSubmissionAttemptTime: this.timestamp(),
    });
    await this.appEvent('Warning', 'SparkApplicationSubmissionFailed', `failed to submit SparkApplication ${this.app.name}: ${message}`);
    this.note('submission-failed', message);
    await sleep(this.env.timing.terminalDelayMs, this.controller.signal);
    await this.finish(message);
  }

  private async markSubmitted(): Promise<void> {
    const submission = this.requireSubmission();
    await this.patchApp({
      applicationState: { state: 'SUBMITTED' },
      sparkApplicationId: submission.appId,
      submissionID: submission.submissionId,
      submissionAttempts: 1,
      executionAttempts: 1,
      lastSubmissionAttemptTime: this.timestamp(),
      driverInfo: { podName: submission.driverPodName },
    });
    await this.appEvent('Normal', 'SparkApplicationSubmitted', `SparkApplication ${this.app.name} was submitted successfully`);
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
      await this.createDriver();
      await this.markSubmitted();
      const driver = this.requireDriver();
      await this.bound(driver, signal);
      await this.setPodStatus(driver, { waiting: { reason: 'ContainerCreating' } }, signal);
      const fate = this.script.driver;
      if (fate.kind === 'image-pull-backoff') await this.failPulling(fate.pullError, signal);
      await sleep(this.env.timing.podStartMs, signal);
      await this.startDriver(signal);
      if (this.script.stragglers) await this.plantStragglers();
      return await this.driverLifetime(signal);
    } catch (error) {
      if (!this.aborted && (this.driverLost || (await this.driverPodMissing()))) return { kind: 'lost' };
      throw error;
    } finally {
      this.driverScope = undefined;
      scope.abort();
      while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
    }
  }

  private async createDriver(): Promise<void> {
    const submission = this.requireSubmission();
    const at = this.timestamp();
    const runtime: PodRuntime = { name: submission.driverPodName, container: DRIVER_CONTAINER, containerId: newContainerId(), podIP: podIp(), uid: '', startTime: at };
    // The driver pod carries no nodeName: the scheduler places it by the spec's affinity.
    const pod = await this.write(() => this.env.api.create('pods', driverPodBody(submission, this.current)));
    runtime.uid = pod.metadata.uid;
    this.driver = runtime;
    this.driverPod = pod;
    this.env.stats.podsCreated += 1;
    this.env.stats.driverPodsCreated += 1;
    // spark-submit creates these after the driver pod, owned by it.
    await this.write(() => this.env.api.create('services', driverServiceBody(submission, pod)));
    await this.write(() => this.env.api.create('configmaps', sparkConfigMapBody(submission, pod, submission.driverConfigMapName)));
    await this.write(() => this.env.api.create('configmaps', sparkConfigMapBody(submission, pod, submission.executorConfigMapName)));
    this.note('driver-pending');
  }

  /** Waits for the scheduler to bind the pod; the kubelet of that node takes it from there. */
  private async bound(pod: PodRuntime, signal: AbortSignal): Promise<void> {
    const node = await this.env.scheduled(pod.name, pod.uid, signal);
    pod.node = node;
    const hostIP = await this.env.nodes.of(node);
    if (hostIP !== undefined) pod.hostIP = hostIP;
  }

  /** The kubelet failing to pull the driver image, backing off, and trying again, until stopped. */
  private async failPulling(pullError: string, signal: AbortSignal): Promise<never> {
    const driver = this.requireDriver();
    const { image } = this.requireSubmission();
    const fieldPath = `spec.containers{${DRIVER_CONTAINER}}`;
    const { imagePullBackoffMs } = this.env.timing;
    let backoff = imagePullBackoffMs;
    for (let attempt = 1; ; attempt += 1) {
      const pod = await this.setPodStatus(driver, { waiting: { reason: 'ErrImagePull', message: pullError } }, signal);
      await this.podEvent(pod, 'Normal', 'Pulling', `Pulling image "${image}"`, kubelet(driver), fieldPath);
      await this.podEvent(pod, 'Warning', 'Failed', `Failed to pull image "${image}": ${pullError}`, kubelet(driver), fieldPath);
      await this.podEvent(pod, 'Warning', 'Failed', 'Error: ErrImagePull', kubelet(driver), fieldPath);
      this.env.stats.imagePullFailures += 1;
      if (attempt === 1) this.note('image-pull-backoff', pullError);
      await sleep(imagePullBackoffMs, signal);
      const waiting = await this.setPodStatus(
        driver,
        { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}": ErrImagePull: ${pullError}` } },
        signal,
      );
      await this.podEvent(waiting, 'Normal', 'BackOff', `Back-off pulling image "${image}"`, kubelet(driver), fieldPath);
      await this.podEvent(waiting, 'Warning', 'Failed', 'Error: ImagePullBackOff', kubelet(driver), fieldPath);
      await sleep(backoff, signal);
      backoff = Math.min(backoff * 2, imagePullBackoffMs * 16);
    }
  }

  private async startDriver(signal: AbortSignal): Promise<void> {
    const driver = this.requireDriver();
    driver.startedAt = this.timestamp();
    const pod = await this.setPodStatus(driver, { running: { startedAt: driver.startedAt } }, signal);
    await this.podEvent(pod, 'Normal', 'Started', `Started container ${DRIVER_CONTAINER}`, kubelet(driver), `spec.containers{${DRIVER_CONTAINER}}`);
    await this.patchApp({ applicationState: { state: 'RUNNING' } });
    await this.appEvent('Normal', 'SparkDriverRunning', `Driver ${driver.name} is running`);
    this.note('driver-running', driver.node);
    const { instances } = this.app.executor;
    this.log(`INFO SparkContext: Running Spark version ${this.app.sparkVersion}`);
    this.log(`INFO SparkContext: Submitted application: ${this.app.name}`);
    this.log(`INFO Utils: Successfully started service 'sparkDriver' on port 7078.`);
    this.log(`INFO ExecutorPodsAllocator: Going to request ${instances} executors from Kubernetes for ResourceProfile Id: 0, target: ${instances}.`);
  }

  private async plantStragglers(): Promise<void> {
    const { claim, service } = stragglerBodies(this.requireSubmission());
    const stored = [
      await this.write(() => this.env.api.create('persistentvolumeclaims', claim)),
      await this.write(() => this.env.api.create('services', service)),
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
      readSpec: () => this.readSpec(),
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

  private async readSpec(): Promise<unknown> {
    const mounts = this.app.driver.configMaps;
    const mount = mounts.find((m) => m.path.replace(/\/+$/, '') === SPEC_MOUNT_DIR) ?? mounts[0];
    if (mount === undefined) return undefined;
    const configMap = await this.env.api.get('configmaps', mount.name);
    const data = configMap?.data;
    if (!isRecord(data) || typeof data[SPEC_FILE_KEY] !== 'string') return undefined;
    return JSON.parse(data[SPEC_FILE_KEY]) as unknown;
  }

  // ---- executors -------------------------------------------------------------------------

  /** Runs a background task of the driver; its failure is a bug unless its scope was stopped. */
  private track(work: Promise<void>, signal: AbortSignal): void {
    const task: Promise<void> = work
      .catch((error: unknown) => {
        if (signal.aborted || this.aborted || error instanceof Gone) return;
        this.env.reportError(error);
      })
      .finally(() => this.tasks.delete(task));
    this.tasks.add(task);
  }

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
    this.track(this.executorLife(handle, signal, driverSignal), signal);
    return handle.name;
  }

  private async executorLife(handle: ExecutorHandle, signal: AbortSignal, driverSignal: AbortSignal): Promise<void> {
    const submission = this.requireSubmission();
    const driverPod = this.driverPod;
    if (driverPod === undefined) throw new Error('executors need a driver pod');
    const { timing } = this.env;
    handle.startTime = this.timestamp();
    const pod = await this.write(() => this.env.api.create('pods', executorPodBody(submission, driverPod, handle.id)), signal);
    handle.uid = pod.metadata.uid;
    this.env.stats.podsCreated += 1;
    this.env.stats.executorPodsCreated += 1;
    await this.setExecutorState(handle.name, 'PENDING', signal);
    await this.appEvent('Normal', 'SparkExecutorPending', `Executor ${handle.name} is pending`);
    await this.bound(handle, signal);
    await this.setPodStatus(handle, { waiting: { reason: 'ContainerCreating' } }, signal);

    await sleep(timing.executorStartMs, signal);
    handle.startedAt = this.timestamp();
    const running = await this.setPodStatus(handle, { running: { startedAt: handle.startedAt } }, signal);
    await this.podEvent(running, 'Normal', 'Started', `Started container ${EXECUTOR_CONTAINER}`, kubelet(handle), `spec.containers{${EXECUTOR_CONTAINER}}`);
    handle.state = 'RUNNING';
    await this.setExecutorState(handle.name, 'RUNNING', signal);
    await this.appEvent('Normal', 'SparkExecutorRunning', `Executor ${handle.name} is running`);
    this.note('executor-running', `${handle.name} on ${handle.node ?? '?'}`);

    const fate = this.script.executors;
    if (fate.kind !== 'oom') return untilAborted(signal);
    await sleep(timing.executorOomAfterMs, signal);
    const { exitCode } = fate;
    // 137 is the kernel's OOM kill of the container; 52 the JVM's own OutOfMemoryError exit.
    const reason = exitCode === 137 ? 'OOMKilled' : 'Error';
    await this.setPodStatus(handle, { terminated: { exitCode, reason, startedAt: handle.startedAt, finishedAt: this.timestamp() } }, signal);
    // Noted when the kill is visible: a client may stop the application before the writes below.
    handle.state = 'FAILED';
    this.env.stats.executorOoms += 1;
    this.note('executor-oom', `${handle.name} exit code ${exitCode} (${reason})`);
    await this.setExecutorState(handle.name, 'FAILED', signal);
    await this.appEvent('Warning', 'SparkExecutorFailed', `Executor ${handle.name} failed with ExitCode: ${exitCode}, Reason: ${reason}, Pod Message: `);
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
    await this.write(() => this.env.api.delete('pods', handle.name), signal);
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
  private async driverEnded(end: DriverEnd): Promise<string | undefined> {
    const driver = this.requireDriver();
    // The driver deletes its executors when it stops.
    for (const handle of [...this.executors.values()]) {
      handle.controller.abort();
      this.deletedBySpark.add(handle.name);
      if (handle.uid !== '') await this.write(() => this.env.api.delete('pods', handle.name)).catch(ignoreGone);
    }
    this.executors.clear();
    const finishedAt = this.timestamp();
    const startedAt = driver.startedAt ?? finishedAt;
    let errorMessage: string | undefined;
    switch (end.kind) {
      case 'exited': {
        const { exitCode, reason } = end;
        await this.setPodStatus(driver, { terminated: { exitCode, reason, startedAt, finishedAt } });
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
        const pod = await this.setPodStatus(
          driver,
          { terminated: { exitCode: 137, reason: 'Error', startedAt, finishedAt } },
          this.controller.signal,
          { reason: 'Evicted', message: end.message, disruption: { reason: 'TerminationByKubelet', message: end.message } },
        );
        await this.podEvent(pod, 'Warning', 'Evicted', end.message, kubelet(driver));
        await this.podEvent(pod, 'Normal', 'Killing', `Stopping container ${DRIVER_CONTAINER}`, kubelet(driver), `spec.containers{${DRIVER_CONTAINER}}`);
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
    await this.patchApp({
      applicationState: errorMessage === undefined ? { state: 'SUCCEEDING' } : { state: 'FAILING', errorMessage },
      terminationTime: finishedAt,
    });
    if (errorMessage === undefined) await this.appEvent('Normal', 'SparkDriverCompleted', `Driver ${driver.name} completed`);
    else if (end.kind !== 'lost') await this.appEvent('Warning', 'SparkDriverFailed', `Driver ${driver.name} failed`);
    return errorMessage;
  }

  private async finish(errorMessage: string | undefined): Promise<void> {
    const states = isRecord(this.current.status) && isRecord(this.current.status.executorState) ? this.current.status.executorState : {};
    const executorState: Record<string, string> = {};
    for (const [name, state] of Object.entries(states)) {
      if (typeof state !== 'string' || !TERMINAL_EXECUTOR_STATES.has(state)) executorState[name] = errorMessage === undefined ? 'COMPLETED' : 'FAILED';
    }
    await this.patchApp({
      applicationState: errorMessage === undefined ? { state: 'COMPLETED' } : { state: 'FAILED', errorMessage },
      ...(Object.keys(executorState).length > 0 ? { executorState } : {}),
    });
    if (errorMessage === undefined) {
      await this.appEvent('Normal', 'SparkApplicationCompleted', `SparkApplication ${this.app.name} completed`);
      this.env.stats.completed += 1;
      this.note('completed');
    } else {
      await this.appEvent('Warning', 'SparkApplicationFailed', `SparkApplication ${this.app.name} failed: ${errorMessage}`);
      this.env.stats.failed += 1;
      this.note('failed', errorMessage);
    }
  }

  // ---- writes ------------------------------------------------------------------------------

  /** Runs an API write unless the run (or the given scope) was stopped; a 404 throws Gone. */
  private async write<T>(action: () => Promise<T>, signal: AbortSignal = this.controller.signal): Promise<T> {
    signal.throwIfAborted();
    this.controller.signal.throwIfAborted();
    return action();
  }

  private async patchApp(status: Record<string, unknown>): Promise<StoredObject> {
    this.current = await this.write(() => this.env.api.patchStatus('sparkapplications', this.app.name, status));
    return this.current;
  }

  private async setExecutorState(name: string, state: 'PENDING' | 'RUNNING' | 'FAILED' | 'UNKNOWN', signal?: AbortSignal): Promise<void> {
    if (signal !== undefined) signal.throwIfAborted();
    await this.patchApp({ executorState: { [name]: state } });
  }

  private statusOf(pod: PodRuntime, state: ContainerState, extra: Pick<PodStatusInput, 'reason' | 'message' | 'disruption'> = {}): Record<string, unknown> {
    return podStatus({
      container: pod.container,
      image: this.requireSubmission().image,
      state,
      at: this.timestamp(),
      startTime: pod.startTime,
      containerId: pod.containerId,
      // The sandbox has its address before the container runs; a pod with an address is this
      // kubelet's, not kwok's default stages'.
      podIP: pod.podIP,
      ...(pod.hostIP === undefined ? {} : { hostIP: pod.hostIP }),
      ...extra,
    });
  }

  private setPodStatus(
    pod: PodRuntime,
    state: ContainerState,
    signal: AbortSignal = this.controller.signal,
    extra: Pick<PodStatusInput, 'reason' | 'message' | 'disruption'> = {},
  ): Promise<StoredObject> {
    return this.write(() => this.env.api.patchStatus('pods', pod.name, this.statusOf(pod, state, extra)), signal);
  }

  private async appEvent(type: EventType, reason: string, message: string): Promise<void> {
    await this.write(() => this.env.events.record({ involved: this.current, type, reason, message, source: OPERATOR }));
    this.env.stats.eventsRecorded += 1;
  }

  private async podEvent(pod: StoredObject, type: EventType, reason: string, message: string, source: EventSource, fieldPath?: string): Promise<void> {
    await this.write(() => this.env.events.record({ involved: pod, type, reason, message, source, ...(fieldPath === undefined ? {} : { fieldPath }) }));
    this.env.stats.eventsRecorded += 1;
  }

  private log(line: string): void {
    const driver = this.driver;
    if (driver === undefined) return;
    this.env.logs.append(driver.name, line);
    this.env.stats.driverLogLines += 1;
  }

  private note(what: TimelineWhat, detail?: string): void {
    this.env.note(this.app, what, detail);
  }

  private timestamp(): string {
    return rfc3339(this.env.now());
  }

  private async driverPodMissing(): Promise<boolean> {
    const driver = this.driver;
    if (driver === undefined) return false;
    const pod = await this.env.api.get('pods', driver.name);
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

function ignoreGone(error: unknown): void {
  if (!(error instanceof Gone)) throw error;
}

import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { collectionPath } from '../src/spark/kubernetes/kube-api';
import { ResourceWatch } from '../src/spark/kubernetes/resource-watch';
import { readApplication, type SimulatedApplication } from './application';
import { ApplicationRun, type RunEnvironment } from './application-run';
import { scriptedDriver, type DriverRuntime } from './driver-runtime';
import { EventRecorder } from './event-recorder';
import { Gone, KubeWriter, NodeAddresses, type StoredObject } from './kube';
import { SCENARIO_NAMES, scenarioScript, type ScenarioChoice, type ScenarioScript } from './scenarios';
import { OperatorLabel } from './spark-objects';
import { SubmittedRun, type RealSparkOptions, type SubmittedRunEnvironment } from './submitted-run';
import { emptyStats, type SimulatorStats, type TimelineEntry, type TimelineWhat } from './timeline';
import { resolveTiming, type SimulatorTiming } from './timing';

export interface SparkOperatorOptions {
  readonly kubeConfig: KubeConfig;
  /** The namespaces whose SparkApplications it reconciles (more can be added with {@link LocalSparkOperator.addNamespace}). */
  readonly namespaces: readonly string[];
  /** What happens to each application; default `success`. */
  readonly scenario?: ScenarioChoice;
  /** Delays in milliseconds; unspecified ones keep their (fast) defaults. */
  readonly timing?: Partial<SimulatorTiming>;
  /** What runs in driver containers that their scenario lets run; default {@link scriptedDriver}. */
  readonly driver?: DriverRuntime;
  /**
   * Run real Spark: an application whose scenario lets its driver run (success, executor-oom)
   * is submitted with spark-submit in cluster mode, as the operator does, and its status follows
   * the real pods a local runtime runs; `driver` is then not used for it. The other scenarios
   * (image pull back-off, eviction, stuck, driver OOM, application error, leaky) stay played.
   */
  readonly realSpark?: RealSparkOptions;
  readonly logger?: Logger;
}

/** One application's run: played ({@link ApplicationRun}) or submitted for real ({@link SubmittedRun}). */
type OperatorRun = ApplicationRun | SubmittedRun;

interface Waiter {
  readonly predicate: (entry: TimelineEntry) => boolean;
  readonly resolve: (entry: TimelineEntry) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** The watches and writer of one namespace. */
interface Scope {
  readonly namespace: string;
  readonly api: KubeWriter;
  readonly apps: ResourceWatch<StoredObject>;
  readonly pods: ResourceWatch<StoredObject>;
  readonly events: EventRecorder;
  /** Pods waiting to be bound by the scheduler: `name` → waiters. */
  readonly binding: Map<string, Set<() => void>>;
}

/**
 * What stands in for the spark-operator, spark-submit, the Spark driver and the kubelet on a
 * local control plane whose nodes have no container runtime (kwok): a controller against the
 * real API server. It watches the SparkApplications of its namespaces (list+watch, resuming
 * after a cut and relisting after 410 Gone), and for each new one creates the driver pod, the
 * driver's Service and ConfigMaps and the executor pods as the operator and Spark do (names,
 * labels, owner references, resources and placement from the spec — the real scheduler binds
 * them), writes the application's status through its `status` subresource, records Events, and
 * ends the pods as the application's scenario says by writing their status as the kubelet would.
 *
 * With `realSpark`, an application whose scenario lets Spark run is not played: the stand-in
 * submits it with spark-submit in cluster mode as the operator does and writes its status from
 * the real pods a local runtime runs (see {@link SubmittedRun}).
 *
 * Deleting a SparkApplication stops its run at once; the real garbage collector removes its
 * dependents. Applications that already have a state when first seen are left alone.
 */
export class LocalSparkOperator {
  private readonly timingValues: SimulatorTiming;
  private readonly runtime: DriverRuntime;
  private readonly choose: (app: SimulatedApplication) => ScenarioScript;
  private readonly counters: SimulatorStats = emptyStats();
  private readonly entries: TimelineEntry[] = [];
  private readonly runs = new Map<string, OperatorRun>();
  /** `namespace/name` → the run of the application that has that name now. */
  private readonly byName = new Map<string, OperatorRun>();
  private readonly errors: unknown[] = [];
  private readonly waiters = new Set<Waiter>();
  private readonly scopes: Scope[] = [];
  private syncTimeoutMs = 30_000;
  private readonly nodes: NodeAddresses;
  private readonly driverLogs = new Map<string, string[]>();
  private state: 'new' | 'started' | 'stopped' = 'new';

  constructor(private readonly options: SparkOperatorOptions) {
    this.timingValues = resolveTiming(options.timing);
    this.runtime = options.driver ?? scriptedDriver();
    this.choose = chooser(options.scenario ?? 'success');
    this.nodes = new NodeAddresses(options.kubeConfig);
    for (const namespace of options.namespaces) this.scopes.push(this.scope(namespace));
  }

  private scope(namespace: string): Scope {
    const { kubeConfig, logger } = this.options;
    const api = new KubeWriter(kubeConfig, namespace);
    const common = { kubeConfig, ...(logger === undefined ? {} : { logger }), backoff: { initialMs: 100, maxMs: 2_000 } };
    return {
      namespace,
      api,
      apps: new ResourceWatch<StoredObject>({ ...common, path: collectionPath(namespace, 'SparkApplication'), name: `operator-apps-${namespace}` }),
      pods: new ResourceWatch<StoredObject>({
        ...common,
        path: collectionPath(namespace, 'Pod'),
        name: `operator-pods-${namespace}`,
        labelSelector: `${OperatorLabel.launchedByOperator}=true`,
      }),
      events: new EventRecorder(api, () => new Date()),
      binding: new Map(),
    };
  }

  /** Reconciles one more namespace; resolves once its watches listed. */
  async addNamespace(namespace: string): Promise<void> {
    if (this.state === 'stopped') throw new Error('the local spark-operator is stopped');
    if (this.scopes.some((s) => s.namespace === namespace)) return;
    const scope = this.scope(namespace);
    this.scopes.push(scope);
    if (this.state === 'started') await this.run([scope]);
  }

  get timing(): SimulatorTiming {
    return this.timingValues;
  }

  /** What happened so far, in order. The array grows while the operator runs. */
  get timeline(): readonly TimelineEntry[] {
    return this.entries;
  }

  /** Failures of runs and listeners so far (bugs, or a scenario function that threw); stop() reports them. */
  get failures(): number {
    return this.errors.length;
  }

  /** Counters so far (a copy). */
  get stats(): Readonly<SimulatorStats> {
    return { ...this.counters };
  }

  /**
   * The driver log lines of a played driver so far: no container runs for it, so `pods/log` has
   * nothing to serve; the stand-in keeps what the driver would have printed. A real driver's log
   * (`realSpark`) is the runtime's, served through `pods/log`.
   */
  driverLog(namespace: string, pod: string): readonly string[] {
    return this.driverLogs.get(`${namespace}/${pod}`) ?? [];
  }

  /** Starts the watches; resolves once every one has listed (or after `syncTimeoutMs`). */
  async start(syncTimeoutMs = 30_000): Promise<void> {
    if (this.state !== 'new') throw new Error(`the local spark-operator cannot start: it is ${this.state}`);
    this.state = 'started';
    this.syncTimeoutMs = syncTimeoutMs;
    await this.run(this.scopes);
  }

  private async run(scopes: readonly Scope[]): Promise<void> {
    for (const scope of scopes) {
      scope.apps.onChange((event) => this.guard(() => this.onApp(scope, event.type, event.object)));
      scope.pods.onChange((event) => this.guard(() => this.onPod(scope, event.type, event.object)));
      scope.apps.start();
      scope.pods.start();
    }
    const synced = await Promise.all(scopes.flatMap((s) => [s.apps.waitForSync(this.syncTimeoutMs), s.pods.waitForSync(this.syncTimeoutMs)]));
    if (synced.includes(false)) {
      throw new Error(`the local spark-operator's watches did not sync within ${this.syncTimeoutMs} ms (namespaces ${scopes.map((s) => s.namespace).join(', ')})`);
    }
  }

  /**
   * Stops every run (drivers aborted, timers cleared) and the watches, and waits for all of
   * them. Rejects with an AggregateError when a run failed for another reason than its objects
   * being deleted.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    for (const run of this.runs.values()) run.abort();
    await Promise.all([...this.runs.values()].map((run) => run.finished));
    await Promise.all(this.scopes.flatMap((s) => [s.apps.stop(), s.pods.stop()]));
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error('the local spark-operator stopped'));
    }
    this.waiters.clear();
    if (this.errors.length > 0) {
      const first = this.errors[0];
      const body = (first as { body?: unknown }).body;
      const why = `${first instanceof Error ? first.message : String(first)}${typeof body === 'string' ? ` ${body.slice(0, 500)}` : ''}`;
      throw new AggregateError(this.errors, `the local spark-operator failed (${this.errors.length}): ${why}`);
    }
  }

  /** The first timeline entry (past or future) that matches; rejects after `timeoutMs`. */
  waitFor(predicate: (entry: TimelineEntry) => boolean, timeoutMs = 15_000): Promise<TimelineEntry> {
    const seen = this.entries.find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.state === 'stopped') return Promise.reject(new Error('the local spark-operator stopped'));
    return new Promise<TimelineEntry>((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`no matching timeline entry within ${timeoutMs} ms; timeline: ${this.entries.map((e) => `${e.app} ${e.what}`).join(', ')}`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Shorthand for {@link waitFor} on one application's step. */
  waitForStep(app: string, what: TimelineWhat, timeoutMs?: number): Promise<TimelineEntry> {
    return this.waitFor((entry) => entry.app === app && entry.what === what, timeoutMs);
  }

  // ---- watch events --------------------------------------------------------------------

  /** Listener errors are the operator's bugs: kept for stop(), never thrown into the watch. */
  private guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.errors.push(error);
    }
  }

  private onApp(scope: Scope, type: 'ADDED' | 'MODIFIED' | 'DELETED', object: StoredObject): void {
    if (this.state !== 'started') return;
    if (type === 'DELETED' || object.metadata.deletionTimestamp !== undefined) this.forget(object);
    else if (type === 'ADDED' || !this.runs.has(object.metadata.uid)) this.adopt(scope, object);
  }

  private onPod(scope: Scope, type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: StoredObject): void {
    if (this.state !== 'started') return;
    const appName = pod.metadata.labels?.[OperatorLabel.appName];
    const run = appName === undefined ? undefined : this.byName.get(`${scope.namespace}/${appName}`);
    if (type === 'DELETED' || pod.metadata.deletionTimestamp !== undefined) run?.onPodGone(pod);
    else if (run instanceof SubmittedRun) run.onPodChanged();
    const waiting = scope.binding.get(pod.metadata.name);
    if (waiting !== undefined) for (const wake of [...waiting]) wake();
  }

  /** A SparkApplication the operator has not handled yet gets a run. */
  private adopt(scope: Scope, object: StoredObject): void {
    const { uid, name } = object.metadata;
    if (this.runs.has(uid) || applicationState(object) !== '') return;
    const app = readApplication(object);
    const script = this.choose(app);
    this.counters.applicationsSeen += 1;
    this.note(app, 'created', script.scenario);
    const real = this.options.realSpark !== undefined && script.driver.kind === 'runs' && !script.stragglers;
    const run = real ? new SubmittedRun(this.submittedEnvironment(scope), app) : new ApplicationRun(this.environment(scope), app, script);
    this.runs.set(uid, run);
    this.byName.get(`${scope.namespace}/${name}`)?.abort();
    this.byName.set(`${scope.namespace}/${name}`, run);
    void run.start();
  }

  /** The application is being deleted or is gone: stop working on it. */
  private forget(object: StoredObject): void {
    const run = this.runs.get(object.metadata.uid);
    if (run === undefined || run.aborted) return;
    run.abort();
    this.counters.deleted += 1;
    this.note(run.app, 'deleted');
  }

  /** Resolves with the pod's node once the scheduler bound it (as the watch shows it). */
  private scheduled(scope: Scope, name: string, uid: string, signal: AbortSignal): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      let waiting = scope.binding.get(name);
      if (waiting === undefined) {
        waiting = new Set();
        scope.binding.set(name, waiting);
      }
      const set = waiting;
      const done = (): void => {
        set.delete(check);
        if (set.size === 0) scope.binding.delete(name);
        signal.removeEventListener('abort', aborted);
      };
      const check = (): void => {
        const pod = scope.pods.get(name);
        if (pod === undefined || pod.metadata.uid !== uid) return;
        if (pod.metadata.deletionTimestamp !== undefined) {
          done();
          reject(new Gone(`pods/${name}`));
          return;
        }
        const node = (pod.spec as { nodeName?: unknown } | undefined)?.nodeName;
        if (typeof node === 'string' && node !== '') {
          done();
          resolve(node);
        }
      };
      const aborted = (): void => {
        done();
        reject(signal.reason instanceof Error ? signal.reason : new DOMException('The operation was aborted', 'AbortError'));
      };
      if (signal.aborted) return aborted();
      signal.addEventListener('abort', aborted, { once: true });
      set.add(check);
      check();
    });
  }

  private environment(scope: Scope): RunEnvironment {
    return {
      api: scope.api,
      nodes: this.nodes,
      logs: {
        append: (pod, line) => {
          const key = `${scope.namespace}/${pod}`;
          const lines = this.driverLogs.get(key) ?? [];
          lines.push(line);
          this.driverLogs.set(key, lines);
        },
      },
      scheduled: (pod, uid, signal) => this.scheduled(scope, pod, uid, signal),
      events: scope.events,
      timing: this.timingValues,
      runtime: this.runtime,
      stats: this.counters,
      note: (app, what, detail) => this.note(app, what, detail),
      reportError: (error) => {
        this.options.logger?.error({ err: error }, 'local spark-operator run failed');
        this.errors.push(error);
      },
      now: () => new Date(),
    };
  }

  private submittedEnvironment(scope: Scope): SubmittedRunEnvironment {
    const real = this.options.realSpark;
    const cluster = this.options.kubeConfig.getCurrentCluster();
    if (real === undefined || cluster === null) throw new Error('real Spark needs the realSpark option and a kubeconfig with a current cluster');
    return {
      api: scope.api,
      events: scope.events,
      stats: this.counters,
      real,
      master: `k8s://${cluster.server}`,
      pods: () => scope.pods.list(),
      note: (app, what, detail) => this.note(app, what, detail),
      reportError: (error) => {
        this.options.logger?.error({ err: error }, 'local spark-operator run failed');
        this.errors.push(error);
      },
      now: () => new Date(),
    };
  }

  private note(app: SimulatedApplication, what: TimelineWhat, detail?: string): void {
    const entry: TimelineEntry = {
      at: Date.now(),
      app: app.name,
      namespace: app.namespace,
      ...(app.attemptLabel === undefined ? {} : { attempt: app.attemptLabel }),
      what,
      ...(detail === undefined ? {} : { detail }),
    };
    this.entries.push(entry);
    for (const waiter of [...this.waiters]) {
      if (!waiter.predicate(entry)) continue;
      clearTimeout(waiter.timer);
      this.waiters.delete(waiter);
      waiter.resolve(entry);
    }
  }
}

/** `status.applicationState.state`, '' when there is none yet. */
function applicationState(object: StoredObject): string {
  const status = object.status;
  if (typeof status !== 'object' || status === null || Array.isArray(status)) return '';
  const state = (status as { applicationState?: { state?: unknown } }).applicationState?.state;
  return typeof state === 'string' ? state : '';
}

function chooser(choice: ScenarioChoice): (app: SimulatedApplication) => ScenarioScript {
  if (typeof choice === 'function') return choice;
  const name = typeof choice === 'string' ? choice : choice.name;
  if (!SCENARIO_NAMES.includes(name)) throw new Error(`unknown scenario ${JSON.stringify(name)}; known: ${SCENARIO_NAMES.join(', ')}`);
  return (app) => scenarioScript(choice, app);
}

import type { ClusterEvent, FakeKubeApiServer, StoredObject } from '../fake-api';
import { readApplication, type SimulatedApplication } from './application';
import { ApplicationRun, type RunEnvironment } from './application-run';
import { scriptedDriver, type DriverRuntime } from './driver-runtime';
import { EventRecorder } from './event-recorder';
import { SCENARIO_NAMES, scenarioScript, type ScenarioChoice, type ScenarioScript } from './scenarios';
import { OperatorLabel } from './spark-objects';
import { emptyStats, type SimulatorStats, type TimelineEntry, type TimelineWhat } from './timeline';
import { resolveTiming, type SimulatorTiming } from './timing';

export interface SparkOperatorSimulatorOptions {
  /** Only SparkApplications of this namespace are reconciled; default every namespace. */
  readonly namespace?: string;
  /** What happens to each application; default `success`. */
  readonly scenario?: ScenarioChoice;
  /** Delays in milliseconds; unspecified ones keep their (fast) defaults. */
  readonly timing?: Partial<SimulatorTiming>;
  /** What runs in driver containers that their scenario lets run; default {@link scriptedDriver}. */
  readonly driver?: DriverRuntime;
  /** Disturbances for robustness tests. */
  readonly chaos?: {
    /** Cut every open watch connection this often. */
    readonly cutWatchesEveryMs?: number;
  };
}

interface Waiter {
  readonly predicate: (entry: TimelineEntry) => boolean;
  readonly resolve: (entry: TimelineEntry) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Plays the spark-operator, spark-submit, the Spark driver and the kubelet on top of the fake
 * API server, so that code driving SparkApplications through the real client can be tested end
 * to end: a new SparkApplication is submitted, gets its driver and executor pods, Services,
 * ConfigMaps, statuses, Events and driver log, and ends as its scenario says.
 *
 * Deleting a SparkApplication stops its simulation at once; the server's garbage collector
 * removes its dependents. Applications that already have a state when they are first seen
 * are left alone.
 */
export class SparkOperatorSimulator {
  private readonly timingValues: SimulatorTiming;
  private readonly runtime: DriverRuntime;
  private readonly choose: (app: SimulatedApplication) => ScenarioScript;
  private readonly events: EventRecorder;
  private readonly counters: SimulatorStats = emptyStats();
  private readonly entries: TimelineEntry[] = [];
  private readonly runs = new Map<string, ApplicationRun>();
  /** `namespace/name` → the run of the application that has that name now. */
  private readonly byName = new Map<string, ApplicationRun>();
  private readonly errors: unknown[] = [];
  private readonly waiters = new Set<Waiter>();
  private unsubscribe: (() => void)[] = [];
  private chaosTimer: NodeJS.Timeout | undefined;
  private state: 'new' | 'started' | 'stopped' = 'new';

  constructor(
    private readonly server: FakeKubeApiServer,
    private readonly options: SparkOperatorSimulatorOptions = {},
  ) {
    this.timingValues = resolveTiming(options.timing);
    this.runtime = options.driver ?? scriptedDriver();
    this.choose = chooser(options.scenario ?? 'success');
    this.events = new EventRecorder(server.store, () => new Date());
    const every = options.chaos?.cutWatchesEveryMs;
    if (every !== undefined && (!Number.isFinite(every) || every <= 0)) throw new Error(`chaos.cutWatchesEveryMs must be a positive number, got ${every}`);
  }

  get timing(): SimulatorTiming {
    return this.timingValues;
  }

  /** What happened so far, in order. The array grows while the simulator runs. */
  get timeline(): readonly TimelineEntry[] {
    return this.entries;
  }

  /** Counters so far (a copy). */
  get stats(): Readonly<SimulatorStats> {
    return { ...this.counters };
  }

  /** Starts reconciling: new SparkApplications from now on, and those already waiting. */
  start(): void {
    if (this.state !== 'new') throw new Error(`the simulator cannot start: it is ${this.state}`);
    this.state = 'started';
    const { store } = this.server;
    this.unsubscribe = [
      store.on('ADDED', (event) => this.guard(() => this.onAdded(event))),
      store.on('MODIFIED', (event) => this.guard(() => this.onModified(event))),
      store.on('DELETED', (event) => this.guard(() => this.onDeleted(event))),
    ];
    for (const object of store.list('sparkapplications', this.options.namespace)) this.guard(() => this.adopt(object));
    const every = this.options.chaos?.cutWatchesEveryMs;
    if (every !== undefined) {
      this.chaosTimer = setInterval(() => {
        this.counters.watchesCut += this.server.cutWatches();
      }, every);
    }
  }

  /**
   * Stops every run (drivers aborted, timers cleared) and waits for all of them. Rejects with an
   * AggregateError when a run failed for another reason than its objects being deleted.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    for (const unsubscribe of this.unsubscribe) unsubscribe();
    this.unsubscribe = [];
    if (this.chaosTimer !== undefined) clearInterval(this.chaosTimer);
    this.chaosTimer = undefined;
    for (const run of this.runs.values()) run.abort();
    await Promise.all([...this.runs.values()].map((run) => run.finished));
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error('the simulator stopped'));
    }
    this.waiters.clear();
    if (this.errors.length > 0) throw new AggregateError(this.errors, 'the Spark operator simulator failed');
  }

  /** The first timeline entry (past or future) that matches; rejects after `timeoutMs`. */
  waitFor(predicate: (entry: TimelineEntry) => boolean, timeoutMs = 5000): Promise<TimelineEntry> {
    const seen = this.entries.find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.state === 'stopped') return Promise.reject(new Error('the simulator stopped'));
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

  // ---- store events --------------------------------------------------------------------

  /** Listener errors are the simulator's bugs: kept for stop(), never thrown into the store. */
  private guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.errors.push(error);
    }
  }

  private inScope(event: ClusterEvent): boolean {
    return this.state === 'started' && (this.options.namespace === undefined || event.namespace === this.options.namespace);
  }

  private onAdded(event: ClusterEvent): void {
    if (this.inScope(event) && event.resource === 'sparkapplications') this.adopt(event.object);
  }

  private onModified(event: ClusterEvent): void {
    if (!this.inScope(event) || event.object.metadata.deletionTimestamp === undefined) return;
    if (event.resource === 'sparkapplications') this.forget(event.object);
    else if (event.resource === 'pods') this.podGone(event.object);
  }

  private onDeleted(event: ClusterEvent): void {
    if (!this.inScope(event)) return;
    if (event.resource === 'sparkapplications') this.forget(event.object);
    else if (event.resource === 'pods') this.podGone(event.object);
  }

  /** A SparkApplication the operator has not handled yet gets a run. */
  private adopt(object: StoredObject): void {
    if (this.state !== 'started' || this.runs.has(object.metadata.uid) || object.metadata.deletionTimestamp !== undefined) return;
    if (this.options.namespace !== undefined && object.metadata.namespace !== this.options.namespace) return;
    // The stored copy, not the event's: the event may be older than what is stored.
    const stored = this.server.store.get('sparkapplications', object.metadata.namespace, object.metadata.name);
    if (stored === undefined || stored.metadata.uid !== object.metadata.uid || stored.metadata.deletionTimestamp !== undefined) return;
    if (applicationState(stored) !== '') return;
    const app = readApplication(stored);
    const script = this.choose(app);
    this.counters.applicationsSeen += 1;
    this.note(app, 'created', script.scenario);
    const run = new ApplicationRun(this.environment(), app, script);
    this.runs.set(app.uid, run);
    this.byName.get(`${app.namespace}/${app.name}`)?.abort();
    this.byName.set(`${app.namespace}/${app.name}`, run);
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

  private podGone(pod: StoredObject): void {
    const appName = pod.metadata.labels?.[OperatorLabel.appName];
    if (appName === undefined) return;
    this.byName.get(`${pod.metadata.namespace}/${appName}`)?.onPodGone(pod);
  }

  private environment(): RunEnvironment {
    return {
      store: this.server.store,
      podLogs: this.server.podLogs,
      events: this.events,
      timing: this.timingValues,
      runtime: this.runtime,
      stats: this.counters,
      note: (app, what, detail) => this.note(app, what, detail),
      reportError: (error) => this.errors.push(error),
      now: () => new Date(),
    };
  }

  private note(app: SimulatedApplication, what: TimelineWhat, detail?: string): void {
    const entry: TimelineEntry = {
      at: Date.now(),
      app: app.name,
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
  if (!SCENARIO_NAMES.includes(name)) throw new Error(`unknown simulator scenario ${JSON.stringify(name)}; known: ${SCENARIO_NAMES.join(', ')}`);
  return (app) => scenarioScript(choice, app);
}

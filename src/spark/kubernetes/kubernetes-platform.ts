/**
 * Spark attempts as spark-operator SparkApplications. Submission is idempotent by name (the
 * attempt id): a retried activity adopts what its first try created. Awaiting follows shared
 * watches (one connection per resource type for all attempts of the worker) and falls back to
 * polling while they are down. Every attempt is cleaned up by label, not by name guessing.
 */
import fs from 'node:fs/promises';
import type { SparkJavaOptions } from '../../domain/spark/java-options';
import { KubeConfig } from '@kubernetes/client-node';
import pino, { type Logger } from 'pino';
import type { CleanupReport } from '../../domain/pipeline';
import type { AttemptPod, SparkAttemptOutcome } from '../../domain/spark/resources';
import { redact } from '../outcome';
import type { AwaitOptions, SparkAttemptHandle, SparkAttemptRequest, SparkPlatform } from '../platform';
import { classifyApplication, type ApplicationObservation } from './classify';
import { applicationInput, argumentAfter, deleteUntilGone, MAX_CONFIGMAP_BYTES, rejected, requireSameAttempt, safe, signalsOf, SPARK_CHATTER, typed, Wakeup } from './attempt-support';
import { sweepLeftovers, type SweepOptions, type SweepReport, type WorkflowState } from './janitor';
import {
  ATTEMPT_OBJECT_KINDS,
  collectionPath,
  KubeApi,
  KubeCallError,
  type ManagedKind,
  type ObjectRef,
} from './kube-api';
import { Annotation, attemptLabels, attemptSelector, LabelKey, managedSelector, toLabelValue } from './labels';
import { ResourceWatch } from './resource-watch';
import { buildSparkApplication, SparkApplicationSpecError, SPEC_FILE_KEY, type PlacementInput } from './spark-application';
import type { KubeConfigSource, KubernetesPlatformSettings } from './settings';
import { attemptPodOf, parseEvent, parsePod, parseSparkApplication, SparkPodLabel, sparkRole, type KubeEvent, type Pod, type SparkApplicationObject } from './status';

export { DEFAULT_KUBERNETES_TIMINGS, type KubernetesPlatformSettings } from './settings';

/** A client configuration from where the deployment says to look. */
export function kubeConfigFrom(source: KubeConfigSource): KubeConfig {
  const kc = new KubeConfig();
  if (source.kind === 'in-cluster') kc.loadFromCluster();
  else if (source.kind === 'file') kc.loadFromFile(source.path);
  else kc.loadFromDefault();
  return kc;
}

export interface KubernetesPlatformDeps {
  readonly kubeConfig: KubeConfig;
  readonly settings: KubernetesPlatformSettings;
  /** The drivers' and executors' JVM options, by the attempt's input size; none when absent. */
  readonly javaOptions?: SparkJavaOptions;
  readonly logger?: Logger;
  readonly now?: () => number;
}

const DRIVER_CONTAINER = 'spark-kubernetes-driver';
/** Of consecutive failed observations while awaiting, every this many is logged (the first always). */
const API_FAILURE_LOG_EVERY = 15;

type Json = { metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string>; deletionTimestamp?: unknown } };

export class KubernetesSparkPlatform implements SparkPlatform {
  readonly kind = 'kubernetes' as const;
  readonly api: KubeApi;
  private readonly settings: KubernetesPlatformSettings;
  private readonly javaOptions: SparkJavaOptions | undefined;
  private readonly kubeConfig: KubeConfig;
  private readonly logger: Logger;
  private readonly now: () => number;
  private watches: { apps: ResourceWatch<Json>; pods: ResourceWatch<Json>; events: ResourceWatch<Json> } | undefined;

  constructor(deps: KubernetesPlatformDeps) {
    this.settings = deps.settings;
    this.javaOptions = deps.javaOptions;
    this.kubeConfig = deps.kubeConfig;
    this.api = new KubeApi(deps.kubeConfig, deps.settings.namespace);
    this.logger = deps.logger ?? pino({ enabled: false });
    this.now = deps.now ?? Date.now;
  }

  // ---- submit ------------------------------------------------------------------------------

  async submit(request: SparkAttemptRequest): Promise<SparkAttemptHandle> {
    const { attemptId } = request;
    const labels = attemptLabels(request);
    const annotations = { [Annotation.workflowId]: request.workflowId, [Annotation.attemptId]: attemptId };
    const specPath = argumentAfter(request.args, '--spec');
    const specConfigMap = specPath === undefined ? undefined : `${attemptId}-spec`;

    try {
      if (specPath !== undefined && specConfigMap !== undefined) {
        const spec = await fs.readFile(specPath, 'utf8');
        if (Buffer.byteLength(spec) > MAX_CONFIGMAP_BYTES) {
          throw rejected(`the job spec of ${attemptId} is ${Buffer.byteLength(spec)} bytes, more than a ConfigMap holds`);
        }
        const { created, object } = await this.api.createConfigMap({
          metadata: { name: specConfigMap, labels, annotations },
          data: { [SPEC_FILE_KEY]: spec },
        });
        if (!created) requireSameAttempt('ConfigMap', specConfigMap, object, attemptId);
      }

      let app;
      try {
        app = buildSparkApplication(
          applicationInput(this.settings, this.javaOptions, {
            request,
            mainFile: this.mainApplicationFile(request),
            specConfigMap,
            placement: this.placementFor(request.job),
            annotations,
          }),
        );
      } catch (error) {
        if (error instanceof SparkApplicationSpecError) throw rejected(error.message, error);
        throw error;
      }

      const { created, object } = await this.api.createSparkApplication(app);
      if (!created) requireSameAttempt('SparkApplication', attemptId, object, attemptId);
      const parsed = parseSparkApplication(object);
      const submittedAt = parsed.metadata.creationTimestamp ?? new Date(this.now()).toISOString();
      this.logger.info({ attemptId, adopted: !created, namespace: this.settings.namespace }, created ? 'SparkApplication created' : 'SparkApplication adopted');
      return { attemptId, platform: 'kubernetes', handle: attemptId, submittedAt };
    } catch (error) {
      if (error instanceof KubeCallError && error.code === 404) {
        // Creating answered 404: the namespace or the SparkApplication CRD is missing.
        throw rejected(`${error.message} (does namespace ${this.settings.namespace} exist, and is the spark-operator CRD installed?)`, error);
      }
      throw typed(error);
    }
  }

  private mainApplicationFile(request: SparkAttemptRequest): string {
    return `local://${this.settings.imageJobsDir.replace(/\/+$/, '')}/jobs/${request.job}.py`;
  }

  private placementFor(job: SparkAttemptRequest['job']): PlacementInput {
    const locality = this.settings.localityByJob?.[job] ?? this.settings.locality;
    return { ...(this.settings.placement ?? {}), ...(locality !== undefined ? { locality } : {}) };
  }

  // ---- await -------------------------------------------------------------------------------

  private ensureWatches() {
    if (this.watches) return this.watches;
    const { namespace } = this.settings;
    const common = { kubeConfig: this.kubeConfig, logger: this.logger };
    this.watches = {
      apps: new ResourceWatch<Json>({ ...common, name: 'sparkapplications', path: collectionPath(namespace, 'SparkApplication'), labelSelector: managedSelector() }),
      pods: new ResourceWatch<Json>({ ...common, name: 'pods', path: collectionPath(namespace, 'Pod'), labelSelector: managedSelector() }),
      events: new ResourceWatch<Json>({ ...common, name: 'events', path: collectionPath(namespace, 'Event'), fieldSelector: 'involvedObject.kind=SparkApplication' }),
    };
    for (const w of Object.values(this.watches)) w.start();
    return this.watches;
  }

  /** Watch statistics (connections, relists, reconnects) for benchmarks and health reports. */
  watchStats() {
    const w = this.watches;
    return w === undefined ? undefined : { apps: w.apps.stats(), pods: w.pods.stats(), events: w.events.stats() };
  }

  async await(handle: SparkAttemptHandle, options: AwaitOptions): Promise<SparkAttemptOutcome> {
    const name = handle.handle;
    const attemptLabel = toLabelValue(handle.attemptId);
    const submittedAt = Date.parse(handle.submittedAt);
    const log = this.logger.child({ attemptId: handle.attemptId });
    const watches = this.ensureWatches();
    const wakeup = new Wakeup();
    const mine = (o: Json) => o.metadata?.name === name || o.metadata?.labels?.[LabelKey.attemptId] === attemptLabel;
    const ended = new Map<string, Pod>(); // executor pods seen terminated (Spark deletes them soon after)
    const onPod = ({ object }: { object: Json }) => {
      if (!mine(object)) return;
      rememberEnded(object);
      wakeup.notify();
    };
    // Every Spark pod of the attempt as last seen, for the manifest (replaced executors included).
    const seen = new Map<string, AttemptPod>();
    const withPods = (outcome: SparkAttemptOutcome): SparkAttemptOutcome => (seen.size === 0 ? outcome : { ...outcome, pods: [...seen.values()] });
    const rememberEnded = (raw: unknown) => {
      const record = attemptPodOf(raw);
      if (record !== undefined) seen.set(record.name, record);
      const pod = safe(() => parsePod(raw));
      if (pod && sparkRole(pod) === 'executor' && (pod.status?.phase === 'Failed' || pod.status?.containerStatuses?.some((c) => c.state?.terminated))) {
        ended.set(pod.metadata.name, pod);
      }
    };
    const onEvent = ({ object }: { object: Json }) => {
      if ((object as { involvedObject?: { name?: string } }).involvedObject?.name === name) wakeup.notify();
    };
    const onApp = ({ object }: { object: Json }) => {
      if (object.metadata?.name === name) wakeup.notify();
    };
    const unsubscribe = [
      watches.apps.onChange(onApp),
      watches.pods.onChange(onPod),
      watches.events.onChange(onEvent),
      watches.apps.onSyncChange(wakeup.notify),
      watches.pods.onSyncChange(wakeup.notify),
      watches.events.onSyncChange(wakeup.notify),
    ];

    let executorOomSeen = 0;
    let lastDetail = '';
    /** Consecutive observations that failed on a transient API error. */
    let apiFailures = 0;
    try {
      for (;;) {
        if (options.detach?.aborted) throw options.detach.reason instanceof Error ? options.detach.reason : new Error('detached');
        if (options.signal.aborted) {
          await this.stop(name, log, 'cancelled');
          return withPods({ kind: 'TRANSIENT', reason: 'cancelled', exitCode: null, diagnostics: [] });
        }

        let observed: Observation | undefined;
        try {
          observed = await this.observe(name, attemptLabel, watches);
        } catch (error) {
          if (error instanceof KubeCallError && error.transient) {
            apiFailures += 1;
            // The first failure, then about every half minute: a long outage must show in the
            // logs, not only in heartbeat details, without a line per poll.
            if (apiFailures === 1 || apiFailures % API_FAILURE_LOG_EVERY === 0) {
              log.warn({ err: error, failures: apiFailures, watchesSynced: this.watchesSynced(watches) }, 'Kubernetes API unavailable while awaiting the attempt; polling again');
            }
            lastDetail = `Kubernetes API unavailable: ${error.message}`;
            options.onProgress({ state: 'UNKNOWN', elapsedMs: this.now() - submittedAt, detail: lastDetail });
            await wakeup.wait(this.settings.fallbackPollMs, signalsOf(options));
            continue;
          }
          throw typed(error);
        }
        if (apiFailures > 0) {
          log.info({ failures: apiFailures }, 'Kubernetes API answering again');
          apiFailures = 0;
        }
        if (observed.app === undefined) {
          return {
            kind: 'TRANSIENT',
            reason: `SparkApplication ${name} disappeared before it finished (deleted outside this attempt)`,
            exitCode: null,
            diagnostics: [],
          };
        }
        for (const pod of observed.pods) rememberEnded(pod);
        const driverName = observed.app.status?.driverInfo?.podName;
        const pods = observed.pods.map((p) => safe(() => parsePod(p))).filter((p): p is Pod => p !== undefined);
        const driverPod = pods.find((p) => (driverName !== undefined ? p.metadata.name === driverName : sparkRole(p) === 'driver'));
        const live = pods.filter((p) => sparkRole(p) === 'executor');
        const executorPods = [...live, ...[...ended.values()].filter((e) => !live.some((p) => p.metadata.name === e.metadata.name))];
        const observation: ApplicationObservation = {
          app: { state: observed.app.status?.applicationState?.state ?? '', ...(observed.app.status?.applicationState?.errorMessage ? { errorMessage: observed.app.status.applicationState.errorMessage } : {}) },
          ...(driverPod !== undefined ? { driverPod } : {}),
          executorPods,
          events: observed.events,
          applicationName: name,
          now: this.now(),
          submittedAt,
          stuckAfterMs: this.settings.stuckAfterMs,
          executorOomLimit: this.settings.executorOomLimit,
          executorOomSeen,
        };
        const verdict = classifyApplication(observation);
        if (verdict.kind === 'RUNNING') {
          executorOomSeen = verdict.executorOoms;
          if (verdict.detail !== lastDetail) log.debug({ detail: verdict.detail }, 'spark attempt progress');
          lastDetail = verdict.detail;
          options.onProgress({ state: observation.app.state || 'NEW', elapsedMs: this.now() - submittedAt, detail: verdict.detail });
          const synced = watches.apps.synced && watches.pods.synced && watches.events.synced;
          const untilStuck = submittedAt + this.settings.stuckAfterMs + 1 - this.now();
          const interval = synced ? this.settings.pollIntervalMs : this.settings.fallbackPollMs;
          await wakeup.wait(untilStuck > 0 ? Math.min(interval, untilStuck) : interval, signalsOf(options));
          continue;
        }

        let outcome: SparkAttemptOutcome = verdict;
        if (verdict.kind === 'PERMANENT' && driverPod !== undefined) {
          const tail = await this.api.podLogTail(driverPod.metadata.name, DRIVER_CONTAINER, this.settings.driverLogLines).catch(() => undefined);
          if (tail !== undefined && tail.length > 0) {
            // Spark's INFO/DEBUG chatter says nothing about the failure; warnings, errors and tracebacks do.
            const lines = tail
              .split(/\r?\n/)
              .filter((l) => l.length > 0 && !SPARK_CHATTER.test(l))
              .map((l) => redact(l).slice(0, 300));
            outcome = { ...verdict, diagnostics: [...verdict.diagnostics, '--- driver log (last lines) ---', ...lines] };
          }
        }
        const state = observation.app.state;
        if (state !== 'COMPLETED' && state !== 'FAILED') {
          // Ended by our decision (executor OOM limit, stuck, cannot start): stop it now, so it
          // does not keep burning executors until cleanup.
          await this.stop(name, log, outcome.reason);
        }
        log.info({ outcome: outcome.kind, reason: outcome.reason }, 'spark attempt ended');
        return withPods(outcome);
      }
    } finally {
      for (const off of unsubscribe) off();
    }
  }

  private async stop(name: string, log: Logger, why: string): Promise<void> {
    try {
      await this.api.delete('SparkApplication', name, 'Foreground');
      log.info({ why }, 'SparkApplication stopped');
    } catch (error) {
      // Cleanup deletes it again; a failed stop must not hide the outcome.
      log.warn({ err: error, why }, 'could not stop the SparkApplication; cleanup will');
    }
  }

  private watchesSynced(watches: NonNullable<KubernetesSparkPlatform['watches']>): { apps: boolean; pods: boolean; events: boolean } {
    return { apps: watches.apps.synced, pods: watches.pods.synced, events: watches.events.synced };
  }

  /** The application, its pods and its events: from the watches when in sync, else from the API. */
  private async observe(name: string, attemptLabel: string, watches: NonNullable<KubernetesSparkPlatform['watches']>): Promise<Observation> {
    const synced = watches.apps.synced && watches.pods.synced && watches.events.synced;
    let rawApp: unknown = synced ? watches.apps.get(name) : undefined;
    let rawPods: unknown[];
    let rawEvents: unknown[];
    if (synced && rawApp !== undefined) {
      rawPods = watches.pods.list().filter((p) => p.metadata?.labels?.[LabelKey.attemptId] === attemptLabel);
      rawEvents = watches.events.list().filter((e) => (e as { involvedObject?: { name?: string } }).involvedObject?.name === name);
    } else {
      // Not in sync, or not seen yet (created a moment ago): ask the API.
      rawApp = await this.api.getSparkApplication(name);
      rawPods = await this.api.listPods({ labelSelector: attemptSelector(name) });
      rawEvents = await this.api.listEvents({ fieldSelector: `involvedObject.kind=SparkApplication,involvedObject.name=${name}` });
    }
    return {
      app: rawApp === undefined ? undefined : parseSparkApplication(rawApp),
      pods: rawPods,
      events: rawEvents.map((e) => safe(() => parseEvent(e))).filter((e): e is KubeEvent => e !== undefined),
    };
  }

  // ---- cleanup -----------------------------------------------------------------------------

  /**
   * Deletes the SparkApplication (foreground: its pods go first), then every pod, Service,
   * ConfigMap and PVC still labelled for the attempt or carrying Spark's selector of its
   * application, and checks again until nothing is left or the time is up.
   */
  async cleanup(attemptId: string): Promise<CleanupReport> {
    const removed: string[] = [];
    const selector = attemptSelector(attemptId);
    try {
      const app = await this.api.getSparkApplication(attemptId);
      const sparkAppId = app === undefined ? undefined : safe(() => parseSparkApplication(app))?.status?.sparkApplicationId;
      if (app !== undefined && (await this.api.delete('SparkApplication', attemptId, 'Foreground'))) removed.push(`SparkApplication/${attemptId}`);

      const deadline = this.now() + this.settings.cleanupTimeoutMs;
      // The first look covers every kind; later looks only the kinds that still had objects
      // (nothing creates new ones once the application is gone), so a burst of cleanups does
      // not flood the API server with lists.
      const remaining = async (kinds: ReadonlySet<ManagedKind>): Promise<ObjectRef[]> => {
        const found: ObjectRef[] = [];
        if (kinds.has('SparkApplication') && (await this.api.getSparkApplication(attemptId)) !== undefined) {
          found.push({ kind: 'SparkApplication', name: attemptId, labels: {}, annotations: {} });
        }
        for (const kind of ATTEMPT_OBJECT_KINDS) {
          if (!kinds.has(kind)) continue;
          found.push(...(await this.api.list(kind, { labelSelector: selector })));
          if (sparkAppId !== undefined) {
            const bySpark = await this.api.list(kind, { labelSelector: `${SparkPodLabel.appSelector}=${sparkAppId}` });
            found.push(...bySpark.filter((o) => !found.some((f) => f.kind === o.kind && f.name === o.name)));
          }
        }
        return found;
      };
      const left = await deleteUntilGone({
        first: await remaining(new Set<ManagedKind>(['SparkApplication', ...ATTEMPT_OBJECT_KINDS])),
        remaining,
        remove: (obj) => this.api.delete(obj.kind, obj.name, 'Background'),
        goingAlready: (obj) => obj.kind === 'SparkApplication', // under foreground deletion above
        deadline,
        now: this.now,
        removed,
      });
      if (left.length > 0) this.logger.warn({ attemptId, remaining: left.map((o) => `${o.kind}/${o.name}`) }, 'objects remain after cleanup');
      return { attemptId, removed, remaining: left.length };
    } catch (error) {
      throw typed(error);
    }
  }

  sweep(workflowState: (workflowId: string) => Promise<WorkflowState>, options: SweepOptions): Promise<SweepReport> {
    return sweepLeftovers(this.api, workflowState, options);
  }

  /** Stops the shared watches. */
  async close(): Promise<void> {
    const w = this.watches;
    this.watches = undefined;
    if (w) await Promise.all([w.apps.stop(), w.pods.stop(), w.events.stop()]);
  }
}

interface Observation {
  readonly app: SparkApplicationObject | undefined;
  readonly pods: unknown[];
  readonly events: KubeEvent[];
}


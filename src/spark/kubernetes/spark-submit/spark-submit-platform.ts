/**
 * Spark attempts run by Spark's own Kubernetes mode: the worker runs `spark-submit --master
 * k8s://… --deploy-mode cluster`, Spark creates the driver pod (with its ConfigMap and headless
 * Service, owned by the pod), and the driver asks the API server for its executor pods (owned by
 * the driver pod). No operator and no custom resource: the driver pod is the application.
 *
 * Idempotent by attempt id: the driver pod's name is derived from it, and a pod of that name that
 * exists is adopted (it must carry the attempt's label). Awaiting follows one shared pod watch
 * per worker; the verdict comes from the same classifier as the operator mode (executor pods
 * OOMKilled / exit 52 / 137 counted per executor, stop after N). Cleanup deletes the driver pod
 * and then everything labelled for the attempt or carrying Spark's selector of its application,
 * looking again until nothing is left.
 */
import { execFile } from 'node:child_process';
import type { SparkJavaOptions } from '../../../domain/spark/java-options';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import pino, { type Logger } from 'pino';
import type { CleanupReport } from '../../../domain/pipeline';
import type { AttemptPod, SparkAttemptOutcome } from '../../../domain/spark/resources';
import { redact } from '../../outcome';
import type { AwaitOptions, SparkAttemptHandle, SparkAttemptRequest, SparkPlatform } from '../../platform';
import { ClassDataArchives } from '../../class-data';
import { classifyApplication, type ApplicationObservation } from '../classify';
import { applicationInput, argumentAfter, deleteUntilGone, MAX_CONFIGMAP_BYTES, rejected, requireSameAttempt, safe, signalsOf, SPARK_CHATTER, typed, Wakeup } from '../attempt-support';
import { sweepLeftovers, type SweepOptions, type SweepReport, type WorkflowState } from '../janitor';
import { ATTEMPT_OBJECT_KINDS, collectionPath, KubeApi, KubeCallError, type AttemptObjectKind, type ObjectRef } from '../kube-api';
import { Annotation, attemptLabels, attemptSelector, LabelKey, managedSelector, toLabelValue } from '../labels';
import { ResourceWatch } from '../resource-watch';
import type { KubernetesPlatformSettings } from '../settings';
import { buildSparkApplication, SparkApplicationSpecError, SPEC_FILE_KEY, type PlacementInput } from '../spark-application';
import { attemptPodOf, parsePod, SparkPodLabel, sparkRole, type Pod } from '../status';
import { applicationStateOf } from './driver-state';
import { buildSubmitInvocation, DRIVER_CONTAINER, driverPodName, SparkSubmitUnsupportedError } from './submit-invocation';

export interface SparkSubmitSettings {
  /** The spark-submit executable on the worker. */
  readonly sparkSubmit: string;
  /** Labels every driver and executor pod gets besides the attempt's (the local plane: `nightjar.io/runtime=local`). */
  readonly extraPodLabels?: Readonly<Record<string, string>>;
  /** How long one spark-submit may take to create the driver pod. */
  readonly submitTimeoutMs: number;
  /** The kubeconfig file spark-submit authenticates with (else its default lookup: KUBECONFIG, ~/.kube/config). */
  readonly kubeConfigPath?: string;
  /** In a pod: spark-submit authenticates with the pod's service account files. */
  readonly inCluster?: boolean;
  /** Where the pod template files are written. Default: the system's temporary directory. */
  readonly workDir?: string;
  /**
   * The JVM options of spark-submit itself (`SPARK_SUBMIT_OPTS`): a short-lived client that
   * creates the driver pod and exits, so the short-job options suit it. A `SPARK_SUBMIT_OPTS` in
   * the worker's environment replaces them. None when absent.
   */
  readonly launcherJavaOptions?: readonly string[];
  /** Where spark-submit's class-data archive lives (written by the first submission, mapped by the next); none when absent. */
  readonly classDataDir?: string;
}

export interface SparkSubmitPlatformDeps {
  readonly kubeConfig: KubeConfig;
  readonly settings: KubernetesPlatformSettings;
  /** The drivers' and executors' JVM options, by the attempt's input size; none when absent. */
  readonly javaOptions?: SparkJavaOptions;
  readonly submit: SparkSubmitSettings;
  readonly logger?: Logger;
  readonly now?: () => number;
  /**
   * Reads the last lines of the driver's log when the API cannot (a plane whose nodes serve no
   * logs); the API's pods/log is asked first.
   */
  readonly driverLogTail?: (pod: string, lines: number) => Promise<string | undefined>;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const SUBMIT_OUTPUT_LINES = 12;

type Json = { metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string>; deletionTimestamp?: unknown; creationTimestamp?: unknown } };

/**
 * spark-submit's own JVM options: a `SPARK_SUBMIT_OPTS` set for the worker is someone's
 * deliberate choice and replaces the configured ones (a second collector beside its own would
 * stop the JVM from starting).
 */
export function launcherOptions(environment: string | undefined, configured: readonly string[]): readonly string[] {
  return environment !== undefined && environment.trim() !== '' ? [environment.trim()] : configured;
}

/** What spark-submit's output says about why it failed. */
export function submitFailureKind(output: string): 'exists' | 'refused' | 'transient' {
  if (/AlreadyExists|already exists|\b409\b/.test(output)) return 'exists';
  if (/Forbidden|\b403\b|\b422\b|is invalid|Unprocessable|IllegalArgumentException|Unauthorized|\b401\b/.test(output)) return 'refused';
  return 'transient';
}

export class SparkSubmitKubernetesPlatform implements SparkPlatform {
  readonly kind = 'kubernetes' as const;
  readonly api: KubeApi;
  private readonly settings: KubernetesPlatformSettings;
  private readonly javaOptions: SparkJavaOptions | undefined;
  private readonly submitSettings: SparkSubmitSettings;
  private readonly kubeConfig: KubeConfig;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly driverLogTail: SparkSubmitPlatformDeps['driverLogTail'];
  private pods: ResourceWatch<Json> | undefined;
  private readonly classData: ClassDataArchives;

  constructor(deps: SparkSubmitPlatformDeps) {
    this.settings = deps.settings;
    this.javaOptions = deps.javaOptions;
    this.submitSettings = deps.submit;
    this.kubeConfig = deps.kubeConfig;
    this.api = new KubeApi(deps.kubeConfig, deps.settings.namespace);
    this.logger = deps.logger ?? pino({ enabled: false });
    this.now = deps.now ?? Date.now;
    this.driverLogTail = deps.driverLogTail;
    this.classData = new ClassDataArchives(deps.submit.classDataDir, this.logger);
  }

  // ---- submit ------------------------------------------------------------------------------

  async submit(request: SparkAttemptRequest): Promise<SparkAttemptHandle> {
    const { attemptId } = request;
    const podName = driverPodName(attemptId);
    const log = this.logger.child({ attemptId });
    try {
      const existing = await this.getPod(podName);
      if (existing !== undefined) return this.adopt(existing, podName, attemptId, log);

      const labels = attemptLabels(request);
      const annotations = { [Annotation.workflowId]: request.workflowId, [Annotation.attemptId]: attemptId };
      const specPath = argumentAfter(request.args, '--spec');
      const specConfigMap = specPath === undefined ? undefined : `${attemptId}-spec`;
      if (specPath !== undefined && specConfigMap !== undefined) {
        const spec = await fs.readFile(specPath, 'utf8');
        if (Buffer.byteLength(spec) > MAX_CONFIGMAP_BYTES) throw rejected(`the job spec of ${attemptId} is ${Buffer.byteLength(spec)} bytes, more than a ConfigMap holds`);
        const { created, object } = await this.api.createConfigMap({ metadata: { name: specConfigMap, labels, annotations }, data: { [SPEC_FILE_KEY]: spec } });
        if (!created) requireSameAttempt('ConfigMap', specConfigMap, object, attemptId);
      }

      const dir = await fs.mkdtemp(path.join(this.submitSettings.workDir ?? os.tmpdir(), `nightjar-${attemptId}-`));
      try {
        const invocation = this.invocation(request, specConfigMap, annotations, dir);
        await fs.writeFile(path.join(dir, 'driver.json'), JSON.stringify(invocation.driverTemplate));
        await fs.writeFile(path.join(dir, 'executor.json'), JSON.stringify(invocation.executorTemplate));
        const result = await this.runSparkSubmit(invocation.args, attemptId);
        if (result.code !== 0) {
          const tail = lastLines(result.output);
          const kind = submitFailureKind(result.output);
          if (kind === 'refused') throw rejected(`spark-submit was refused for ${attemptId}: ${tail.join(' | ')}`);
          if (kind === 'transient') throw new Error(`spark-submit failed for ${attemptId} (exit ${result.code}): ${tail.join(' | ')}`);
          // 'exists': another try created the driver pod meanwhile; adopt it below.
        }
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
      const created = await this.getPod(podName);
      if (created === undefined) throw new Error(`spark-submit ended but driver pod ${podName} does not exist`);
      return this.adopt(created, podName, attemptId, log, true);
    } catch (error) {
      if (error instanceof KubeCallError && error.code === 404) throw rejected(`${error.message} (does namespace ${this.settings.namespace} exist?)`, error);
      throw typed(error);
    }
  }

  private adopt(pod: Json, podName: string, attemptId: string, log: Logger, created = false): SparkAttemptHandle {
    requireSameAttempt('Pod', podName, pod, attemptId);
    const at = pod.metadata?.creationTimestamp;
    const submittedAt = at instanceof Date ? at.toISOString() : typeof at === 'string' ? at : new Date(this.now()).toISOString();
    log.info({ driverPod: podName, adopted: !created }, created ? 'driver pod created by spark-submit' : 'driver pod adopted');
    return { attemptId, platform: 'kubernetes', handle: podName, submittedAt };
  }

  private invocation(request: SparkAttemptRequest, specConfigMap: string | undefined, annotations: Record<string, string>, dir: string) {
    const mainFile = `local://${this.settings.imageJobsDir.replace(/\/+$/, '')}/jobs/${request.job}.py`;
    const locality = this.settings.localityByJob?.[request.job] ?? this.settings.locality;
    const placement: PlacementInput = { ...(this.settings.placement ?? {}), ...(locality !== undefined ? { locality } : {}) };
    const cluster = this.kubeConfig.getCurrentCluster();
    if (cluster === null) throw rejected('the Kubernetes configuration names no cluster');
    const inCluster = this.submitSettings.inCluster === true;
    try {
      const app = buildSparkApplication(applicationInput(this.settings, this.javaOptions, { request, mainFile, specConfigMap, placement, annotations }));
      const built = buildSubmitInvocation({
        app,
        master: `k8s://${cluster.server}`,
        driverTemplatePath: `${dir}/driver.json`,
        executorTemplatePath: `${dir}/executor.json`,
        ...(this.submitSettings.extraPodLabels !== undefined ? { extraPodLabels: this.submitSettings.extraPodLabels } : {}),
        ...(inCluster
          ? {
              submissionConf: {
                'spark.kubernetes.authenticate.submission.caCertFile': `${SERVICE_ACCOUNT_DIR}/ca.crt`,
                'spark.kubernetes.authenticate.submission.oauthTokenFile': `${SERVICE_ACCOUNT_DIR}/token`,
              },
            }
          : {}),
      });
      return built;
    } catch (error) {
      if (error instanceof SparkApplicationSpecError || error instanceof SparkSubmitUnsupportedError) throw rejected(error.message, error);
      throw error;
    }
  }

  private async runSparkSubmit(args: readonly string[], attemptId: string): Promise<{ code: number; output: string }> {
    const { sparkSubmit, launcherJavaOptions = [] } = this.submitSettings;
    const chosen = launcherOptions(process.env.SPARK_SUBMIT_OPTS, launcherJavaOptions);
    const classData = await this.classData.launch('kubernetes-submit', sparkSubmit, chosen, attemptId);
    const javaOptions = [...chosen, ...classData.options];
    // spark-submit finds its Spark (and pyspark's python) beside itself, as in a virtualenv.
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: [path.dirname(sparkSubmit), process.env.PATH ?? ''].join(path.delimiter) };
    if (javaOptions.length > 0) env.SPARK_SUBMIT_OPTS = javaOptions.join(' ');
    if (this.submitSettings.kubeConfigPath !== undefined) env.KUBECONFIG = this.submitSettings.kubeConfigPath;
    const result = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(sparkSubmit, [...args], { env, timeout: this.submitSettings.submitTimeoutMs, maxBuffer: 8 * 1024 * 1024 }, (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : 1;
        resolve({ code, output: `${stdout}\n${stderr}` });
      });
    });
    await classData.exited(result.code === 0).catch((err: unknown) => this.logger.warn({ attemptId, err }, 'could not keep the class-data archive'));
    return result;
  }

  private async getPod(name: string): Promise<Json | undefined> {
    const pods = (await this.api.listPods({ fieldSelector: `metadata.name=${name}` })) as Json[];
    return pods[0];
  }

  // ---- await -------------------------------------------------------------------------------

  private ensureWatch(): ResourceWatch<Json> {
    if (this.pods !== undefined) return this.pods;
    this.pods = new ResourceWatch<Json>({
      kubeConfig: this.kubeConfig,
      logger: this.logger,
      name: 'pods',
      path: collectionPath(this.settings.namespace, 'Pod'),
      labelSelector: managedSelector(),
    });
    this.pods.start();
    return this.pods;
  }

  async await(handle: SparkAttemptHandle, options: AwaitOptions): Promise<SparkAttemptOutcome> {
    const podName = handle.handle;
    const attemptLabel = toLabelValue(handle.attemptId);
    const submittedAt = Date.parse(handle.submittedAt);
    const log = this.logger.child({ attemptId: handle.attemptId });
    const watch = this.ensureWatch();
    const wakeup = new Wakeup();
    const mine = (o: Json) => o.metadata?.labels?.[LabelKey.attemptId] === attemptLabel;
    // Every pod of the attempt as last seen: executors that died are often gone (replaced,
    // garbage-collected) by the time the attempt ends, but the manifest still names them.
    const seen = new Map<string, AttemptPod>();
    const remember = (raw: unknown) => {
      const record = attemptPodOf(raw);
      if (record !== undefined) seen.set(record.name, record);
    };
    const withPods = (outcome: SparkAttemptOutcome): SparkAttemptOutcome => ({ ...outcome, pods: [...seen.values()].sort((a, b) => a.role.localeCompare(b.role) || a.name.localeCompare(b.name)) });
    const unsubscribe = [
      watch.onChange(({ type, object }) => {
        if (!mine(object)) return;
        if (type !== 'DELETED') remember(object);
        wakeup.notify();
      }),
      watch.onSyncChange(wakeup.notify),
    ];
    let executorOomSeen = 0;
    let apiFailures = 0;
    try {
      for (;;) {
        if (options.detach?.aborted) throw options.detach.reason instanceof Error ? options.detach.reason : new Error('detached');
        if (options.signal.aborted) {
          await this.stop(podName, log, 'cancelled');
          return withPods({ kind: 'TRANSIENT', reason: 'cancelled', exitCode: null, diagnostics: [] });
        }
        let raw: unknown[];
        try {
          raw = watch.synced ? watch.list().filter(mine) : await this.api.listPods({ labelSelector: attemptSelector(handle.attemptId) });
        } catch (error) {
          if (error instanceof KubeCallError && error.transient) {
            apiFailures += 1;
            if (apiFailures === 1 || apiFailures % 15 === 0) log.warn({ err: error, failures: apiFailures }, 'Kubernetes API unavailable while awaiting the attempt; polling again');
            options.onProgress({ state: 'UNKNOWN', elapsedMs: this.now() - submittedAt, detail: `Kubernetes API unavailable: ${error.message}` });
            await wakeup.wait(this.settings.fallbackPollMs, signalsOf(options));
            continue;
          }
          throw typed(error);
        }
        apiFailures = 0;
        for (const pod of raw) remember(pod);
        const pods = raw.map((p) => safe(() => parsePod(p))).filter((p): p is Pod => p !== undefined);
        const driverPod = pods.find((p) => p.metadata.name === podName);
        if (driverPod === undefined) {
          if (watch.synced || (await this.getPod(podName)) === undefined) {
            return withPods({ kind: 'TRANSIENT', reason: `driver pod ${podName} disappeared before it finished (deleted outside this attempt)`, exitCode: null, diagnostics: [] });
          }
          await wakeup.wait(this.settings.fallbackPollMs, signalsOf(options));
          continue;
        }
        const app = applicationStateOf(driverPod);
        const observation: ApplicationObservation = {
          app,
          driverPod,
          executorPods: pods.filter((p) => sparkRole(p) === 'executor'),
          events: [],
          now: this.now(),
          submittedAt,
          stuckAfterMs: this.settings.stuckAfterMs,
          executorOomLimit: this.settings.executorOomLimit,
          executorOomSeen,
        };
        const verdict = classifyApplication(observation);
        if (verdict.kind === 'RUNNING') {
          executorOomSeen = verdict.executorOoms;
          options.onProgress({ state: app.state, elapsedMs: this.now() - submittedAt, detail: verdict.detail });
          const untilStuck = submittedAt + this.settings.stuckAfterMs + 1 - this.now();
          const interval = watch.synced ? this.settings.pollIntervalMs : this.settings.fallbackPollMs;
          await wakeup.wait(untilStuck > 0 ? Math.min(interval, untilStuck) : interval, signalsOf(options));
          continue;
        }
        let outcome: SparkAttemptOutcome = verdict;
        if (verdict.kind === 'PERMANENT') outcome = await this.withDriverLog(verdict, podName);
        if (app.state !== 'COMPLETED' && app.state !== 'FAILED') await this.stop(podName, log, outcome.reason);
        log.info({ outcome: outcome.kind, reason: outcome.reason }, 'spark attempt ended');
        return withPods(outcome);
      }
    } finally {
      for (const off of unsubscribe) off();
    }
  }

  private async withDriverLog(verdict: SparkAttemptOutcome, podName: string): Promise<SparkAttemptOutcome> {
    const lines = this.settings.driverLogLines;
    let tail = await this.api.podLogTail(podName, DRIVER_CONTAINER, lines).catch(() => undefined);
    if ((tail === undefined || tail.length === 0) && this.driverLogTail !== undefined) tail = await this.driverLogTail(podName, lines).catch(() => undefined);
    if (tail === undefined || tail.length === 0) return verdict;
    const shown = tail
      .split(/\r?\n/)
      .filter((l) => l.length > 0 && !SPARK_CHATTER.test(l))
      .map((l) => redact(l).slice(0, 300));
    return { ...verdict, diagnostics: [...verdict.diagnostics, '--- driver log (last lines) ---', ...shown] };
  }

  /** Deleting the driver pod stops the application: its executors are owned by it. */
  private async stop(podName: string, log: Logger, why: string): Promise<void> {
    try {
      await this.api.delete('Pod', podName, 'Background');
      log.info({ why }, 'driver pod deleted to stop the attempt');
    } catch (error) {
      log.warn({ err: error, why }, 'could not stop the driver pod; cleanup will');
    }
  }

  // ---- cleanup -----------------------------------------------------------------------------

  async cleanup(attemptId: string): Promise<CleanupReport> {
    const removed: string[] = [];
    const selector = attemptSelector(attemptId);
    try {
      const driver = await this.getPod(driverPodName(attemptId));
      const sparkAppId = driver?.metadata?.labels?.[SparkPodLabel.appSelector];
      const remaining = async (kinds: ReadonlySet<AttemptObjectKind>): Promise<ObjectRef[]> => {
        const found: ObjectRef[] = [];
        for (const kind of ATTEMPT_OBJECT_KINDS) {
          if (!kinds.has(kind)) continue;
          found.push(...(await this.api.list(kind, { labelSelector: selector })));
          // Spark's own ConfigMaps and Service carry its selector, not Nightjar's labels.
          if (sparkAppId !== undefined) {
            const bySpark = await this.api.list(kind, { labelSelector: `${SparkPodLabel.appSelector}=${sparkAppId}` });
            found.push(...bySpark.filter((o) => !found.some((f) => f.kind === o.kind && f.name === o.name)));
          }
        }
        return found;
      };
      const deadline = this.now() + this.settings.cleanupTimeoutMs;
      const first = await remaining(new Set(ATTEMPT_OBJECT_KINDS));
      // The driver first: the garbage collector takes what it owns along.
      first.sort((a, b) => Number(b.name === driverPodName(attemptId)) - Number(a.name === driverPodName(attemptId)));
      const left = await deleteUntilGone({
        first,
        remaining: (kinds) => remaining(new Set([...kinds].filter((k): k is AttemptObjectKind => k !== 'SparkApplication'))),
        remove: (obj) => this.api.delete(obj.kind as AttemptObjectKind, obj.name, 'Background'),
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

  async close(): Promise<void> {
    const pods = this.pods;
    this.pods = undefined;
    await pods?.stop();
  }
}

function lastLines(output: string): string[] {
  return output
    .split(/\r?\n/)
    .filter((l) => l.trim().length > 0 && !SPARK_CHATTER.test(l))
    .slice(-SUBMIT_OUTPUT_LINES)
    .map((l) => redact(l).slice(0, 300));
}

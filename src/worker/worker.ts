import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities, type Activities } from '../activities';
import { SizingStore } from '../activities/sizing';
import { DataLayout } from '../common/layout';
import type { NightjarConfig } from '../config/config';
import { connectClient, dataConverter, nativeConnectionOptions } from '../infra/temporal-connection';
import { createReportingStore } from '../reporting/create-store';
import type { ReportingStore } from '../reporting/store';
import { createSparkPlatform } from '../spark/create-platform';
import type { WorkflowState } from '../spark/platform';
import type { SparkPlatform } from '../spark/platform';
import { ensureNightlySchedule } from '../schedules/nightly-schedule';
import { TemporalNightTriggers, triggerTargetOf } from '../triggers/temporal-triggers';
import { observeActivities } from '../observability/activity-interceptor';
import { applyV8Flags, workerTuning } from './tuning';
import { startHealthServer, type HealthServer } from '../observability/health';
import { histogramBuckets, MeterMetrics, type NightjarMetrics } from '../observability/metrics';
import { ensureJanitorSchedule } from './janitor-schedule';
import { guardTenant } from './tenant-guard';
import { PinoSdkLogger } from './logger';

let runtimeInstalled = false;

/**
 * Installs the SDK runtime once per process (later calls are no-ops): its logger, and its
 * Prometheus exporter at `metricsAddress` (`/metrics`), which serves the SDK's `temporal_*`
 * metrics and Nightjar's own (made on `Runtime.instance().metricMeter`) side by side.
 */
export function installRuntime(logger: Logger, metricsAddress?: string, redactFailures = true): void {
  if (runtimeInstalled) return;
  const sdkLogger = new PinoSdkLogger(logger.child({ component: 'temporal-sdk' }), { redactFailures });
  if (metricsAddress !== undefined) {
    try {
      Runtime.install({
        logger: sdkLogger,
        telemetryOptions: { metrics: { prometheus: { bindAddress: metricsAddress, histogramBucketOverrides: histogramBuckets() } } },
      });
      runtimeInstalled = true;
      logger.info({ metricsAddress }, 'prometheus metrics at /metrics');
      return;
    } catch (error) {
      // A taken port must not stop the nights: run without metrics (the scrape's `up == 0` alerts).
      logger.error({ metricsAddress, err: error }, 'prometheus metrics exporter not started: running without metrics');
    }
  }
  Runtime.install({ logger: sdkLogger });
  runtimeInstalled = true;
}

export interface ServiceOverrides {
  readonly store?: ReportingStore;
  readonly platform?: SparkPlatform;
  /** A Temporal client to ask about workflows (the janitor); one is connected lazily otherwise. */
  readonly client?: Client;
  /** Where activity results and durations go; the SDK runtime's meter otherwise. */
  readonly metrics?: NightjarMetrics;
}

export interface Services {
  readonly layout: DataLayout;
  readonly store: ReportingStore;
  readonly platform: SparkPlatform;
  readonly activities: Activities;
  readonly metrics: NightjarMetrics;
  /** The Temporal client the services use (connected on first call). */
  client(): Promise<Client>;
  close(): Promise<void>;
}

/** Builds the clients and services the activities need, from configuration. */
export async function createServices(config: NightjarConfig, logger: Logger, overrides: ServiceOverrides = {}): Promise<Services> {
  const layout = new DataLayout(config.dataDir);
  const store = overrides.store ?? createReportingStore(config.reporting);
  await store.migrate();
  const platform = overrides.platform ?? createSparkPlatform(config, layout, logger);
  const sizingStore = new SizingStore(layout);
  const temporal = lazyClient(config, overrides.client);
  const metrics = overrides.metrics ?? new MeterMetrics(Runtime.instance().metricMeter);
  const activities = createActivities({
    metrics,
    layout,
    logger: logger.child({ component: 'activities' }),
    store,
    spark: {
      platform,
      jobsDir: config.spark.jobsDir,
      reportingCurrency: config.reportingCurrency,
      thresholds: config.spark.thresholds,
      stepsAtOnce: config.spark.stepsAtOnce,
    },
    plan: {
      platform: platform.kind,
      defaultResources: config.spark.defaults,
      escalation: config.spark.escalation,
      escalationByJob: config.spark.escalationByJob,
      feedWait: {
        timeZone: config.calendar.timeZone,
        deadlineHours: config.feeds.deadlineHours,
        pollSeconds: config.feeds.pollSeconds,
        optionalFeeds: config.feeds.optional,
      },
      ...(config.spark.sizing.learn ? { learnedSizing: (job) => sizingStore.read(job) } : {}),
    },
    sizing: { store: sizingStore, policy: config.spark.sizing.policy },
    feedRoots: config.feeds.roots,
    workflowState: async (workflowId) => workflowStateOf(await temporal.get(), workflowId),
    nights: {
      calendar: config.calendar,
      client: () => temporal.get(),
      triggers: async () => new TemporalNightTriggers(await temporal.get(), triggerTargetOf(config)),
    },
  });
  return {
    layout,
    store,
    platform,
    activities,
    metrics,
    client: () => temporal.get(),
    async close() {
      if (!overrides.store) await store.close();
      if (!overrides.platform) await platform.close?.();
      await temporal.close();
    },
  };
}

/** RUNNING, CLOSED, or UNKNOWN when Temporal has never heard of the id (or forgot it). */
export async function workflowStateOf(client: Client, workflowId: string): Promise<WorkflowState> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    return description.status.name === 'RUNNING' ? 'RUNNING' : 'CLOSED';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return 'UNKNOWN';
    throw error;
  }
}

/** A Temporal client connected on first use (only the janitor and schedules need one). */
function lazyClient(config: NightjarConfig, given: Client | undefined) {
  let pending: Promise<{ client: Client; connection?: Connection }> | undefined = given ? Promise.resolve({ client: given }) : undefined;
  return {
    async get(): Promise<Client> {
      // The same TLS and data converter as every other client: what it writes is encrypted too.
      pending ??= connectClient(config);
      return (await pending).client;
    },
    async close(): Promise<void> {
      const p = pending;
      pending = undefined;
      const opened = p ? await p.catch(() => undefined) : undefined;
      await opened?.connection?.close();
    },
  };
}

export interface NightjarWorker {
  readonly worker: Worker;
  readonly services: Services;
  /** The `/livez` and `/readyz` server, when configured (closed when run() ends). */
  readonly health?: HealthServer;
  /** Runs until shutdown() is called or the process receives SIGINT/SIGTERM. */
  run(): Promise<void>;
  shutdown(): void;
}

/** A bundle given by the caller (tests), else the prebuilt one of the configuration (production), else the sources. */
function workflowSource(given: WorkerOptions['workflowBundle'], configured: string | undefined): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  if (given) return { workflowBundle: given };
  if (configured !== undefined) return { workflowBundle: { codePath: configured } };
  return { workflowsPath: require.resolve('../workflows') };
}

/**
 * The composition root: configuration, logger, clients and activities meet here and nowhere
 * else. Workflows come from a prebuilt bundle when given (production), otherwise from source.
 */
export async function createNightjarWorker(
  config: NightjarConfig,
  logger: Logger,
  options: {
    readonly connection?: NativeConnection;
    readonly workflowBundle?: WorkerOptions['workflowBundle'];
    readonly overrides?: ServiceOverrides;
    /** False when the caller (a test harness) already installed the SDK runtime. */
    readonly installRuntime?: boolean;
  } = {},
): Promise<NightjarWorker> {
  if (options.installRuntime !== false) installRuntime(logger, config.observability.metricsAddress, config.log.redact);
  const services = await createServices(config, logger, options.overrides);
  const connection = options.connection ?? (await NativeConnection.connect(nativeConnectionOptions(config)));
  if (config.encryption === undefined) logger.warn('payloads are not encrypted: set NIGHTJAR_ENCRYPTION_KEYS_DIR');
  applyV8Flags(config.worker);
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    dataConverter: dataConverter(config),
    activities: services.activities,
    ...workflowSource(options.workflowBundle, config.worker.workflowBundle),
    interceptors: { activity: [guardTenant(config.tenant, config.temporal.taskQueue), observeActivities(services.metrics)] },
    // Activities get this long to finish after SIGTERM before they are cancelled (Spark waits detach and are adopted later).
    shutdownGraceTime: `${config.worker.shutdownGraceSeconds} seconds`,
    ...workerTuning(config.worker),
    // Heartbeats reach the server at least every 5 s (not 80% of the 30 s timeout), so a
    // cancellation reaches a running export or Spark await within seconds.
    maxHeartbeatThrottleInterval: '5 seconds',
  });
  if (config.janitor.everySeconds > 0 && services.platform.sweep !== undefined) {
    await ensureJanitorSchedule(await services.client(), {
      tenant: config.tenant,
      taskQueue: config.temporal.taskQueue,
      everySeconds: config.janitor.everySeconds,
      minAgeSeconds: config.janitor.minAgeSeconds,
    });
    logger.info({ everySeconds: config.janitor.everySeconds }, 'janitor schedule in place');
  }
  if (config.schedule !== undefined) {
    const outcome = await ensureNightlySchedule(await services.client(), {
      tenant: config.tenant,
      taskQueue: config.temporal.taskQueue,
      time: config.schedule.time,
      timeZone: config.calendar.timeZone,
      catchupWindowSeconds: config.schedule.catchupWindowSeconds,
      lookbackDays: config.schedule.lookbackDays,
    });
    logger.info({ tenant: config.tenant, time: config.schedule.time, timeZone: config.calendar.timeZone, outcome }, 'nightly schedule in place');
  }
  const health = config.observability.healthAddress
    ? await startHealthServer({ address: config.observability.healthAddress, workerState: () => worker.getState() })
    : undefined;
  if (health) logger.info({ healthAddress: health.address }, 'health endpoints at /livez and /readyz');
  return {
    worker,
    services,
    ...(health ? { health } : {}),
    async run() {
      try {
        await worker.run();
      } finally {
        await health?.close();
        await services.close();
        if (!options.connection) await connection.close();
      }
    },
    shutdown: () => worker.shutdown(),
  };
}

import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities, type Activities } from '../activities';
import { DataLayout } from '../common/layout';
import type { NightjarConfig } from '../config/config';
import { createReportingStore } from '../reporting/create-store';
import type { ReportingStore } from '../reporting/store';
import { LocalSparkPlatform } from '../spark/local/local-platform';
import type { SparkPlatform } from '../spark/platform';
import { PinoSdkLogger } from './logger';

let runtimeInstalled = false;

/** Installs the SDK runtime (logger) once per process; later calls are no-ops. */
export function installRuntime(logger: Logger): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new PinoSdkLogger(logger.child({ component: 'temporal-sdk' })) });
  runtimeInstalled = true;
}

export interface ServiceOverrides {
  readonly store?: ReportingStore;
  readonly platform?: SparkPlatform;
}

export interface Services {
  readonly layout: DataLayout;
  readonly store: ReportingStore;
  readonly platform: SparkPlatform;
  readonly activities: Activities;
  close(): Promise<void>;
}

/** Builds the clients and services the activities need, from configuration. */
export async function createServices(config: NightjarConfig, logger: Logger, overrides: ServiceOverrides = {}): Promise<Services> {
  const layout = new DataLayout(config.dataDir);
  const store = overrides.store ?? createReportingStore(config.reporting);
  await store.migrate();
  const platform =
    overrides.platform ??
    new LocalSparkPlatform({
      sparkSubmit: config.spark.sparkSubmit,
      pythonPath: config.spark.python,
      layout,
      pollIntervalMs: 1000,
      extraConf: config.spark.ui ? { 'spark.ui.enabled': 'true' } : {},
      logger: logger.child({ component: 'spark-local' }),
    });
  const activities = createActivities({
    layout,
    logger: logger.child({ component: 'activities' }),
    store,
    spark: {
      platform,
      jobsDir: config.spark.jobsDir,
      reportingCurrency: config.reportingCurrency,
      thresholds: config.spark.thresholds,
    },
    plan: { platform: platform.kind, defaultResources: config.spark.defaults, escalation: config.spark.escalation },
  });
  return {
    layout,
    store,
    platform,
    activities,
    close: () => (overrides.store ? Promise.resolve() : store.close()),
  };
}

export interface NightjarWorker {
  readonly worker: Worker;
  readonly services: Services;
  /** Runs until shutdown() is called or the process receives SIGINT/SIGTERM. */
  run(): Promise<void>;
  shutdown(): void;
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
  if (options.installRuntime !== false) installRuntime(logger);
  const services = await createServices(config, logger, options.overrides);
  const connection = options.connection ?? (await NativeConnection.connect({ address: config.temporal.address }));
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: services.activities,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    shutdownGraceTime: '30 seconds',
  });
  return {
    worker,
    services,
    async run() {
      try {
        await worker.run();
      } finally {
        await services.close();
        if (!options.connection) await connection.close();
      }
    },
    shutdown: () => worker.shutdown(),
  };
}

import type { Logger } from 'pino';
import type { DataLayout } from '../common/layout';
import type { SparkJavaOptions } from '../domain/spark/java-options';
import type { NightjarConfig } from '../config/config';
import { LocalSparkPlatform } from './local/local-platform';
import { WarmDriver } from './local/warm-driver';
import type { SparkPlatform } from './platform';

/**
 * The Spark platform the configuration asks for. The Kubernetes client is loaded only when the
 * Kubernetes platform is chosen, so a local worker never needs it.
 */
export function createSparkPlatform(config: NightjarConfig, layout: DataLayout, logger: Logger): SparkPlatform {
  const kubernetes = config.spark.kubernetes;
  const javaOptions = sparkJavaOptions(config);
  if (config.spark.platform === 'kubernetes' && kubernetes !== undefined && kubernetes.submit.mode === 'spark-submit') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { SparkSubmitKubernetesPlatform } = require('./kubernetes/spark-submit/spark-submit-platform') as typeof import('./kubernetes/spark-submit/spark-submit-platform');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { kubeConfigFrom } = require('./kubernetes/kubernetes-platform') as typeof import('./kubernetes/kubernetes-platform');
    return new SparkSubmitKubernetesPlatform({
      kubeConfig: kubeConfigFrom(kubernetes.config),
      settings: kubernetes.settings,
      javaOptions,
      submit: {
        sparkSubmit: config.spark.sparkSubmit,
        submitTimeoutMs: kubernetes.submit.timeoutMs,
        ...(kubernetes.submit.extraPodLabels !== undefined ? { extraPodLabels: kubernetes.submit.extraPodLabels } : {}),
        ...(kubernetes.config.kind === 'file' ? { kubeConfigPath: kubernetes.config.path } : {}),
        inCluster: kubernetes.config.kind === 'in-cluster',
        ...launcherJava(config),
      },
      logger: logger.child({ component: 'spark-kubernetes', submit: 'spark-submit', namespace: kubernetes.settings.namespace }),
    });
  }
  if (config.spark.platform === 'kubernetes' && kubernetes !== undefined) {
    // Loaded on demand: the ES-module-only Kubernetes client stays out of local workers.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { KubernetesSparkPlatform, kubeConfigFrom } = require('./kubernetes/kubernetes-platform') as typeof import('./kubernetes/kubernetes-platform');
    return new KubernetesSparkPlatform({
      kubeConfig: kubeConfigFrom(kubernetes.config),
      settings: kubernetes.settings,
      javaOptions,
      logger: logger.child({ component: 'spark-kubernetes', namespace: kubernetes.settings.namespace }),
    });
  }
  return new LocalSparkPlatform({
    sparkSubmit: config.spark.sparkSubmit,
    pythonPath: config.spark.python,
    layout,
    pollIntervalMs: 1000,
    extraConf: config.spark.ui ? { 'spark.ui.enabled': 'true' } : {},
    ...javaOptions,
    ...(config.spark.classDataDir !== undefined ? { classDataDir: config.spark.classDataDir } : {}),
    ...(config.spark.warmSlots > 0 ? { warmDriver: warmDriver(config, layout, logger) } : {}),
    logger: logger.child({ component: 'spark-local' }),
  });
}

/**
 * The warm driver of a local worker: a slot per attempt at once, each the larger job's default
 * driver memory; the long-job JVM options, since it lives for many attempts.
 */
export function warmDriver(config: NightjarConfig, layout: DataLayout, logger: Logger): WarmDriver {
  const { defaults } = config.spark;
  return new WarmDriver({
    slots: config.spark.warmSlots,
    slotMemoryMb: Math.max(defaults.normalize.driverMemoryMb, defaults.transform.driverMemoryMb),
    cores: Math.max(defaults.normalize.driverCores, defaults.transform.driverCores),
    sparkSubmit: config.spark.sparkSubmit,
    pythonPath: config.spark.python,
    stateDir: layout.sparkWarmDriverDir(),
    javaOptions: [...config.spark.driverJavaOptions, ...config.spark.longJob.javaOptions],
    idleStopMs: config.spark.warmIdleStopMs,
    logger: logger.child({ component: 'spark-warm-driver' }),
  });
}

/**
 * spark-submit's own JVM when it submits to a cluster: the short-job options (it creates the
 * driver pod and exits) and the machine's class-data archive.
 */
export function launcherJava(config: NightjarConfig): { launcherJavaOptions: readonly string[]; classDataDir?: string } {
  return {
    launcherJavaOptions: config.spark.shortJob?.javaOptions ?? [],
    ...(config.spark.classDataDir !== undefined ? { classDataDir: config.spark.classDataDir } : {}),
  };
}

/** The JVM options every platform gives its attempts (the driver's own; short and long jobs'). */
export function sparkJavaOptions(config: NightjarConfig): SparkJavaOptions {
  return { driverJavaOptions: config.spark.driverJavaOptions, shortJob: config.spark.shortJob, longJob: config.spark.longJob };
}

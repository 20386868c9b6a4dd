/**
 * Spark on the local plane in spark-submit mode against local[2], in one run on the same data:
 * a night's normalize + transform through the real activities on both platforms (the plane's
 * pods run as real JVMs by the local container runtime, in this process), the reports compared
 * row for row; then an executor OOM for real (the skewed fixture job of the escalation test at
 * 512 MiB executors) → the attempt stopped → cleaned up → resubmitted with 1 GiB executors, with
 * the time of each stage; objects left in the namespace; this process's (worker + runtime) and
 * the plane's resident memory.
 */
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { LocalKubelet, RUNTIME_LABEL } from '../local-cluster/runtime/local-kubelet';
import { IMAGE_JOBS_DIR, imageDefaults } from '../local-cluster/runtime/spark-install';
import { ensureSparkDriverRole } from '../local-cluster/spark-driver-role';
import { generateFeeds } from '../demo/feeds/generate-feeds';
import { createSparkActivities } from '../src/activities/spark';
import { DataLayout } from '../src/common/layout';
import type { NightjarConfig } from '../src/config/config';
import type { SparkAwaitResult, SparkSubmission } from '../src/domain/pipeline';
import type { SparkJobName, SparkResources } from '../src/domain/spark/resources';
import type { KubernetesPlatformSettings } from '../src/spark/kubernetes/settings';
import { SparkSubmitKubernetesPlatform } from '../src/spark/kubernetes/spark-submit/spark-submit-platform';
import { DRIVER_CONTAINER } from '../src/spark/kubernetes/spark-submit/submit-invocation';
import { LocalSparkPlatform } from '../src/spark/local/local-platform';
import type { SparkPlatform } from '../src/spark/platform';
import { launcherJava } from '../src/spark/create-platform';
import { createTestNamespace, deleteTestNamespace, namespaceObjects, planeKubeConfig, planeKubeConfigFile, settle } from '../test/support/local-plane';
import { componentRss } from './plane';
import { round } from './stats';

const BUSINESS_DATE = '2026-11-20';
const TEST_IMAGE_DIR = '/opt/nightjar/test-image';

export interface SparkSubmitBenchResult {
  readonly transactions: number;
  readonly inputRows: number;
  readonly local: { readonly normalizeSeconds: number; readonly transformSeconds: number; readonly totalSeconds: number };
  readonly plane: { readonly normalizeSeconds: number; readonly transformSeconds: number; readonly totalSeconds: number; readonly pods: number };
  readonly ratio: number;
  /** Every report's row count equal on both platforms. */
  readonly reportsEqual: boolean;
  readonly oom: { readonly submitToStoppedSeconds: number; readonly lostExecutors: number; readonly stoppedToResubmittedSeconds: number; readonly secondAttemptSeconds: number; readonly secondSucceeded: boolean };
  readonly objectsLeft: number;
  readonly workerPeakRssMb: number;
  readonly planeRssMb: number;
}

const seconds = (t0: number) => round((Date.now() - t0) / 1000);

/** The process's peak resident memory while `run` runs, sampled every 250 ms. */
async function withPeakRss<T>(run: () => Promise<T>): Promise<{ value: T; peakMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 250);
  try {
    return { value: await run(), peakMb: Math.round(peak / 2 ** 20) };
  } finally {
    clearInterval(timer);
  }
}

/** normalize then transform of one night through the activities on `platform`; wall times and the reports' row counts. */
async function night(platform: SparkPlatform, config: NightjarConfig, layout: DataLayout, feeds: readonly { feed: string; path: string }[], tag: string) {
  const env = new MockActivityEnvironment();
  const spark = createSparkActivities({ platform, layout, jobsDir: config.spark.jobsDir, reportingCurrency: config.reportingCurrency, thresholds: config.spark.thresholds });
  const run = async (job: SparkJobName, inputs: Record<string, string>) => {
    const attemptId = `nj-bench-${tag}-${job}`;
    const t0 = Date.now();
    const submission = (await env.run(spark.submitSparkJob, { attemptId, workflowId: 'bench', businessDate: BUSINESS_DATE, job, attempt: 1, resources: config.spark.defaults[job], inputs })) as SparkSubmission;
    const result = (await env.run(spark.awaitSparkJob, submission)) as SparkAwaitResult;
    const wall = seconds(t0);
    await env.run(spark.cleanupSparkJob, { attemptId, job, businessDate: BUSINESS_DATE, keepOutput: true });
    if (result.outcome.kind !== 'SUCCEEDED' || result.output === undefined) throw new Error(`${tag} ${job}: ${result.outcome.kind} ${result.outcome.reason}`);
    return { wall, output: result.output, pods: result.outcome.pods?.length ?? 0 };
  };
  const normalize = await run('normalize', Object.fromEntries(feeds.map((f) => [f.feed, `file://${f.path}`])));
  if (normalize.output.job !== 'normalize') throw new Error('normalize produced no output');
  const transform = await run('transform', Object.fromEntries(normalize.output.feeds.map((f) => [f.feed, f.curatedUri])));
  if (transform.output.job !== 'transform') throw new Error('transform produced no output');
  const rows = Object.fromEntries(transform.output.reports.map((r) => [r.report, r.rows]));
  return { normalizeSeconds: normalize.wall, transformSeconds: transform.wall, totalSeconds: round(normalize.wall + transform.wall), rows, pods: normalize.pods + transform.pods };
}

export async function benchSparkSubmit(config: NightjarConfig, opts: { dir: string; transactions: number; repoRoot: string }): Promise<SparkSubmitBenchResult> {
  const layout = new DataLayout(opts.dir);
  const generated = await generateFeeds({ landingDir: layout.landingDir(BUSINESS_DATE), businessDate: BUSINESS_DATE, seed: 7, transactions: opts.transactions, defectRate: 0.01 });
  const inputRows = generated.feeds.reduce((a, f) => a + f.rows, 0);
  const kc = planeKubeConfig();
  const namespace = await createTestNamespace(kc, 'nj-bench-submit');
  const quiet = pino({ enabled: false });
  const runtimeLabel = `bench-${process.pid}`;
  const image = imageDefaults(opts.repoRoot);
  const kubelet = new LocalKubelet({
    kubeConfig: kc,
    stateDir: path.join(opts.dir, 'runtime'),
    ...image,
    imagePaths: [...image.imagePaths, { containerPath: TEST_IMAGE_DIR, hostPath: path.join(opts.repoRoot, 'test', 'fixtures', 'spark-image') }],
    labelValue: runtimeLabel,
    namespaces: [namespace],
    logger: quiet,
  });
  const settings = (imageJobsDir: string): KubernetesPlatformSettings => ({
    namespace,
    image: 'nightjar-spark:local',
    serviceAccount: 'nightjar-spark',
    sparkVersion: '4.3.0',
    imageJobsDir,
    ttlSeconds: 3600,
    executorOomLimit: 2,
    stuckAfterMs: 600_000,
    pollIntervalMs: 2_000,
    fallbackPollMs: 1_000,
    cleanupTimeoutMs: 60_000,
    driverLogLines: 20,
  });
  const planePlatform = (imageJobsDir: string) =>
    new SparkSubmitKubernetesPlatform({
      kubeConfig: kc,
      settings: settings(imageJobsDir),
      submit: {
        sparkSubmit: config.spark.sparkSubmit,
        submitTimeoutMs: 300_000,
        extraPodLabels: { [RUNTIME_LABEL]: runtimeLabel },
        kubeConfigPath: planeKubeConfigFile(),
        workDir: opts.dir,
        ...launcherJava(config),
      },
      driverLogTail: async (pod, lines) => {
        const file = kubelet.logPath(namespace, pod, DRIVER_CONTAINER);
        return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : undefined;
      },
    });
  const nightPlatform = planePlatform(IMAGE_JOBS_DIR);
  const fixture = planePlatform(TEST_IMAGE_DIR);
  try {
    await ensureSparkDriverRole(kc, namespace);
    await kubelet.start();
    const local = await night(new LocalSparkPlatform({ sparkSubmit: config.spark.sparkSubmit, pythonPath: config.spark.python, layout, pollIntervalMs: 1_000, logger: quiet }), config, layout, generated.feeds, 'local');
    const measured = await withPeakRss(async () => ({ plane: await night(nightPlatform, config, layout, generated.feeds, 'plane'), oom: await oomRound(fixture, opts.dir) }));
    const { plane, oom } = measured.value;
    // Cleanup looked until nothing was left; garbage collection of what the driver owned may lag a moment.
    const objectsLeft = (await settle(() => namespaceObjects(kc, namespace), (left) => left.length === 0, 30_000)).length;
    const reportsEqual = JSON.stringify(Object.entries(local.rows).sort()) === JSON.stringify(Object.entries(plane.rows).sort());
    const planeRss = Object.values(componentRss(path.dirname(planeKubeConfigFile()))).reduce((a, b) => a + b, 0);
    return {
      transactions: opts.transactions,
      inputRows,
      local,
      plane,
      ratio: round(plane.totalSeconds / local.totalSeconds),
      reportsEqual,
      oom,
      objectsLeft,
      workerPeakRssMb: measured.peakMb,
      planeRssMb: planeRss,
    };
  } finally {
    await nightPlatform.close();
    await fixture.close();
    await kubelet.stop();
    await deleteTestNamespace(kc, namespace);
  }
}

/** Attempt 1 at 512 MiB executors until stopped after 2 lost, cleanup, attempt 2 at 1 GiB: the stages' times. */
async function oomRound(platform: SparkSubmitKubernetesPlatform, dir: string): Promise<SparkSubmitBenchResult['oom']> {
  const small: SparkResources = { driverMemoryMb: 768, driverCores: 1, executorMemoryMb: 512, executorCores: 1, executorInstances: 2, memoryOverheadMb: 100, shufflePartitions: 4 };
  const attempt = async (n: number, resources: SparkResources) => {
    const attemptId = `nj-bench-oom-a${n}`;
    const specFile = path.join(dir, 'oom', attemptId, 'spec.json');
    await fs.mkdir(path.dirname(specFile), { recursive: true });
    await fs.writeFile(specFile, JSON.stringify({ resultUri: `file://${path.join(dir, 'oom', attemptId, '_result.json')}` }));
    const handle = await platform.submit({ attemptId, workflowId: 'bench-oom', businessDate: BUSINESS_DATE, job: 'transform', attempt: n, resources, mainFile: 'transform.py', args: ['--spec', specFile], sparkConf: {} });
    return { attemptId, handle };
  };
  const t0 = Date.now();
  const first = await attempt(1, small);
  const outcome = await platform.await(first.handle, { signal: new AbortController().signal, onProgress: () => undefined });
  const submitToStoppedSeconds = seconds(t0);
  const t1 = Date.now();
  await platform.cleanup(first.attemptId);
  const second = await attempt(2, { ...small, executorMemoryMb: 1024, memoryOverheadMb: 256 });
  const stoppedToResubmittedSeconds = seconds(t1);
  const t2 = Date.now();
  const done = await platform.await(second.handle, { signal: new AbortController().signal, onProgress: () => undefined });
  const secondAttemptSeconds = seconds(t2);
  await platform.cleanup(second.attemptId);
  if (outcome.kind !== 'OUT_OF_MEMORY') throw new Error(`the skewed job at 512 MiB executors ended ${outcome.kind}: ${outcome.reason}`);
  const lostExecutors = (outcome.pods ?? []).filter((p) => p.role === 'executor' && p.phase === 'Failed').length;
  return { submitToStoppedSeconds, lostExecutors, stoppedToResubmittedSeconds, secondAttemptSeconds, secondSucceeded: done.kind === 'SUCCEEDED' };
}

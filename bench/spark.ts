/**
 * Spark throughput: normalize + transform through the real local platform (spark-submit,
 * local[N]) on generated feeds of a given size, called directly (no Temporal) so the figure is
 * Spark's own, JVM start-up included.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { createSparkActivities } from '../src/activities/spark';
import { DataLayout } from '../src/common/layout';
import type { NightjarConfig } from '../src/config/config';
import type { SparkJobName, SparkResources } from '../src/domain/spark/resources';
import type { SparkAwaitResult, SparkSubmission } from '../src/domain/pipeline';
import { generateFeeds } from '../demo/feeds/generate-feeds';
import { LocalSparkPlatform } from '../src/spark/local/local-platform';
import { round } from './stats';

export interface SparkBenchResult {
  transactions: number;
  inputRows: number;
  normalizeSeconds: number;
  transformSeconds: number;
  totalSeconds: number;
  inputRowsPerSecond: number;
  driverMemoryMb: number;
}

export async function benchSpark(config: NightjarConfig, opts: { dir: string; transactions: number; driverMemoryMb: number }): Promise<SparkBenchResult> {
  const layout = new DataLayout(opts.dir);
  const date = '2026-11-20';
  const logger = pino({ level: 'warn' });
  const generated = await generateFeeds({ landingDir: layout.landingDir(date), businessDate: date, seed: 3, transactions: opts.transactions, defectRate: 0.001 });
  const inputRows = generated.feeds.reduce((a, f) => a + f.rows, 0);
  const platform = new LocalSparkPlatform({ sparkSubmit: config.spark.sparkSubmit, pythonPath: config.spark.python, layout, pollIntervalMs: 1000, logger });
  const spark = createSparkActivities({ platform, layout, jobsDir: config.spark.jobsDir, reportingCurrency: config.reportingCurrency, thresholds: config.spark.thresholds, logger });
  const resources: SparkResources = { ...config.spark.defaults.normalize, driverMemoryMb: opts.driverMemoryMb };
  const env = new MockActivityEnvironment();

  async function run(job: SparkJobName, inputs: Record<string, string>): Promise<{ seconds: number; result: SparkAwaitResult }> {
    const attemptId = `bench-${job}-${opts.transactions}`;
    const t0 = performance.now();
    const submission = (await env.run((i: Parameters<typeof spark.submitSparkJob>[0]) => spark.submitSparkJob(i), { attemptId, workflowId: 'bench', businessDate: date, job, attempt: 1, resources, inputs })) as SparkSubmission;
    const result = (await env.run((s: typeof submission) => spark.awaitSparkJob(s), submission)) as SparkAwaitResult;
    const seconds = (performance.now() - t0) / 1000;
    await env.run(spark.cleanupSparkJob, { attemptId, job, businessDate: date, keepOutput: true });
    if (result.outcome.kind !== 'SUCCEEDED') throw new Error(`${job} ${result.outcome.kind}: ${result.outcome.reason}`);
    return { seconds, result };
  }

  const raw = Object.fromEntries(generated.feeds.map((f) => [f.feed, `file://${f.path}`]));
  const normalize = await run('normalize', raw);
  if (normalize.result.output?.job !== 'normalize') throw new Error('normalize produced no output');
  const curated = Object.fromEntries(normalize.result.output.feeds.map((f) => [f.feed, f.curatedUri]));
  const transform = await run('transform', curated);
  await fs.rm(path.join(opts.dir), { recursive: true, force: true });
  const total = normalize.seconds + transform.seconds;
  return {
    transactions: opts.transactions,
    inputRows,
    normalizeSeconds: round(normalize.seconds),
    transformSeconds: round(transform.seconds),
    totalSeconds: round(total),
    inputRowsPerSecond: Math.round(inputRows / total),
    driverMemoryMb: opts.driverMemoryMb,
  };
}

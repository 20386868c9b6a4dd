import { Writable } from 'node:stream';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { Activities } from '../../src/activities';
import type { FinalizeRunInput, RunManifest, SparkSubmission } from '../../src/domain/pipeline';
import { observeActivities } from '../../src/observability/activity-interceptor';
import { countOutcomes } from '../../src/observability/activity-outcomes';
import { InMemoryMetrics, METRICS } from '../../src/observability/metrics';
import { createLogger } from '../../src/worker/logger';

const WORKFLOW_ID = 'nightjar-daily-acme-2026-11-20';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger({ level: 'info', redact: true, destination }), lines };
}

function environment(metrics: InMemoryMetrics, activityType: string, attempt = 1) {
  return new MockActivityEnvironment(
    { activityType, attempt, workflowExecution: { workflowId: WORKFLOW_ID, runId: 'run-1' }, workflowType: 'dailyPipeline' },
    { interceptors: [observeActivities(metrics)], logger: new DefaultLogger('ERROR') },
  );
}

describe('the activity interceptor', () => {
  test("an activity's pino lines carry workflow id, step, attempt, business date and tenant, with personal data censored", async () => {
    const metrics = new InMemoryMetrics();
    const { logger, lines } = capture();
    const ingest = async (input: { businessDate: string; feed: string }) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      logger.child({ component: 'activities' }).warn({ feed: input.feed, row: { full_name: 'Ada Lovelace', iban: 'DE89370400440532013000' } }, 'row rejected');
      return 'ok';
    };
    await expect(environment(metrics, 'ingestFeed', 2).run(ingest, { businessDate: '2026-11-19', feed: 'customers' })).resolves.toBe('ok');

    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      workflowId: WORKFLOW_ID,
      runId: 'run-1',
      step: 'ingestFeed',
      attempt: 2,
      businessDate: '2026-11-19',
      tenant: 'acme',
      feed: 'customers',
      msg: 'row rejected',
    });
    expect(JSON.stringify(lines)).not.toMatch(/Ada Lovelace|DE89370400440532013000/);
    expect(metrics.observations(METRICS.stepDuration.name, { step: 'ingestFeed', outcome: 'succeeded' })).toEqual([expect.any(Number)]);
    expect(metrics.observations(METRICS.stepDuration.name, { step: 'ingestFeed', outcome: 'succeeded' })[0]).toBeGreaterThan(0.004);
  });

  test('without a businessDate argument the date comes from the workflow id', async () => {
    const { logger, lines } = capture();
    await environment(new InMemoryMetrics(), 'sweepSparkLeftovers').run(async () => logger.info('sweeping'));
    expect(lines[0]).toMatchObject({ step: 'sweepSparkLeftovers', businessDate: '2026-11-20', attempt: 1 });
  });

  test('a failing activity is timed as failed and its error passes through unchanged', async () => {
    const metrics = new InMemoryMetrics();
    const failure = ApplicationFailure.create({ type: 'ExportRejected', message: 'no', nonRetryable: true });
    const exportReports = async () => {
      throw failure;
    };
    await expect(environment(metrics, 'exportReports').run(exportReports)).rejects.toBe(failure);
    expect(metrics.observations(METRICS.stepDuration.name, { step: 'exportReports', outcome: 'failed' })).toHaveLength(1);
    expect(metrics.observations(METRICS.stepDuration.name, { step: 'exportReports', outcome: 'succeeded' })).toHaveLength(0);
  });

  test('a cancelled activity is timed as cancelled', async () => {
    const metrics = new InMemoryMetrics();
    const env = environment(metrics, 'awaitFeeds');
    const waiting = env.run(async () => {
      await Context.current().cancelled;
    });
    setTimeout(() => env.cancel('CANCELLED'), 10);
    await expect(waiting).rejects.toBeInstanceOf(CancelledFailure);
    expect(metrics.observations(METRICS.stepDuration.name, { step: 'awaitFeeds', outcome: 'cancelled' })).toHaveLength(1);
  });
});

type Counted = Pick<Activities, 'awaitSparkJob' | 'exportReports' | 'finalizeRun' | 'sweepSparkLeftovers'>;

const SUBMISSION: SparkSubmission = {
  attemptId: 'nj-20261120-normalize-run1-a1',
  job: 'normalize',
  businessDate: '2026-11-20',
  platform: 'local',
  handle: '123',
  submittedAt: '2026-11-21T02:00:00Z',
  outputUri: 'file:///tmp/out',
  resultUri: 'file:///tmp/out/_result.json',
};

function fakes(overrides: Partial<Counted> = {}): Counted {
  return {
    awaitSparkJob: async () => ({ outcome: { kind: 'SUCCEEDED', reason: 'result file written', diagnostics: [] } }),
    exportReports: async () => ({ store: 'pglite', tables: [], durationMs: 1 }),
    finalizeRun: async () => ({ manifestUri: 'file:///tmp/manifest.json', tables: [] }),
    sweepSparkLeftovers: async (input) => ({ namespace: 'batch', examined: 0, removed: [], kept: [], failed: [], dryRun: input.dryRun === true }),
    ...overrides,
  };
}

function manifest(status: RunManifest['status'], tenant?: string): FinalizeRunInput {
  return {
    manifest: {
      businessDate: '2026-11-20',
      ...(tenant ? { tenant } : {}),
      status,
      workflowId: WORKFLOW_ID,
      runId: 'run-1',
      startedAt: '2026-11-21T01:00:00Z',
      finishedAt: '2026-11-21T03:00:00Z',
      feeds: [],
      steps: [],
      reports: [],
    },
  };
}

describe('metrics from activity results', () => {
  test('a normalize result counts the attempt and each feed’s accepted and rejected rows', async () => {
    const metrics = new InMemoryMetrics();
    const acts = countOutcomes(
      fakes({
        awaitSparkJob: async () => ({
          outcome: { kind: 'SUCCEEDED', reason: 'ok', diagnostics: [] },
          output: {
            job: 'normalize',
            feeds: [
              { feed: 'accounts', rowsIn: 100, rowsAccepted: 97, rowsRejected: 3, rejectReasons: { UNKNOWN_CURRENCY: 3 }, curatedUri: 'c', rejectsUri: 'r' },
              { feed: 'customers', rowsIn: 10, rowsAccepted: 10, rowsRejected: 0, rejectReasons: { UNKNOWN_CURRENCY: 0 }, curatedUri: 'c', rejectsUri: 'r' },
            ],
          },
        }),
      }),
      metrics,
    );
    await acts.awaitSparkJob(SUBMISSION);
    expect(metrics.value('nightjar_spark_attempts_total', { job: 'normalize', outcome: 'succeeded' })).toBe(1);
    expect(metrics.value('nightjar_feed_rows_total', { feed: 'accounts', result: 'accepted' })).toBe(97);
    expect(metrics.value('nightjar_feed_rows_total', { feed: 'accounts', result: 'rejected' })).toBe(3);
    expect(metrics.value('nightjar_feed_rows_total', { feed: 'customers', result: 'accepted' })).toBe(10);
    expect(metrics.value('nightjar_spark_oom_escalations_total', { job: 'normalize', kind: 'driver' })).toBe(0);
  });

  test('an out-of-memory attempt counts an escalation on the side that ran out', async () => {
    const metrics = new InMemoryMetrics();
    const acts = countOutcomes(
      fakes({ awaitSparkJob: async () => ({ outcome: { kind: 'OUT_OF_MEMORY', reason: 'executor OOMKilled', oomSide: 'executor', diagnostics: [] } }) }),
      metrics,
    );
    await acts.awaitSparkJob({ ...SUBMISSION, job: 'transform' });
    await acts.awaitSparkJob({ ...SUBMISSION, job: 'transform' });
    expect(metrics.value('nightjar_spark_attempts_total', { job: 'transform', outcome: 'out_of_memory' })).toBe(2);
    expect(metrics.value('nightjar_spark_oom_escalations_total', { job: 'transform', kind: 'executor' })).toBe(2);
  });

  test('export counts rows per table; finalize counts the night by status and stamps a completed one', async () => {
    const metrics = new InMemoryMetrics();
    const acts = countOutcomes(
      fakes({ exportReports: async () => ({ store: 'postgres', tables: [{ table: 'rpt_daily_positions', rows: 1200 }, { table: 'rpt_large_values', rows: 7 }], durationMs: 5 }) }),
      metrics,
      () => new Date('2026-11-21T03:00:05Z'),
    );
    await acts.exportReports({ businessDate: '2026-11-20', reports: [] });
    await acts.finalizeRun(manifest('COMPLETED', 'acme'));
    await acts.finalizeRun(manifest('FAILED'));
    expect(metrics.value('nightjar_export_rows_total', { table: 'rpt_daily_positions' })).toBe(1200);
    expect(metrics.value('nightjar_export_rows_total', { table: 'rpt_large_values' })).toBe(7);
    expect(metrics.value('nightjar_nights_finished_total', { tenant: 'acme', status: 'COMPLETED' })).toBe(1);
    expect(metrics.value('nightjar_nights_finished_total', { tenant: 'default', status: 'FAILED' })).toBe(1);
    expect(metrics.value('nightjar_last_night_completed_timestamp_seconds', { tenant: 'acme' })).toBe(Date.parse('2026-11-21T03:00:05Z') / 1000);
    expect(metrics.value('nightjar_last_night_completed_timestamp_seconds', { tenant: 'default' })).toBe(0);
  });

  test('a failed finalize counts nothing and rethrows', async () => {
    const metrics = new InMemoryMetrics();
    const acts = countOutcomes(fakes({ finalizeRun: async () => Promise.reject(new Error('store down')) }), metrics);
    await expect(acts.finalizeRun(manifest('COMPLETED'))).rejects.toThrow('store down');
    expect(metrics.samples).toEqual([]);
  });

  test('the janitor counts removed and failed leftovers by kind, and nothing on a dry run', async () => {
    const metrics = new InMemoryMetrics();
    const obj = (kind: 'SparkApplication' | 'ConfigMap' | 'Pod', name: string) => ({ kind, name, workflowId: 'w', attemptId: 'a', reason: 'workflow closed' });
    const acts = countOutcomes(
      fakes({
        sweepSparkLeftovers: async (input) => ({
          namespace: 'batch',
          examined: 4,
          removed: [obj('SparkApplication', 'a'), obj('ConfigMap', 'b'), obj('ConfigMap', 'c')],
          kept: [],
          failed: [{ ...obj('Pod', 'd'), error: 'forbidden' }],
          dryRun: input.dryRun === true,
        }),
      }),
      metrics,
    );
    await acts.sweepSparkLeftovers({ minAgeSeconds: 60, dryRun: true });
    expect(metrics.samples).toEqual([]);
    await acts.sweepSparkLeftovers({ minAgeSeconds: 60 });
    expect(metrics.value('nightjar_janitor_leftovers_total', { kind: 'SparkApplication' })).toBe(1);
    expect(metrics.value('nightjar_janitor_leftovers_total', { kind: 'ConfigMap' })).toBe(2);
    expect(metrics.value('nightjar_janitor_leftovers_total', { kind: 'Pod' })).toBe(1);
  });
});

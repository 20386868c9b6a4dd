/**
 * Scale: 30 business days × 20 tenants backfilled (600 nights) on one worker and the real dev
 * server, through the real backfill and triggers, with fake activities whose Spark step takes a
 * fixed time. Reports wall time against the ideal for the concurrency bound, starts per second,
 * the process's memory, and history events per night.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import type { WorkerConfig } from '../src/config/worker';
import { workerTuning } from '../src/worker/tuning';
import type { Activities } from '../src/activities';
import { businessDatesBetween, type BusinessCalendar } from '../src/domain/calendar';
import { dailyWorkflowId } from '../src/domain/ids';
import { backfill, type BackfillNight } from '../src/triggers/backfill';
import { TemporalNightTriggers } from '../src/triggers/temporal-triggers';
import { percentile, round } from './stats';
import { benchDevServer, benchWorkflowsPath } from './dev-server';
import { DEFAULT_ESCALATION } from '../src/domain/spark/escalation';

export interface ScaleResult {
  readonly tenants: number;
  readonly businessDays: number;
  readonly nights: number;
  readonly concurrency: number;
  readonly sparkStepMs: number;
  readonly singleNightMs: number;
  readonly wallMs: number;
  readonly idealWallMs: number;
  readonly wallOverIdeal: number;
  readonly startsPerSecond: number;
  readonly nightP50Ms: number;
  readonly nightP99Ms: number;
  readonly peakRssMiB: number;
  readonly peakHeapMiB: number;
  readonly historyEventsMedian: number;
  readonly historyEventsMax: number;
  readonly failed: number;
}

const BUNDLE_SCRIPT = `
const { bundleWorkflowCode } = require('@temporalio/worker');
const fs = require('node:fs');
const [workflowsPath, out] = process.argv.slice(1);
const quiet = () => {};
bundleWorkflowCode({ workflowsPath, logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: console.warn, error: console.error } })
  .then(({ code }) => fs.writeFileSync(out, code))
  .catch((err) => { console.error(err); process.exit(1); });
`;

const CALENDAR: BusinessCalendar = { region: 'bench', timeZone: 'UTC', weekend: [6, 7], holidays: [] };

/** Fake activities whose `awaitSparkJob` takes `sparkMs` (heartbeat-free: the step is short). */
function withSparkDuration(fakes: Activities, sparkMs: number): Activities {
  return {
    ...fakes,
    awaitSparkJob: async (submission) => {
      await new Promise((r) => setTimeout(r, sparkMs));
      return fakes.awaitSparkJob(submission);
    },
  };
}

export async function benchScale(opts: {
  readonly repoRoot: string;
  readonly tenants: number;
  readonly businessDays: number;
  readonly concurrencyPerTenant: number;
  readonly sparkMs: number;
  readonly fakes: () => Activities;
  /** The worker's tuning, from the configuration (NIGHTJAR_WORKER_*). */
  readonly worker: WorkerConfig;
}): Promise<ScaleResult> {
  const env = await benchDevServer(opts.repoRoot, ['--dynamic-config-value', 'frontend.rps=10000', '--dynamic-config-value', 'frontend.namespaceRPS=10000']);
  try {
    // Bundled in another process, as a production worker loads a bundle prebuilt at image build
    // time (NIGHTJAR_WORKFLOW_BUNDLE): webpack's memory is not the worker's.
    const bundleFile = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'nightjar-scale-')), 'workflow-bundle.js');
    execFileSync(process.execPath, ['-e', BUNDLE_SCRIPT, benchWorkflowsPath(opts.repoRoot), bundleFile], { stdio: ['ignore', 'ignore', 'inherit'] });
    const taskQueue = 'bench-scale';
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: { codePath: bundleFile },
      activities: withSparkDuration(opts.fakes(), opts.sparkMs),
      ...workerTuning(opts.worker),
    });
    // The tenants the backfill runs for; the trigger policy must serve each of them.
    const tenants = Array.from({ length: opts.tenants }, (_, i) => `t${String(i + 1).padStart(2, '0')}`);
    const triggers = new TemporalNightTriggers(env.client, { namespace: env.namespace ?? 'default', taskQueue, policy: { tenants: ['solo', ...tenants], window: { pastDays: 36_600, futureDays: 366 }, caps: { normalize: DEFAULT_ESCALATION, transform: DEFAULT_ESCALATION }, today: () => new Date().toISOString().slice(0, 10) } });
    // 30 business days from a Monday: six calendar weeks.
    const from = '2026-01-05';
    const dates = businessDatesBetween(CALENDAR, from, '2026-12-31').slice(0, opts.businessDays);
    const to = dates[dates.length - 1] as string;

    let peakRss = 0;
    let peakHeap = 0;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    }, 250);

    const result = await worker.runUntil(async () => {
      // One night alone: the ideal's unit.
      const t0 = performance.now();
      await backfill({ client: env.client, triggers, calendar: CALENDAR, tenant: 'solo', from: '2025-12-01', to: '2025-12-01', concurrency: 1 });
      const singleNightMs = performance.now() - t0;

      const nights: BackfillNight[] = [];
      const began = performance.now();
      const reports = await Promise.all(
        tenants.map((tenant) =>
          backfill({ client: env.client, triggers, calendar: CALENDAR, tenant, from, to, concurrency: opts.concurrencyPerTenant, onNight: (n) => nights.push(n) }),
        ),
      );
      const wallMs = performance.now() - began;

      // History size: a sample of nights across tenants.
      const sample = tenants.slice(0, 10).flatMap((tenant) => dates.slice(0, 2).map((date) => dailyWorkflowId(date, tenant)));
      const events: number[] = [];
      for (const id of sample) {
        const history = await env.client.workflow.getHandle(id).fetchHistory();
        events.push(history.events?.length ?? 0);
      }
      return { singleNightMs, wallMs, nights, reports, events };
    });
    clearInterval(sampler);

    const total = result.nights.length;
    const concurrency = opts.tenants * opts.concurrencyPerTenant;
    const idealWallMs = Math.ceil(total / concurrency) * result.singleNightMs;
    const durations = result.nights.map((n) => n.durationMs);
    return {
      tenants: opts.tenants,
      businessDays: dates.length,
      nights: total,
      concurrency,
      sparkStepMs: opts.sparkMs,
      singleNightMs: round(result.singleNightMs, 0),
      wallMs: round(result.wallMs, 0),
      idealWallMs: round(idealWallMs, 0),
      wallOverIdeal: round(result.wallMs / idealWallMs, 2),
      startsPerSecond: round(total / (result.wallMs / 1000), 1),
      nightP50Ms: round(percentile(durations, 50), 0),
      nightP99Ms: round(percentile(durations, 99), 0),
      peakRssMiB: round(peakRss / 2 ** 20, 0),
      peakHeapMiB: round(peakHeap / 2 ** 20, 0),
      historyEventsMedian: percentile(result.events, 50),
      historyEventsMax: Math.max(...result.events),
      failed: result.nights.filter((n) => n.outcome !== 'COMPLETED').length,
    };
  } finally {
    await env.teardown();
  }
}

/**
 * Orchestration overhead: what Temporal adds around the work of a night.
 * - Fixed-duration fake steps (no Spark) over many nights on the real dev server: per-step
 *   transition latency (end of one step → start of the next, p50/p99) and wall time against the
 *   sum of the steps' own durations and against calling the same steps directly, without Temporal.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { Activities } from '../src/activities';
import { dailyPipeline } from '../src/workflows';
import { percentile, round, sum } from './stats';
import { benchDevServer, benchWorkflowsPath } from './dev-server';

interface Span {
  name: string;
  start: number;
  end: number;
}

/** Fake activities that each take `stepMs` and record when they ran. */
function timedFakes(stepMs: number, spans: Span[], fakes: Activities): Activities {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(fakes)) {
    wrapped[name] = async (...args: unknown[]) => {
      const start = performance.now();
      await new Promise((r) => setTimeout(r, stepMs));
      const result = await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
      spans.push({ name, start, end: performance.now() });
      return result;
    };
  }
  return wrapped as unknown as Activities;
}

/** Transition gaps between sequential steps; parallel ingests count as one step. */
function transitions(spans: Span[]): number[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const groups: Span[] = [];
  for (const s of sorted) {
    const last = groups[groups.length - 1];
    if (last && last.name === 'ingestFeed' && s.name === 'ingestFeed') {
      last.end = Math.max(last.end, s.end);
    } else groups.push({ ...s });
  }
  const gaps: number[] = [];
  for (let i = 1; i < groups.length; i++) gaps.push(groups[i]!.start - groups[i - 1]!.end);
  return gaps;
}

export interface OrchestrationResult {
  nights: number;
  stepMs: number;
  activitiesPerNight: number;
  transitionP50Ms: number;
  transitionP99Ms: number;
  wallPerNightMs: number;
  activityTimePerNightMs: number;
  directPerNightMs: number;
  overheadPerNightMs: number;
}

export async function benchOrchestration(opts: { repoRoot: string; nights: number; stepMs: number; fakes: (spans: Span[]) => Activities }): Promise<OrchestrationResult> {
  const env = await benchDevServer(opts.repoRoot);
  try {
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: benchWorkflowsPath(opts.repoRoot) });
    const spans: Span[] = [];
    const activities = timedFakes(opts.stepMs, spans, opts.fakes(spans));
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'bench', workflowBundle, activities });
    const gaps: number[] = [];
    const walls: number[] = [];
    const activityTimes: number[] = [];
    let perNight = 0;
    await worker.runUntil(async () => {
      // One warm-up night, not counted.
      await env.client.workflow.execute(dailyPipeline, { taskQueue: 'bench', workflowId: 'bench-warmup', args: [{ businessDate: '2026-01-01' }] });
      for (let i = 0; i < opts.nights; i++) {
        spans.length = 0;
        const t0 = performance.now();
        await env.client.workflow.execute(dailyPipeline, { taskQueue: 'bench', workflowId: `bench-${i}`, args: [{ businessDate: '2026-01-02' }] });
        walls.push(performance.now() - t0);
        gaps.push(...transitions(spans));
        // Busy time: sequential steps plus the parallel ingest counted once.
        const ingest = spans.filter((s) => s.name === 'ingestFeed');
        const rest = spans.filter((s) => s.name !== 'ingestFeed');
        activityTimes.push(sum(rest.map((s) => s.end - s.start)) + (Math.max(...ingest.map((s) => s.end)) - Math.min(...ingest.map((s) => s.start))));
        perNight = spans.length;
      }
    });

    // The same steps called directly, in the same order, without Temporal.
    const directSpans: Span[] = [];
    const direct = timedFakes(opts.stepMs, directSpans, opts.fakes(directSpans));
    const mock = new MockActivityEnvironment();
    const directWalls: number[] = [];
    for (let i = 0; i < opts.nights; i++) {
      const t0 = performance.now();
      await mock.run(async () => {
        const plan = await direct.planRun({ businessDate: '2026-01-02' });
        const ingested = await Promise.all(plan.feeds.map(({ feed }) => direct.ingestFeed({ businessDate: '2026-01-02', feed })));
        for (const job of ['normalize', 'transform'] as const) {
          const sub = await direct.submitSparkJob({ attemptId: `d-${job}`, workflowId: 'direct', businessDate: '2026-01-02', job, attempt: 1, resources: plan.jobs[job].resources, inputs: Object.fromEntries(ingested.map((f) => [f.feed, f.rawUri ?? ''])) });
          await direct.awaitSparkJob(sub);
          await direct.cleanupSparkJob({ attemptId: sub.attemptId, job, businessDate: '2026-01-02', keepOutput: true });
        }
        await direct.exportReports({ businessDate: '2026-01-02', reports: [] });
        await direct.finalizeRun({ manifest: { businessDate: '2026-01-02', status: 'COMPLETED', workflowId: 'direct', runId: 'direct', startedAt: '', finishedAt: '', feeds: [], steps: [], reports: [] } });
      });
      directWalls.push(performance.now() - t0);
    }
    const wall = percentile(walls, 50);
    const directWall = percentile(directWalls, 50);
    return {
      nights: opts.nights,
      stepMs: opts.stepMs,
      activitiesPerNight: perNight,
      transitionP50Ms: round(percentile(gaps, 50)),
      transitionP99Ms: round(percentile(gaps, 99)),
      wallPerNightMs: round(wall),
      activityTimePerNightMs: round(percentile(activityTimes, 50)),
      directPerNightMs: round(directWall),
      overheadPerNightMs: round(wall - directWall),
    };
  } finally {
    await env.teardown();
  }
}

import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../../src/config/config';
import { refusalMessage } from '../../src/domain/night-story';
import { connectTemporal, type CliDeps } from '../../src/cli/context';
import { OperationRefused } from '../../src/cli/exit-codes';
import { runCli } from '../../src/cli/main';
import { feedArrivalFromFlags } from '../../src/cli/operator-commands';
import {
  cancelNight,
  deleteSchedule,
  describeSchedule,
  holdExport,
  listNights,
  nightStatus,
  pauseSchedule,
  releaseExport,
  reportFeedArrival,
  resolveStep,
  runBackfill,
  runJanitor,
  startNight,
  unpauseSchedule,
  upsertSchedule,
  type NightFilter,
  type NightList,
  type NightRef,
  type TemporalTarget,
} from '../../src/cli/operations';
import { renderBackfillNight, renderBackfillSummary, renderSchedule } from '../../src/cli/render-results';
import { renderStatus } from '../../src/cli/render-status';
import type { BackfillNight } from '../../src/triggers/backfill';
import type { PipelineStatus } from '../../src/workflows/messages';
import { PERMANENT, type FakeCalls, type FakeScript } from '../helpers/fake-activities';
import { createDevServerEnv, uniqueId, workflowBundle } from '../helpers/temporal';
import { withFakeWorker } from '../helpers/nights';
import { everyTenant, testTarget } from '../helpers/trigger-policy';

jest.setTimeout(180_000);

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
  await workflowBundle();
});
afterAll(async () => {
  await env?.teardown();
});

const BUSINESS_DATE = '2026-11-20';
const UI_URL = 'http://localhost:8233';
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A tenant no other test uses, so every night's workflow id is new. */
const newTenant = () => uniqueId('t');

interface Ctx {
  readonly target: TemporalTarget;
  readonly calls: FakeCalls;
}

/** A worker with fake activities on a task queue of its own, running while `body` runs. */
function withWorker(script: FakeScript, body: (ctx: Ctx) => Promise<void>): Promise<void> {
  return withFakeWorker(
    env,
    script,
    ({ taskQueue, calls }) => body({ target: { ...testTarget(taskQueue, everyTenant(), env.namespace ?? 'default'), tenant: 'default', uiUrl: UI_URL }, calls }),
    // Cancellation reaches a heartbeating activity with its next heartbeat: do not hold them back.
    { maxHeartbeatThrottleInterval: '100 ms', defaultHeartbeatThrottleInterval: '100 ms' },
  );
}

/** Polls the night's status until `done` holds (a parked or held night has no result to wait on). */
async function waitForStatus(target: TemporalTarget, ref: NightRef, done: (s: PipelineStatus) => boolean, what: string): Promise<PipelineStatus> {
  let last: unknown;
  for (let i = 0; i < 150; i++) {
    last = await nightStatus(env.client, target, ref).catch((e: unknown) => e);
    if (!(last instanceof Error) && done(last as PipelineStatus)) return last as PipelineStatus;
    await pause(100);
  }
  throw new Error(`no ${what} after 15 s; last status: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}

/** Visibility is eventually consistent: polls the list until it has `count` nights. */
async function waitForList(filter: NightFilter, count: number): Promise<NightList> {
  let list: NightList | undefined;
  for (let i = 0; i < 100; i++) {
    list = await listNights(env.client, { ...filter, limit: 50 });
    if (list.nights.length === count) return list;
    await pause(200);
  }
  throw new Error(`expected ${count} night(s) for ${list?.query}, found ${list?.nights.length}`);
}

/** `nightjar <args>` in-process against the test server, with captured output. */
async function cli(target: TemporalTarget, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const deps: CliDeps = {
    output: { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) },
    // The configuration of the tenant the command names: a deployment serves its own tenant only.
    env: {
      NIGHTJAR_TEMPORAL_ADDRESS: env.address,
      NIGHTJAR_TEMPORAL_NAMESPACE: target.namespace,
      NIGHTJAR_TASK_QUEUE: target.taskQueue,
      ...(args.includes('--tenant') ? { NIGHTJAR_TENANT: args[args.indexOf('--tenant') + 1] } : {}),
    },
    connect: connectTemporal,
  };
  const code = await runCli(['node', 'nightjar', ...args], deps);
  return { code, stdout, stderr };
}

test('start twice joins the running night; status shows the missing feed; feed-arrived brings it; a completed night is listed and not started again', async () => {
  await withWorker({ absentFeeds: ['fx_rates'] }, async ({ target, calls }) => {
    const ref = { businessDate: BUSINESS_DATE, tenant: newTenant() };
    const workflowId = `nightjar-daily-${ref.tenant}-${BUSINESS_DATE}`;

    const first = await startNight(env.client, target, ref);
    expect(first).toMatchObject({ ...ref, workflowId, started: true, uiLink: `${UI_URL}/namespaces/${target.namespace}/workflows/${workflowId}` });
    const second = await startNight(env.client, target, ref);
    expect(second).toMatchObject({ workflowId, runId: first.runId, started: false });
    // Joining with a size the running night does not have is refused, never dropped silently.
    await expect(startNight(env.client, target, { ...ref, driverMemoryMb: 4096 })).rejects.toThrow(/already running with no overrides; its sizes cannot change now/);

    const waiting = await waitForStatus(target, ref, (s) => s.status === 'AWAITING_FEEDS', 'wait for feeds');
    expect(waiting.feeds.find((f) => f.feed === 'fx_rates')).toMatchObject({ state: 'WAITING' });
    expect(renderStatus(waiting)).toMatch(/fx_rates\s+WAITING\s+yes/);
    const awaiting = await waitForList({ tenant: ref.tenant, status: 'AWAITING_FEEDS' }, 1);
    expect(awaiting.nights[0]).toMatchObject({ businessDate: BUSINESS_DATE, tenant: ref.tenant, status: 'AWAITING_FEEDS', stage: 'awaiting-feeds', execution: 'RUNNING' });

    const arrival = feedArrivalFromFlags({ ...ref, feed: 'fx_rates', uri: 'file:///landing/late/fx_rates.csv', sha256: 'cd'.repeat(32) });
    const reported = await reportFeedArrival(env.client, target, arrival);
    expect(reported).toMatchObject({ workflowId, runId: first.runId });

    await env.client.workflow.getHandle(workflowId).result();
    const done = await nightStatus(env.client, target, ref);
    expect(done).toMatchObject({ status: 'COMPLETED', stage: 'done' });
    expect(done.feeds.find((f) => f.feed === 'fx_rates')).toMatchObject({ state: 'INGESTED', via: 'signal', uri: 'file:///landing/late/fx_rates.csv' });
    expect(calls.ingests.find((i) => i.feed === 'fx_rates')).toMatchObject({ sourceUri: 'file:///landing/late/fx_rates.csv', expectedSha256: 'cd'.repeat(32) });

    const completed = await waitForList({ tenant: ref.tenant, status: 'COMPLETED' }, 1);
    expect(completed.nights[0]).toMatchObject({ workflowId, runId: first.runId, status: 'COMPLETED', stage: 'done', execution: 'COMPLETED' });
    expect(completed.nights[0]?.closeTime).toBeDefined();
    expect((await listNights(env.client, { tenant: ref.tenant, status: 'AWAITING_FEEDS', limit: 10 })).nights).toEqual([]);

    const again = await cli(target, ['start', '--date', BUSINESS_DATE, '--tenant', ref.tenant]);
    expect(again).toEqual({ code: 1, stdout: '', stderr: `error: the night ${ref.tenant} ${BUSINESS_DATE} already completed; add --force to run it again (its reports are replaced)\n` });
    const forced = await startNight(env.client, target, { ...ref, force: true });
    expect(forced).toMatchObject({ started: true });
    expect(forced.runId).not.toBe(first.runId);
    // The landing zone still lacks fx_rates: the new run waits for its notice too.
    await expect(reportFeedArrival(env.client, target, arrival)).resolves.toMatchObject({ runId: forced.runId });
    await env.client.workflow.getHandle(workflowId, forced.runId).result();

    // The same through the command line: status as JSON, exit code 0.
    const status = await cli(target, ['status', '--date', BUSINESS_DATE, '--tenant', ref.tenant, '--json']);
    expect(status).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(status.stdout)).toMatchObject({ businessDate: BUSINESS_DATE, tenant: ref.tenant, status: 'COMPLETED' });
  });
});

test('a parked night: listed as NEEDS_ATTENTION, status shows the resolve command, a wrong step is refused by the validator, a retry with more memory completes it', async () => {
  await withWorker({ outcomes: { normalize: [PERMANENT] } }, async ({ target, calls }) => {
    const ref = { businessDate: BUSINESS_DATE, tenant: newTenant() };
    const started = await startNight(env.client, target, ref);

    const parked = await waitForStatus(target, ref, (s) => s.parked !== undefined, 'parked step');
    expect(parked).toMatchObject({ status: 'NEEDS_ATTENTION', parked: { step: 'normalize', actions: ['retry', 'abort'] } });
    const text = renderStatus(parked);
    expect(text).toContain(`nightjar resolve --date ${BUSINESS_DATE} --tenant ${ref.tenant} --step normalize --action retry`);
    expect(text).toContain('AnalysisException: column not found');

    const listed = await waitForList({ tenant: ref.tenant, status: 'NEEDS_ATTENTION' }, 1);
    expect(listed.nights[0]).toMatchObject({ workflowId: started.workflowId, status: 'NEEDS_ATTENTION', stage: 'normalize' });

    const wrongStep = resolveStep(env.client, ref, { step: 'transform', action: 'retry' });
    await expect(wrongStep).rejects.toBeInstanceOf(OperationRefused);
    await expect(wrongStep).rejects.toThrow("resolveStep refused: the night waits on step 'normalize', not 'transform'");
    // Through the command line: exit code 1 and the workflow's own words.
    const refused = await cli(target, ['resolve', '--date', BUSINESS_DATE, '--tenant', ref.tenant, '--step', 'normalize', '--action', 'skip']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`error: ${refusalMessage("'skip' is not allowed for normalize: retry, abort", parked.parked)}\n`);
    // A refused decision leaves the night parked.
    expect((await nightStatus(env.client, target, ref)).parked?.step).toBe('normalize');

    const resolved = await resolveStep(env.client, ref, { step: 'normalize', action: 'retry', overrides: { driverMemoryMb: 2048 }, reason: 'column added upstream', by: 'ops' });
    expect(resolved).toEqual({ workflowId: started.workflowId, accepted: true, step: 'normalize', action: 'retry' });
    await env.client.workflow.getHandle(started.workflowId).result();

    const done = await nightStatus(env.client, target, ref);
    expect(done.status).toBe('COMPLETED');
    expect(done.decisions).toEqual([{ step: 'normalize', action: 'retry', reason: 'column added upstream', by: 'ops' }]);
    const normalizeSubmits = calls.submits.filter((s) => s.job === 'normalize');
    expect(normalizeSubmits.map((s) => s.resources.driverMemoryMb)).toEqual([normalizeSubmits[0]!.resources.driverMemoryMb, 2048]);

    // Nothing waits for a decision any more.
    await expect(resolveStep(env.client, ref, { step: 'normalize', action: 'retry' })).rejects.toThrow(`cannot resolve normalize: the night ${ref.tenant} ${BUSINESS_DATE} is not running (COMPLETED)`);
  });
});

test('hold keeps the export from starting until release; a hold after the night ended is refused', async () => {
  let transformMayFinish!: () => void;
  const transformHeld = new Promise<void>((resolve) => (transformMayFinish = resolve));
  await withWorker({ pauseOn: { job: 'transform', until: transformHeld } }, async ({ target, calls }) => {
    const ref = { businessDate: BUSINESS_DATE, tenant: newTenant() };
    const started = await startNight(env.client, target, ref);
    await waitForStatus(target, ref, (s) => s.stage === 'transform', 'transform running');

    const held = await holdExport(env.client, ref, { reason: 'finance checks the FX rates', by: 'controller' });
    expect(held).toMatchObject({ workflowId: started.workflowId, runId: started.runId, reason: 'finance checks the FX rates', by: 'controller' });
    transformMayFinish();

    const waiting = await waitForStatus(target, ref, (s) => s.stage === 'export' && s.exportHold !== undefined, 'export held');
    expect(waiting.exportHold).toMatchObject({ reason: 'finance checks the FX rates', by: 'controller' });
    expect(renderStatus(waiting)).toContain(`release with: nightjar release --date ${BUSINESS_DATE} --tenant ${ref.tenant}`);
    await pause(500);
    expect(calls.order).not.toContain('export');

    await expect(releaseExport(env.client, ref, 'controller')).resolves.toMatchObject({ workflowId: started.workflowId, by: 'controller' });
    await env.client.workflow.getHandle(started.workflowId).result();
    expect(calls.order.indexOf('export')).toBeGreaterThan(calls.order.indexOf('cleanup:transform'));

    await expect(holdExport(env.client, ref, { reason: 'too late' })).rejects.toThrow(`cannot hold the export: the night ${ref.tenant} ${BUSINESS_DATE} is not running (COMPLETED)`);
    const unknown = { businessDate: '2026-11-19', tenant: ref.tenant };
    await expect(releaseExport(env.client, unknown)).rejects.toThrow(`no night ${ref.tenant} 2026-11-19 is known to Temporal (workflow nightjar-daily-${ref.tenant}-2026-11-19)`);
  });
});

test('cancel stops a running night, which cleans up its Spark attempt and writes a CANCELLED manifest; the reason is in the history', async () => {
  await withWorker({ hangOn: 'normalize' }, async ({ target, calls }) => {
    const ref = { businessDate: BUSINESS_DATE, tenant: newTenant() };
    const started = await startNight(env.client, target, ref);
    for (let i = 0; i < 100 && !calls.order.includes('await:normalize'); i++) await pause(100);

    const cancelled = await cancelNight(env.client, ref, 'wrong extract delivered');
    expect(cancelled).toEqual({ ...ref, workflowId: started.workflowId, runId: started.runId, reason: 'wrong extract delivered' });
    const handle = env.client.workflow.getHandle(started.workflowId);
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);

    expect((await handle.describe()).status.name).toBe('CANCELLED');
    expect(calls.cleanups.filter((c) => c.job === 'normalize')).toEqual([expect.objectContaining({ keepOutput: false })]);
    expect(calls.finalized.map((f) => f.manifest.status)).toEqual(['CANCELLED']);
    const requested = (await handle.fetchHistory()).events?.find((e) => e.workflowExecutionCancelRequestedEventAttributes);
    expect(requested?.workflowExecutionCancelRequestedEventAttributes?.cause).toBe('wrong extract delivered');
    expect((await nightStatus(env.client, target, ref)).status).toBe('CANCELLED');

    await expect(cancelNight(env.client, ref)).rejects.toThrow(`cannot cancel: the night ${ref.tenant} ${BUSINESS_DATE} is not running (CANCELLED)`);
  });
});

test('backfill of five business days, two at a time: one line per night, a summary; a second run skips the completed nights', async () => {
  await withWorker({}, async ({ target }) => {
    const tenant = newTenant();
    const calendar = loadConfig({}).calendar;
    const lines: string[] = [];
    const onNight = (n: BackfillNight) => lines.push(renderBackfillNight(n));
    // Monday 16 to Sunday 22 November 2026: five business dates.
    const request = { calendar, tenant, from: '2026-11-16', to: '2026-11-22', concurrency: 2, onNight };

    const first = await runBackfill(env.client, target, request);
    expect(first.dates).toBe(5);
    expect(first.nights.map((n) => [n.businessDate, n.outcome])).toEqual(['16', '17', '18', '19', '20'].map((d) => [`2026-11-${d}`, 'COMPLETED']));
    expect(lines).toHaveLength(5);
    for (const line of lines) expect(line).toMatch(/^2026-11-(16|17|18|19|20) {2}COMPLETED +\d+\.\ds {2}nightjar-daily-/);
    expect(renderBackfillSummary(first, request.from, request.to)).toMatch(
      new RegExp(`^Backfill ${tenant} 2026-11-16 → 2026-11-22: 5 business date\\(s\\) — 5 completed, 0 skipped \\(already completed\\), 0 failed — wall time \\d+\\.\\ds\\n$`),
    );

    // Never more than two nights at once, by the server's own start and close times.
    const spans = await Promise.all(first.nights.map(async (n) => env.client.workflow.getHandle(n.workflowId).describe()));
    const events = spans.flatMap((d) => [
      { at: d.startTime.getTime(), delta: 1 },
      { at: (d.closeTime as Date).getTime(), delta: -1 },
    ]);
    events.sort((a, b) => a.at - b.at || a.delta - b.delta);
    let running = 0;
    let most = 0;
    for (const e of events) most = Math.max(most, (running += e.delta));
    expect(most).toBe(2);

    lines.length = 0;
    const second = await runBackfill(env.client, target, request);
    expect(second.nights.map((n) => n.outcome)).toEqual(Array(5).fill('SKIPPED_COMPLETED'));
    expect(lines).toHaveLength(5);
    expect(renderBackfillSummary(second, request.from, request.to)).toContain('0 completed, 5 skipped (already completed), 0 failed');

    // The list filters on business dates too.
    const middle = await waitForList({ tenant, from: '2026-11-17', to: '2026-11-19' }, 3);
    expect(middle.nights.map((n) => n.businessDate).sort()).toEqual(['2026-11-17', '2026-11-18', '2026-11-19']);
  });
});

test('schedule upsert creates then updates; describe shows the next runs in UTC and local time; pause, unpause and delete; a missing schedule is refused', async () => {
  const tenant = newTenant();
  // No worker polls this queue: the schedule never gets to start anything in this test.
  const target: TemporalTarget = { ...testTarget(uniqueId('nobody-polls'), everyTenant(), env.namespace ?? 'default'), tenant: 'default', uiUrl: UI_URL };
  const options = { tenant, taskQueue: target.taskQueue, time: '06:00', timeZone: 'Europe/Brussels', catchupWindowSeconds: 3600, lookbackDays: 7 };
  try {
    const created = await upsertSchedule(env.client, options);
    expect(created.outcome).toBe('created');
    expect(created.schedule).toMatchObject({ scheduleId: `nightjar-nightly-${tenant}`, time: '06:00', timeZone: 'Europe/Brussels', paused: false });
    for (const local of created.schedule.nextActionLocalTimes) expect(local).toMatch(/T06:00:00\.000\+0[12]:00$/);
    const text = renderSchedule(created.schedule);
    expect(text).toContain('next runs (UTC, then Europe/Brussels):');
    expect(text).toContain(`${created.schedule.nextActionTimes[0]}`);
    expect(text).toContain(`${created.schedule.nextActionLocalTimes[0]}`);

    // Through the command line, the time and zone from flags: the same schedule is updated.
    const viaCli = await cli(target, ['schedule', 'upsert', '--tenant', tenant, '--time', '07:30', '--time-zone', 'America/New_York']);
    expect(viaCli).toMatchObject({ code: 0, stderr: '' });
    expect(viaCli.stdout).toMatch(new RegExp(`^Updated nightjar-nightly-${tenant}\\n`));
    expect(viaCli.stdout).toContain('daily at 07:30 America/New_York');

    const paused = await pauseSchedule(env.client, tenant, 'core banking migration');
    expect(paused).toMatchObject({ paused: true, note: 'core banking migration', time: '07:30', timeZone: 'America/New_York' });
    const resumed = await unpauseSchedule(env.client, tenant, 'migration done');
    expect(resumed).toMatchObject({ paused: false, note: 'migration done' });
    expect(await describeSchedule(env.client, tenant)).toMatchObject({ paused: false, time: '07:30' });

    await expect(deleteSchedule(env.client, tenant)).resolves.toEqual({ scheduleId: `nightjar-nightly-${tenant}`, tenant });
    const gone = describeSchedule(env.client, tenant);
    await expect(gone).rejects.toBeInstanceOf(OperationRefused);
    await expect(gone).rejects.toThrow(`tenant ${tenant} has no nightly schedule (nightjar-nightly-${tenant}); create it with: nightjar schedule upsert --tenant ${tenant}`);
    const describeCli = await cli(target, ['schedule', 'describe', '--tenant', tenant]);
    expect(describeCli.code).toBe(1);
    await expect(pauseSchedule(env.client, tenant, 'x')).rejects.toBeInstanceOf(OperationRefused);
  } finally {
    await env.client.schedule
      .getHandle(`nightjar-nightly-${tenant}`)
      .delete()
      .catch(() => undefined);
  }
});

test('janitor runs the sparkJanitor workflow once and returns its report', async () => {
  await withWorker({}, async ({ target, calls }) => {
    const report = await runJanitor(env.client, target, { minAgeSeconds: 0, dryRun: true });
    expect(report).toMatchObject({ namespace: 'nightly', examined: 0, removed: [], failed: [], dryRun: true });
    expect(report.workflowId).toMatch(/^nightjar-spark-janitor-manual-/);
    expect(calls.order).toEqual(['sweep']);
    expect((await env.client.workflow.getHandle(report.workflowId).describe()).type).toBe('sparkJanitor');
  });
});

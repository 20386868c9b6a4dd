import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { FEED_NAMES, type FeedName } from '../../src/domain/feeds/catalog';
import { refusalMessage } from '../../src/domain/night-story';
import type { FeedArrivalInput } from '../../src/domain/triggers';
import { dailyPipeline } from '../../src/workflows';
import { ABORTED_BY_OPERATOR } from '../../src/workflows/daily-pipeline';
import {
  feedArrivedSignal,
  holdExportSignal,
  releaseExportSignal,
  resolveStepSignal,
  resolveStepUpdate,
  statusQuery,
  type PipelineStatus,
  type ResolveStepRequest,
} from '../../src/workflows/messages';
import { SearchAttr } from '../../src/workflows/search-attributes';
import { waitForStatus as waitForStatusOf, withFakeWorker } from '../helpers/nights';
import { createTimeSkippingEnv, uniqueId } from '../helpers/temporal';
import { exportRejected, feedRejected, PERMANENT, type FakeCalls, type FakeScript } from '../helpers/fake-activities';

jest.setTimeout(120_000);

const BUSINESS_DATE = '2026-11-20';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const run = (script: FakeScript, body: (ctx: { taskQueue: string; calls: FakeCalls }) => Promise<void>) => withFakeWorker(env, script, body);

const start = (taskQueue: string, tenant?: string) =>
  env.client.workflow.start(dailyPipeline, {
    taskQueue,
    workflowId: uniqueId(`daily-${tenant ?? 'default'}-${BUSINESS_DATE}`),
    args: [{ businessDate: BUSINESS_DATE, ...(tenant ? { tenant } : {}) }],
  });

type Night = Awaited<ReturnType<typeof start>>;
type HistoryEvent = NonNullable<Awaited<ReturnType<Night['fetchHistory']>>['events']>[number];

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

const waitForStatus = (handle: Night, done: (s: PipelineStatus) => boolean, what: string) => waitForStatusOf(env, handle, done, what);
const waitForParked = (handle: Night) => waitForStatus(handle, (s) => s.parked !== undefined, 'parked step');

async function history(handle: Night): Promise<HistoryEvent[]> {
  return (await handle.fetchHistory()).events ?? [];
}

/** Waits until a workflow task completed after the last signal: every signal sent so far was handled. */
async function waitForSignalsHandled(handle: Night): Promise<void> {
  for (let i = 0; i < 150; i++) {
    const events = await history(handle);
    let lastSignal = -1;
    let lastTaskCompleted = -1;
    events.forEach((e, at) => {
      if (e.workflowExecutionSignaledEventAttributes) lastSignal = at;
      if (e.workflowTaskCompletedEventAttributes) lastTaskCompleted = at;
    });
    if (lastSignal >= 0 && lastTaskCompleted > lastSignal) return;
    await pause(100);
  }
  throw new Error('signals not handled after 15 s');
}

/** The night's search attributes, as the Temporal UI's list filters them. */
async function searchAttributes(handle: Night) {
  const sa = (await handle.describe()).typedSearchAttributes;
  return { businessDate: sa.get(SearchAttr.businessDate), tenant: sa.get(SearchAttr.tenant), status: sa.get(SearchAttr.status), stage: sa.get(SearchAttr.stage) };
}

const resolve = (handle: Night, req: ResolveStepRequest) => handle.executeUpdate(resolveStepUpdate, { args: [req] });

/** A `feedArrived` notice for tonight, by default for the default tenant. */
const arrival = (feed: FeedName, extra: Partial<FeedArrivalInput> = {}): FeedArrivalInput => ({
  businessDate: BUSINESS_DATE,
  feed,
  uri: `file:///inbox/${BUSINESS_DATE}/${feed}-delivered.csv`,
  ...extra,
});

const landingUri = (feed: FeedName) => `file:///landing/${BUSINESS_DATE}/${feed}.csv`;

// ---- resolveStep: what the validator refuses ---------------------------------------------------

describe('resolveStep validator', () => {
  test('with no step parked a decision is refused and the night runs on', async () => {
    let finishNormalize!: () => void;
    const normalizeMayFinish = new Promise<void>((r) => (finishNormalize = r));
    await run({ pauseOn: { job: 'normalize', until: normalizeMayFinish } }, async ({ taskQueue, calls }) => {
      const handle = await start(taskQueue);
      await waitForStatus(handle, (s) => s.stage === 'normalize', 'normalize stage');
      await expect(resolve(handle, { step: 'normalize', action: 'retry' })).rejects.toHaveProperty('cause.message', 'resolveStep refused: no step is waiting for a decision');
      finishNormalize();
      expect((await handle.result()).status).toBe('COMPLETED');
      expect(calls.submits.filter((s) => s.job === 'normalize')).toHaveLength(1);
      expect(calls.finalized[0]!.manifest.decisions).toBeUndefined();
    });
  });

  test('at a parked Spark step it refuses the wrong step, a feed, an unknown action, skip and invalid overrides, changing nothing; a valid retry then works', async () => {
    await run({ outcomes: { normalize: [PERMANENT] } }, async ({ taskQueue, calls }) => {
      const handle = await start(taskQueue);
      await waitForParked(handle);
      const before = await handle.query(statusQuery);
      const eventsBefore = (await history(handle)).length;
      const callsBefore = calls.order.length;

      const refused: [ResolveStepRequest, string | RegExp][] = [
        [{ step: 'transform', action: 'retry' }, refusalMessage("the night waits on step 'normalize', not 'transform'", before.parked)],
        [{ step: 'normalize', feed: 'accounts', action: 'retry' }, refusalMessage("the night waits on feed '(none)', not 'accounts'", before.parked)],
        [{ step: 'normalize', action: 'restart' as ResolveStepRequest['action'] }, refusalMessage("unknown action 'restart': retry, skip or abort", before.parked)],
        [{ step: 'normalize', action: 'skip' }, refusalMessage("'skip' is not allowed for normalize: retry, abort", before.parked)],
        [{ step: 'normalize', action: 'abort', overrides: { driverMemoryMb: 4096 } }, refusalMessage('overrides apply only to a retry of a Spark step (normalize, transform)', before.parked)],
        [{ step: 'normalize', action: 'retry', overrides: { driverMemoryMb: -1 } }, /^resolveStep refused: invalid overrides: driverMemoryMb: /],
        [{ step: 'normalize', action: 'retry', overrides: { driverMemory: 4096 } as ResolveStepRequest['overrides'] }, /^resolveStep refused: invalid overrides: .*unexpected field\(s\) driverMemory/],
        // Tonight's caps (the plan's policy: executors at most 4096 MiB), the numbers escalation stops at.
        [{ step: 'normalize', action: 'retry', overrides: { executorMemoryMb: 8192 } }, /^resolveStep refused: invalid overrides: executorMemoryMb: must be at most 4096 \(the executor memory cap\)/],
      ];
      for (const [req, why] of refused) {
        await expect(resolve(handle, req)).rejects.toHaveProperty('cause.message', typeof why === 'string' ? why : expect.stringMatching(why));
      }

      // Nothing changed: same status, no update accepted, no search attribute or step recorded,
      // nothing run. (The time-skipping server records the workflow tasks that ran the
      // validators; a real server drops them.)
      expect(await handle.query(statusQuery)).toEqual(before);
      const added = (await history(handle)).slice(eventsBefore);
      expect(added.filter((e) => !(e.workflowTaskScheduledEventAttributes || e.workflowTaskStartedEventAttributes || e.workflowTaskCompletedEventAttributes))).toEqual([]);
      expect(calls.order.length).toBe(callsBefore);
      expect((await searchAttributes(handle)).status).toBe('NEEDS_ATTENTION');

      await resolve(handle, { step: 'normalize', action: 'retry', overrides: { executorMemoryMb: 1024 } });
      expect((await handle.result()).status).toBe('COMPLETED');
      expect(calls.submits.filter((s) => s.job === 'normalize').map((s) => s.resources.executorMemoryMb)).toEqual([512, 1024]);
      const accepted = (await history(handle)).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
      expect(accepted).toHaveLength(1);
      expect(calls.finalized[0]!.manifest.decisions).toEqual([expect.objectContaining({ step: 'normalize', action: 'retry' })]);
    });
  });

  test('at a parked ingest of a required feed it refuses skip, another feed, a missing feed and overrides; a retry then works', async () => {
    await run({ ingestErrors: { accounts: [feedRejected()] } }, async ({ taskQueue }) => {
      const handle = await start(taskQueue);
      const { parked } = await waitForParked(handle);
      expect(parked).toMatchObject({ step: 'ingest', feed: 'accounts', actions: ['retry', 'abort'] });
      const before = await handle.query(statusQuery);

      await expect(resolve(handle, { step: 'ingest', feed: 'accounts', action: 'skip' })).rejects.toHaveProperty(
        'cause.message',
        refusalMessage("'skip' is not allowed for ingest (accounts): retry, abort", parked),
      );
      await expect(resolve(handle, { step: 'ingest', feed: 'payments', action: 'retry' })).rejects.toHaveProperty(
        'cause.message',
        refusalMessage("the night waits on feed 'accounts', not 'payments'", parked),
      );
      await expect(resolve(handle, { step: 'ingest', action: 'retry' })).rejects.toHaveProperty(
        'cause.message',
        expect.stringMatching(/^resolveStep refused: the night waits on feed 'accounts', not /),
      );
      await expect(resolve(handle, { step: 'ingest', feed: 'accounts', action: 'retry', overrides: { driverMemoryMb: 4096 } })).rejects.toHaveProperty(
        'cause.message',
        refusalMessage('overrides apply only to a retry of a Spark step (normalize, transform)', parked),
      );
      expect(await handle.query(statusQuery)).toEqual(before);

      await resolve(handle, { step: 'ingest', feed: 'accounts', action: 'retry' });
      expect((await handle.result()).status).toBe('COMPLETED');
    });
  });
});

// ---- resolveStep as a signal -------------------------------------------------------------------

test('resolveStepSignal applies a decision like the update; an invalid one is ignored', async () => {
  await run({ outcomes: { normalize: [PERMANENT] } }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue);
    await waitForParked(handle);
    // Were it applied, this abort would end the night.
    await handle.signal(resolveStepSignal, { step: 'normalize', action: 'abort', overrides: { driverMemoryMb: 4096 } });
    await waitForSignalsHandled(handle);
    const after = await handle.query(statusQuery);
    expect(after.parked).toMatchObject({ step: 'normalize' });
    expect(after.decisions).toEqual([]);
    expect((await searchAttributes(handle)).status).toBe('NEEDS_ATTENTION');

    await handle.signal(resolveStepSignal, { step: 'normalize', action: 'retry', by: 'pager-bot' });
    expect((await handle.result()).status).toBe('COMPLETED');
    expect(calls.submits.filter((s) => s.job === 'normalize')).toHaveLength(2);
    expect(calls.finalized[0]!.manifest.decisions).toEqual([expect.objectContaining({ step: 'normalize', action: 'retry', by: 'pager-bot' })]);
  });
});

// ---- waiting for the feeds ---------------------------------------------------------------------

describe('feed gating', () => {
  test('a feed missing from the landing zone holds the night in AWAITING_FEEDS until its feedArrived signal, then it is ingested from the signalled URI', async () => {
    await run({ absentFeeds: ['payments'] }, async ({ taskQueue, calls }) => {
      const handle = await start(taskQueue);
      const waiting = await waitForStatus(handle, (s) => s.status === 'AWAITING_FEEDS', 'AWAITING_FEEDS');
      expect(waiting.stage).toBe('awaiting-feeds');
      expect(waiting.late).toBe(false);
      expect(waiting.feeds.find((f) => f.feed === 'payments')).toMatchObject({ state: 'WAITING', required: true });
      for (const f of waiting.feeds.filter((x) => x.feed !== 'payments')) expect(f).toMatchObject({ state: 'ARRIVED', via: 'discovery', uri: landingUri(f.feed) });
      expect(await searchAttributes(handle)).toMatchObject({ status: 'AWAITING_FEEDS', stage: 'awaiting-feeds' });
      expect(calls.ingests).toEqual([]);

      // Notices for another night, and a malformed one, change nothing.
      await handle.signal(feedArrivedSignal, arrival('payments', { businessDate: '2026-11-21' }));
      await handle.signal(feedArrivedSignal, arrival('payments', { tenant: 'acme' }));
      await handle.signal(feedArrivedSignal, arrival('payments', { uri: 'http://files.example/payments.csv' }));
      await handle.signal(feedArrivedSignal, arrival('payments', { businessDate: '2026-02-30' }));
      await waitForSignalsHandled(handle);
      const still = await handle.query(statusQuery);
      expect(still.status).toBe('AWAITING_FEEDS');
      expect(still.feeds.find((f) => f.feed === 'payments')?.state).toBe('WAITING');
      expect(calls.ingests).toEqual([]);

      const sha256 = 'cd'.repeat(32);
      await handle.signal(feedArrivedSignal, arrival('payments', { sha256, eventId: 'evt-42' }));
      expect((await handle.result()).status).toBe('COMPLETED');
      const payments = calls.ingests.filter((i) => i.feed === 'payments');
      expect(payments).toEqual([{ businessDate: BUSINESS_DATE, feed: 'payments', sourceUri: arrival('payments').uri, expectedSha256: sha256 }]);
      for (const i of calls.ingests.filter((x) => x.feed !== 'payments')) expect(i.sourceUri).toBe(landingUri(i.feed));
      const done = await handle.query(statusQuery);
      expect(done.feeds.find((f) => f.feed === 'payments')).toMatchObject({ state: 'INGESTED', via: 'signal', uri: arrival('payments').uri });
      expect(calls.finalized[0]!.manifest.late).toBeUndefined();
    });
  });

  test('a required feed still missing at its cut-off makes the night LATE; it completes once the feed arrives and the manifest says late', async () => {
    await run({ absentFeeds: ['payments'], cutoffInMs: 60_000 }, async ({ taskQueue, calls }) => {
      const handle = await start(taskQueue);
      const before = await waitForStatus(handle, (s) => s.status === 'AWAITING_FEEDS', 'AWAITING_FEEDS');
      expect(before.late).toBe(false);

      await env.sleep(90_000);
      const late = await waitForStatus(handle, (s) => s.status === 'LATE', 'LATE');
      expect(late).toMatchObject({ late: true, stage: 'awaiting-feeds' });
      expect(await searchAttributes(handle)).toMatchObject({ status: 'LATE', stage: 'awaiting-feeds' });
      expect(calls.ingests).toEqual([]);

      await handle.signal(feedArrivedSignal, arrival('payments'));
      expect((await handle.result()).status).toBe('COMPLETED');
      const manifest = calls.finalized[0]!.manifest;
      expect(manifest).toMatchObject({ status: 'COMPLETED', late: true });
      expect(manifest.feeds.map((f) => f.status)).toEqual(FEED_NAMES.map(() => 'INGESTED'));
      expect(await searchAttributes(handle)).toMatchObject({ status: 'COMPLETED', stage: 'done' });
    });
  });

  test('an optional feed still missing at the deadline is SKIPPED and the night completes without it', async () => {
    await run({ absentFeeds: ['fx_rates'], optionalFeeds: ['fx_rates'], deadlineInMs: 120_000 }, async ({ taskQueue, calls }) => {
      const handle = await start(taskQueue);
      expect((await handle.result()).status).toBe('COMPLETED');
      expect(calls.ingests.map((i) => i.feed)).not.toContain('fx_rates');
      for (const submit of calls.submits) expect(Object.keys(submit.inputs)).not.toContain('fx_rates');
      const manifest = calls.finalized[0]!.manifest;
      expect(manifest.feeds.find((f) => f.feed === 'fx_rates')).toMatchObject({ status: 'SKIPPED', rawUri: null, rowsIn: 0 });
      expect(manifest.feeds.filter((f) => f.feed !== 'fx_rates').map((f) => f.status)).toEqual(FEED_NAMES.filter((f) => f !== 'fx_rates').map(() => 'INGESTED'));
      expect(manifest.late).toBeUndefined();
      expect(manifest.decisions).toBeUndefined();
      expect((await handle.query(statusQuery)).feeds.find((f) => f.feed === 'fx_rates')?.state).toBe('SKIPPED');
    });
  });

  describe('a required feed still missing at the deadline parks ingest as FeedNotFound', () => {
    const reachDeadline = async (handle: Night) => {
      await waitForStatus(handle, (s) => s.status === 'AWAITING_FEEDS', 'AWAITING_FEEDS');
      await env.sleep(150_000);
      return waitForParked(handle);
    };

    test('a retry after its feedArrived signal ingests it from the signalled URI', async () => {
      await run({ absentFeeds: ['payments'], deadlineInMs: 120_000 }, async ({ taskQueue, calls }) => {
        const handle = await start(taskQueue);
        const status = await reachDeadline(handle);
        expect(status.parked).toMatchObject({ step: 'ingest', feed: 'payments', error: { type: 'FeedNotFound' }, actions: ['retry', 'abort'] });
        expect(await searchAttributes(handle)).toMatchObject({ status: 'NEEDS_ATTENTION', stage: 'awaiting-feeds' });
        expect(calls.ingests).toEqual([]);

        await handle.signal(feedArrivedSignal, arrival('payments'));
        await resolve(handle, { step: 'ingest', feed: 'payments', action: 'retry' });
        expect((await handle.result()).status).toBe('COMPLETED');
        expect(calls.ingests.find((i) => i.feed === 'payments')?.sourceUri).toBe(arrival('payments').uri);
        expect(calls.finalized[0]!.manifest.decisions).toEqual([
          expect.objectContaining({ step: 'ingest', feed: 'payments', action: 'retry', error: expect.objectContaining({ type: 'FeedNotFound' }) }),
        ]);
      });
    });

    test('a retry before the file lands parks again; once the landing zone shows it a retry goes on', async () => {
      const script: FakeScript = { absentFeeds: ['payments'], deadlineInMs: 120_000 };
      await run(script, async ({ taskQueue, calls }) => {
        const handle = await start(taskQueue);
        await reachDeadline(handle);
        await resolve(handle, { step: 'ingest', feed: 'payments', action: 'retry' });
        const again = await waitForStatus(handle, (s) => s.parked !== undefined && s.decisions.length === 1, 'second park');
        expect(again.parked).toMatchObject({ step: 'ingest', feed: 'payments', error: { type: 'FeedNotFound' } });

        script.absentFeeds = [];
        await resolve(handle, { step: 'ingest', feed: 'payments', action: 'retry' });
        expect((await handle.result()).status).toBe('COMPLETED');
        expect(calls.ingests.find((i) => i.feed === 'payments')?.sourceUri).toBe(landingUri('payments'));
        expect(calls.finalized[0]!.manifest.decisions?.map((d) => d.action)).toEqual(['retry', 'retry']);
      });
    });

    test('abort fails the night as AbortedByOperator; the manifest keeps FeedNotFound', async () => {
      await run({ absentFeeds: ['payments'], deadlineInMs: 120_000 }, async ({ taskQueue, calls }) => {
        const handle = await start(taskQueue);
        await reachDeadline(handle);
        await resolve(handle, { step: 'ingest', feed: 'payments', action: 'abort', reason: 'no payments file today' });
        await expect(handle.result()).rejects.toMatchObject({ cause: { type: ABORTED_BY_OPERATOR } });
        expect(calls.ingests).toEqual([]);
        expect(calls.submits).toEqual([]);
        const manifest = calls.finalized[0]!.manifest;
        expect(manifest).toMatchObject({ status: 'FAILED', error: { step: 'ingest', type: 'FeedNotFound' } });
        expect(manifest.decisions).toEqual([expect.objectContaining({ step: 'ingest', feed: 'payments', action: 'abort', reason: 'no payments file today' })]);
        expect((await searchAttributes(handle)).status).toBe('FAILED');
      });
    });
  });
});

// ---- skip, export, hold ------------------------------------------------------------------------

test('a rejected optional feed can be skipped: the night completes without it and records it SKIPPED', async () => {
  await run({ optionalFeeds: ['fx_rates'], ingestErrors: { fx_rates: [feedRejected()] } }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue);
    const { parked } = await waitForParked(handle);
    expect(parked).toMatchObject({ step: 'ingest', feed: 'fx_rates', error: { type: 'FeedRejected' }, actions: ['retry', 'skip', 'abort'] });

    await resolve(handle, { step: 'ingest', feed: 'fx_rates', action: 'skip', reason: 'rates from yesterday will do' });
    expect((await handle.result()).status).toBe('COMPLETED');
    expect(calls.ingestAttempts.fx_rates).toBe(1);
    for (const submit of calls.submits) expect(Object.keys(submit.inputs)).not.toContain('fx_rates');
    const manifest = calls.finalized[0]!.manifest;
    expect(manifest.feeds.find((f) => f.feed === 'fx_rates')).toMatchObject({ status: 'SKIPPED', rawUri: null });
    expect(manifest.decisions).toEqual([expect.objectContaining({ step: 'ingest', feed: 'fx_rates', action: 'skip', reason: 'rates from yesterday will do' })]);
    expect(manifest.error).toBeUndefined();
    expect((await handle.query(statusQuery)).feeds.find((f) => f.feed === 'fx_rates')?.state).toBe('SKIPPED');
  });
});

test('an export the store rejects parks export (skip refused); a retry exports', async () => {
  await run({ exportErrors: [exportRejected()] }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue);
    const { parked } = await waitForParked(handle);
    expect(parked).toMatchObject({ step: 'export', error: { type: 'ExportRejected' }, actions: ['retry', 'abort'] });
    await expect(resolve(handle, { step: 'export', action: 'skip' })).rejects.toHaveProperty('cause.message', refusalMessage("'skip' is not allowed for export: retry, abort", parked));
    await resolve(handle, { step: 'export', action: 'retry' });
    const result = await handle.result();
    expect(result.status).toBe('COMPLETED');
    expect(result.reports.length).toBeGreaterThan(1);
    expect(calls.order.filter((c) => c === 'export')).toHaveLength(1);
  });
});

test('holdExport sent while transform runs keeps the export from starting until releaseExport', async () => {
  let finishTransform!: () => void;
  const transformMayFinish = new Promise<void>((r) => (finishTransform = r));
  await run({ pauseOn: { job: 'transform', until: transformMayFinish } }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue);
    await waitForStatus(handle, (s) => s.stage === 'transform', 'transform stage');
    await handle.signal(holdExportSignal, { reason: 'finance checks the numbers', by: 'controller@bank' });
    finishTransform();

    const held = await waitForStatus(handle, (s) => s.stage === 'export' && s.exportHold !== undefined, 'export hold');
    expect(held.exportHold).toMatchObject({ reason: 'finance checks the numbers', by: 'controller@bank' });
    expect(held.status).toBe('RUNNING');
    expect(calls.order).toContain('cleanup:transform');
    // The workflow task that reached the hold would have scheduled the export: none was.
    const scheduled = (await history(handle)).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    expect(scheduled).not.toContain('exportReports');
    expect(calls.order).not.toContain('export');

    await handle.signal(releaseExportSignal, { by: 'controller@bank' });
    expect((await handle.result()).status).toBe('COMPLETED');
    expect(calls.order.slice(-2)).toEqual(['export', 'finalize']);
    expect((await handle.query(statusQuery)).exportHold).toBeUndefined();
  });
});

// ---- cancellation, search attributes -----------------------------------------------------------

test('cancelling a parked night ends it CANCELLED: the manifest is written and nothing else runs', async () => {
  await run({ outcomes: { normalize: [PERMANENT] } }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue);
    await waitForParked(handle);
    const seenWhileParked = calls.order.length;
    await handle.cancel();
    await expect(handle.result()).rejects.toMatchObject({ cause: { name: 'CancelledFailure' } });
    expect(calls.order.slice(seenWhileParked)).toEqual(['finalize']);
    const manifest = calls.finalized[0]!.manifest;
    expect(manifest.status).toBe('CANCELLED');
    expect(manifest.steps.find((s) => s.step === 'normalize')?.status).toBe('FAILED');
    expect(manifest.decisions).toBeUndefined();
    expect(await searchAttributes(handle)).toMatchObject({ status: 'CANCELLED', stage: 'done' });
    expect((await handle.query(statusQuery)).parked).toBeUndefined();
  });
});

test('search attributes name the business date, the tenant, the status and the stage, from start to COMPLETED', async () => {
  let finishNormalize!: () => void;
  const normalizeMayFinish = new Promise<void>((r) => (finishNormalize = r));
  await run({ pauseOn: { job: 'normalize', until: normalizeMayFinish } }, async ({ taskQueue }) => {
    const handle = await start(taskQueue, 'acme');
    await waitForStatus(handle, (s) => s.stage === 'normalize', 'normalize stage');
    expect(await searchAttributes(handle)).toEqual({ businessDate: BUSINESS_DATE, tenant: 'acme', status: 'RUNNING', stage: 'normalize' });
    finishNormalize();
    const result = await handle.result();
    expect(result.status).toBe('COMPLETED');
    expect(await searchAttributes(handle)).toEqual({ businessDate: BUSINESS_DATE, tenant: 'acme', status: 'COMPLETED', stage: 'done' });
  });
});

// ---- two feeds failing at once -----------------------------------------------------------------

test('two feeds rejected at the same time are decided one at a time, each decision for its own feed', async () => {
  await run({ ingestErrors: { accounts: [feedRejected()], payments: [feedRejected()] } }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue);
    try {
      const first = (await waitForParked(handle)).parked!;
      expect(['accounts', 'payments']).toContain(first.feed);
      await resolve(handle, { step: 'ingest', feed: first.feed, action: 'retry' });
      const second = (await waitForStatus(handle, (s) => s.parked !== undefined && s.decisions.length === 1, 'second park')).parked!;
      expect(second.feed).toBe(first.feed === 'accounts' ? 'payments' : 'accounts');
      await resolve(handle, { step: 'ingest', feed: second.feed, action: 'retry' });
      expect((await handle.result()).status).toBe('COMPLETED');
      expect(calls.ingestAttempts).toMatchObject({ accounts: 2, payments: 2 });
      expect(calls.finalized[0]!.manifest.decisions?.map((d) => d.feed)).toEqual([first.feed, second.feed]);
    } finally {
      // A night left stuck by a failed expectation must not outlive the test.
      await handle.terminate().catch(() => undefined);
    }
  });
});

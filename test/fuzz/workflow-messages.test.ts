/**
 * Random signals and updates sent to a real night on the time-skipping server (one worker with
 * fake activities for the file): invalid updates are refused by their validator and change
 * nothing, invalid signals neither fail the workflow task nor the night, and afterwards a valid
 * sequence still completes it.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import fc from 'fast-check';
import { dailyPipeline } from '../../src/workflows';
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
import { PERMANENT, type FakeCalls } from '../helpers/fake-activities';
import { waitForStatus, withFakeWorker } from '../helpers/nights';
import { createTimeSkippingEnv, uniqueId } from '../helpers/temporal';
import { anyJson, corruptFeedArrival, fuzz, poisonObject } from './arbitraries';

jest.setTimeout(90_000);

const BUSINESS_DATE = '2026-11-24';

let env: TestWorkflowEnvironment;
let taskQueue: string;
let calls: FakeCalls;
let stopWorker!: () => void;
let worker: Promise<void>;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  const ready = new Promise<void>((resolve) => {
    // payments is not in the landing zone: a night waits in feed gating until it is signalled.
    // The file's first normalize fails for good: that night parks in NEEDS_ATTENTION.
    worker = withFakeWorker(env, { absentFeeds: ['payments'], outcomes: { normalize: [PERMANENT] } }, (ctx) => {
      taskQueue = ctx.taskQueue;
      calls = ctx.calls;
      resolve();
      return new Promise<void>((done) => (stopWorker = done));
    });
  });
  await Promise.race([ready, worker]);
});
afterAll(async () => {
  stopWorker?.();
  await worker;
  await env?.teardown();
});

type Night = WorkflowHandle<typeof dailyPipeline>;
type HistoryEvent = NonNullable<Awaited<ReturnType<Night['fetchHistory']>>['events']>[number];

const start = () => env.client.workflow.start(dailyPipeline, { taskQueue, workflowId: uniqueId(`fuzz-${BUSINESS_DATE}`), args: [{ businessDate: BUSINESS_DATE }] });
const status = (handle: Night) => handle.query(statusQuery);
const events = async (handle: Night): Promise<HistoryEvent[]> => (await handle.fetchHistory()).events ?? [];
const isWorkflowTask = (e: HistoryEvent) => Boolean(e.workflowTaskScheduledEventAttributes || e.workflowTaskStartedEventAttributes || e.workflowTaskCompletedEventAttributes);

/** Waits until a workflow task completed after the last signal: every signal sent so far was handled (or failed its task). */
async function signalsSettled(handle: Night): Promise<HistoryEvent[]> {
  for (let i = 0; i < 150; i++) {
    const all = await events(handle);
    let lastSignal = -1;
    let lastTask = -1;
    all.forEach((e, at) => {
      if (e.workflowExecutionSignaledEventAttributes) lastSignal = at;
      if (e.workflowTaskCompletedEventAttributes || e.workflowTaskFailedEventAttributes) lastTask = at;
    });
    if (lastTask > lastSignal) return all;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('signals not handled after 7.5 s');
}

async function expectHealthy(handle: Night): Promise<void> {
  const all = await signalsSettled(handle);
  expect(all.filter((e) => e.workflowTaskFailedEventAttributes).map((e) => e.workflowTaskFailedEventAttributes?.failure?.message)).toEqual([]);
  expect((await handle.describe()).status.name).toBe('RUNNING');
}

/** The parts of the status an ignored message must not change (a hold is the one a malformed signal may set). */
const stateOf = ({ exportHold: _hold, ...rest }: PipelineStatus) => rest;

/** Field values of any JSON type (no own `toString`: see the failing test at the end). */
const plainJson = fc.jsonValue({ maxDepth: 2 });

/** resolveStep arguments that cannot apply: anything, poison objects, and plausible decisions with a wrong step, feed, action or overrides. */
const badDecision: fc.Arbitrary<unknown> = fc.oneof(
  anyJson,
  poisonObject,
  fc.record({ step: fc.oneof(fc.constantFrom('ingest', 'transform', 'export', 'finalize', ''), plainJson.filter((v) => v !== 'normalize')), action: fc.constantFrom('retry', 'abort') }),
  fc.record({ step: fc.constant('normalize'), action: fc.oneof(fc.constantFrom('skip', 'restart', 'RETRY', ''), plainJson.filter((v) => v != null && v !== 'retry' && v !== 'abort')) }),
  fc.record({ step: fc.constant('normalize'), action: fc.constant('retry'), overrides: fc.oneof(fc.constant({ driverMemoryMb: -1 }), fc.constant({ driverMemory: 1 }), fc.constant([]), fc.constant('4g')) }),
  fc.record({ step: fc.constant('normalize'), feed: fc.constantFrom('payments', 'accounts'), action: fc.constant('retry') }),
);

/**
 * Decisions that today's validator in daily-pipeline.ts accepts or chokes on although they are
 * malformed: a non-string or huge reason/by, a misspelt field, a field whose value has its own
 * `toString`. resolveStepRefusal (messages.ts) refuses them all.
 */
const malformedDecision: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ step: fc.constant('normalize'), action: fc.constant('retry'), reason: fc.oneof(fc.integer(), fc.constant({ a: 1 }), fc.constant('r'.repeat(600))) }),
  fc.record({ step: fc.constant('normalize'), action: fc.constant('abort'), by: fc.oneof(fc.boolean(), fc.constant(['ops'])) }),
  fc.record({ step: fc.constant('normalize'), action: fc.constant('retry'), overide: fc.constant({ driverMemoryMb: 4096 }) }),
  fc.constantFrom('{"step": {"toString": 1}, "action": "retry"}', '{"step": "normalize", "action": {"toString": "retry"}}').map((t) => JSON.parse(t) as unknown),
);

/** Any signal with a payload no handler can use. */
const badSignal = fc.oneof(
  fc.tuple(fc.constant(feedArrivedSignal.name), fc.oneof(anyJson, poisonObject, corruptFeedArrival.map((c) => c.value))),
  fc.tuple(fc.constant(holdExportSignal.name), fc.oneof(anyJson, poisonObject)),
  fc.tuple(fc.constant(releaseExportSignal.name), fc.oneof(anyJson, poisonObject)),
  fc.tuple(fc.constant(resolveStepSignal.name), badDecision),
);

test('a night waiting for a feed: random signals and updates change nothing and fail nothing; the feed then lets it run on to a parked step', async () => {
  const handle = await start();
  const waiting = await waitForStatus(env, handle, (s) => s.status === 'AWAITING_FEEDS', 'feed gating');

  // Updates first: with no step parked, each is refused and leaves no trace but validator tasks.
  const before = (await events(handle)).length;
  await fc.assert(
    fc.asyncProperty(badDecision, async (req) => {
      await expect(handle.executeUpdate(resolveStepUpdate, { args: [req as ResolveStepRequest] })).rejects.toHaveProperty('cause.message', expect.stringMatching(/^resolveStep refused: \S/));
    }),
    fuzz('workflow-updates-waiting', 60),
  );
  expect(stateOf(await status(handle))).toEqual(stateOf(waiting));
  expect((await events(handle)).slice(before).filter((e) => !isWorkflowTask(e))).toEqual([]);

  await fc.assert(
    fc.asyncProperty(fc.array(badSignal, { minLength: 1, maxLength: 5 }), async (signals) => {
      for (const [name, payload] of signals) await handle.signal(name, payload);
      await expectHealthy(handle);
      const now = await status(handle);
      expect(stateOf(now)).toEqual(stateOf(waiting));
    }),
    fuzz('workflow-signals-waiting', 25),
  );

  await handle.signal(releaseExportSignal, { by: 'fuzz' });
  await handle.signal(feedArrivedSignal, { businessDate: BUSINESS_DATE, feed: 'payments', uri: `file:///inbox/${BUSINESS_DATE}/payments.csv` });
  const parked = await waitForStatus(env, handle, (s) => s.parked !== undefined, 'parked normalize');
  expect(parked.parked).toMatchObject({ step: 'normalize', actions: ['retry', 'abort'] });
  expect(parked.exportHold).toBeUndefined();

  // At a parked step the validator runs every check: still nothing applies, nothing changes.
  const eventsBefore = (await events(handle)).length;
  await fc.assert(
    fc.asyncProperty(badDecision, async (req) => {
      await expect(handle.executeUpdate(resolveStepUpdate, { args: [req as ResolveStepRequest] })).rejects.toHaveProperty('cause.message', expect.stringMatching(/^resolveStep refused: \S/));
    }),
    fuzz('workflow-updates-parked', 100),
  );
  expect(await status(handle)).toEqual(parked);
  const added = (await events(handle)).slice(eventsBefore);
  // A real server writes nothing for a refused update; the time-skipping server keeps the workflow
  // tasks that ran the validators, and nothing else.
  expect(added.filter((e) => !isWorkflowTask(e))).toEqual([]);

  await expect(handle.executeUpdate('noSuchUpdate', { args: [{ step: 'normalize', action: 'retry' }] })).rejects.toHaveProperty('cause.message', expect.stringContaining('noSuchUpdate'));

  await fc.assert(
    fc.asyncProperty(fc.array(badSignal.filter(([name]) => name !== holdExportSignal.name), { minLength: 1, maxLength: 5 }), async (signals) => {
      for (const [name, payload] of signals) await handle.signal(name, payload);
      await expectHealthy(handle);
      expect(stateOf(await status(handle))).toEqual(stateOf(parked));
    }),
    fuzz('workflow-signals-parked', 20),
  );

  // A valid decision still applies and the night completes.
  await expect(handle.executeUpdate(resolveStepUpdate, { args: [{ step: 'normalize', action: 'retry', by: 'fuzz' }] })).resolves.toMatchObject({ accepted: true });
  expect((await handle.result()).status).toBe('COMPLETED');
  expect(calls.submits.filter((s) => s.job === 'normalize').length).toBeGreaterThanOrEqual(2);

  // Once the night completed, updates and signals fail cleanly at the client.
  await expect(handle.executeUpdate(resolveStepUpdate, { args: [{ step: 'normalize', action: 'retry' }] })).rejects.toThrow(/complete|not found/i);
  await expect(handle.signal(holdExportSignal, { reason: 'late' })).rejects.toThrow(/complete|not found/i);
});

// ---- two bugs this file found in daily-pipeline.ts's handlers (fixed with the checks of messages.ts) ----

// `String(value)` threw on an object with its own `toString` key: the signal handler threw, and
// every replay failed the workflow task again, so the night was stuck.
test('a signal whose field is an object with its own toString neither fails the workflow task nor the night', async () => {
  const handle = await start();
  await waitForStatus(env, handle, (s) => s.status === 'AWAITING_FEEDS', 'feed gating');
  try {
    await handle.signal(holdExportSignal, JSON.parse('{"reason": {"toString": 1}}'));
    await expectHealthy(handle);
  } finally {
    await handle.terminate('fuzz test done');
  }
});

// The validator accepted a non-string reason and a misspelt field (a retry without the memory
// asked for), and threw a TypeError, not its refusal, on a field with its own `toString`.
test('a parked night refuses every malformed decision with a resolveStep refusal', async () => {
  // A worker of its own: this file's shared one fails normalize only once.
  await withFakeWorker(env, { outcomes: { normalize: [PERMANENT] } }, async (ctx) => {
    const handle = await env.client.workflow.start(dailyPipeline, { taskQueue: ctx.taskQueue, workflowId: uniqueId(`fuzz-${BUSINESS_DATE}`), args: [{ businessDate: BUSINESS_DATE }] });
    try {
      await waitForStatus(env, handle, (x) => x.parked !== undefined, 'parked normalize');
      await fc.assert(
        fc.asyncProperty(malformedDecision, async (req) => {
          await expect(handle.executeUpdate(resolveStepUpdate, { args: [req as ResolveStepRequest] })).rejects.toHaveProperty('cause.message', expect.stringMatching(/^resolveStep refused: \S/));
        }),
        fuzz('workflow-updates-malformed', 20),
      );
    } finally {
      await handle.terminate('fuzz test done').catch(() => undefined);
    }
  });
});

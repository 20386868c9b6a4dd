import { DEFAULT_ESCALATION } from '../../src/domain/spark/escalation';
import {
  attemptEnding,
  attemptEndingSentence,
  attentionListUrl,
  BY_PLACEHOLDER,
  closedStory,
  closedStoryMemo,
  memoryWords,
  parkedDetails,
  parkedSummary,
  REASON_PLACEHOLDER,
  refusalMessage,
  resolveCliLine,
  resolveStepJson,
  sparkActivitySummary,
  sparkChildSummary,
  type ParkedStory,
} from '../../src/domain/night-story';
import { parseResolveAction, parseStep, parseText } from '../../src/cli/options';
import { resolveStepRefusal } from '../../src/workflows/messages';
import { RESOURCES } from '../helpers/manifests';

const night = { tenant: 'default', businessDate: '2026-12-04' };
const parked: ParkedStory = {
  step: 'ingest',
  feed: 'payments',
  error: { type: 'FeedRejected', message: "feed 'payments' rejected (TRAILER_COUNT): trailer says 6001, file has 6000" },
  since: '2026-12-05T02:01:00.000Z',
  actions: ['retry', 'skip', 'abort'],
};

test('each allowed action has a body that is valid JSON and that the resolveStep validator accepts as it stands', () => {
  for (const action of parked.actions) {
    const body = JSON.parse(resolveStepJson(parked, action)) as Record<string, unknown>;
    expect(body).toEqual({ step: 'ingest', feed: 'payments', action, reason: REASON_PLACEHOLDER, by: BY_PLACEHOLDER });
    expect(resolveStepRefusal(body, parked, false)).toBeUndefined();
  }
  // No feed on a Spark step.
  expect(JSON.parse(resolveStepJson({ step: 'normalize' }, 'retry', { reason: 'more memory', by: 'ops-jane' }))).toEqual({ step: 'normalize', action: 'retry', reason: 'more memory', by: 'ops-jane' });
});

test('the CLI line names date, tenant, step, feed, action and a quoted reason, each flag as the CLI parses it', () => {
  const line = resolveCliLine(night, parked, 'retry');
  expect(line).toBe(`nightjar resolve --date 2026-12-04 --tenant default --step ingest --feed payments --action retry --reason 'why (kept in the manifest)'`);
  expect(parseStep('ingest')).toBe('ingest');
  expect(parseResolveAction('retry')).toBe('retry');
  expect(parseText(REASON_PLACEHOLDER)).toBe(REASON_PLACEHOLDER);
  expect(resolveCliLine(night, { step: 'normalize' }, 'abort', "it's broken")).toBe(`nightjar resolve --date 2026-12-04 --tenant default --step normalize --action abort --reason 'it'\\''s broken'`);
});

test('the parked details show the step, the error type and message, and every action with its JSON body and CLI line', () => {
  const text = parkedDetails(night, parked);
  expect(text.split('\n').slice(0, 3)).toEqual([
    '**NEEDS ATTENTION** — default 2026-12-04: **ingest (payments)** failed, waiting since 2026-12-05T02:01:00.000Z',
    '',
    "**FeedRejected**: feed 'payments' rejected (TRAILER_COUNT): trailer says 6001, file has 6000",
  ]);
  const bodies = [...text.matchAll(/```json\n\s+(.+)\n\s+```/g)].map((m) => JSON.parse(m[1]!) as { action: string });
  expect(bodies.map((b) => b.action)).toEqual(['retry', 'skip', 'abort']);
  expect(text).toContain('- **skip** — go on without this optional feed:');
  expect(text).toContain('or from a terminal: `nightjar resolve --date 2026-12-04 --tenant default --step ingest --feed payments --action abort');
  expect(parkedSummary(parked)).toBe('NEEDS ATTENTION: ingest (payments) — FeedRejected');
});

test('a refusal says why and what would be accepted; the link lists the nights waiting for a human', () => {
  expect(refusalMessage("the night waits on step 'ingest', not 'normalize'", { ...parked, actions: ['retry', 'abort'] })).toBe(
    `resolveStep refused: the night waits on step 'ingest', not 'normalize'. Allowed: ${resolveStepJson(parked, 'retry')} or ${resolveStepJson(parked, 'abort')}`,
  );
  expect(refusalMessage('no step is waiting for a decision', undefined)).toBe('resolveStep refused: no step is waiting for a decision');
  expect(attentionListUrl('http://localhost:8233', 'default')).toBe('http://localhost:8233/namespaces/default/workflows?query=NightjarStatus%3D%22NEEDS_ATTENTION%22');
});

test('attempts read as sentences', () => {
  const a = { job: 'normalize' as const, attempt: 2, maxAttempts: 4 };
  expect(attemptEndingSentence({ ...a, outcome: 'OUT_OF_MEMORY', oomSide: 'executor', next: { ...RESOURCES, executorMemoryMb: 4096 } })).toBe('normalize, attempt 2 of 4: executors out of memory → retry with 4 GiB executors');
  expect(attemptEndingSentence({ ...a, outcome: 'OUT_OF_MEMORY', oomSide: 'driver', next: { ...RESOURCES, driverMemoryMb: 1536 } })).toBe('normalize, attempt 2 of 4: driver out of memory → retry with a 1.5 GiB driver');
  expect(attemptEndingSentence({ ...a, outcome: 'OUT_OF_MEMORY', oomSide: 'driver', stop: 'driver at its cap (8 GiB)' })).toBe('normalize, attempt 2 of 4: driver out of memory → cannot grow (driver at its cap (8 GiB))');
  expect(attemptEndingSentence({ ...a, outcome: 'TRANSIENT', next: RESOURCES })).toBe('normalize, attempt 2 of 4: transient failure → retry with the same size');
  expect(attemptEndingSentence({ ...a, outcome: 'SUCCEEDED' })).toBe('normalize, attempt 2 of 4: succeeded');
  expect(attemptEndingSentence({ ...a, outcome: 'PERMANENT', stop: 'AnalysisException' })).toBe('normalize, attempt 2 of 4: failed for good (AnalysisException) → the night parks for a decision');
  expect(sparkActivitySummary(a, 'submit', RESOURCES)).toBe('normalize, attempt 2 of 4: submit with driver 1 GiB, 2 executors × 2 GiB');
  expect(sparkActivitySummary(a, 'clean up')).toBe('normalize, attempt 2 of 4: clean up');
  expect(sparkChildSummary(night, 'normalize')).toBe('Spark: check and normalize the feeds of 2026-12-04');
  expect(sparkChildSummary({ tenant: 'bank-eu', businessDate: '2026-12-04' }, 'transform', 2)).toBe("Spark: build the reports of 2026-12-04 (tenant bank-eu), retry 1 after an operator's decision");
  expect(memoryWords(512)).toBe('512 MiB');
});

test("a closed night's story names counts and the failed step's error type, never an error message", () => {
  const story = closedStory({
    ...night,
    status: 'FAILED',
    feeds: [{ rowsIn: 100, rowsRejected: 2 }, { rowsIn: 50, rowsRejected: 0 }],
    reports: [],
    error: { step: 'transform', type: 'SparkOutOfMemory' },
    reportUri: 'file:///data/runs/2026-12-04/report.html',
  });
  expect(story).toBe('**FAILED** — default 2026-12-04: 2 feeds, 150 rows in, 2 rejected; 0 report rows; stopped at transform (SparkOutOfMemory); report: file:///data/runs/2026-12-04/report.html');
  expect(closedStoryMemo({ ...night, status: 'COMPLETED', feeds: [], reports: [{ rows: 3 }] })).toEqual({ nightjarStory: '**COMPLETED** — default 2026-12-04: 0 feeds, 0 rows in, 0 rejected; 3 report rows', nightjarStatus: 'COMPLETED' });
});

test("an attempt's ending follows the escalation policy: grown after an out-of-memory, the same after a transient failure, stopped at the cap or the last attempt", () => {
  const policy = { ...DEFAULT_ESCALATION, maxAttempts: 3, maxExecutorMemoryMb: 4096 };
  const first = { job: 'normalize' as const, attempt: 1, maxAttempts: 3 };
  const executorOom = attemptEnding(first, { kind: 'OUT_OF_MEMORY', oomSide: 'executor' }, RESOURCES, policy);
  expect(executorOom.next?.executorMemoryMb).toBe(RESOURCES.executorMemoryMb * 2);
  expect(attemptEndingSentence(executorOom)).toBe(`normalize, attempt 1 of 3: executors out of memory → retry with ${RESOURCES.executorMemoryMb * 2 / 1024} GiB executors`);
  expect(attemptEnding(first, { kind: 'TRANSIENT' }, RESOURCES, policy)).toMatchObject({ next: RESOURCES });
  const atCap = attemptEnding(first, { kind: 'OUT_OF_MEMORY', oomSide: 'executor' }, { ...RESOURCES, executorMemoryMb: 4096 }, policy);
  expect(atCap.next).toBeUndefined();
  expect(attemptEndingSentence(atCap)).toBe('normalize, attempt 1 of 3: executors out of memory → cannot grow (executor memory already at the cap of 4096 MiB)');
  const last = { ...first, attempt: 3 };
  expect(attemptEndingSentence(attemptEnding(last, { kind: 'OUT_OF_MEMORY', oomSide: 'driver' }, RESOURCES, policy))).toBe('normalize, attempt 3 of 3: driver out of memory → no attempt left');
  expect(attemptEndingSentence(attemptEnding(last, { kind: 'TRANSIENT' }, RESOURCES, policy))).toBe('normalize, attempt 3 of 3: transient failure → no attempt left');
  // The clean-up, scheduled once the outcome is known, says it.
  expect(sparkActivitySummary(first, 'clean up', undefined, executorOom)).toBe(`normalize, attempt 1 of 3: clean up — ${attemptEndingSentence(executorOom).split(': ').slice(1).join(': ')}`);
  expect(closedStory({ ...night, status: 'COMPLETED', late: true, feeds: [], reports: [] })).toMatch(/^\*\*COMPLETED\*\* \(late\) — /);
});

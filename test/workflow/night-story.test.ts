/**
 * What the Temporal UI shows of a night: a parked night's current details carry a resolveStep
 * body per allowed action that the update accepts as it stands; a refused decision says what is
 * allowed; a closed night keeps its story in its memo (read without a worker).
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { BY_PLACEHOLDER, REASON_PLACEHOLDER } from '../../src/domain/night-story';
import { dailyPipeline } from '../../src/workflows';
import { resolveStepUpdate, statusQuery, type ResolveStepRequest } from '../../src/workflows/messages';
import { waitForStatus, withFakeWorker } from '../helpers/nights';
import { createTimeSkippingEnv, uniqueId } from '../helpers/temporal';
import { feedRejected, OOM, PERMANENT, type FakeScript } from '../helpers/fake-activities';

jest.setTimeout(120_000);

const BUSINESS_DATE = '2026-11-20';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const run = (script: FakeScript, body: (ctx: { taskQueue: string }) => Promise<void>) => withFakeWorker(env, script, body);
const start = (taskQueue: string) =>
  env.client.workflow.start(dailyPipeline, { taskQueue, workflowId: uniqueId(`story-${BUSINESS_DATE}`), args: [{ businessDate: BUSINESS_DATE }] });

/** The night's current details, as the UI reads them (the SDK's built-in metadata query). */
async function currentDetails(handle: WorkflowHandle): Promise<string> {
  const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return metadata.currentDetails ?? '';
}

/** The JSON bodies in the details' ```json blocks. */
const jsonBodies = (details: string): string[] => [...details.matchAll(/```json\n\s*(.+)\n\s*```/g)].map((m) => m[1]!);

test("a parked ingest's current details name the step, its error and a JSON body per action; the update accepts the body as it stands", async () => {
  await run({ ingestErrors: { accounts: [feedRejected()] } }, async ({ taskQueue }) => {
    const handle = await start(taskQueue);
    await waitForStatus(env, handle, (s) => s.parked !== undefined, 'parked step');
    const details = await currentDetails(handle);
    expect(details).toContain('**NEEDS ATTENTION**');
    expect(details).toContain('**ingest (accounts)**');
    expect(details).toContain('**FeedRejected**: trailer count mismatch');
    expect(details).toContain(`nightjar resolve --date ${BUSINESS_DATE} --tenant default --step ingest --feed accounts --action retry`);

    const bodies = jsonBodies(details).map((b) => JSON.parse(b) as ResolveStepRequest);
    expect(bodies).toEqual([
      { step: 'ingest', feed: 'accounts', action: 'retry', reason: REASON_PLACEHOLDER, by: BY_PLACEHOLDER },
      { step: 'ingest', feed: 'accounts', action: 'abort', reason: REASON_PLACEHOLDER, by: BY_PLACEHOLDER },
    ]);
    // The retry body, sent exactly as the details show it.
    const retry = jsonBodies(details)[0]!;
    await expect(handle.executeUpdate(resolveStepUpdate, { args: [JSON.parse(retry) as ResolveStepRequest] })).resolves.toMatchObject({ accepted: true, action: 'retry' });
    expect((await handle.result()).status).toBe('COMPLETED');
    // Kept current: once decided, the details no longer ask for a decision.
    expect(await currentDetails(handle)).not.toContain('NEEDS ATTENTION');
  });
});

test('a refused decision says why and which bodies would be accepted', async () => {
  await run({ outcomes: { normalize: [PERMANENT] } }, async ({ taskQueue }) => {
    const handle = await start(taskQueue);
    await waitForStatus(env, handle, (s) => s.parked !== undefined, 'parked step');
    const refused = handle.executeUpdate(resolveStepUpdate, { args: [{ step: 'transform', action: 'retry' }] });
    await expect(refused).rejects.toHaveProperty('cause.message', expect.stringMatching(/^resolveStep refused: the night waits on step 'normalize', not 'transform'\. Allowed: \{/));
    const allowed = await refused.catch((e: { cause: { message: string } }) => e.cause.message.split('. Allowed: ')[1]!.split(' or '));
    expect((allowed as string[]).map((b) => (JSON.parse(b) as ResolveStepRequest).action)).toEqual(['retry', 'abort']);
    await handle.executeUpdate(resolveStepUpdate, { args: [JSON.parse((allowed as string[])[1]!) as ResolveStepRequest] });
    await expect(handle.result()).rejects.toHaveProperty('cause.type', 'AbortedByOperator');
  });
});

test("a closed night's memo and current details carry its story (counts, the report), readable with no worker", async () => {
  let workflowId = '';
  await run({ outcomes: { normalize: [OOM] } }, async ({ taskQueue }) => {
    const handle = await start(taskQueue);
    workflowId = handle.workflowId;
    expect((await handle.result()).status).toBe('COMPLETED');
    expect(await currentDetails(handle)).toMatch(/^\*\*COMPLETED\*\* — default 2026-11-20: \d+ feeds, /);
  });
  // The worker is gone: describe() answers from the server.
  const { memo } = await env.client.workflow.getHandle(workflowId).describe();
  expect(memo).toEqual({
    nightjarStatus: 'COMPLETED',
    nightjarStory: expect.stringMatching(/^\*\*COMPLETED\*\* — default 2026-11-20: \d+ feeds, [\d,]+ rows in, [\d,]+ rejected; [\d,]+ report rows; report: file:\/\/\/runs\/report\.html$/),
  });
});

test('a failed night names the step it stopped at and its error type in its memo', async () => {
  await run({ outcomes: { transform: [PERMANENT] } }, async ({ taskQueue }) => {
    const handle = await start(taskQueue);
    await waitForStatus(env, handle, (s) => s.parked !== undefined, 'parked step');
    await handle.executeUpdate(resolveStepUpdate, { args: [{ step: 'transform', action: 'abort', reason: 'fix tomorrow', by: 'ops' }] });
    await expect(handle.result()).rejects.toBeDefined();
    const { memo } = await handle.describe();
    expect(memo?.['nightjarStatus']).toBe('FAILED');
    expect(memo?.['nightjarStory']).toContain('stopped at transform (SparkJobFailed)');
    // Never the error's message (it may quote customer data).
    expect(memo?.['nightjarStory']).not.toContain('AnalysisException');
    expect((await handle.query(statusQuery)).status).toBe('FAILED');
  });
});

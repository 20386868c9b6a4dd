/**
 * Records the workflow histories that the replay test checks in CI. Run after an intentional,
 * versioned (patched()) workflow change: `npm run record:histories`, then commit the files.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { dailyPipeline, nightlyTrigger, sparkJanitor } from '../../src/workflows';
import { sparkJobWorkflowId } from '../../src/domain/ids';
import { fakeActivities, OOM, PERMANENT, type FakeScript } from '../helpers/fake-activities';
import { feedArrivedSignal, holdExportSignal, releaseExportSignal, resolveStepUpdate, statusQuery } from '../../src/workflows/messages';
import { createTimeSkippingEnv, REPO_ROOT, workflowBundle } from '../helpers/temporal';

jest.setTimeout(120_000);
const out = path.join(REPO_ROOT, 'test', 'fixtures', 'histories');

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

async function record(name: string, script: FakeScript, cancel = false) {
  const { activities, calls } = fakeActivities(script);
  const taskQueue = `record-${name}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities });
  const workflowId = `nightjar-daily-2026-11-20-${name}`;
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(dailyPipeline, { taskQueue, workflowId, args: [{ businessDate: '2026-11-20' }] });
    if (cancel) {
      for (let i = 0; i < 100 && !calls.order.includes('await:normalize'); i++) await new Promise((r) => setTimeout(r, 100));
      await handle.cancel();
    }
    await handle.result().catch(() => undefined);
  });
  await fs.mkdir(out, { recursive: true });
  const save = async (id: string, file: string) => {
    const history = await env.client.workflow.getHandle(id).fetchHistory();
    await fs.writeFile(path.join(out, file), JSON.stringify({ workflowId: id, history: JSON.parse(historyToJSON(history)) }, null, 1));
  };
  await save(workflowId, `daily-pipeline-${name}.json`);
  await save(sparkJobWorkflowId(workflowId, 'normalize'), `spark-job-${name}.json`);
}

test('record: a completed night with one out-of-memory escalation and learned sizing', () =>
  record('oom-escalation', { outcomes: { normalize: [OOM] }, learnSizing: true }));
// Since patch 'night-story-memo' (docs/versioning.md): the closed night's memo, and the summaries as sentences.
test('record: a completed night with an out-of-memory escalation, its story in its memo', () =>
  record('story-memo', { outcomes: { normalize: [OOM] } }));
test('record: a night cancelled while Spark runs', () => record('cancelled', { hangOn: 'normalize' }, true));

test('record: a janitor sweep', async () => {
  const { activities } = fakeActivities({});
  const taskQueue = 'record-janitor';
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities });
  const workflowId = 'nightjar-spark-janitor-run-recorded';
  await worker.runUntil(env.client.workflow.execute(sparkJanitor, { taskQueue, workflowId, args: [{ minAgeSeconds: 1800 }] }));
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  await fs.writeFile(path.join(out, 'spark-janitor.json'), JSON.stringify({ workflowId, history: JSON.parse(historyToJSON(history)) }, null, 1));
});

test('record: a night that parks in NEEDS_ATTENTION and is retried from there', async () => {
  const { activities } = fakeActivities({ outcomes: { transform: [PERMANENT] } });
  const taskQueue = 'record-needs-attention';
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities });
  const workflowId = 'nightjar-daily-2026-11-20-needs-attention';
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(dailyPipeline, { taskQueue, workflowId, args: [{ businessDate: '2026-11-20' }] });
    for (let i = 0; i < 100 && (await handle.query(statusQuery)).parked === undefined; i++) await new Promise((r) => setTimeout(r, 100));
    await handle.executeUpdate(resolveStepUpdate, { args: [{ step: 'transform', action: 'retry', overrides: { driverMemoryMb: 2048 }, by: 'recorder' }] });
    await handle.result();
  });
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  await fs.writeFile(path.join(out, 'daily-pipeline-needs-attention.json'), JSON.stringify({ workflowId, history: JSON.parse(historyToJSON(history)) }, null, 1));
});

test('record: a scheduled trigger that owes two nights and runs them in order', async () => {
  const { activities } = fakeActivities({ owedNights: ['2026-11-19', '2026-11-20'] });
  const taskQueue = 'record-nightly-trigger';
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities });
  const workflowId = 'nightjar-nightly-default-recorded';
  await worker.runUntil(env.client.workflow.execute(nightlyTrigger, { taskQueue, workflowId, args: [{ tenant: 'default', lookbackDays: 10 }] }));
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  await fs.writeFile(path.join(out, 'nightly-trigger.json'), JSON.stringify({ workflowId, history: JSON.parse(historyToJSON(history)) }, null, 1));
});

test('record: a night whose feed is late, arrives by signal, and whose export is held then released', async () => {
  const { activities, calls } = fakeActivities({ absentFeeds: ['payments'], cutoffInMs: 60_000 });
  const taskQueue = 'record-late-feed-hold';
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities });
  const workflowId = 'nightjar-daily-2026-11-20-late-feed-hold';
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(dailyPipeline, { taskQueue, workflowId, args: [{ businessDate: '2026-11-20' }] });
    for (let i = 0; i < 100 && (await handle.query(statusQuery)).status !== 'AWAITING_FEEDS'; i++) await new Promise((r) => setTimeout(r, 100));
    await handle.signal(holdExportSignal, { reason: 'finance checks the FX rates', by: 'recorder' });
    await env.sleep(90_000);
    for (let i = 0; i < 100 && (await handle.query(statusQuery)).status !== 'LATE'; i++) await new Promise((r) => setTimeout(r, 100));
    await handle.signal(feedArrivedSignal, { businessDate: '2026-11-20', feed: 'payments', uri: 'file:///landing/2026-11-20/payments.csv' });
    for (let i = 0; i < 200 && !calls.order.includes('await:transform'); i++) await new Promise((r) => setTimeout(r, 100));
    await handle.signal(releaseExportSignal, { by: 'recorder' });
    await handle.result();
  });
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  await fs.writeFile(path.join(out, 'daily-pipeline-late-feed-hold.json'), JSON.stringify({ workflowId, history: JSON.parse(historyToJSON(history)) }, null, 1));
});

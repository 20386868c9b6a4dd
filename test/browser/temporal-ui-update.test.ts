/**
 * The Temporal Web UI's "Send an Update" dialog, end to end, on an encrypted night: a night parks
 * on a refused feed, an operator pastes the resolveStep body the night offers (built by
 * domain/night-story) into the dialog of the dev server's UI, the UI encodes it through the codec
 * server, the workflow accepts it, retries the ingest and completes.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Browser } from 'playwright-core';
import { createCodecServer, type CodecServer } from '../../src/codec/codec-server';
import { createKey } from '../../src/codec/keys';
import { FailureType } from '../../src/common/failures';
import { loadConfig, type NightjarConfig } from '../../src/config/config';
import { resolveStepJson } from '../../src/domain/night-story';
import { connectClient, dataConverter, payloadCodec, type TemporalClientSession } from '../../src/infra/temporal-connection';
import { createLogger } from '../../src/worker/logger';
import type { dailyPipeline } from '../../src/workflows/daily-pipeline';
import { statusQuery, type PipelineStatus } from '../../src/workflows/messages';
import { SearchAttr } from '../../src/workflows/search-attributes';
import { fakeActivities } from '../helpers/fake-activities';
import { sdkLogLines } from '../helpers/quiet-runtime';
import { REPO_ROOT, uniqueId } from '../helpers/temporal';
import { ARTIFACTS, guardedPage, launchChromium } from './chromium';

jest.setTimeout(4 * 60_000);

/** Customer data a failure quotes: the SDK's log lines of this night must not show it. */
const MARKER = 'Jane Customer BE71096123456769';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

let env: TestWorkflowEnvironment;
let dir: string;
let config: NightjarConfig;
let session: TemporalClientSession;
let codecServer: CodecServer;
let worker: Worker;
let running: Promise<void>;
let browser: Browser;
let uiUrl: string;
const taskQueue = uniqueId('ui-update');

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nightjar-ui-'));
  createKey(path.join(dir, 'keys'), 'k-ui');
  const uiPort = await freePort();
  uiUrl = `http://127.0.0.1:${uiPort}`;
  config = loadConfig(
    { NIGHTJAR_DATA_DIR: dir, NIGHTJAR_TASK_QUEUE: taskQueue, NIGHTJAR_ENCRYPTION_KEYS_DIR: path.join(dir, 'keys'), NIGHTJAR_ENCRYPTION_KEY_ID: 'k-ui', NIGHTJAR_LOG_LEVEL: 'warn' },
    REPO_ROOT,
  );
  // The UI encodes what an operator types through the codec server: it must allow the UI's origin.
  codecServer = createCodecServer({ codec: payloadCodec(config)!, corsOrigins: [uiUrl], tokens: [], logger: createLogger({ level: 'silent', redact: true }) });
  const codecUrl = (await codecServer.listen(0, '127.0.0.1')).url;
  env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: path.join(REPO_ROOT, '.venv', 'bin', 'temporal') },
      ip: '127.0.0.1',
      ui: true,
      uiPort,
      log: { format: 'json', level: 'error' },
      searchAttributes: Object.values(SearchAttr),
      extraArgs: ['--ui-codec-endpoint', codecUrl, '--ui-disable-news-fetch'],
    },
  });
  config = { ...config, temporal: { ...config.temporal, address: env.address, namespace: env.namespace ?? 'default' } };
  session = await connectClient(config);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  worker?.shutdown();
  await running;
  await session?.close();
  await env?.teardown();
  await codecServer?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const giveUpAt = Date.now() + 90_000;
  for (;;) {
    const found = await probe().catch(() => undefined);
    if (found !== undefined) return found;
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

test('a parked night refuses a wrong decision readably in the UI, then is retried from the update dialog with the body it offers, and completes', async () => {
  const { activities, calls } = fakeActivities({
    ingestErrors: { payments: [ApplicationFailure.create({ type: FailureType.FeedRejected, message: `payments.csv: trailer count 1001, file has 1000 records; last: ${MARKER}`, nonRetryable: true })] },
  });
  worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: config.temporal.namespace,
    taskQueue,
    activities,
    workflowsPath: require.resolve('../../src/workflows'),
    dataConverter: dataConverter(config),
  });
  running = worker.run();
  const workflowId = uniqueId('ui-night');
  const handle: WorkflowHandle<typeof dailyPipeline> = await session.client.workflow.start<typeof dailyPipeline>('dailyPipeline', { taskQueue, workflowId, args: [{ businessDate: '2026-11-20' }] });
  const status = await waitFor<PipelineStatus>('the night to park', async () => {
    const s = await handle.query(statusQuery);
    return s.parked ? s : undefined;
  });
  expect(status.parked).toMatchObject({ step: 'ingest', feed: 'payments' });
  const body = resolveStepJson(status.parked!, 'retry', { reason: 'corrected file delivered', by: 'ops-ui' });

  const { page, leaks, errors } = await guardedPage(browser, [uiUrl, 'http://127.0.0.1:']);
  page.setDefaultTimeout(30_000);
  await page.goto(`${uiUrl}/namespaces/${config.temporal.namespace}/workflows/${workflowId}`, { waitUntil: 'load' });
  // The night's current details (this UI shows them under User Metadata, rendered in a frame of
  // their own), decrypted through the codec server: the parked step and a body per allowed action.
  await page.getByText('User Metadata', { exact: true }).click();
  const shown = (text: string) =>
    waitFor(`'${text}' in the current details`, async () => {
      for (const frame of page.frames()) if ((await frame.getByText(text).count()) > 0) return true;
      return undefined;
    });
  await shown('NEEDS ATTENTION');
  await shown(resolveStepJson(status.parked!, 'retry'));
  await shown(resolveStepJson(status.parked!, 'abort'));
  await page.screenshot({ path: path.join(ARTIFACTS, 'temporal-ui-parked-details.png'), fullPage: true });
  const dialog = page.getByRole('dialog');
  /** More Actions → Send an Update → resolveStep, the body typed in, submitted. */
  const sendUpdate = async (json: string, screenshot: string) => {
    await page.getByRole('button', { name: 'More Actions' }).click();
    await page.getByRole('menuitem', { name: 'Send an Update' }).click();
    await dialog.getByTestId('update-select-button').click();
    await dialog.getByRole('option', { name: 'resolveStep' }).click();
    const editor = dialog.locator('.cm-content');
    await editor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.insertText(json);
    // Leaving the editor pretty-prints the JSON, which moves the buttons: leave it before submitting.
    await editor.evaluate((e) => (e as unknown as { blur(): void }).blur());
    await expect(editor.innerText()).resolves.toContain('"action": ');
    await page.screenshot({ path: path.join(ARTIFACTS, screenshot) });
    await dialog.getByRole('button', { name: 'Submit' }).click();
  };

  // A decision the night cannot take is refused, and the UI says why in plain words (not "Encoded failure").
  await sendUpdate(JSON.stringify({ step: 'normalize', action: 'retry', reason: 'wrong step', by: 'ops-ui' }), 'temporal-ui-update-refused-dialog.png');
  const refusal = page.getByText("resolveStep refused: the night waits on step 'ingest', not 'normalize'").first();
  await refusal.waitFor({ state: 'visible' });
  await page.screenshot({ path: path.join(ARTIFACTS, 'temporal-ui-update-refused.png') });
  if (await dialog.isVisible()) await dialog.getByTestId('cancel-modal-button').click();
  await dialog.waitFor({ state: 'hidden' });
  expect((await handle.query(statusQuery)).decisions).toEqual([]);

  // The body the night offers is accepted as it stands.
  await sendUpdate(body, 'temporal-ui-update-dialog.png');
  await dialog.waitFor({ state: 'hidden' });
  const decided = await waitFor('the decision to reach the night', async () => ((await handle.query(statusQuery)).decisions.length > 0 ? true : undefined)).catch((e: Error) => {
    throw new Error(`${e.message}; page errors: ${errors.join(' | ')}; blocked: ${leaks.join(', ')}`);
  });
  expect(decided).toBe(true);
  const result = await handle.result();
  expect(result.status).toBe('COMPLETED');
  const after = await handle.query(statusQuery);
  expect(after.decisions).toEqual([expect.objectContaining({ step: 'ingest', feed: 'payments', action: 'retry', reason: 'corrected file delivered', by: 'ops-ui' })]);
  expect(calls.ingestAttempts.payments).toBe(2);
  await page.screenshot({ path: path.join(ARTIFACTS, 'temporal-ui-after-update.png') });
  // The SDK's own "Activity failed" line of this real worker names the failure's type, not the
  // customer it quotes; no SDK line of the night does.
  const lines = sdkLogLines.map((l) => JSON.parse(l) as { msg: string; error?: { type?: string; message?: string } });
  expect(lines.find((l) => l.msg === 'Activity failed')?.error).toMatchObject({ type: 'FeedRejected', message: '[REDACTED]' });
  expect(sdkLogLines.join('')).not.toContain('Jane Customer');
  // The UI and the codec server are local; anything else it tried to reach was blocked, and listed here.
  fs.writeFileSync(path.join(ARTIFACTS, 'temporal-ui-blocked-requests.txt'), leaks.map((l) => `${l}\n`).join(''));
});

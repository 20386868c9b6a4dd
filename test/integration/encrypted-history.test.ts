/**
 * Customer data never reaches a Temporal history in plain text: a night whose feed fails with a
 * message quoting a customer, and an operator's decision quoting it again, leave only ciphertext
 * on the server. The codec server gives it back to whoever holds the key; a client with another
 * key fails loudly instead of showing garbage.
 */
import path from 'node:path';
import { Client, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../../src/codec/aes-gcm-codec';
import { createCodecServer, type CodecServer } from '../../src/codec/codec-server';
import { CodecErrorType, PayloadDecryptionError } from '../../src/codec/errors';
import { createKey } from '../../src/codec/keys';
import { FailureType } from '../../src/common/failures';
import { loadConfig, type NightjarConfig } from '../../src/config/config';
import { dataConverter, payloadCodec, type TemporalClientSession } from '../../src/infra/temporal-connection';
import { createLogger } from '../../src/worker/logger';
import { ABORTED_BY_OPERATOR, type dailyPipeline } from '../../src/workflows/daily-pipeline';
import { resolveStepUpdate, statusQuery, type PipelineStatus } from '../../src/workflows/messages';
import { fakeActivities } from '../helpers/fake-activities';
import { startEncryptedWorld, type EncryptedWorld } from '../helpers/encrypted-night';
import { REPO_ROOT, uniqueId } from '../helpers/temporal';

jest.setTimeout(5 * 60_000);

const TOKEN = 'it-codec-token-0123456789';
const b64 = (s: string) => Buffer.from(s).toString('base64');

let world: EncryptedWorld;
let env: TestWorkflowEnvironment;
let dir: string;
let config: NightjarConfig;
let session: TemporalClientSession;
let codecServer: CodecServer;
let codecUrl: string;
const taskQueue = uniqueId('encrypted');

beforeAll(async () => {
  world = await startEncryptedWorld('encrypted', taskQueue, { NIGHTJAR_LOG_LEVEL: 'warn' });
  ({ env, dir, config, session } = world);
  codecServer = createCodecServer({ codec: payloadCodec(config)!, corsOrigins: [], tokens: [TOKEN], logger: createLogger({ level: 'silent', redact: true }) });
  codecUrl = (await codecServer.listen(0, '127.0.0.1')).url;
});

afterAll(async () => {
  await world?.close();
  await codecServer?.close();
});

/** Every proto3-JSON payload (an object with metadata) anywhere in a JSON history. */
function payloadsIn(node: unknown, found: { metadata: Record<string, string>; data?: string }[] = []) {
  if (Array.isArray(node)) for (const n of node) payloadsIn(n, found);
  else if (typeof node === 'object' && node !== null) {
    const o = node as Record<string, unknown>;
    if (typeof o.metadata === 'object' && o.metadata !== null && typeof (o.metadata as Record<string, unknown>).encoding === 'string') {
      found.push(o as { metadata: Record<string, string>; data?: string });
    }
    for (const v of Object.values(o)) payloadsIn(v, found);
  }
  return found;
}

async function waitForParked(handle: WorkflowHandle): Promise<PipelineStatus> {
  const giveUpAt = Date.now() + 60_000;
  for (;;) {
    const status = await handle.query(statusQuery).catch(() => undefined);
    if (status?.parked) return status;
    if (Date.now() > giveUpAt) throw new Error(`the night did not park; last status: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('payloads and failure messages are ciphertext in the history, the codec server decodes them, and a wrong key fails loudly', async () => {
  const marker = `Jane Customer BE71096123456769 ${uniqueId('marker')}`;
  const { activities } = fakeActivities({
    ingestErrors: { transactions: [ApplicationFailure.create({ type: FailureType.FeedRejected, message: `trailer count off for ${marker}`, nonRetryable: true })] },
  });
  // Bundled from source (not the shared helper's bundle) so the workflow code gets the encoding failure converter.
  await world.startWorker(activities);

  const client = session.client;
  const workflowId = uniqueId('encrypted-night');
  const handle = await client.workflow.start<typeof dailyPipeline>('dailyPipeline', { taskQueue, workflowId, args: [{ businessDate: '2026-03-31' }] });
  const status = await waitForParked(handle);
  // The encrypting client reads the night as usual.
  expect(status.parked).toMatchObject({ step: 'ingest', feed: 'transactions', error: { message: expect.stringContaining(marker) } });
  await handle.executeUpdate(resolveStepUpdate, { args: [{ step: 'ingest', feed: 'transactions', action: 'abort', reason: `operator note on ${marker}`, by: 'it' }] });
  const failure = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  const cause = (failure as WorkflowFailedError).cause as ApplicationFailure;
  expect(cause.type).toBe(ABORTED_BY_OPERATOR);
  expect(cause.message).toContain(`operator note on ${marker}`);

  // What the server stores, read by a client without the codec.
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
  const json = historyToJSON(history);
  expect(bytes.includes(Buffer.from('BE71096123456769'))).toBe(false);
  expect(json).not.toContain('BE71096123456769');
  expect(json).not.toContain('Jane Customer');

  const events = history.events ?? [];
  const started = events[0]?.workflowExecutionStartedEventAttributes;
  const input = started?.input?.payloads?.[0];
  expect(Buffer.from(input!.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
  expect(Buffer.from(input!.metadata![KEY_ID_METADATA]!).toString()).toBe('k1');
  const activityFailure = events.find((e) => e.activityTaskFailedEventAttributes)?.activityTaskFailedEventAttributes?.failure;
  expect(activityFailure?.message).toBe('Encoded failure');
  expect(Buffer.from(activityFailure!.encodedAttributes!.metadata![KEY_ID_METADATA]!).toString()).toBe('k1');
  const workflowFailure = events.find((e) => e.workflowExecutionFailedEventAttributes)?.workflowExecutionFailedEventAttributes?.failure;
  expect(workflowFailure?.message).toBe('Encoded failure');
  expect(workflowFailure?.stackTrace ?? '').toBe('');
  expect(workflowFailure?.applicationFailureInfo?.type).toBe(ABORTED_BY_OPERATOR);
  // The closed night's story (its memo) is encrypted like any payload; decoded, it names the step
  // and the error type, never the error's message.
  const storyPayload = events.find((e) => e.workflowPropertiesModifiedEventAttributes)?.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields?.['nightjarStory'];
  expect(Buffer.from(storyPayload!.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
  const { memo } = await handle.describe();
  expect(memo).toMatchObject({ nightjarStatus: 'FAILED', nightjarStory: expect.stringContaining('stopped at ingest (FeedRejected)') });
  expect(String(memo?.['nightjarStory'])).not.toContain('Jane');

  // The UI's path: the history's encrypted payloads posted to the codec server come back readable.
  const encrypted = payloadsIn(JSON.parse(json)).filter((p) => p.metadata.encoding === b64(ENCRYPTED_ENCODING));
  expect(encrypted.length).toBeGreaterThanOrEqual(4);
  const res = await fetch(`${codecUrl}/decode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'x-namespace': config.temporal.namespace },
    body: JSON.stringify({ payloads: encrypted }),
  });
  expect(res.status).toBe(200);
  const decoded = ((await res.json()) as { payloads: { data?: string }[] }).payloads.map((p) => Buffer.from(p.data ?? '', 'base64').toString('utf8')).join('\n');
  expect(decoded).toContain(`trailer count off for ${marker}`);
  expect(decoded).toContain(`operator note on ${marker}`);
  expect(decoded).toContain('"businessDate":"2026-03-31"');

  // Another key under the same id: reading the result fails with the codec's error, not garbage.
  const wrongDir = path.join(dir, 'wrong-keys');
  createKey(wrongDir, 'k1');
  const wrong = new Client({
    connection: env.connection,
    namespace: config.temporal.namespace,
    dataConverter: dataConverter(loadConfig({ NIGHTJAR_ENCRYPTION_KEYS_DIR: wrongDir, NIGHTJAR_ENCRYPTION_KEY_ID: 'k1' }, REPO_ROOT)),
  });
  const loud = await wrong.workflow.getHandle(workflowId).result().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(loud).toBeInstanceOf(PayloadDecryptionError);
  expect(loud).toMatchObject({ type: CodecErrorType.AuthenticationFailed, keyId: 'k1' });
});

/**
 * What encryption costs: the AES-256-GCM payload codec per payload (against the plain JSON
 * converter alone), and whole nights on the dev server with and without it (fake activities that
 * return at once, so orchestration is all there is), interleaved in one run.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter, type DataConverter, type Payload } from '@temporalio/common';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import type { Activities } from '../src/activities';
import { AesGcmCodec } from '../src/codec/aes-gcm-codec';
import { createKey, loadKeyRing } from '../src/codec/keys';
import { dailyPipeline } from '../src/workflows';
import { percentile, round } from './stats';
import { benchDevServer } from './dev-server';

export interface CodecResult {
  readonly payloads: readonly { bytes: number; plainUs: number; encryptedUs: number; ratio: number; sizeOverheadBytes: number }[];
  readonly nights: number;
  readonly plainNightMs: number;
  readonly encryptedNightMs: number;
  readonly nightRatio: number;
  readonly plainHistoryBytes: number;
  readonly encryptedHistoryBytes: number;
}

/** A JSON value of about `bytes` bytes, shaped like an activity input (ids, URIs, counts). */
function sample(bytes: number): unknown {
  const feeds = [];
  while (JSON.stringify(feeds).length < bytes) {
    feeds.push({ feed: 'transactions', uri: `file:///var/lib/nightjar/raw/2026-11-20/transactions-${crypto.randomBytes(8).toString('hex')}.csv`, rowsIn: 1_000_000, sha256: crypto.randomBytes(32).toString('hex') });
  }
  return { businessDate: '2026-11-20', feeds };
}

async function perPayload(codec: AesGcmCodec, bytes: number, iterations: number) {
  const value = sample(bytes);
  const plain = () => defaultPayloadConverter.fromPayload(defaultPayloadConverter.toPayload(value) as Payload);
  const encrypted = async () => defaultPayloadConverter.fromPayload((await codec.decode(await codec.encode([defaultPayloadConverter.toPayload(value) as Payload])))[0]!);
  for (let i = 0; i < Math.min(iterations, 1000); i++) {
    plain();
    await encrypted();
  }
  let t0 = performance.now();
  for (let i = 0; i < iterations; i++) plain();
  const plainUs = ((performance.now() - t0) * 1000) / iterations;
  t0 = performance.now();
  for (let i = 0; i < iterations; i++) await encrypted();
  const encryptedUs = ((performance.now() - t0) * 1000) / iterations;
  const payload = defaultPayloadConverter.toPayload(value) as Payload;
  const [sealed] = await codec.encode([payload]);
  const size = (p: Payload) => (p.data?.length ?? 0) + Object.entries(p.metadata ?? {}).reduce((n, [k, v]) => n + k.length + v.length, 0);
  return { bytes: size(payload), plainUs: round(plainUs), encryptedUs: round(encryptedUs), ratio: round(encryptedUs / plainUs, 2), sizeOverheadBytes: size(sealed!) - size(payload) };
}

export async function benchCodec(opts: { repoRoot: string; nights: number; iterations: number; fakes: () => Activities }): Promise<CodecResult> {
  const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nightjar-bench-keys-'));
  createKey(keysDir, 'bench');
  const codec = new AesGcmCodec(loadKeyRing(keysDir, 'bench'));
  const payloads = [];
  for (const bytes of [256, 4096, 65536]) payloads.push(await perPayload(codec, bytes, bytes > 10_000 ? Math.ceil(opts.iterations / 20) : opts.iterations));

  const env = await benchDevServer(opts.repoRoot);
  try {
    const built = path.join(opts.repoRoot, '.cache', 'bench-build', 'src');
    const failureConverterPath = path.join(built, 'codec', 'failure-converter.js');
    const [plainBundle, encryptedBundle] = await Promise.all([
      bundleWorkflowCode({ workflowsPath: path.join(built, 'workflows', 'index.js') }),
      bundleWorkflowCode({ workflowsPath: path.join(built, 'workflows', 'index.js'), failureConverterPath }),
    ]);
    const encryptedConverter: DataConverter = { payloadCodecs: [codec], failureConverterPath };
    const plainWorker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'plain', workflowBundle: plainBundle, activities: opts.fakes() });
    const encryptedWorker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'encrypted', workflowBundle: encryptedBundle, activities: opts.fakes(), dataConverter: encryptedConverter });
    const encryptedClient = new Client({ connection: env.connection, dataConverter: encryptedConverter });
    const plainMs: number[] = [];
    const encryptedMs: number[] = [];
    const historyBytes = { plain: 0, encrypted: 0 };
    const night = async (client: Client, taskQueue: string, workflowId: string) => {
      const t0 = performance.now();
      await client.workflow.execute(dailyPipeline, { taskQueue, workflowId, args: [{ businessDate: '2026-01-02' }] });
      const ms = performance.now() - t0;
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      return { ms, bytes: JSON.stringify(history).length };
    };
    await plainWorker.runUntil(
      encryptedWorker.runUntil(async () => {
        await night(env.client, 'plain', 'bench-plain-warmup');
        await night(encryptedClient, 'encrypted', 'bench-encrypted-warmup');
        for (let i = 0; i < opts.nights; i++) {
          const p = await night(env.client, 'plain', `bench-plain-${i}`);
          const e = await night(encryptedClient, 'encrypted', `bench-encrypted-${i}`);
          plainMs.push(p.ms);
          encryptedMs.push(e.ms);
          historyBytes.plain = p.bytes;
          historyBytes.encrypted = e.bytes;
        }
      }),
    );
    const plainNightMs = round(percentile(plainMs, 50));
    const encryptedNightMs = round(percentile(encryptedMs, 50));
    return {
      payloads,
      nights: opts.nights,
      plainNightMs,
      encryptedNightMs,
      nightRatio: round(encryptedNightMs / plainNightMs, 2),
      plainHistoryBytes: historyBytes.plain,
      encryptedHistoryBytes: historyBytes.encrypted,
    };
  } finally {
    await env.teardown();
    fs.rmSync(keysDir, { recursive: true, force: true });
  }
}

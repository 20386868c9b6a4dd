/**
 * The demo's codec server as a process: started detached from the built CLI into a fresh data
 * directory, it answers the UI's preflight and decodes what the worker's codec encoded; stopping
 * the dev server stops it too.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { AesGcmCodec } from '../../src/codec/aes-gcm-codec';
import { createKey, loadKeyRing } from '../../src/codec/keys';
import { payloadToJSON } from '@temporalio/common/lib/proto-utils';
import { defaultPayloadConverter } from '@temporalio/common';
import { CodecServerUnusable, ensureUiCodecServer, stopDevServer } from '../../src/infra/temporal-dev-server';
import { isListening } from '../../src/common/net';
import { REPO_ROOT } from '../helpers/temporal';

jest.setTimeout(60_000);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

test('started into a fresh data directory, it decodes for the UI and stops with the dev server', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nightjar-codec-'));
  const keysDir = path.join(dataDir, 'keys');
  createKey(keysDir, 'k1');
  const port = await freePort();
  const dbFile = path.join(dataDir, 'temporal', 'dev-server.db'); // its directory does not exist yet
  const env = { NIGHTJAR_ENCRYPTION_KEYS_DIR: keysDir, NIGHTJAR_ENCRYPTION_KEY_ID: 'k1', NIGHTJAR_CODEC_CORS_ORIGINS: 'http://localhost:8233' };
  try {
    const started = await ensureUiCodecServer({
      nightjarBin: path.join(REPO_ROOT, 'bin', 'nightjar.js'),
      dbFile,
      host: '127.0.0.1',
      port,
      env,
      logFile: path.join(dataDir, 'codec-server.log'),
      logger: pino({ level: 'silent' }),
    });
    expect(started.startedHere).toBe(true);

    const preflight = await fetch(`${started.url}/decode`, { method: 'OPTIONS', headers: { Origin: 'http://localhost:8233', 'Access-Control-Request-Method': 'POST' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');

    const codec = new AesGcmCodec(loadKeyRing(keysDir, 'k1'));
    const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload({ customer: 'Ada Marker' })]);
    const response = await fetch(`${started.url}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', Origin: 'http://localhost:8233', 'X-Namespace': 'default' },
      body: JSON.stringify({ payloads: [payloadToJSON(encrypted!)] }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { payloads: { data: string }[] };
    expect(Buffer.from(body.payloads[0]!.data, 'base64').toString()).toBe('{"customer":"Ada Marker"}');

    // Its health answer names the key ids it holds, never the keys.
    const health = await fetch(`${started.url}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok', keyIds: ['k1'] });

    // A second call for the same key reuses the running server; one for another data directory's key is refused.
    const again = { nightjarBin: path.join(REPO_ROOT, 'bin', 'nightjar.js'), dbFile, host: '127.0.0.1', port, env, logFile: path.join(dataDir, 'codec-server.log'), logger: pino({ level: 'silent' }) };
    expect((await ensureUiCodecServer({ ...again, requiredKeyId: 'k1' })).startedHere).toBe(false);
    const refused = ensureUiCodecServer({ ...again, requiredKeyId: 'key-20261205-0badc0de', keysDir: '/data/other/keys' });
    await expect(refused).rejects.toBeInstanceOf(CodecServerUnusable);
    await expect(refused).rejects.toThrow(/holds key k1, not this data directory's key key-20261205-0badc0de \(\/data\/other\/keys\)/);
  } finally {
    stopDevServer({ dbFile });
  }
  for (let i = 0; i < 50 && (await isListening('127.0.0.1', port)); i++) await new Promise((r) => setTimeout(r, 100));
  expect(await isListening('127.0.0.1', port)).toBe(false);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

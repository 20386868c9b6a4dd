import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmCodec } from '../../src/codec/aes-gcm-codec';
import { createCodecServer } from '../../src/codec/codec-server';
import { CodecErrorType, PayloadDecryptionError } from '../../src/codec/errors';
import { activeKeyIdIn, createKey, loadKeyRing, newKeyId } from '../../src/codec/keys';
import { demoEncryption } from '../../demo/run-demo';
import { loadConfig } from '../../src/config/config';
import { codecServerReuseRefusal } from '../../src/infra/temporal-dev-server';
import { createLogger } from '../../src/worker/logger';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'nightjar-keys-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

test('each new data directory gets a key with an id of its own; a second run keeps it', () => {
  const a = tmp();
  const b = tmp();
  const first = demoEncryption(loadConfig({ NIGHTJAR_DATA_DIR: a }));
  const other = demoEncryption(loadConfig({ NIGHTJAR_DATA_DIR: b }));
  expect(first).toMatchObject({ keysDir: path.join(a, 'keys'), created: true });
  expect(first.activeKeyId).toMatch(/^demo-\d{8}-[0-9a-f]{8}$/);
  expect(other.activeKeyId).not.toBe(first.activeKeyId);
  expect(demoEncryption(loadConfig({ NIGHTJAR_DATA_DIR: a }))).toEqual({ keysDir: path.join(a, 'keys'), activeKeyId: first.activeKeyId, created: false });
});

test('ids sort by creation date, so the newest key of a directory encrypts', () => {
  const dir = tmp();
  createKey(dir, newKeyId('demo', new Date('2026-11-01T00:00:00Z')));
  const newer = newKeyId('demo', new Date('2026-12-01T00:00:00Z'));
  createKey(dir, newer);
  expect(activeKeyIdIn(dir)).toBe(newer);
  expect(activeKeyIdIn(path.join(dir, 'missing'))).toBeUndefined();
});

test('a payload under a key this process does not hold names the key id and the directory keys are looked for in', async () => {
  const writer = tmp();
  const reader = tmp();
  createKey(writer, 'demo-20261120-aaaaaaaa');
  createKey(reader, 'demo-20261121-bbbbbbbb');
  const [encrypted] = await new AesGcmCodec(loadKeyRing(writer, 'demo-20261120-aaaaaaaa')).encode([defaultPayloadConverter.toPayload('x')]);
  const decoding = new AesGcmCodec(loadKeyRing(reader, 'demo-20261121-bbbbbbbb')).decode([encrypted!]);
  await expect(decoding).rejects.toBeInstanceOf(PayloadDecryptionError);
  await expect(decoding).rejects.toMatchObject({ type: CodecErrorType.UnknownKey, keyId: 'demo-20261120-aaaaaaaa' });
  await expect(decoding).rejects.toThrow(
    `payload encrypted with key 'demo-20261120-aaaaaaaa', which is not in the keys directory ${reader} (keys held: demo-20261121-bbbbbbbb): copy that key file into ${reader}, or point NIGHTJAR_ENCRYPTION_KEYS_DIR (or --data-dir) at the directory that holds it`,
  );
});

test("the codec server's health answer names the ids of its keys, never the keys", async () => {
  const dir = tmp();
  createKey(dir, 'k1');
  createKey(dir, 'k2');
  const codec = new AesGcmCodec(loadKeyRing(dir, 'k2'));
  const server = createCodecServer({ codec, corsOrigins: ['http://localhost:8233'], tokens: [], logger: createLogger({ level: 'silent', redact: true }), keyIds: codec.keyIds });
  const { url } = await server.listen(0, '127.0.0.1');
  try {
    const res = await fetch(`${url}/healthz`);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ status: 'ok', keyIds: ['k1', 'k2'] });
    for (const id of ['k1', 'k2']) expect(text).not.toContain(fs.readFileSync(path.join(dir, id), 'utf8').trim());
  } finally {
    await server.close();
  }
});

test('a running codec server is reused only when it holds the key; otherwise the refusal says what it holds and what to do', () => {
  expect(codecServerReuseRefusal('http://127.0.0.1:8089', { keyIds: ['a', 'b'] }, 'b')).toBeUndefined();
  expect(codecServerReuseRefusal('http://127.0.0.1:8089', { keyIds: ['a'] }, 'b', '/d/keys')).toBe(
    "the codec server already running at http://127.0.0.1:8089 holds key a, not this data directory's key b (/d/keys), so the Web UI could not decrypt this night; " +
      "stop the other data directory's servers ('nightjar server stop --data-dir <that directory>') or give this one its own ports (NIGHTJAR_CODEC_PORT, NIGHTJAR_TEMPORAL_ADDRESS, NIGHTJAR_TEMPORAL_UI_URL)",
  );
  expect(codecServerReuseRefusal('http://127.0.0.1:8089', {}, 'b')).toMatch(/does not say which keys it holds, not this data directory's key b/);
});

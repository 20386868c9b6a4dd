import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { AesGcmCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, keyIdOf } from '../../src/codec/aes-gcm-codec';
import { CodecErrorType, KeyStoreError, PayloadDecryptionError } from '../../src/codec/errors';
import { createKey, KEY_BYTES, loadKeyRing, type KeyRing } from '../../src/codec/keys';
import { ConfigError, loadConfig } from '../../src/config/config';
import { dataConverter, FAILURE_CONVERTER_PATH, payloadCodec } from '../../src/infra/temporal-connection';

const SECRET = 'IBAN BE71 0961 2345 6769 — Jane Customer';
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');
const value = (v: unknown): Payload => defaultPayloadConverter.toPayload(v);
const read = (p: Payload): unknown => defaultPayloadConverter.fromPayload(p);

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nightjar-keys-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function ring(active: string, ...ids: string[]): KeyRing {
  for (const id of new Set([active, ...ids])) if (!fs.existsSync(path.join(dir, id))) createKey(dir, id);
  return loadKeyRing(dir, active);
}

async function decodeError(codec: AesGcmCodec, payload: Payload): Promise<PayloadDecryptionError> {
  const error: unknown = await codec.decode([payload]).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PayloadDecryptionError);
  return error as PayloadDecryptionError;
}

describe('AesGcmCodec', () => {
  test('a payload round-trips, and what leaves the codec holds neither the value nor its encoding', async () => {
    const codec = new AesGcmCodec(ring('k1'));
    const original = value({ customer: SECRET, amount: '12.50' });
    const [encrypted] = await codec.encode([original]);
    expect(text(encrypted!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encrypted!.metadata![KEY_ID_METADATA])).toBe('k1');
    expect(Object.keys(encrypted!.metadata!).sort()).toEqual(['encoding', KEY_ID_METADATA].sort());
    expect(Buffer.from(encrypted!.data!).includes(Buffer.from('Jane'))).toBe(false);
    expect(Buffer.from(encrypted!.data!).includes(Buffer.from('json/plain'))).toBe(false);
    const [decoded] = await codec.decode([encrypted!]);
    expect(read(decoded!)).toEqual({ customer: SECRET, amount: '12.50' });
    expect(text(decoded!.metadata!.encoding)).toBe('json/plain');
  });

  test('the same value encrypts differently each time (a fresh IV per payload)', async () => {
    const codec = new AesGcmCodec(ring('k1'));
    const [a, b] = await codec.encode([value(SECRET), value(SECRET)]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
    expect(Buffer.from(a!.data!).subarray(0, 12).equals(Buffer.from(b!.data!).subarray(0, 12))).toBe(false);
  });

  test('an empty list and an undefined value round-trip', async () => {
    const codec = new AesGcmCodec(ring('k1'));
    expect(await codec.encode([])).toEqual([]);
    const [decoded] = await codec.decode(await codec.encode([value(undefined)]));
    expect(read(decoded!)).toBeUndefined();
  });

  test('rotation: after switching the active key, new payloads carry the new id and the old key still decrypts the old ones', async () => {
    const before = new AesGcmCodec(ring('2026-01'));
    const [old] = await before.encode([value('written under the January key')]);
    const after = new AesGcmCodec(ring('2026-04', '2026-01'));
    const [fresh] = await after.encode([value('written under the April key')]);
    expect(keyIdOf(old!)).toBe('2026-01');
    expect(keyIdOf(fresh!)).toBe('2026-04');
    const decoded = await after.decode([old!, fresh!]);
    expect(decoded.map(read)).toEqual(['written under the January key', 'written under the April key']);
  });

  test('a payload under a key id this process does not hold fails with UnknownKey naming the id', async () => {
    const [payload] = await new AesGcmCodec(ring('retired')).encode([value(SECRET)]);
    fs.rmSync(path.join(dir, 'retired'));
    const error = await decodeError(new AesGcmCodec(ring('current')), payload!);
    expect(error.type).toBe(CodecErrorType.UnknownKey);
    expect(error.keyId).toBe('retired');
    expect(error.message).toContain("'retired'");
  });

  test('a key file with the right id but other bytes fails authentication (wrong key)', async () => {
    const [payload] = await new AesGcmCodec(ring('k1')).encode([value(SECRET)]);
    fs.rmSync(path.join(dir, 'k1'));
    createKey(dir, 'k1');
    const error = await decodeError(new AesGcmCodec(loadKeyRing(dir, 'k1')), payload!);
    expect(error.type).toBe(CodecErrorType.AuthenticationFailed);
    expect(error.message).toMatch(/authentication failed, payload tampered or wrong key/);
  });

  const tamper = (p: Payload, at: (length: number) => number): Payload => {
    const data = Buffer.from(p.data!);
    const i = at(data.length);
    data[i] = (data[i] as number) ^ 0x01;
    return { metadata: p.metadata!, data };
  };

  test.each([
    ['the IV', () => 0],
    ['the ciphertext', (n: number) => Math.floor(n / 2)],
    ['the authentication tag', (n: number) => n - 1],
  ])('one flipped bit in %s fails with AuthenticationFailed', async (_what, at) => {
    const codec = new AesGcmCodec(ring('k1'));
    const [payload] = await codec.encode([value(SECRET)]);
    const error = await decodeError(codec, tamper(payload!, at));
    expect(error.type).toBe(CodecErrorType.AuthenticationFailed);
    expect(error.keyId).toBe('k1');
  });

  test('relabelling a payload with another key id the process holds fails authentication', async () => {
    const codec = new AesGcmCodec(ring('k1', 'k2'));
    const [payload] = await codec.encode([value(SECRET)]);
    const relabelled = { metadata: { ...payload!.metadata!, [KEY_ID_METADATA]: Buffer.from('k2') }, data: payload!.data! };
    expect((await decodeError(codec, relabelled)).type).toBe(CodecErrorType.AuthenticationFailed);
  });

  test('a truncated payload or one without a key id fails with Malformed', async () => {
    const codec = new AesGcmCodec(ring('k1'));
    const [payload] = await codec.encode([value(SECRET)]);
    expect((await decodeError(codec, { metadata: payload!.metadata!, data: Buffer.alloc(20) })).type).toBe(CodecErrorType.Malformed);
    expect((await decodeError(codec, { metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING) }, data: payload!.data! })).type).toBe(CodecErrorType.Malformed);
  });

  test('payloads written before encryption was turned on pass through unchanged', async () => {
    const codec = new AesGcmCodec(ring('k1'));
    const plain = value({ businessDate: '2026-03-31' });
    const binary = defaultPayloadConverter.toPayload(new Uint8Array([1, 2, 3]));
    const [a, b] = await codec.decode([plain, binary]);
    expect(a).toBe(plain);
    expect(b).toBe(binary);
  });
});

describe('encryption keys', () => {
  test('createKey writes base64 of 32 random bytes, readable by its owner only', () => {
    const file = createKey(path.join(dir, 'nested'), 'k1');
    expect(Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(KEY_BYTES);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  test('createKey refuses to overwrite an existing key and keeps its content', () => {
    const file = createKey(dir, 'k1');
    const before = fs.readFileSync(file, 'utf8');
    expect(() => createKey(dir, 'k1')).toThrow(/already exists/);
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });

  test('createKey refuses an id that is not a safe file name', () => {
    expect(() => createKey(dir, '../escape')).toThrow(KeyStoreError);
  });

  test('key files are read with surrounding whitespace trimmed; dot entries (a Secret volume\'s ..data) are skipped', () => {
    const key = Buffer.alloc(KEY_BYTES, 7);
    fs.writeFileSync(path.join(dir, 'k1'), `  ${key.toString('base64')}\n\n`);
    fs.mkdirSync(path.join(dir, '..data'));
    fs.writeFileSync(path.join(dir, '.hidden'), 'not a key');
    const loaded = loadKeyRing(dir, 'k1');
    expect([...loaded.keys.keys()]).toEqual(['k1']);
    expect(loaded.keys.get('k1')!.equals(key)).toBe(true);
  });

  test.each([
    ['a key of the wrong length', Buffer.alloc(16).toString('base64'), /k1 holds 16 bytes, expected 32/],
    ['an empty key file', '\n', /k1 is empty/],
    ['a key file that is not base64', 'not*base64!', /k1 is not base64/],
  ])('%s is refused, naming the file', (_what, content, message) => {
    fs.writeFileSync(path.join(dir, 'k1'), content);
    expect(() => loadKeyRing(dir, 'k1')).toThrow(message);
    expect(() => loadKeyRing(dir, 'k1')).toThrow(path.join(dir, 'k1'));
  });

  test('an empty directory is refused with how to create a key', () => {
    expect(() => loadKeyRing(dir, 'k1')).toThrow(/holds no key: create one with 'nightjar keys create/);
  });

  test('a missing directory is refused naming it', () => {
    expect(() => loadKeyRing(path.join(dir, 'absent'), 'k1')).toThrow(/cannot read the encryption keys directory .*absent: ENOENT/);
  });

  test('an active key id without a file is refused, listing the keys present', () => {
    createKey(dir, 'old');
    expect(() => loadKeyRing(dir, 'new')).toThrow(/active key 'new' \(NIGHTJAR_ENCRYPTION_KEY_ID\) has no file .*; keys present: old/);
  });
});

describe('the data converter of the configuration', () => {
  test('without encryption configured it is the SDK default', () => {
    const config = loadConfig({}, '/repo');
    expect(payloadCodec(config)).toBeUndefined();
    expect(dataConverter(config)).toEqual({});
  });

  test('with encryption configured it encrypts with the active key and encodes failure messages', async () => {
    createKey(dir, 'k1');
    const config = loadConfig({ NIGHTJAR_ENCRYPTION_KEYS_DIR: dir, NIGHTJAR_ENCRYPTION_KEY_ID: 'k1' }, '/repo');
    const converter = dataConverter(config);
    expect(converter.failureConverterPath).toBe(FAILURE_CONVERTER_PATH);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { failureConverter } = require(FAILURE_CONVERTER_PATH) as typeof import('../../src/codec/failure-converter');
    expect(failureConverter.options.encodeCommonAttributes).toBe(true);
    const [payload] = await converter.payloadCodecs![0]!.encode([value(SECRET)]);
    expect(keyIdOf(payload!)).toBe('k1');
  });

  test('an unusable keys directory is a configuration error naming the variable', () => {
    const config = loadConfig({ NIGHTJAR_ENCRYPTION_KEYS_DIR: dir, NIGHTJAR_ENCRYPTION_KEY_ID: 'k1' }, '/repo');
    expect(() => dataConverter(config)).toThrow(ConfigError);
    expect(() => dataConverter(config)).toThrow(/NIGHTJAR_ENCRYPTION_KEYS_DIR=.*holds no key/);
  });
});

describe('the plaintext policy (NIGHTJAR_ENCRYPTION_PLAINTEXT)', () => {
  test('accept passes an unencrypted payload through; refuse fails it naming the policy, and still decrypts', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nightjar-plaintext-'));
    createKey(dir, 'p1');
    const plain = defaultPayloadConverter.toPayload({ reason: 'typed without the codec' });
    const accepting = new AesGcmCodec(loadKeyRing(dir, 'p1'), 'accept');
    expect(await accepting.decode([plain])).toEqual([plain]);
    const refusing = new AesGcmCodec(loadKeyRing(dir, 'p1'), 'refuse');
    await expect(refusing.decode([plain])).rejects.toMatchObject({ type: CodecErrorType.NotEncrypted, message: expect.stringMatching(/unencrypted payload \(encoding json\/plain\) was refused.*NIGHTJAR_ENCRYPTION_PLAINTEXT=refuse/) });
    const encrypted = await refusing.encode([plain]);
    expect(await refusing.decode(encrypted)).toEqual([expect.objectContaining({ data: plain.data })]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

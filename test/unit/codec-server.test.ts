import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { defaultPayloadConverter } from '@temporalio/common';
import { payloadToJSON, type JSONPayload } from '@temporalio/common/lib/proto-utils';
import { AesGcmCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../../src/codec/aes-gcm-codec';
import { CodecServerInsecure, createCodecServer, isLoopbackHost, type CodecServer } from '../../src/codec/codec-server';
import { CodecErrorType } from '../../src/codec/errors';
import { createKey, loadKeyRing } from '../../src/codec/keys';
import { createLogger } from '../../src/worker/logger';

const UI = 'http://localhost:8233';
const TOKEN = 'codec-token-0123456789abcdef';
const SECRET = 'Jane Customer, IBAN BE71 0961 2345 6769';
const logger = createLogger({ level: 'silent', redact: true });
const b64 = (s: string) => Buffer.from(s).toString('base64');

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function call(url: string, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(opts.path, url), { method: opts.method ?? 'POST', headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    // The server may answer (413) and close before the whole body is written.
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
    req.end(opts.body);
  });
}

const json = (r: Reply) => JSON.parse(r.body) as { payloads?: JSONPayload[]; error?: { code: string; message: string } };

let dir: string;
let codec: AesGcmCodec;
const servers: CodecServer[] = [];
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nightjar-codec-server-'));
  createKey(dir, 'k1');
  codec = new AesGcmCodec(loadKeyRing(dir, 'k1'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(opts: { tokens?: string[]; maxBodyBytes?: number } = {}): Promise<string> {
  const server = createCodecServer({ codec, corsOrigins: [UI], tokens: opts.tokens ?? [TOKEN], logger, ...(opts.maxBodyBytes ? { maxBodyBytes: opts.maxBodyBytes } : {}) });
  servers.push(server);
  return (await server.listen(0, '127.0.0.1')).url;
}

const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'x-namespace': 'default' };
const plainJson = (v: unknown) => payloadToJSON(defaultPayloadConverter.toPayload(v));

describe('codec server', () => {
  test('encode then decode over HTTP gives back the payload the UI sent', async () => {
    const url = await start();
    const sent = { payloads: [plainJson({ customer: SECRET }), plainJson('second')] };
    const encoded = await call(url, { path: '/encode', headers: auth, body: JSON.stringify(sent) });
    expect(encoded.status).toBe(200);
    const encrypted = json(encoded).payloads!;
    expect(encrypted).toHaveLength(2);
    expect(encrypted[0]!.metadata!.encoding).toBe(b64(ENCRYPTED_ENCODING));
    expect(encrypted[0]!.metadata![KEY_ID_METADATA]).toBe(b64('k1'));
    expect(encoded.body).not.toContain(b64(SECRET).slice(0, 12));
    const decoded = await call(url, { path: '/decode', headers: auth, body: JSON.stringify({ payloads: encrypted }) });
    expect(decoded.status).toBe(200);
    expect(json(decoded).payloads).toEqual(sent.payloads);
    expect(Buffer.from(json(decoded).payloads![0]!.data!, 'base64').toString()).toContain(SECRET);
  });

  test('decode passes payloads that are not encrypted through', async () => {
    const url = await start();
    const sent = { payloads: [plainJson({ businessDate: '2026-03-31' })] };
    const decoded = await call(url, { path: '/decode', headers: auth, body: JSON.stringify(sent) });
    expect(decoded.status).toBe(200);
    expect(json(decoded).payloads).toEqual(sent.payloads);
  });

  test('CORS: an allowed origin is reflected, another is not', async () => {
    const url = await start();
    const body = JSON.stringify({ payloads: [] });
    const allowed = await call(url, { path: '/decode', headers: { ...auth, origin: UI }, body });
    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe(UI);
    const denied = await call(url, { path: '/decode', headers: { ...auth, origin: 'http://evil.example' }, body });
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('preflight: the UI origin gets POST and the headers it sends, without a token; another origin gets 403', async () => {
    const url = await start();
    const preflight = { origin: UI, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' };
    const ok = await call(url, { method: 'OPTIONS', path: '/decode', headers: preflight });
    expect(ok.status).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe(UI);
    expect(ok.headers['access-control-allow-methods']).toBe('POST');
    expect(ok.headers['access-control-allow-headers']).toBe('content-type,x-namespace,authorization');
    const refused = await call(url, { method: 'OPTIONS', path: '/decode', headers: { ...preflight, origin: 'http://evil.example' } });
    expect(refused.status).toBe(403);
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('without a token, or with a wrong one, the answer is 401 JSON and nothing is decoded', async () => {
    const url = await start();
    const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload(SECRET)]);
    const body = JSON.stringify({ payloads: [payloadToJSON(encrypted!)] });
    const missing = await call(url, { path: '/decode', headers: { 'content-type': 'application/json', origin: UI }, body });
    expect(missing.status).toBe(401);
    expect(json(missing).error!.code).toBe('Unauthorized');
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
    // The UI can read the refusal: CORS headers are on errors too.
    expect(missing.headers['access-control-allow-origin']).toBe(UI);
    const wrong = await call(url, { path: '/decode', headers: { ...auth, authorization: `Bearer ${TOKEN}x` }, body });
    expect(wrong.status).toBe(401);
    expect(wrong.body).not.toContain(b64(SECRET).slice(0, 12));
  });

  test('any of the configured tokens is accepted (rotation)', async () => {
    const url = await start({ tokens: ['old-token-aaaaaaaaaaaa', TOKEN] });
    const ok = await call(url, { path: '/decode', headers: { ...auth, authorization: 'Bearer old-token-aaaaaaaaaaaa' }, body: '{"payloads":[]}' });
    expect(ok.status).toBe(200);
  });

  test('a body over the limit is refused with 413, declared or streamed', async () => {
    const url = await start({ maxBodyBytes: 1024 });
    const big = JSON.stringify({ payloads: [plainJson('x'.repeat(4096))] });
    expect((await call(url, { path: '/encode', headers: auth, body: big })).status).toBe(413);
    const chunked = await call(url, { path: '/encode', headers: { ...auth, 'transfer-encoding': 'chunked' }, body: big });
    expect(chunked.status).toBe(413);
  });

  test('malformed JSON and a body without payloads are 400 with the reason', async () => {
    const url = await start();
    const malformed = await call(url, { path: '/decode', headers: auth, body: '{"payloads": [' });
    expect(malformed.status).toBe(400);
    expect(json(malformed).error).toMatchObject({ code: 'MalformedJson', message: expect.stringMatching(/not JSON/) });
    const shape = await call(url, { path: '/decode', headers: auth, body: '{"items": []}' });
    expect(shape.status).toBe(400);
    expect(json(shape).error!.message).toMatch(/unexpected field\(s\) "items": expected \{"payloads"/);
    const notBase64 = await call(url, { path: '/decode', headers: auth, body: JSON.stringify({ payloads: [{ metadata: { encoding: '%%%' }, data: '!' }] }) });
    expect(notBase64.status).toBe(400);
    expect(json(notBase64).error!.message).toMatch(/^payloads\[0\]/);
  });

  test('a tampered payload and one under an unknown key are answered naming the key id and why; the others in the batch decode', async () => {
    const url = await start();
    const [encrypted, fine] = await codec.encode([defaultPayloadConverter.toPayload(SECRET), defaultPayloadConverter.toPayload('still readable')]);
    const data = Buffer.from(encrypted!.data!);
    data[20] = (data[20] as number) ^ 0xff;
    const unknown = payloadToJSON({ metadata: { ...encrypted!.metadata!, [KEY_ID_METADATA]: Buffer.from('gone') }, data: encrypted!.data! });
    const answer = await call(url, { path: '/decode', headers: auth, body: JSON.stringify({ payloads: [payloadToJSON({ ...encrypted!, data }), unknown, payloadToJSON(fine!)] }) });
    // 200: clients retry a failed codec call until their deadline, which would hide the reason.
    expect(answer.status).toBe(200);
    expect(answer.headers['x-nightjar-undecryptable']).toBe('2');
    const values = json(answer).payloads!.map((p) => JSON.parse(Buffer.from(p.data as string, 'base64').toString('utf8')) as unknown);
    expect(values).toEqual([
      { undecryptable: { keyId: 'k1', code: CodecErrorType.AuthenticationFailed, reason: expect.stringMatching(/key 'k1': authentication failed, payload tampered or wrong key/) } },
      { undecryptable: { keyId: 'gone', code: CodecErrorType.UnknownKey, reason: expect.stringContaining("payload encrypted with key 'gone'") } },
      'still readable',
    ]);
    expect(answer.body).not.toContain('Jane Customer');
    expect((await call(url, { method: 'GET', path: '/healthz' })).status).toBe(200);
  });

  test('what the Temporal CLI and UI send is accepted: {} and empty payload lists, to /encode and /decode', async () => {
    const url = await start();
    for (const path of ['/encode', '/decode']) {
      for (const body of ['{}', '{"payloads": []}', '{"payloads": null}']) {
        const answer = await call(url, { path, headers: auth, body });
        expect([path, body, answer.status, json(answer)]).toEqual([path, body, 200, { payloads: [] }]);
      }
    }
    expect((await call(url, { path: '/decode', headers: auth, body: '[]' })).status).toBe(400);
  });

  test('unknown paths are 404 and GET on /decode is 405', async () => {
    const url = await start();
    expect((await call(url, { path: '/other', headers: auth, body: '{}' })).status).toBe(404);
    expect((await call(url, { method: 'GET', path: '/decode', headers: auth })).status).toBe(405);
  });

  test('without tokens it serves on loopback but refuses to bind a non-loopback host', async () => {
    const open = createCodecServer({ codec, corsOrigins: [UI], tokens: [], logger });
    servers.push(open);
    const { url } = await open.listen(0, '127.0.0.1');
    expect((await call(url, { path: '/decode', headers: { 'content-type': 'application/json' }, body: '{"payloads":[]}' })).status).toBe(200);
    const exposed = createCodecServer({ codec, corsOrigins: [UI], tokens: [], logger });
    await expect(exposed.listen(0, '0.0.0.0')).rejects.toThrow(CodecServerInsecure);
    await expect(exposed.listen(0, '0.0.0.0')).rejects.toThrow(/set NIGHTJAR_CODEC_TOKENS/);
  });

  test('loopback hosts are recognised', () => {
    for (const h of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.1.2.3']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.5', 'codec.bank.internal']) expect(isLoopbackHost(h)).toBe(false);
  });
});

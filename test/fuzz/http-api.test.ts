/**
 * The HTTP trigger server on loopback, sent random methods, paths, query strings, headers and
 * bodies: every answer is a 2xx for a valid request or a 4xx JSON error naming the problem, never
 * a 5xx; the fake triggers are called only for valid requests; the server keeps serving.
 */
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import pino from 'pino';
import type { SparkOverrides } from '../../src/domain/pipeline';
import { FeedArrivalSchema, type FeedArrival } from '../../src/domain/triggers';
import { createTriggerServer, type NightTriggers, type TriggerServer } from '../../src/triggers/http-api';
import type { PipelineStatus } from '../../src/workflows/messages';
import { admittedSparkOverrides, anyJson, badDates, businessDate, feedArrival, feedName, fuzz, poisonObject, sparkOverrides, tenant } from './arbitraries';
import { everyTenant, testPolicy } from '../helpers/trigger-policy';

const TOKEN = 'nj-fuzz-5b1d8c2e9a7f';
const MAX_BODY = 8 * 1024;

type Call = { op: 'startNight'; arg: unknown } | { op: 'reportFeedArrival'; arg: FeedArrival } | { op: 'status'; arg: { businessDate: string; tenant: string } };

class CountingTriggers implements NightTriggers {
  calls: Call[] = [];
  async startNight(arg: { businessDate: string; tenant: string; sparkOverrides?: SparkOverrides }) {
    this.calls.push({ op: 'startNight', arg });
    return { workflowId: `nightjar-${arg.tenant}-${arg.businessDate}`, runId: 'run-1', started: true };
  }
  async reportFeedArrival(arg: FeedArrival) {
    this.calls.push({ op: 'reportFeedArrival', arg });
    return { workflowId: `nightjar-${arg.tenant}-${arg.businessDate}`, runId: 'run-2' };
  }
  async status(arg: { businessDate: string; tenant: string }) {
    this.calls.push({ op: 'status', arg });
    // Only one tenant has nights: the others answer 404 NIGHT_NOT_FOUND after a (valid) call.
    return arg.tenant === 'acme' ? ({ businessDate: arg.businessDate, tenant: 'acme', status: 'RUNNING' } as unknown as PipelineStatus) : undefined;
  }
}

interface Sent {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: Buffer;
}

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly contentType: string | undefined;
}

let server: TriggerServer;
let base: URL;
const triggers = new CountingTriggers();
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

beforeAll(async () => {
  server = createTriggerServer({ triggers, policy: testPolicy(everyTenant(), { window: { pastDays: 3_000_000, futureDays: 3_000_000 } }), tokens: [TOKEN], logger: pino({ level: 'silent' }, new Writable({ write: (_c, _e, cb) => cb() })), maxBodyBytes: MAX_BODY });
  base = new URL((await server.listen(0)).url);
});
afterAll(async () => {
  agent.destroy();
  await server.close();
});

function send(req: Sent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...req.headers };
    if (req.body !== undefined && headers['transfer-encoding'] === undefined) headers['content-length'] = String(req.body.length);
    const r = httpRequest({ host: base.hostname, port: base.port, method: req.method, path: req.path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), contentType: res.headers['content-type'] }));
      res.on('error', reject);
    });
    // The server may answer (413, 401) and close before the whole body is written.
    r.on('error', (err: NodeJS.ErrnoException) => (['EPIPE', 'ECONNRESET'].includes(err.code ?? '') ? undefined : reject(err)));
    if (req.body !== undefined) r.end(req.body);
    else r.end();
  });
}

/** A 4xx answer carries `{ error: { code, message } }` with a message that says something. */
function expectJsonError(answer: Answer, method: string): { code: string; message: string } | undefined {
  expect(answer.status).toBeGreaterThanOrEqual(400);
  expect(answer.status).toBeLessThan(500);
  if (method === 'HEAD') return undefined;
  expect(answer.contentType).toBe('application/json; charset=utf-8');
  const body = JSON.parse(answer.text) as { error: { code: string; message: string } };
  expect(body.error.code).toMatch(/^[A-Z][A-Z0-9_]+$/);
  expect(body.error.message.length).toBeGreaterThan(3);
  return body.error;
}

// ---- requests ----------------------------------------------------------------------------------

const validNight = fc.tuple(tenant, businessDate);

const segment = fc.oneof(
  tenant,
  businessDate,
  feedName,
  fc.constantFrom(...badDates).map(encodeURIComponent),
  fc.constantFrom('..', '.', '%2e%2e', '%2F', '%2f..%2f', '%00', '%', '%zz', '%E0%A4%A', 'v1', 'tenants', 'nights', 'feeds', '', '__proto__', 'constructor', 'ACME', 'a'.repeat(300)),
  fc.string({ unit: 'grapheme', maxLength: 12 }).map(encodeURIComponent),
);

const path = fc
  .tuple(
    fc.oneof(
      fc.constantFrom('/healthz', '/openapi.json', '/', '', '//', '/v1', '/v1/tenants', '/healthz/', '/HEALTHZ', '/v1/tenants/acme/nights/2026-03-31/../../..', '/v1/tenants/acme/nights/2026-03-31/feeds/payments/extra'),
      fc.tuple(segment, segment).map(([t, d]) => `/v1/tenants/${t}/nights/${d}`),
      fc.tuple(segment, segment, segment).map(([t, d, f]) => `/v1/tenants/${t}/nights/${d}/feeds/${f}`),
      fc.array(segment, { maxLength: 8 }).map((s) => `/${s.join('/')}`),
    ),
    fc.option(fc.oneof(fc.constantFrom('?', '?a=1', '?tenant=other&businessDate=2025-02-30', '?__proto__[x]=1', '?%zz', '#frag'), fc.string({ maxLength: 20 }).map((q) => `?${encodeURIComponent(q)}`)), { nil: '' }),
  )
  .map(([p, q]) => `${p.startsWith('/') ? p : `/${p}`}${q}`);

const authorization = fc.oneof(
  fc.constant(undefined),
  fc.constant(`Bearer ${TOKEN}`),
  fc.constantFrom('', ' ', 'Bearer', 'Bearer ', `Basic ${TOKEN}`, `bearer ${TOKEN}`, `Bearer  ${TOKEN}  `, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, 'Bearer a b', `Token ${TOKEN}`),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 }).map((t) => `Bearer ${t}`),
);

const contentType = fc.constantFrom(undefined, 'application/json', 'application/json; charset=utf-8', 'application/json;charset="UTF-8"', 'APPLICATION/JSON', 'application/json; charset=latin1', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', '');

const body = fc.oneof(
  fc.constant(undefined),
  feedArrival.map((a) => Buffer.from(JSON.stringify(a))),
  sparkOverrides.map((o) => Buffer.from(JSON.stringify({ sparkOverrides: o }))),
  anyJson.map((v) => Buffer.from(JSON.stringify(v) ?? '')),
  poisonObject.map((v) => Buffer.from(JSON.stringify(v))),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.constantFrom('{', '{"a":}', "{'a':1}", 'NaN', '[]', 'null', '"text"', '{"sparkOverrides":{"normalize":{"driverMemoryMb":1e400}}}').map((s) => Buffer.from(s)),
  fc.constantFrom(Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), Buffer.from([0x7b, 0xff, 0x7d]), Buffer.from([0xed, 0xa0, 0x80])),
  fc.integer({ min: MAX_BODY + 1, max: MAX_BODY * 4 }).map((n) => Buffer.alloc(n, 0x20)),
);

const anyRequest: fc.Arbitrary<Sent> = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'PROPFIND', 'TRACE'),
    path,
    authorization,
    contentType,
    body,
    requestId: fc.option(fc.oneof(fc.uuid(), fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 200 })), { nil: undefined }),
  })
  .map(({ method, path: p, authorization: a, contentType: c, body: b, requestId }) => ({
    method,
    path: p,
    headers: { ...(a === undefined ? {} : { authorization: a }), ...(c === undefined ? {} : { 'content-type': c }), ...(requestId === undefined ? {} : { 'x-request-id': requestId }) },
    ...(b === undefined ? {} : { body: b }),
  }));

const auth = { authorization: `Bearer ${TOKEN}` };
const json = { 'content-type': 'application/json' };

/** Requests every rule allows, with the one trigger call each must make. */
const validRequest: fc.Arbitrary<{ sent: Sent; expected: Call }> = fc.oneof(
  fc.tuple(validNight, fc.option(admittedSparkOverrides, { nil: undefined })).map(([[t, d], o]) => ({
    sent: { method: 'POST', path: `/v1/tenants/${t}/nights/${d}`, headers: { ...auth, ...json }, body: Buffer.from(JSON.stringify(o === undefined ? {} : { sparkOverrides: o })) },
    expected: { op: 'startNight' as const, arg: { businessDate: d, tenant: t, ...(o === undefined ? {} : { sparkOverrides: o }) } },
  })),
  validNight.map(([t, d]) => ({ sent: { method: 'GET', path: `/v1/tenants/${t}/nights/${d}?verbose=1`, headers: auth }, expected: { op: 'status' as const, arg: { businessDate: d, tenant: t } } })),
  feedArrival.map((a) => {
    const t = a.tenant ?? 'default';
    const { businessDate: d, feed, ...rest } = a;
    return {
      sent: { method: 'POST', path: `/v1/tenants/${t}/nights/${d}/feeds/${feed}`, headers: { ...auth, ...json }, body: Buffer.from(JSON.stringify(rest)) },
      expected: { op: 'reportFeedArrival' as const, arg: FeedArrivalSchema.parse({ ...a, tenant: t }) },
    };
  }),
);

// ---- properties --------------------------------------------------------------------------------

test('any request is answered 2xx or with a 4xx JSON error, never 5xx; triggers are called only for valid ones', async () => {
  await fc.assert(
    fc.asyncProperty(anyRequest, async (sent) => {
      const before = triggers.calls.length;
      const answer = await send(sent);
      const called = triggers.calls.slice(before);
      expect(answer.status).toBeLessThan(500);
      if (answer.status < 300) {
        // Health and the document need no trigger; everything else made exactly one valid call.
        if (!sent.path.startsWith('/healthz') && !sent.path.startsWith('/openapi.json')) expect(called).toHaveLength(1);
        else expect(called).toHaveLength(0);
      } else {
        const error = expectJsonError(answer, sent.method);
        // A status read of an unknown night is the one refusal that asked the triggers first.
        if (error?.code === 'NIGHT_NOT_FOUND' || (sent.method === 'HEAD' && answer.status === 404 && called.length === 1)) expect(called.map((c) => c.op)).toEqual(['status']);
        else expect(called).toEqual([]);
      }
      for (const c of called) {
        if (c.op === 'reportFeedArrival') expect(FeedArrivalSchema.parse(c.arg)).toEqual(c.arg);
      }
    }),
    fuzz('http-any-request', 700),
  );
});

test('every valid request is accepted with exactly the one trigger call it asks for', async () => {
  await fc.assert(
    fc.asyncProperty(validRequest, async ({ sent, expected }) => {
      const before = triggers.calls.length;
      const answer = await send(sent);
      const wantStatus = expected.op === 'status' ? ((expected.arg as { tenant: string }).tenant === 'acme' ? 200 : 404) : 202;
      expect(answer.status).toBe(wantStatus);
      expect(triggers.calls.slice(before)).toEqual([expected]);
    }),
    fuzz('http-valid-request', 300),
  );
});

test('raw bytes on the socket never crash the server: any answer is a JSON 4xx, and it serves a valid request afterwards', async () => {
  const garbage = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 400 }).map((b) => Buffer.from(b)),
    fc.constantFrom(
      'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
      'POST /v1/tenants/acme/nights/2026-03-31 HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
      'POST /v1/tenants/acme/nights/2026-03-31 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}',
      'POST /v1/tenants/acme/nights/2026-03-31 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'GET /\u0000 HTTP/1.1\r\n\r\n',
      'GET /healthz HTTP/9.9\r\n\r\n',
      `GET /healthz HTTP/1.1\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`,
    ).map((s) => Buffer.from(s, 'latin1')),
  );
  await fc.assert(
    fc.asyncProperty(garbage, async (bytes) => {
      const before = triggers.calls.length;
      const reply = await new Promise<string>((resolve) => {
        const socket = connect(Number(base.port), base.hostname);
        const chunks: Buffer[] = [];
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
        socket.write(bytes);
        socket.end();
        setTimeout(() => socket.destroy(), 2000).unref();
      });
      const status = /^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1];
      if (status !== undefined) {
        expect(Number(status)).toBeLessThan(500);
        // Every answer, the HTTP parser's refusals included, is a JSON error naming a code.
        if (Number(status) >= 400) expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4).split('\r\n')[0] ?? '')).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
      }
      expect(triggers.calls.length).toBe(before);
    }),
    fuzz('http-raw-bytes', 150),
  );
  expect((await send({ method: 'GET', path: '/v1/tenants/acme/nights/2026-03-31', headers: auth })).status).toBe(200);
});

import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Writable } from 'node:stream';
import type { SparkOverrides } from '../../src/domain/pipeline';
import type { FeedArrival } from '../../src/domain/triggers';
import { TriggerRejected, TriggerUnavailable, type ApiErrorBody } from '../../src/triggers/errors';
import { createTriggerServer, type NightTriggers, type TriggerServer } from '../../src/triggers/http-api';
import { createLogger } from '../../src/worker/logger';
import type { PipelineStatus } from '../../src/workflows/messages';
import { testPolicy } from '../helpers/trigger-policy';

const TOKEN = 'nj-current-9f8e7d6c5b4a39281706';
const OLD_TOKEN = 'nj-previous-0a1b2c3d';
const DATE = '2026-03-31';
const NIGHT = `/v1/tenants/acme/nights/${DATE}`;
const FEED_URI = 'file:///data/landing/2026-03-31/transactions.csv';
/** The API serves acme and globex; a fixed today puts DATE in the window. */
const POLICY = testPolicy(['acme', 'globex'], { today: () => '2026-04-01' });

// ---------------------------------------------------------------------------------------------
// Fakes and helpers
// ---------------------------------------------------------------------------------------------

type Call =
  | { readonly op: 'startNight'; readonly arg: { businessDate: string; tenant: string; sparkOverrides?: SparkOverrides } }
  | { readonly op: 'reportFeedArrival'; readonly arg: FeedArrival }
  | { readonly op: 'status'; readonly arg: { businessDate: string; tenant: string } };

/** Records every call; `failWith` makes the next calls throw, `gate` holds them until released. */
class FakeTriggers implements NightTriggers {
  calls: Call[] = [];
  nights = new Map<string, PipelineStatus>();
  running = new Set<string>();
  failWith: unknown = undefined;
  gate: Promise<void> | undefined = undefined;

  private async enter(call: Call): Promise<void> {
    this.calls.push(call);
    if (this.gate !== undefined) await this.gate;
    if (this.failWith !== undefined) throw this.failWith;
  }

  async startNight(arg: { businessDate: string; tenant: string; sparkOverrides?: SparkOverrides }) {
    await this.enter({ op: 'startNight', arg });
    const key = `${arg.tenant}/${arg.businessDate}`;
    const started = !this.running.has(key);
    this.running.add(key);
    return { workflowId: `nightjar-${arg.tenant}-${arg.businessDate}`, runId: 'run-1', started };
  }

  async reportFeedArrival(arg: FeedArrival) {
    await this.enter({ op: 'reportFeedArrival', arg });
    return { workflowId: `nightjar-${arg.tenant}-${arg.businessDate}`, runId: 'run-2' };
  }

  async status(arg: { businessDate: string; tenant: string }) {
    await this.enter({ op: 'status', arg });
    return this.nights.get(`${arg.tenant}/${arg.businessDate}`);
  }
}

function statusFixture(): PipelineStatus {
  return {
    businessDate: DATE,
    tenant: 'acme',
    status: 'NEEDS_ATTENTION',
    stage: 'normalize',
    late: false,
    feeds: [
      { feed: 'transactions', required: true, state: 'INGESTED', uri: FEED_URI, via: 'signal', arrivedAt: '2026-03-31T23:14:05Z', cutoffAt: '2026-04-01T01:00:00Z' },
      { feed: 'payments', required: false, state: 'WAITING', cutoffAt: '2026-04-01T01:30:00Z' },
    ],
    manifestFeeds: [],
    steps: [
      {
        step: 'normalize',
        status: 'FAILED',
        startedAt: '2026-04-01T01:02:00Z',
        finishedAt: '2026-04-01T01:09:00Z',
        attempts: [
          {
            attempt: 1,
            outcome: 'OUT_OF_MEMORY',
            reason: 'driver OOM',
            resources: { driverMemoryMb: 1024, driverCores: 1, executorMemoryMb: 2048, executorCores: 2, executorInstances: 2, memoryOverheadMb: null, shufflePartitions: 8 },
            startedAt: '2026-04-01T01:02:00Z',
            finishedAt: '2026-04-01T01:05:00Z',
            durationMs: 180_000,
            oomSide: 'driver',
          },
        ],
      },
    ],
    parked: { step: 'normalize', error: { type: 'SparkJobFailed', message: 'out of memory twice' }, since: '2026-04-01T01:09:00Z', actions: ['retry', 'abort'] },
    decisions: [{ step: 'ingest', feed: 'payments', action: 'skip', reason: 'optional feed late', by: 'ops' }],
    startedAt: '2026-03-31T22:00:00Z',
  };
}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
  readonly text: string;
}

interface CallOptions {
  readonly method?: string;
  /** An object is sent as JSON; a string or bytes as they are. */
  readonly body?: unknown;
  /** null: no Authorization header. */
  readonly token?: string | null;
  readonly headers?: Record<string, string>;
}

let base = '';

async function call(path: string, options: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  let body: string | Uint8Array | undefined;
  if (typeof options.body === 'string' || options.body instanceof Uint8Array) body = options.body;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method: options.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** A request through node:http, for what fetch does not let a test control (framing, lying lengths). */
function rawRequest(
  url: string,
  init: { method: string; path: string; headers: Record<string, string | number>; chunks?: readonly Buffer[]; end?: boolean },
): Promise<{ status: number; headers: IncomingHttpHeaders; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${init.path}`, { method: init.method, headers: init.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      });
    });
    req.on('error', reject);
    for (const chunk of init.chunks ?? []) req.write(chunk);
    if (init.end === false) req.flushHeaders();
    else req.end();
  });
}

function errorOf(answer: Answer): ApiErrorBody['error'] {
  const body = answer.body as ApiErrorBody;
  expect(body).toEqual({ error: expect.objectContaining({ code: expect.any(String), message: expect.any(String) }) });
  return body.error;
}

function captureLogs() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: createLogger({ level: 'info', redact: true, destination }), lines };
}

async function eventually<T>(probe: () => T | undefined, what: string, timeoutMs = 2000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// A small JSON Schema checker for the subset the OpenAPI document uses: enough to tell whether
// the documented schemas accept what the server accepts and describe what it answers.
type Schema = Record<string, unknown>;

function schemaErrors(doc: Schema, schema: Schema, value: unknown, at = '$'): string[] {
  if (typeof schema['$ref'] === 'string') {
    const target = (schema['$ref'] as string)
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((node, key) => (node as Schema)[key], doc);
    return schemaErrors(doc, target as Schema, value, at);
  }
  const errors: string[] = [];
  const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);
  if (schema['type'] !== undefined) {
    const types = ([] as string[]).concat(schema['type'] as string | string[]);
    const actual = typeOf(value);
    if (!types.includes(actual) && !(actual === 'integer' && types.includes('number'))) return [`${at}: expected ${types.join('|')}, got ${actual}`];
  }
  if (Array.isArray(schema['enum']) && !schema['enum'].includes(value)) errors.push(`${at}: ${JSON.stringify(value)} not in enum`);
  if ('const' in schema && schema['const'] !== value) errors.push(`${at}: expected ${JSON.stringify(schema['const'])}`);
  if (Array.isArray(schema['anyOf']) && !(schema['anyOf'] as Schema[]).some((s) => schemaErrors(doc, s, value, at).length === 0)) errors.push(`${at}: matches no anyOf branch`);
  if (typeof value === 'string') {
    if (typeof schema['pattern'] === 'string' && !new RegExp(schema['pattern'] as string, 'u').test(value)) errors.push(`${at}: does not match ${schema['pattern']}`);
    if (typeof schema['minLength'] === 'number' && value.length < schema['minLength']) errors.push(`${at}: shorter than minLength`);
    if (typeof schema['maxLength'] === 'number' && value.length > schema['maxLength']) errors.push(`${at}: longer than maxLength`);
  }
  if (typeof value === 'number') {
    if (typeof schema['exclusiveMinimum'] === 'number' && value <= schema['exclusiveMinimum']) errors.push(`${at}: not above exclusiveMinimum`);
    if (typeof schema['minimum'] === 'number' && value < schema['minimum']) errors.push(`${at}: below minimum`);
    if (typeof schema['maximum'] === 'number' && value > schema['maximum']) errors.push(`${at}: above maximum`);
  }
  if (Array.isArray(value) && schema['items'] !== undefined) value.forEach((v, i) => errors.push(...schemaErrors(doc, schema['items'] as Schema, v, `${at}[${i}]`)));
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    const properties = (schema['properties'] ?? {}) as Record<string, Schema>;
    for (const key of (schema['required'] ?? []) as string[]) if (!(key in obj)) errors.push(`${at}.${key}: required`);
    for (const [key, v] of Object.entries(obj)) {
      const own = properties[key];
      if (own !== undefined) errors.push(...schemaErrors(doc, own, v, `${at}.${key}`));
      else if (schema['additionalProperties'] === false) errors.push(`${at}.${key}: not allowed`);
      else if (typeof schema['additionalProperties'] === 'object') errors.push(...schemaErrors(doc, schema['additionalProperties'] as Schema, v, `${at}.${key}`));
    }
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------
// One server for most tests
// ---------------------------------------------------------------------------------------------

const fake = new FakeTriggers();
const logs = captureLogs();
let server: TriggerServer;

beforeAll(async () => {
  server = createTriggerServer({ triggers: fake, policy: POLICY, tokens: [TOKEN, OLD_TOKEN], logger: logs.logger });
  base = (await server.listen(0, '127.0.0.1')).url;
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  fake.calls = [];
  fake.nights.clear();
  fake.running.clear();
  fake.failWith = undefined;
  fake.gate = undefined;
});

/** The parsed log lines of requests whose request id is `id`. */
function logLinesOf(id: string): Record<string, unknown>[] {
  return logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['requestId'] === id);
}

// ---------------------------------------------------------------------------------------------
// Happy paths
// ---------------------------------------------------------------------------------------------

describe('happy paths', () => {
  test('GET /healthz answers ok without a token', async () => {
    const a = await call('/healthz', { token: null });
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ status: 'ok' });
    expect(a.headers.get('content-type')).toBe('application/json; charset=utf-8');
  });

  test('POST a night without a body starts it and points at its status', async () => {
    const a = await call(NIGHT, { method: 'POST' });
    expect(a.status).toBe(202);
    expect(a.body).toEqual({ workflowId: `nightjar-acme-${DATE}`, runId: 'run-1', started: true });
    expect(a.headers.get('location')).toBe(NIGHT);
    expect(fake.calls).toEqual([{ op: 'startNight', arg: { businessDate: DATE, tenant: 'acme' } }]);
  });

  test('POST a night with an empty JSON object, then again: the second call joins the running night', async () => {
    expect((await call(NIGHT, { body: {} })).body).toMatchObject({ started: true });
    expect((await call(NIGHT, { body: {} })).body).toMatchObject({ started: false });
    expect(fake.calls).toHaveLength(2);
  });

  test('POST a night with Spark overrides passes them on as sent', async () => {
    const sparkOverrides = { normalize: { driverMemoryMb: 4096, memoryOverheadMb: null }, transform: { executorInstances: 6 } };
    const a = await call(NIGHT, { body: { sparkOverrides } });
    expect(a.status).toBe(202);
    expect(fake.calls).toEqual([{ op: 'startNight', arg: { businessDate: DATE, tenant: 'acme', sparkOverrides } }]);
  });

  test('POST a feed arrival builds the FeedArrival from path and body', async () => {
    const body = { uri: FEED_URI, sha256: 'ab'.repeat(32), eventId: 'core-banking-4711', arrivedAt: '2026-03-31T23:14:05+02:00' };
    const a = await call(`${NIGHT}/feeds/transactions`, { body });
    expect(a.status).toBe(202);
    expect(a.body).toEqual({ workflowId: `nightjar-acme-${DATE}`, runId: 'run-2' });
    expect(fake.calls).toEqual([{ op: 'reportFeedArrival', arg: { ...body, businessDate: DATE, tenant: 'acme', feed: 'transactions' } }]);
  });

  test('a feed body may repeat the path values when they agree', async () => {
    const a = await call(`${NIGHT}/feeds/fx_rates`, { body: { uri: 's3://bank-landing/fx.csv', businessDate: DATE, tenant: 'acme', feed: 'fx_rates' } });
    expect(a.status).toBe(202);
    expect(fake.calls).toEqual([{ op: 'reportFeedArrival', arg: { uri: 's3://bank-landing/fx.csv', businessDate: DATE, tenant: 'acme', feed: 'fx_rates' } }]);
  });

  test('GET a night answers its status', async () => {
    fake.nights.set(`acme/${DATE}`, statusFixture());
    const a = await call(NIGHT);
    expect(a.status).toBe(200);
    expect(a.body).toEqual(statusFixture());
    expect(fake.calls).toEqual([{ op: 'status', arg: { businessDate: DATE, tenant: 'acme' } }]);
  });

  test('GET an unknown night is 404 NIGHT_NOT_FOUND', async () => {
    const a = await call('/v1/tenants/acme/nights/2026-01-02');
    expect(a.status).toBe(404);
    expect(errorOf(a).code).toBe('NIGHT_NOT_FOUND');
  });
});

// ---------------------------------------------------------------------------------------------
// Authentication
// ---------------------------------------------------------------------------------------------

describe('bearer tokens', () => {
  const routes: [string, CallOptions][] = [
    [NIGHT, { method: 'GET' }],
    [NIGHT, { method: 'POST' }],
    [`${NIGHT}/feeds/transactions`, { body: { uri: FEED_URI } }],
  ];

  test.each(routes)('%s (%j) without a token is 401 with a Bearer challenge and reaches nothing', async (path, options) => {
    const a = await call(path, { ...options, token: null });
    expect(a.status).toBe(401);
    expect(a.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    expect(errorOf(a).code).toBe('UNAUTHORIZED');
    expect(fake.calls).toEqual([]);
  });

  test.each([
    ['a token of the same length', TOKEN.replace(/.$/, 'x')],
    ['a shorter token', 'nj'],
    ['a longer token', `${TOKEN}${TOKEN}`],
    ['a prefix of the accepted token', TOKEN.slice(0, -1)],
  ])('%s is 401 invalid_token', async (_what, token) => {
    const a = await call(NIGHT, { token });
    expect(a.status).toBe(401);
    expect(a.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    expect(fake.calls).toEqual([]);
  });

  test.each([['Basic bmo6c2VjcmV0'], [`Token ${TOKEN}`], ['Bearer'], [`Bearer ${TOKEN} extra`]])('Authorization "%s" is 401', async (authorization) => {
    const a = await call(NIGHT, { token: null, headers: { authorization } });
    expect(a.status).toBe(401);
    expect(fake.calls).toEqual([]);
  });

  test('while rotating, the old and the new token are both accepted (scheme case-insensitive)', async () => {
    expect((await call(NIGHT, { method: 'POST', token: OLD_TOKEN })).status).toBe(202);
    expect((await call(NIGHT, { method: 'POST', token: null, headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(202);
    expect(fake.calls).toHaveLength(2);
  });

  test('a server needs at least one usable token', () => {
    const { logger } = captureLogs();
    expect(() => createTriggerServer({ triggers: fake, policy: POLICY, tokens: [], logger })).toThrow(/at least one bearer token/);
    expect(() => createTriggerServer({ triggers: fake, policy: POLICY, tokens: [''], logger })).toThrow(/visible ASCII/);
    expect(() => createTriggerServer({ triggers: fake, policy: POLICY, tokens: ['with space'], logger })).toThrow(/visible ASCII/);
  });
});

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

describe('errors', () => {
  test('malformed JSON is 400 MALFORMED_JSON', async () => {
    const a = await call(`${NIGHT}/feeds/transactions`, { body: '{"uri": ' });
    expect(a.status).toBe(400);
    expect(errorOf(a).code).toBe('MALFORMED_JSON');
    expect(fake.calls).toEqual([]);
  });

  test('a body that is not UTF-8 is 400 MALFORMED_JSON', async () => {
    const a = await call(`${NIGHT}/feeds/transactions`, { body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) });
    expect(a.status).toBe(400);
    expect(errorOf(a)).toMatchObject({ code: 'MALFORMED_JSON', message: 'the body is not valid UTF-8' });
  });

  test('validation errors are 400 and name each field', async () => {
    const a = await call(`${NIGHT}/feeds/transactions`, { body: { uri: 'ftp://elsewhere/x.csv', sha256: 'XYZ', color: 'blue' } });
    expect(a.status).toBe(400);
    const e = errorOf(a);
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.message).toMatch(/uri: must be a file:\/\//);
    expect(e.message).toMatch(/sha256: must be 64 lower-case hex digits/);
    expect(e.message).toMatch(/\(root\): unexpected field\(s\) color/);
    expect(e.details?.map((d) => d.field).sort()).toEqual(['(root)', 'sha256', 'uri']);
    expect(fake.calls).toEqual([]);
  });

  test('bad Spark overrides are 400 naming the nested field', async () => {
    const a = await call(NIGHT, { body: { sparkOverrides: { normalize: { driverMemoryMb: -1 }, shuffle: {} } } });
    expect(a.status).toBe(400);
    const e = errorOf(a);
    expect(e.details?.map((d) => d.field).sort()).toEqual(['sparkOverrides', 'sparkOverrides.normalize.driverMemoryMb']);
    expect(fake.calls).toEqual([]);
  });

  test('a feed arrival needs a body', async () => {
    const a = await call(`${NIGHT}/feeds/transactions`, { method: 'POST' });
    expect(a.status).toBe(400);
    expect(errorOf(a)).toMatchObject({ code: 'VALIDATION_FAILED', message: '(root): a JSON object body is required' });
  });

  test.each([
    ['tenant', { tenant: 'other' }],
    ['businessDate', { businessDate: '2026-03-30' }],
    ['feed', { feed: 'payments' }],
    ['tenant', { tenant: 42 }],
  ])('a body whose %s disagrees with the path is 400 PATH_BODY_MISMATCH', async (field, extra) => {
    const a = await call(`${NIGHT}/feeds/transactions`, { body: { uri: FEED_URI, ...extra } });
    expect(a.status).toBe(400);
    const e = errorOf(a);
    expect(e.code).toBe('PATH_BODY_MISMATCH');
    expect(e.details).toEqual([{ field, message: expect.stringMatching(/must equal the path's/) }]);
    expect(fake.calls).toEqual([]);
  });

  test('an unknown feed is 400 naming the feed and the known ones', async () => {
    const a = await call(`${NIGHT}/feeds/loans`, { body: { uri: FEED_URI } });
    expect(a.status).toBe(400);
    const e = errorOf(a);
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.message).toMatch(/^feed: .*transactions/);
    expect(fake.calls).toEqual([]);
  });

  test.each([
    ['GET', '/v1/tenants/acme/nights/2026-02-30', undefined],
    ['POST', '/v1/tenants/acme/nights/2026-02-30', undefined],
    ['POST', '/v1/tenants/acme/nights/2026-02-30/feeds/transactions', { uri: FEED_URI }],
    ['GET', '/v1/tenants/acme/nights/31.03.2026', undefined],
  ])('%s %s: an impossible date is 400 naming businessDate', async (method, path, body) => {
    const a = await call(path, { method, body });
    expect(a.status).toBe(400);
    expect(errorOf(a).message).toMatch(/^businessDate: must be a calendar date/);
    expect(fake.calls).toEqual([]);
  });

  test('a tenant that cannot name a workflow is 400 naming tenant', async () => {
    const a = await call(`/v1/tenants/ACME/nights/${DATE}`);
    expect(a.status).toBe(400);
    expect(errorOf(a).message).toMatch(/^tenant: /);
  });

  test.each([['/'], ['/v1'], ['/v1/tenants/acme/nights'], [`${NIGHT}/`], [`${NIGHT}/feeds`], [`${NIGHT}/feeds/transactions/extra`], ['/v2/tenants/acme/nights/2026-03-31']])(
    'unknown route %s is 404 NOT_FOUND',
    async (path) => {
      const a = await call(path);
      expect(a.status).toBe(404);
      expect(errorOf(a).code).toBe('NOT_FOUND');
    },
  );

  test.each([
    ['DELETE', NIGHT, 'GET, POST'],
    ['PUT', NIGHT, 'GET, POST'],
    ['GET', `${NIGHT}/feeds/transactions`, 'POST'],
    ['POST', '/healthz', 'GET, HEAD'],
    ['POST', '/openapi.json', 'GET, HEAD'],
  ])('%s %s is 405 with Allow: %s', async (method, path, allow) => {
    const a = await call(path, { method });
    expect(a.status).toBe(405);
    expect(a.headers.get('allow')).toBe(allow);
    expect(errorOf(a).code).toBe('METHOD_NOT_ALLOWED');
    expect(fake.calls).toEqual([]);
  });

  test('a body over the limit is 413 (declared length)', async () => {
    const a = await call(`${NIGHT}/feeds/transactions`, { body: { uri: FEED_URI, eventId: 'x'.repeat(70 * 1024) } });
    expect(a.status).toBe(413);
    expect(errorOf(a).code).toBe('PAYLOAD_TOO_LARGE');
    expect(fake.calls).toEqual([]);
  });

  test('a body over the limit is 413 (chunked, no length), and the connection answers', async () => {
    const chunk = Buffer.from(' '.repeat(16 * 1024));
    const a = await rawRequest(base, {
      method: 'POST',
      path: `${NIGHT}/feeds/transactions`,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      chunks: [Buffer.from('{"uri":"file:///x", "pad": "'), ...Array.from({ length: 5 }, () => chunk), Buffer.from('"}')],
    });
    expect(a.status).toBe(413);
    expect(a.body).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    expect(fake.calls).toEqual([]);
  });

  test('a declared length far over the limit is refused before any body is sent', async () => {
    const a = await rawRequest(base, {
      method: 'POST',
      path: NIGHT,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'content-length': 50 * 1024 * 1024 },
      end: false,
    });
    expect(a.status).toBe(413);
    expect(a.headers['connection']).toBe('close');
  });

  test.each([['text/plain'], ['application/x-www-form-urlencoded'], ['application/json; charset=iso-8859-1']])('content type %s is 415', async (contentType) => {
    const a = await call(`${NIGHT}/feeds/transactions`, { body: JSON.stringify({ uri: FEED_URI }), headers: { 'content-type': contentType } });
    expect(a.status).toBe(415);
    expect(errorOf(a).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(fake.calls).toEqual([]);
  });

  test('application/json with a UTF-8 charset parameter is accepted', async () => {
    const a = await call(`${NIGHT}/feeds/transactions`, { body: JSON.stringify({ uri: FEED_URI }), headers: { 'content-type': 'Application/JSON; charset="UTF-8"' } });
    expect(a.status).toBe(202);
  });

  test.each([
    [409, 'NIGHT_COMPLETED', 'the night of 2026-03-31 completed at 02:10; it takes no more feeds'],
    [422, 'FEED_NOT_EXPECTED', 'tenant acme does not deliver payments'],
  ] as const)('a TriggerRejected(%i, %s) is answered with its status, code and message', async (status, code, message) => {
    fake.failWith = new TriggerRejected({ status, code, message });
    const a = await call(`${NIGHT}/feeds/payments`, { body: { uri: FEED_URI } });
    expect(a.status).toBe(status);
    expect(a.body).toEqual({ error: { code, message } });
  });

  test('any other failure of the triggers is 503 UPSTREAM_UNAVAILABLE, without internals, and logged with its cause', async () => {
    fake.failWith = new Error('14 UNAVAILABLE: connect ECONNREFUSED 10.20.30.40:7233 (temporal-frontend.bank.internal)');
    const a = await call(NIGHT, { method: 'POST', headers: { 'x-request-id': 'upstream-down-1' } });
    expect(a.status).toBe(503);
    expect(a.body).toEqual({ error: { code: 'UPSTREAM_UNAVAILABLE', message: expect.any(String) } });
    expect(a.text).not.toMatch(/ECONNREFUSED|10\.20\.30\.40|temporal-frontend/);
    const [line] = await eventually(() => (logLinesOf('upstream-down-1').length > 0 ? logLinesOf('upstream-down-1') : undefined), 'the log line');
    expect(line).toMatchObject({ level: 50, status: 503, code: 'UPSTREAM_UNAVAILABLE', err: { message: expect.stringContaining('ECONNREFUSED') } });
  });

  test('a status read that fails upstream is 503 too', async () => {
    fake.failWith = new TypeError('cannot read properties of undefined');
    const a = await call(NIGHT);
    expect(a.status).toBe(503);
    expect(a.text).not.toMatch(/properties of undefined/);
  });

  test('a TriggerRejected code must be UPPER_SNAKE_CASE', () => {
    expect(() => new TriggerRejected({ status: 409, code: 'night completed', message: 'x' })).toThrow(/UPPER_SNAKE_CASE/);
  });

  test('hostile bodies never cause a 5xx and never reach the triggers', async () => {
    const bodies: unknown[] = [
      'null',
      '[]',
      '[{"uri":"file:///x"}]',
      '42',
      '"file:///x"',
      'true',
      '{"__proto__": {"uri": "file:///x"}}',
      '{"constructor": {"prototype": {"polluted": true}}}',
      '{"uri": {"toString": "file:///x"}}',
      '{"uri": ["file:///x"]}',
      '{"uri": "file:///x", "sha256": null}',
      '{"uri": "file:///x", "arrivedAt": "yesterday"}',
      '{"uri": "file:///x", "eventId": ""}',
      '{"uri": "file:///x", "feed": null}',
      '{"uri": 1e999}',
      `{"uri": "file:///${'a'.repeat(3000)}"}`,
      '{"a":'.repeat(2000) + '1' + '}'.repeat(2000),
      '{"uri": "file:///x"} trailing',
      '\u0000',
      '{"uri": "file:///x\u0000"}',
    ];
    for (const body of bodies) {
      for (const path of [`${NIGHT}/feeds/transactions`, NIGHT]) {
        const a = await call(path, { body: body as string });
        expect({ body, path, status: a.status }).toEqual({ body, path, status: 400 });
      }
    }
    expect(fake.calls).toEqual([]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// Logging
// ---------------------------------------------------------------------------------------------

describe('request log', () => {
  test('one line per request with method, route template, status, duration, tenant and date', async () => {
    await call(`${NIGHT}/feeds/transactions`, { body: { uri: FEED_URI, eventId: 'evt-visible-only-in-body' }, headers: { 'x-request-id': 'log-line-1' } });
    const lines = await eventually(() => (logLinesOf('log-line-1').length > 0 ? logLinesOf('log-line-1') : undefined), 'the log line');
    await new Promise((r) => setTimeout(r, 50));
    expect(logLinesOf('log-line-1')).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      msg: 'http request',
      method: 'POST',
      route: '/v1/tenants/{tenant}/nights/{businessDate}/feeds/{feed}',
      status: 202,
      durationMs: expect.any(Number),
      tenant: 'acme',
      businessDate: DATE,
      feed: 'transactions',
    });
  });

  test('tokens and bodies never appear in the log', async () => {
    await call(`${NIGHT}/feeds/transactions`, { body: { uri: 'file:///secret-location/tx.csv', eventId: 'body-only-event-id' }, headers: { 'x-request-id': 'quiet-1' } });
    await call(NIGHT, { token: 'wrong-token-value-123', headers: { 'x-request-id': 'quiet-2' } });
    await call(`${NIGHT}/feeds/transactions`, { token: OLD_TOKEN, body: { uri: 'file:///another-secret/tx.csv', sha256: 'zz' }, headers: { 'x-request-id': 'quiet-3' } });
    for (const id of ['quiet-1', 'quiet-2', 'quiet-3']) await eventually(() => (logLinesOf(id).length > 0 ? true : undefined), `the log line of ${id}`);
    const all = logs.lines.join('');
    for (const secret of [TOKEN, OLD_TOKEN, 'wrong-token-value-123', 'secret-location', 'body-only-event-id', 'another-secret']) expect(all).not.toContain(secret);
  });

  test('a client that goes away mid-body is logged once as 499 aborted, and nothing is called', async () => {
    const req = httpRequest(`${base}${NIGHT}/feeds/transactions`, {
      method: 'POST',
      agent: false,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'content-length': 1000, 'x-request-id': 'log-abort' },
    });
    req.on('error', () => undefined);
    req.write('{"uri": "file:///');
    await new Promise((r) => setTimeout(r, 50));
    req.destroy();
    const [line] = await eventually(() => (logLinesOf('log-abort').length > 0 ? logLinesOf('log-abort') : undefined), 'the log line');
    expect(line).not.toHaveProperty('err');
    expect(line).toMatchObject({ status: 499, aborted: true, code: 'REQUEST_ABORTED', route: '/v1/tenants/{tenant}/nights/{businessDate}/feeds/{feed}' });
    expect(fake.calls).toEqual([]);
  });

  test('a failed authentication is logged at warn', async () => {
    await call(NIGHT, { token: 'nope', headers: { 'x-request-id': 'log-401' } });
    const [line] = await eventually(() => (logLinesOf('log-401').length > 0 ? logLinesOf('log-401') : undefined), 'the log line');
    expect(line).toMatchObject({ level: 40, status: 401, code: 'UNAUTHORIZED', route: '/v1/tenants/{tenant}/nights/{businessDate}' });
  });
});

// ---------------------------------------------------------------------------------------------
// The OpenAPI document
// ---------------------------------------------------------------------------------------------

describe('GET /openapi.json', () => {
  let doc: Schema;
  beforeAll(async () => {
    const a = await call('/openapi.json', { token: null });
    expect(a.status).toBe(200);
    doc = JSON.parse(a.text) as Schema;
  });

  const schema = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

  test('is OpenAPI 3.1 with every route and method, and a bearer security scheme', () => {
    expect(doc['openapi']).toBe('3.1.0');
    const paths = doc['paths'] as Record<string, Record<string, unknown>>;
    expect(Object.keys(paths).sort()).toEqual(['/healthz', '/openapi.json', '/v1/tenants/{tenant}/nights/{businessDate}', '/v1/tenants/{tenant}/nights/{businessDate}/feeds/{feed}']);
    expect(Object.keys(paths['/v1/tenants/{tenant}/nights/{businessDate}'] ?? {})).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(paths['/v1/tenants/{tenant}/nights/{businessDate}/feeds/{feed}'] ?? {})).toEqual(expect.arrayContaining(['post']));
    expect(doc).toMatchObject({
      security: [{ bearerAuth: [] }],
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      paths: { '/healthz': { get: { security: [] } }, '/openapi.json': { get: { security: [] } } },
    });
  });

  test('every $ref resolves', () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(refs.length).toBeGreaterThan(10);
    for (const r of refs) expect({ ref: r, found: r.split('/').reduce<unknown>((n, k) => (n as Schema | undefined)?.[k], doc) !== undefined }).toEqual({ ref: r, found: true });
  });

  test('the request schemas accept what the tests send and the server accepts', () => {
    const accepted: [string, unknown][] = [
      ['StartNightRequest', {}],
      ['StartNightRequest', { sparkOverrides: { normalize: { driverMemoryMb: 4096, memoryOverheadMb: null }, transform: { executorInstances: 6 } } }],
      ['FeedArrivalRequest', { uri: FEED_URI, sha256: 'ab'.repeat(32), eventId: 'core-banking-4711', arrivedAt: '2026-03-31T23:14:05+02:00' }],
      ['FeedArrivalRequest', { uri: 's3://bank-landing/fx.csv', tenant: 'acme' }],
    ];
    for (const [name, value] of accepted) expect({ name, errors: schemaErrors(doc, schema(name), value) }).toEqual({ name, errors: [] });
    const examples = ((doc['components'] as Schema)['schemas'] as Record<string, Schema>);
    for (const name of ['StartNightRequest', 'FeedArrivalRequest']) {
      for (const example of (examples[name]?.['examples'] ?? []) as unknown[]) expect(schemaErrors(doc, schema(name), example)).toEqual([]);
    }
  });

  test('the request schemas refuse what the server refuses', () => {
    expect(schemaErrors(doc, schema('FeedArrivalRequest'), { uri: 'ftp://x', color: 'blue' })).toEqual(
      expect.arrayContaining([expect.stringMatching(/uri/), expect.stringMatching(/color: not allowed/)]),
    );
    expect(schemaErrors(doc, schema('FeedArrivalRequest'), {})).toEqual(['$.uri: required']);
    expect(schemaErrors(doc, schema('StartNightRequest'), { sparkOverrides: { normalize: { driverMemoryMb: 0 } } })).not.toEqual([]);
  });

  test('the response schemas describe what the server answers', async () => {
    expect(schemaErrors(doc, schema('PipelineStatus'), statusFixture())).toEqual([]);
    expect(schemaErrors(doc, schema('Health'), { status: 'ok' })).toEqual([]);
    expect(schemaErrors(doc, schema('StartNightResponse'), (await call(NIGHT, { method: 'POST' })).body)).toEqual([]);
    expect(schemaErrors(doc, schema('FeedArrivalResponse'), (await call(`${NIGHT}/feeds/accounts`, { body: { uri: FEED_URI } })).body)).toEqual([]);
    const errors = await Promise.all([call(NIGHT, { token: null }), call(`${NIGHT}/feeds/transactions`, { body: { sha256: 1 } }), call('/nowhere')]);
    for (const e of errors) expect(schemaErrors(doc, schema('ErrorBody'), e.body)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Lifecycle and limits
// ---------------------------------------------------------------------------------------------

describe('lifecycle', () => {
  test('close() lets an in-flight request finish, then stops accepting', async () => {
    const triggers = new FakeTriggers();
    let release!: () => void;
    triggers.gate = new Promise<void>((r) => (release = r));
    const own = createTriggerServer({ triggers, policy: POLICY, tokens: [TOKEN], logger: captureLogs().logger });
    const { url } = await own.listen(0, '127.0.0.1');
    const inFlight = fetch(`${url}${NIGHT}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    await eventually(() => (triggers.calls.length > 0 ? true : undefined), 'the call to reach the triggers');
    let closed = false;
    const closing = own.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(false);
    release();
    const res = await inFlight;
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ started: true });
    await closing;
    expect(closed).toBe(true);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  test('maxBodyBytes is configurable and documented', async () => {
    const own = createTriggerServer({ triggers: new FakeTriggers(), policy: POLICY, tokens: [TOKEN], logger: captureLogs().logger, maxBodyBytes: 100 });
    const { url } = await own.listen(0, '127.0.0.1');
    try {
      const res = await fetch(`${url}${NIGHT}/feeds/transactions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ uri: `file:///${'a'.repeat(100)}` }),
      });
      expect(res.status).toBe(413);
      expect(await (await fetch(`${url}/openapi.json`)).text()).toContain('at most 100 bytes');
    } finally {
      await own.close();
    }
  });
});

describe('what this deployment admits: its tenants, the window, the caps', () => {
  test('a tenant it does not serve is 404 TENANT_NOT_SERVED on every route, and nothing reaches the triggers', async () => {
    for (const [method, path, body] of [
      ['POST', '/v1/tenants/nosuchtenant/nights/2026-03-31', undefined],
      ['POST', '/v1/tenants/default/nights/2026-03-31/feeds/payments', { uri: FEED_URI }],
      ['GET', '/v1/tenants/default/nights/2026-03-31', undefined],
    ] as const) {
      const a = await call(path, { method, ...(body ? { body } : {}) });
      expect([path, a.status]).toEqual([path, 404]);
      expect(errorOf(a)).toMatchObject({ code: 'TENANT_NOT_SERVED', message: "tenant 'nosuchtenant' is not served here (this deployment serves 'acme', 'globex')".replace('nosuchtenant', path.split('/')[3] ?? '') });
    }
    expect(fake.calls).toEqual([]);
  });

  test('a date outside the window is 400 naming businessDate and the window; the edges pass', async () => {
    // today 2026-04-01, the test window: 3660 days back, 366 ahead
    const far = await call('/v1/tenants/acme/nights/0050-01-01', { method: 'POST' });
    expect(far.status).toBe(400);
    expect(errorOf(far)).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'businessDate', message: expect.stringMatching(/^must be between 2016-03-\d\d and 2027-04-02 /) }] });
    expect((await call('/v1/tenants/acme/nights/2027-04-02', { method: 'POST' })).status).toBe(202);
    expect((await call('/v1/tenants/acme/nights/2027-04-03', { method: 'POST' })).status).toBe(400);
    expect(fake.calls.map((c) => c.arg.businessDate)).toEqual(['2027-04-02']);
  });

  test('overrides above the caps escalation uses are 400 naming the field and the cap', async () => {
    const a = await call(NIGHT, { body: { sparkOverrides: { normalize: { driverMemoryMb: 9_007_199_254_740_991 }, transform: { executorInstances: 1e12 } } } });
    expect(a.status).toBe(400);
    expect(errorOf(a).details).toEqual([
      { field: 'sparkOverrides.normalize.driverMemoryMb', message: 'must be at most 8192 (the driver memory cap)' },
      { field: 'sparkOverrides.transform.executorInstances', message: 'must be at most 10000 (executors)' },
    ]);
    expect((await call(NIGHT, { body: { sparkOverrides: { normalize: { driverMemoryMb: 8192 } } } })).status).toBe(202);
  });

  test('arrivedAt without seconds is refused: RFC 3339, as documented', async () => {
    const a = await call(`${NIGHT}/feeds/payments`, { body: { uri: FEED_URI, arrivedAt: '2026-03-31T23:14Z' } });
    expect(a.status).toBe(400);
    expect(errorOf(a).details).toEqual([{ field: 'arrivedAt', message: expect.stringMatching(/RFC 3339 timestamp with seconds/) }]);
  });

  test('a join refused for other overrides is 409 with the running night in the body', async () => {
    fake.failWith = new TriggerRejected({
      code: 'OVERRIDES_NOT_APPLIED',
      status: 409,
      message: 'the night acme 2026-03-31 is already running with no overrides',
      night: { workflowId: 'nightjar-daily-acme-2026-03-31', runId: 'r1' },
    });
    const a = await call(NIGHT, { body: { sparkOverrides: { normalize: { driverMemoryMb: 4096 } } } });
    expect(a.status).toBe(409);
    expect(a.body).toEqual({
      error: { code: 'OVERRIDES_NOT_APPLIED', message: 'the night acme 2026-03-31 is already running with no overrides', night: { workflowId: 'nightjar-daily-acme-2026-03-31', runId: 'r1' } },
    });
  });

  test('no worker polling is 503 at once with Retry-After and the reason', async () => {
    fake.failWith = new TriggerUnavailable('NO_WORKER_POLLING', "no worker is polling task queue 'nightjar-acme'", 30);
    const a = await call(NIGHT);
    expect(a.status).toBe(503);
    expect(a.headers.get('retry-after')).toBe('30');
    expect(errorOf(a)).toEqual({ code: 'NO_WORKER_POLLING', message: "no worker is polling task queue 'nightjar-acme'" });
  });

  test('HEAD works on /healthz and /openapi.json, without a body', async () => {
    for (const path of ['/healthz', '/openapi.json']) {
      const a = await call(path, { method: 'HEAD', token: null });
      expect([path, a.status, a.text]).toEqual([path, 200, '']);
      expect(Number(a.headers.get('content-length'))).toBeGreaterThan(0);
    }
  });

  test('the document states the served tenants, the window as a pattern and the caps', async () => {
    const doc = (await call('/openapi.json', { token: null })).body as Schema;
    const params = (doc['components'] as Schema)['parameters'] as Record<string, { schema: Schema }>;
    expect(params['tenant']?.schema).toMatchObject({ enum: ['acme', 'globex'] });
    const pattern = new RegExp(params['businessDate']?.schema['pattern'] as string);
    expect([pattern.test('2027-04-02'), pattern.test('2027-04-03'), pattern.test('2026-02-29'), pattern.test('2024-02-29')]).toEqual([true, false, false, true]);
    const overrides = ((doc['components'] as Schema)['schemas'] as Record<string, Schema>)['SparkOverrides'] as Schema;
    expect(JSON.stringify(overrides)).toContain('"maximum":8192');
    expect(JSON.stringify(overrides)).toContain('"maximum":16384');
  });
});

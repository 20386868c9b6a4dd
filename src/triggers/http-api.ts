/**
 * The HTTP trigger API: how the bank's other services start nights, report feed arrivals and read
 * a night's status. A plain `node:http` server in front of `NightTriggers`, which the composition
 * root implements with the Temporal client; this module never talks to Temporal itself.
 *
 * Order of checks for a request: route (404) → method (405) → bearer token (401) → path
 * parameters (400) → tenant served here (404) → business date in the window (400) → content type
 * (415) → size (413) → JSON (400) → body, overrides within the caps (400) → triggers (202/200, or
 * 404/409/422 from a `TriggerRejected`, 503 with `Retry-After` from a `TriggerUnavailable`, 503
 * for anything else they throw).
 */
import { randomUUID } from 'node:crypto';
import { bearerTokenChecker } from '../infra/bearer-tokens';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import { businessDateOutsideWindow } from '../domain/bounds';
import type { SparkOverrides } from '../domain/pipeline';
import { BusinessDateSchema, describeIssue, describeIssues, FeedArrivalSchema, TenantSchema, type FeedArrival } from '../domain/triggers';
import type { PipelineStatus } from '../workflows/messages';
import { ApiErrorCode, TriggerRejected, TriggerUnavailable, type ApiErrorBody, type ApiErrorDetail, type RunningNight } from './errors';
import { buildOpenApiDocument, ROUTE_TEMPLATES, startNightBodySchema } from './openapi';
import { tenantRefusal, type TriggerPolicy } from './policy';
import { closeServer, listenOn } from '../infra/http-server';

/** What the API asks of the orchestrator; implemented with the Temporal client elsewhere. */
export interface NightTriggers {
  /** Starts the night, or joins it when it is already running (`started: false`). */
  startNight(req: { businessDate: string; tenant: string; sparkOverrides?: SparkOverrides }): Promise<{ workflowId: string; runId: string; started: boolean }>;
  /** Signals the night, starting it first when needed (signal-with-start). */
  reportFeedArrival(arrival: FeedArrival): Promise<{ workflowId: string; runId: string }>;
  /** The night's status; undefined when there is no such night. */
  status(req: { businessDate: string; tenant: string }): Promise<PipelineStatus | undefined>;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

export interface TriggerServerOptions {
  readonly triggers: NightTriggers;
  /** Accepted bearer tokens. While rotating, list the old and the new one. */
  readonly tokens: readonly string[];
  /** The tenants served, the business-date window, the override caps: checked before the triggers, stated in the OpenAPI document. */
  readonly policy: TriggerPolicy;
  readonly logger: Logger;
  /** Largest request body accepted (413 above); 64 KiB by default. */
  readonly maxBodyBytes?: number;
}

export interface TriggerServer {
  /** Starts listening (port 0 picks a free port); host defaults to loopback. */
  listen(port: number, host?: string): Promise<{ readonly url: string }>;
  /** Stops accepting connections and resolves once in-flight requests have been answered. */
  close(): Promise<void>;
}

/** Bearer tokens are opaque: any visible ASCII (RFC 6750's token68 is a subset). */
const REQUEST_ID = /^[\w.:-]{1,128}$/;
/** A declared body this much larger than the limit is not drained: the connection is closed instead. */
const DRAIN_LIMIT_BYTES = 1024 * 1024;
const LOGGED_PARAM_CHARS = 64;
/** Logged when the client left mid-body; nobody is left to read it as an answer. */
const REQUEST_ABORTED = 'REQUEST_ABORTED';

const METHODS: Readonly<Record<keyof typeof ROUTE_TEMPLATES, readonly string[]>> = {
  health: ['GET', 'HEAD'],
  openapi: ['GET', 'HEAD'],
  night: ['GET', 'POST'],
  feed: ['POST'],
};

const NightPathSchema = z.object({ tenant: TenantSchema, businessDate: BusinessDateSchema });
const FeedPathSchema = NightPathSchema.extend({ feed: FeedArrivalSchema.shape.feed });
/** Fields a feed body may repeat from the path, but only with the same value. */
const PATH_FIELDS = ['businessDate', 'tenant', 'feed'] as const;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: readonly ApiErrorDetail[],
    readonly headers: Readonly<Record<string, string>> = {},
    /** Close the connection after answering instead of draining the rest of the request. */
    readonly closeConnection = false,
    readonly night?: RunningNight,
  ) {
    super(message);
  }
}

interface Reply {
  readonly status: number;
  /** Sent as JSON; `raw` is JSON already serialized. */
  readonly body?: unknown;
  readonly raw?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly closeConnection?: boolean;
}

/** What the one log line of a request says besides method, status and duration. */
interface RequestLog {
  route?: string;
  path?: string;
  tenant?: string;
  businessDate?: string;
  feed?: string;
  code?: string;
  err?: unknown;
}

interface Match {
  readonly name: keyof typeof ROUTE_TEMPLATES;
  readonly params: Readonly<Record<string, string>>;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function matchRoute(pathname: string): Match | undefined {
  if (pathname === ROUTE_TEMPLATES.health) return { name: 'health', params: {} };
  if (pathname === ROUTE_TEMPLATES.openapi) return { name: 'openapi', params: {} };
  const s = pathname.split('/').map(decodeSegment);
  if (s[0] !== '' || s[1] !== 'v1' || s[2] !== 'tenants' || s[4] !== 'nights') return undefined;
  const [tenant = '', businessDate = ''] = [s[3], s[5]];
  if (s.length === 6) return { name: 'night', params: { tenant, businessDate } };
  if (s.length === 8 && s[6] === 'feeds') return { name: 'feed', params: { tenant, businessDate, feed: s[7] ?? '' } };
  return undefined;
}

function issueDetails(error: z.ZodError): ApiErrorDetail[] {
  return error.issues.slice(0, 20).map(describeIssue);
}

function validationError(error: z.ZodError): HttpError {
  return new HttpError(400, ApiErrorCode.ValidationFailed, describeIssues(error), issueDetails(error));
}

function isJsonMediaType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [type, ...params] = header.split(';').map((p) => p.trim().toLowerCase());
  if (type !== 'application/json') return false;
  return params.every((p) => {
    const [key, value = ''] = p.split('=', 2).map((s) => s.trim());
    return key !== 'charset' || ['utf-8', 'utf8'].includes(value.replace(/^"|"$/g, ''));
  });
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? '0') > 0;
}

function tooLarge(limit: number, closeConnection: boolean): HttpError {
  return new HttpError(413, ApiErrorCode.PayloadTooLarge, `the body is larger than ${limit} bytes`, undefined, {}, closeConnection);
}

/**
 * Reads the body up to `limit` bytes. Past the limit it stops keeping chunks and rejects; the
 * rest of the request is drained after the 413 so the client reads the answer instead of a reset
 * connection. A declared length far beyond the limit is refused before reading, and that
 * connection is closed rather than drained.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) return Promise.reject(tooLarge(limit, declared > limit + DRAIN_LIMIT_BYTES));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      reject(tooLarge(limit, false));
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    // After 'end' these settle nothing; before it, the client went away mid-body.
    const aborted = () => reject(new HttpError(400, REQUEST_ABORTED, 'the request ended before its body was read'));
    req.once('error', aborted);
    req.once('close', aborted);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The request's JSON object body, or undefined when it sent none. */
async function readJsonObject(req: IncomingMessage, limit: number): Promise<Record<string, unknown> | undefined> {
  if (!hasBody(req)) return undefined;
  if (!isJsonMediaType(req.headers['content-type'])) {
    throw new HttpError(415, ApiErrorCode.UnsupportedMediaType, 'the body must be application/json (UTF-8)');
  }
  const bytes = await readBody(req, limit);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new HttpError(400, ApiErrorCode.MalformedJson, 'the body is not valid UTF-8');
  }
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, ApiErrorCode.MalformedJson, 'the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, ApiErrorCode.ValidationFailed, '(root): must be a JSON object', [{ field: '(root)', message: 'must be a JSON object' }]);
  }
  return value as Record<string, unknown>;
}

function clip(value: string | undefined): string | undefined {
  return value === undefined || value.length <= LOGGED_PARAM_CHARS ? value : `${value.slice(0, LOGGED_PARAM_CHARS)}…`;
}

export function createTriggerServer(options: TriggerServerOptions): TriggerServer {
  const { triggers, logger } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) throw new Error(`maxBodyBytes must be a positive integer, got ${maxBodyBytes}`);
  if (options.tokens.length === 0) throw new Error('the trigger API needs at least one bearer token');
  const checkToken = bearerTokenChecker(options.tokens);
  const { policy } = options;
  const StartNightBody = startNightBodySchema(policy.caps);
  /** The document states today's window, so it is built again when the day changes. */
  let openApi: { readonly today: string; readonly text: string } | undefined;
  const openApiText = (): string => {
    const today = policy.today();
    if (openApi?.today !== today) openApi = { today, text: JSON.stringify(buildOpenApiDocument({ maxBodyBytes, policy, today })) };
    return openApi.text;
  };

  /** Calls the orchestrator: its typed refusals keep their status, anything else is a 503 that hides the cause. */
  async function upstream<T>(log: RequestLog, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof TriggerRejected) throw new HttpError(err.status, err.code, err.message, undefined, {}, false, err.night);
      if (err instanceof TriggerUnavailable) throw new HttpError(503, err.code, err.message, undefined, { 'retry-after': String(err.retryAfterSeconds) });
      log.err = err;
      throw new HttpError(503, ApiErrorCode.UpstreamUnavailable, 'the orchestrator is unavailable; retry later', undefined, { 'retry-after': '5' });
    }
  }

  /** The path's tenant and date: well formed (400), a tenant served here (404), a date in the window (400). */
  function nightPath(params: Match['params']): z.output<typeof NightPathSchema> {
    const parsed = NightPathSchema.safeParse(params);
    if (!parsed.success) throw validationError(parsed.error);
    const foreign = tenantRefusal(policy, parsed.data.tenant);
    if (foreign) throw new HttpError(foreign.status, foreign.code, foreign.message);
    const outside = businessDateOutsideWindow(parsed.data.businessDate, policy.window, policy.today());
    if (outside !== undefined) throw new HttpError(400, ApiErrorCode.ValidationFailed, `businessDate: ${outside}`, [{ field: 'businessDate', message: outside }]);
    return parsed.data;
  }

  async function startNight(req: IncomingMessage, params: Match['params'], log: RequestLog): Promise<Reply> {
    const { tenant, businessDate } = nightPath(params);
    const body = StartNightBody.safeParse((await readJsonObject(req, maxBodyBytes)) ?? {});
    if (!body.success) throw validationError(body.error);
    const { sparkOverrides } = body.data;
    const started = await upstream(log, () => triggers.startNight({ businessDate, tenant, ...(sparkOverrides === undefined ? {} : { sparkOverrides }) }));
    return {
      status: 202,
      body: { workflowId: started.workflowId, runId: started.runId, started: started.started },
      headers: { location: `/v1/tenants/${tenant}/nights/${businessDate}` },
    };
  }

  async function reportFeed(req: IncomingMessage, params: Match['params'], log: RequestLog): Promise<Reply> {
    const path = FeedPathSchema.safeParse(params);
    if (!path.success) throw validationError(path.error);
    nightPath(params);
    const body = await readJsonObject(req, maxBodyBytes);
    if (body === undefined) {
      throw new HttpError(400, ApiErrorCode.ValidationFailed, '(root): a JSON object body is required', [{ field: '(root)', message: 'a JSON object body is required' }]);
    }
    const disagreeing = PATH_FIELDS.filter((f) => Object.hasOwn(body, f) && body[f] !== path.data[f]);
    if (disagreeing.length > 0) {
      const details = disagreeing.map((f) => ({ field: f, message: `must equal the path's ${f} '${path.data[f]}' (or be left out)` }));
      throw new HttpError(400, ApiErrorCode.PathBodyMismatch, details.map((d) => `${d.field}: ${d.message}`).join('; '), details);
    }
    const arrival = FeedArrivalSchema.safeParse({ ...body, ...path.data });
    if (!arrival.success) throw validationError(arrival.error);
    const reported = await upstream(log, () => triggers.reportFeedArrival(arrival.data));
    return { status: 202, body: { workflowId: reported.workflowId, runId: reported.runId } };
  }

  async function nightStatus(params: Match['params'], log: RequestLog): Promise<Reply> {
    const { tenant, businessDate } = nightPath(params);
    const status = await upstream(log, () => triggers.status({ businessDate, tenant }));
    if (status === undefined) throw new HttpError(404, ApiErrorCode.NightNotFound, `no night ${businessDate} for tenant ${tenant}`);
    return { status: 200, body: status };
  }

  async function route(req: IncomingMessage, log: RequestLog): Promise<Reply> {
    const pathname = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const match = matchRoute(pathname);
    if (match === undefined) {
      log.path = pathname.slice(0, 200);
      throw new HttpError(404, ApiErrorCode.NotFound, 'no such route');
    }
    log.route = ROUTE_TEMPLATES[match.name];
    log.tenant = clip(match.params['tenant']);
    log.businessDate = clip(match.params['businessDate']);
    log.feed = clip(match.params['feed']);
    const allowed = METHODS[match.name];
    if (!allowed.includes(req.method ?? '')) {
      throw new HttpError(405, ApiErrorCode.MethodNotAllowed, `${log.route} takes ${allowed.join(', ')}`, undefined, { allow: allowed.join(', ') });
    }
    if (match.name === 'health') return { status: 200, body: { status: 'ok' } };
    if (match.name === 'openapi') return { status: 200, raw: openApiText() };

    const auth = checkToken(req.headers.authorization);
    if (auth !== 'ok') {
      const challenge = auth === 'missing' ? 'Bearer realm="nightjar"' : 'Bearer realm="nightjar", error="invalid_token"';
      throw new HttpError(401, ApiErrorCode.Unauthorized, auth === 'missing' ? 'a bearer token is required' : 'the bearer token is not accepted', undefined, {
        'www-authenticate': challenge,
      });
    }
    if (match.name === 'feed') return reportFeed(req, match.params, log);
    return req.method === 'POST' ? startNight(req, match.params, log) : nightStatus(match.params, log);
  }

  function errorReply(err: unknown, log: RequestLog): Reply {
    if (!(err instanceof HttpError)) {
      log.err = err;
      err = new HttpError(500, ApiErrorCode.Internal, 'internal error');
    }
    const e = err as HttpError;
    log.code = e.code;
    const body: ApiErrorBody = {
      error: { code: e.code, message: e.message, ...(e.details === undefined ? {} : { details: e.details }), ...(e.night === undefined ? {} : { night: e.night }) },
    };
    return { status: e.status, body, headers: e.headers, closeConnection: e.closeConnection };
  }

  let closing = false;

  function send(res: ServerResponse, requestId: string, reply: Reply): void {
    if (res.headersSent || res.destroyed) return;
    const payload = Buffer.from(reply.raw ?? JSON.stringify(reply.body), 'utf8');
    res.writeHead(reply.status, {
      ...reply.headers,
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(payload.length),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-request-id': requestId,
      ...(closing || reply.closeConnection ? { connection: 'close' } : {}),
    });
    res.end(payload);
  }

  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    const startedAt = process.hrtime.bigint();
    const incomingId = req.headers['x-request-id'];
    const requestId = typeof incomingId === 'string' && REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
    const log: RequestLog = {};
    let pending = 2;
    // One line per request, once the answer is out (or the client went away) and the handler is done.
    const done = () => {
      if (--pending > 0) return;
      // 499 (client closed request): the client went away before the answer was written.
      const status = res.headersSent ? res.statusCode : 499;
      const line = {
        requestId,
        method: req.method,
        route: log.route ?? null,
        ...(log.path === undefined ? {} : { path: log.path }),
        status,
        durationMs: Number((process.hrtime.bigint() - startedAt) / 1000n) / 1000,
        tenant: log.tenant,
        businessDate: log.businessDate,
        feed: log.feed,
        code: log.code,
        ...(res.writableFinished ? {} : { aborted: true }),
        ...(log.err === undefined ? {} : { err: log.err }),
      };
      if (status >= 500) logger.error(line, 'http request');
      else if (status === 401) logger.warn(line, 'http request');
      else logger.info(line, 'http request');
    };
    res.once('close', done);
    route(req, log)
      .catch((err: unknown) => errorReply(err, log))
      .then((reply) => send(res, requestId, reply))
      .catch((err: unknown) => {
        log.err ??= err;
        res.destroy();
      })
      .finally(done);
  });
  // What Node's HTTP parser refuses (malformed request lines or headers) gets the same JSON error
  // shape as everything else, not a bare 400.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const [status, text, code] = err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large', 'HeadersTooLarge'] : [400, 'Bad Request', 'MalformedRequest'];
    const body = JSON.stringify({ error: { code, message: `the request could not be parsed as HTTP (${err.code ?? 'parse error'})` } });
    socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    logger.warn({ status, code: err.code }, 'http request not parsed');
  });

  let closed: Promise<void> | undefined;
  return {
    listen(port, host = '127.0.0.1') {
      return listenOn(server, port, host);
    },
    close() {
      closing = true;
      return (closed ??= closeServer(server));
    },
  };
}

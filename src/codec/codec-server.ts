/**
 * The codec server: lets the Temporal Web UI (and `temporal` CLI users) show decrypted payloads
 * while the histories on the server stay encrypted. The UI posts the payloads it displays as
 * proto3 JSON (`{"payloads": [{"metadata": {"k": "<base64>"}, "data": "<base64>"}]}`) to
 * `/decode`, and what an operator types (a signal's input) to `/encode`.
 *
 * Whoever reaches this server reads customer data, so: bearer tokens (and no tokens means
 * loopback only), CORS only for the configured UI origins, bounded bodies, and a malformed request
 * is a 400 with its reason, never a crash.
 *
 * What standard clients send is accepted as they send it: the Temporal CLI posts `{}` to `/encode`
 * for a call without arguments, the UI empty payload lists. A payload that cannot be decrypted (a
 * key this server does not hold, a tampered payload) does not fail the batch: it is answered, with
 * 200, as a JSON payload `{"undecryptable": {"keyId", "code", "reason"}}` naming the key id, and the
 * other payloads are decoded. Clients retry a failed codec call until their deadline (the Temporal
 * CLI does), so an error status would hide the reason behind "context deadline exceeded".
 */
import { bearerTokenChecker } from '../infra/bearer-tokens';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { defaultPayloadConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { JSONToPayload, payloadToJSON, type JSONPayload } from '@temporalio/common/lib/proto-utils';
import type { Logger } from 'pino';
import { PayloadDecryptionError } from './errors';
import { closeServer, listenOn } from '../infra/http-server';

export const DEFAULT_CODEC_MAX_BODY_BYTES = 4 * 1024 * 1024;

const ALLOWED_HEADERS = 'content-type,x-namespace,authorization';

export interface CodecServerOptions {
  readonly codec: PayloadCodec;
  /** Browser origins (e.g. the Temporal UI's `http://localhost:8233`) allowed to call the server. */
  readonly corsOrigins: readonly string[];
  /** Accepted bearer tokens; empty means no authentication, which is allowed on loopback only. */
  readonly tokens: readonly string[];
  readonly logger: Logger;
  /** Largest request body accepted (413 above); 4 MiB by default. */
  readonly maxBodyBytes?: number;
  /**
   * The ids of the keys the codec holds, named by `GET /healthz` (ids only, never key material) so
   * that a client about to reuse this server can tell whether it decrypts its payloads.
   */
  readonly keyIds?: readonly string[];
}

export interface CodecServer {
  /** Starts listening (port 0 picks a free port). */
  listen(port: number, host: string): Promise<{ readonly url: string }>;
  close(): Promise<void>;
}

/** Refusal to serve decrypted payloads to anyone who can reach a non-loopback address. */
export class CodecServerInsecure extends Error {
  override readonly name = 'CodecServerInsecure';
  readonly type = 'InvalidInput';
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h) || /^::ffff:127(?:\.\d{1,3}){3}$/.test(h);
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new HttpError(413, 'PayloadTooLarge', `the body is larger than ${limit} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpError(413, 'PayloadTooLarge', `the body is larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** The payloads of a request body, or a 400 saying what is wrong with it. */
export function parsePayloadsBody(raw: Buffer): ReturnType<typeof JSONToPayload>[] {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new HttpError(400, 'MalformedJson', `the body is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'InvalidBody', 'expected {"payloads": [{"metadata": {"key": "<base64>"}, "data": "<base64>"}]}');
  }
  const unexpected = Object.keys(body).filter((k) => k !== 'payloads');
  if (unexpected.length > 0) {
    throw new HttpError(400, 'InvalidBody', `unexpected field(s) ${unexpected.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}: expected {"payloads": [...]}`);
  }
  // proto3 JSON leaves out an empty repeated field: `{}` is an empty list of payloads.
  const payloads = (body as { payloads?: unknown }).payloads ?? [];
  if (!Array.isArray(payloads)) throw new HttpError(400, 'InvalidBody', 'expected {"payloads": [{"metadata": {"key": "<base64>"}, "data": "<base64>"}]}');
  return payloads.map((p: unknown, i) => {
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new HttpError(400, 'InvalidBody', `payloads[${i}]: expected an object with metadata and data`);
    try {
      return JSONToPayload(p as JSONPayload);
    } catch (error) {
      throw new HttpError(400, 'InvalidBody', `payloads[${i}]: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
}

export function createCodecServer(opts: CodecServerOptions): CodecServer {
  const limit = opts.maxBodyBytes ?? DEFAULT_CODEC_MAX_BODY_BYTES;
  const origins = new Set(opts.corsOrigins.map((o) => new URL(o).origin));

  function corsHeaders(req: IncomingMessage): Record<string, string> {
    const origin = req.headers.origin;
    if (typeof origin !== 'string' || !origins.has(origin)) return { vary: 'Origin' };
    return { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'Origin' };
  }

  const checkToken = opts.tokens.length === 0 ? undefined : bearerTokenChecker(opts.tokens);
  function authorize(req: IncomingMessage): void {
    if (checkToken === undefined) return;
    const verdict = checkToken(req.headers.authorization);
    if (verdict !== 'ok') {
      throw new HttpError(401, 'Unauthorized', verdict === 'missing' ? 'a bearer token is required' : 'the bearer token is not accepted', {
        'www-authenticate': 'Bearer realm="nightjar-codec"',
      });
    }
  }

  async function handle(req: IncomingMessage): Promise<{ status: number; body: unknown; headers?: Record<string, string> }> {
    const url = new URL(req.url ?? '/', 'http://codec');
    if (req.method === 'OPTIONS') {
      if (!('access-control-allow-origin' in corsHeaders(req))) throw new HttpError(403, 'OriginNotAllowed', `origin ${String(req.headers.origin)} is not allowed (NIGHTJAR_CODEC_CORS_ORIGINS)`);
      return {
        status: 204,
        body: undefined,
        headers: { 'access-control-allow-methods': 'POST', 'access-control-allow-headers': ALLOWED_HEADERS, 'access-control-max-age': '600' },
      };
    }
    if (url.pathname === '/healthz') {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'MethodNotAllowed', 'use GET', { allow: 'GET' });
      return { status: 200, body: { status: 'ok', ...(opts.keyIds !== undefined ? { keyIds: [...opts.keyIds] } : {}) } };
    }
    const operation = url.pathname === '/encode' ? 'encode' : url.pathname === '/decode' ? 'decode' : undefined;
    if (operation === undefined) throw new HttpError(404, 'NotFound', 'no such endpoint: POST /encode, POST /decode, GET /healthz');
    if (req.method !== 'POST') throw new HttpError(405, 'MethodNotAllowed', 'use POST', { allow: 'POST' });
    authorize(req);
    const payloads = parsePayloadsBody(await readBody(req, limit));
    if (operation === 'encode') return { status: 200, body: { payloads: (await opts.codec.encode(payloads)).map((p) => payloadToJSON(p)) } };
    const decoded = await Promise.all(payloads.map((p) => decodeOne(p)));
    const undecryptable = decoded.filter((d) => d.refused !== undefined);
    if (undecryptable.length > 0) {
      const keyIds = [...new Set(undecryptable.map((d) => d.refused?.keyId ?? '(none)'))];
      opts.logger.warn({ namespace: req.headers['x-namespace'], undecryptable: undecryptable.length, keyIds }, 'codec: payloads not decrypted');
    }
    return {
      status: 200,
      body: { payloads: decoded.map((d) => payloadToJSON(d.payload)) },
      headers: undecryptable.length > 0 ? { 'x-nightjar-undecryptable': String(undecryptable.length) } : {},
    };
  }

  /** One payload decoded, or, when it cannot be, a JSON payload saying why and naming the key id. */
  async function decodeOne(payload: Payload): Promise<{ readonly payload: Payload; readonly refused?: PayloadDecryptionError }> {
    try {
      const [decoded] = await opts.codec.decode([payload]);
      return { payload: decoded as Payload };
    } catch (error) {
      if (!(error instanceof PayloadDecryptionError)) throw error;
      const explanation = { undecryptable: { keyId: error.keyId ?? null, code: error.type, reason: error.message } };
      return { payload: defaultPayloadConverter.toPayload(explanation) as Payload, refused: error };
    }
  }

  function send(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    res.writeHead(status, {
      ...corsHeaders(req),
      ...headers,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...(payload ? { 'content-type': 'application/json; charset=utf-8', 'content-length': String(payload.length) } : {}),
    });
    res.end(payload);
  }

  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    const namespace = req.headers['x-namespace'];
    handle(req)
      .then((reply) => {
        send(req, res, reply.status, reply.body, reply.headers);
        opts.logger.debug({ method: req.method, path: req.url, status: reply.status, namespace }, 'codec request');
      })
      .catch((error: unknown) => {
        const e = error instanceof HttpError ? error : new HttpError(500, 'Internal', 'internal error');
        // Reasons name key ids and limits, never payload contents.
        const line = { method: req.method, path: req.url, status: e.status, code: e.code, namespace, ...(e.status === 500 ? { err: error } : {}) };
        if (e.status >= 500) opts.logger.error(line, 'codec request failed');
        else opts.logger.warn(line, 'codec request refused');
        send(req, res, e.status, { error: { code: e.code, message: e.message } }, { ...e.headers, ...(e.status === 413 ? { connection: 'close' } : {}) });
      });
  });

  let closed: Promise<void> | undefined;
  return {
    listen(port, host) {
      if (opts.tokens.length === 0 && !isLoopbackHost(host)) {
        return Promise.reject(
          new CodecServerInsecure(
            `refusing to serve decrypted payloads on ${host} without authentication: set NIGHTJAR_CODEC_TOKENS (bearer tokens of at least 16 characters) or bind a loopback host such as 127.0.0.1 (NIGHTJAR_CODEC_HOST)`,
          ),
        );
      }
      return listenOn(server, port, host);
    },
    close() {
      return (closed ??= closeServer(server));
    },
  };
}

/** Where the configuration says the codec server listens; `port` 0 picks a free one (the demo). */
export async function startCodecServer(
  settings: { readonly host: string; readonly port: number; readonly corsOrigins: readonly string[]; readonly tokens: readonly string[] },
  codec: PayloadCodec & { readonly keyIds?: readonly string[] },
  logger: Logger,
): Promise<{ readonly url: string; close(): Promise<void> }> {
  const server = createCodecServer({ codec, corsOrigins: settings.corsOrigins, tokens: settings.tokens, logger, ...(codec.keyIds !== undefined ? { keyIds: codec.keyIds } : {}) });
  const { url } = await server.listen(settings.port, settings.host);
  return { url, close: () => server.close() };
}

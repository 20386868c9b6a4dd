import pino, { type Logger } from 'pino';
import type { Logger as SdkLogger, LogLevel, LogMetadata } from '@temporalio/common';
import { FEEDS } from '../domain/feeds/catalog';
import { currentLogContext } from '../observability/log-context';

/** Personal-data fields of every feed (catalog `pii: true`), redacted wherever they appear in a log line. */
export const PII_FIELDS: readonly string[] = [...new Set(FEEDS.flatMap((f) => f.columns.filter((c) => c.pii).map((c) => c.name)))];

/** Keys whose values are secrets, wherever they appear (compared lower-case, without `_` and `-`). */
export const SECRET_KEYS: readonly string[] = ['authorization', 'token', 'tokens', 'accesstoken', 'refreshtoken', 'password', 'passwd', 'secret', 'apikey', 'cookie'];

export function redactPaths(): string[] {
  return [...PII_FIELDS, ...SECRET_KEYS].flatMap((f) => [f, `*.${f}`, `*.*.${f}`]);
}

export const CENSOR = '[REDACTED]';

const normalizeKey = (key: string) => key.toLowerCase().replace(/[_-]/g, '');
const CENSORED_KEYS = new Set([...PII_FIELDS, ...SECRET_KEYS].map(normalizeKey));
/** `scheme://user:password@host`: the password of a connection URL (postgres, kafka, http). */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]*@/gi;
/** Nesting followed before giving up (the rest is censored, not printed). */
const MAX_DEPTH = 8;

/** A string with the passwords of URLs in it censored. */
export function scrubString(value: string): string {
  return value.includes('://') ? value.replace(URL_CREDENTIALS, `$1${CENSOR}@`) : value;
}

/**
 * A copy of a log object with personal data and secrets censored at any depth (objects and
 * arrays): keys from the catalog's pii columns (in snake or camel case) and secret keys lose
 * their values, URLs lose their passwords. Errors are left to the `err` serializer.
 */
export function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (typeof value !== 'object' || value === null || value instanceof Error || value instanceof Date) return value;
  if (depth >= MAX_DEPTH) return CENSOR;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = CENSORED_KEYS.has(normalizeKey(key)) && v !== null && v !== undefined ? CENSOR : scrub(v, depth + 1);
  }
  return out;
}

/** Lines of a stack trace that are frames (`    at …`): the first line repeats the message. */
const FRAME = /^\s+at /;

const isErrorLike = (value: unknown): value is { message: unknown } =>
  value instanceof Error || (typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string' && ('stack' in value || 'name' in value));

/**
 * A failure as a log line may show it: what kind it is (name, Temporal failure type, whether it
 * is retryable, its cause's kind) and where it was thrown, never its words. Failure messages can
 * quote customer data (a rejected row, a name in a file) — which is why histories carry them
 * encrypted — so a log line must not print them in plain text either. Operators read the message
 * where it is protected: the status query, the manifest, the UI through the codec server.
 */
export function redactFailure(error: unknown, depth = 0): Record<string, unknown> {
  if (!isErrorLike(error)) return { message: CENSOR };
  const e = error as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { name: typeof e['name'] === 'string' ? e['name'] : 'Error', message: CENSOR };
  for (const key of ['type', 'nonRetryable', 'category', 'retryState', 'activityType', 'workflowType', 'code'] as const) {
    const v = e[key];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[key] = v;
  }
  if (typeof e['stack'] === 'string') {
    const frames = e['stack'].split('\n').filter((line) => FRAME.test(line));
    if (frames.length > 0) out['stack'] = frames.join('\n');
  }
  if (e['cause'] !== undefined && e['cause'] !== null && depth < MAX_DEPTH) out['cause'] = redactFailure(e['cause'], depth + 1);
  return out;
}

/**
 * The metadata of one of the SDK's own log lines ("Activity failed", "Workflow failed", workflow
 * `log.warn(…, { message })`) made safe: every error in it loses its words (redactFailure), a
 * free-text `message` field too; the rest goes through the logger's usual redaction.
 */
export function redactSdkMeta(meta: LogMetadata): LogMetadata {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta)) {
    if (isErrorLike(value)) out[key] = redactFailure(value);
    else if (key === 'message' && typeof value === 'string') out[key] = CENSOR;
    else out[key] = value;
  }
  return out;
}

export interface LoggerOptions {
  readonly level: string;
  readonly redact: boolean;
  /** Where lines go; stdout by default (tests pass a stream to inspect output). */
  readonly destination?: pino.DestinationStream;
}

/**
 * The process logger: structured JSON, personal data and secrets censored unless configured
 * otherwise. Lines written while an activity runs carry its context (workflow id, step,
 * attempt, business date, tenant) through the mixin.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: 'nightjar',
      level: options.level,
      mixin: () => ({ ...currentLogContext() }),
      ...(options.redact
        ? {
            // Fixed paths also cover child-logger bindings, which the formatter does not see.
            redact: { paths: redactPaths(), censor: CENSOR },
            formatters: { log: (object: Record<string, unknown>) => scrub(object) as Record<string, unknown> },
            serializers: { err: (error: Error) => scrub(pino.stdSerializers.err(error)) },
            hooks: {
              logMethod(args: Parameters<pino.LogFn>, method: pino.LogFn) {
                method.apply(this, args.map((a) => (typeof a === 'string' ? scrubString(a) : a)) as Parameters<pino.LogFn>);
              },
            },
          }
        : {}),
      base: { service: 'nightjar' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination(1),
  );
}

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Routes the Temporal SDK's (replay-aware) workflow and activity loggers, and the SDK's own lines,
 * into pino. With `redactFailures` (the default; `NIGHTJAR_LOG_REDACT`) the failures those lines
 * carry lose their messages (see redactSdkMeta).
 */
export class PinoSdkLogger implements SdkLogger {
  constructor(
    private readonly logger: Logger,
    private readonly options: { readonly redactFailures: boolean } = { redactFailures: true },
  ) {}
  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const safe = meta === undefined ? {} : this.options.redactFailures ? redactSdkMeta(meta) : meta;
    this.logger[LEVELS[level]](safe, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

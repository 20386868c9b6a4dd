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

/** Routes the Temporal SDK's (replay-aware) workflow and activity loggers into pino. */
export class PinoSdkLogger implements SdkLogger {
  constructor(private readonly logger: Logger) {}
  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    this.logger[LEVELS[level]](meta ?? {}, message);
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

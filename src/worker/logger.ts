import pino, { type Logger } from 'pino';
import type { Logger as SdkLogger, LogLevel, LogMetadata } from '@temporalio/common';
import { FEEDS } from '../domain/feeds/catalog';

/** Personal-data fields of every feed (catalog `pii: true`), redacted wherever they appear in a log line. */
export const PII_FIELDS: readonly string[] = [...new Set(FEEDS.flatMap((f) => f.columns.filter((c) => c.pii).map((c) => c.name)))];

export function redactPaths(): string[] {
  return PII_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]);
}

export interface LoggerOptions {
  readonly level: string;
  readonly redact: boolean;
  /** Where lines go; stdout by default (tests pass a stream to inspect output). */
  readonly destination?: pino.DestinationStream;
}

/** The process logger: structured JSON, personal data redacted unless configured otherwise. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: 'nightjar',
      level: options.level,
      redact: options.redact ? { paths: redactPaths(), censor: '[REDACTED]' } : undefined,
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

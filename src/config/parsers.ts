import { z } from 'zod';
import type { SparkJobName } from '../domain/spark/resources';

// The value parsers of the configuration's environment variables: each error message says what
// the variable accepts.

/**
 * Strict boolean: only the words below are accepted. `Boolean("false")` is true, a classic
 * configuration bug, so env strings are never coerced with Boolean().
 */
export const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: "expected one of: true, false, 1, 0, yes, no" })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const mb = z.coerce.number({ message: 'expected a number of MiB' }).int().min(256, 'must be at least 256 MiB');
export const positive = z.coerce.number({ message: 'expected a number' }).int().positive();
export const optionalPositive = z.coerce.number({ message: 'expected a number' }).positive().optional();
export const port = z.coerce.number().int().min(1).max(65535);

/** `a,b,c`: a comma-separated list, blanks dropped. */
export const list = z
  .string()
  .transform((s) => s.split(',').map((v) => v.trim()).filter((v) => v.length > 0));

/** A comma-separated list of secret tokens (each at least 16 characters). */
export const tokens = list.pipe(z.array(z.string().min(16, 'tokens must be at least 16 characters')));

/** `key=value,key=value` (node selectors). */
export const keyValues = z
  .string()
  .regex(/^[^=,\s]+=[^=,\s]*(?:,[^=,\s]+=[^=,\s]*)*$/, 'expected key=value pairs separated by commas')
  .transform((s) => Object.fromEntries(s.split(',').map((kv) => kv.split('=') as [string, string])));

/** A duration in seconds, `0` or `off` to disable. */
export const interval = z
  .string()
  .regex(/^(?:off|\d+)$/, 'expected a number of seconds or "off"')
  .transform((s) => (s === 'off' ? 0 : Number(s)));

/** `host:port` to listen on, or `off`. */
export const listenAddress = z
  .string()
  .regex(/^(?:off|[^\s:]+:\d{1,5})$/, 'expected host:port (e.g. 0.0.0.0:9464) or "off"')
  .refine((s) => s === 'off' || Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, 'port must be at most 65535')
  .transform((s) => (s === 'off' ? undefined : s));

/** `{"transform": {...}}`: per-job settings as JSON, checked field by field. */
export function perJob<T extends z.ZodType>(schema: T, example: string) {
  const shape = z.strictObject({ normalize: schema, transform: schema }).partial();
  return z.string().transform((s, ctx) => {
    let value: unknown;
    try {
      value = JSON.parse(s);
    } catch {
      ctx.addIssue({ code: 'custom', message: `expected JSON such as ${example}` });
      return z.NEVER;
    }
    const parsed = shape.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        ctx.addIssue({ code: 'custom', message: `${issue.path.join('.') || '(root)'}: ${issue.code === 'unrecognized_keys' ? `unexpected ${issue.keys.join(', ')}` : issue.message}` });
      }
      return z.NEVER;
    }
    return parsed.data as Partial<Record<SparkJobName, z.output<T>>>;
  });
}

/**
 * A number of MiB for both jobs, or per job as JSON (`{"normalize": 32, "transform": 128}`; a job
 * left out keeps its value in `defaults`): the result in bytes, per job.
 */
export function mibPerJob(defaults: Readonly<Record<SparkJobName, number>>) {
  const example = '{"normalize": 32, "transform": 128}';
  const mib = z.number({ message: 'expected a number of MiB' }).nonnegative('must not be negative');
  const json = perJob(mib, example);
  const notANumber = `expected a number of MiB, or JSON such as ${example}`;
  const both = z
    .string()
    .regex(/^\s*[^{\s]/, notANumber)
    .pipe(z.coerce.number({ message: notANumber }))
    .pipe(mib)
    .transform((v) => ({ normalize: v, transform: v }));
  const bytes = (given: Partial<Record<SparkJobName, number>>, job: SparkJobName) => Math.round((given[job] ?? defaults[job]) * 2 ** 20);
  return z
    .string()
    .transform((s, ctx): Partial<Record<SparkJobName, number>> => {
      const parsed = s.trim().startsWith('{') ? json.safeParse(s) : both.safeParse(s);
      if (parsed.success) return parsed.data;
      for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message });
      return z.NEVER;
    })
    .transform((given) => ({ normalize: bytes(given, 'normalize'), transform: bytes(given, 'transform') }));
}

/** Adds a configuration problem on one variable (for the checks across variables). */
export function problem(ctx: z.RefinementCtx, variable: string, message: string): void {
  ctx.addIssue({ code: 'custom', path: [variable], message });
}

/**
 * What other systems tell Nightjar: a feed file arrived for a business date. The same schema
 * checks the HTTP trigger API's bodies, the Kafka bridge's messages and the workflow's
 * `feedArrived` signal, so every door accepts exactly the same thing. Pure (zod only).
 */
import { z } from 'zod';
import { Rfc3339Timestamp } from './bounds';
import { BusinessDate } from './business-date';
import { FEED_NAMES } from './feeds/catalog';

/** YYYY-MM-DD that is a real calendar date (2026-02-30 is refused). */
export const BusinessDateSchema = BusinessDate;

/** Tenants name workflow ids and Kubernetes labels: short, lower case. */
export const TenantSchema = z
  .string()
  .regex(/^[a-z0-9](?:[-a-z0-9]{0,30}[a-z0-9])?$/, 'must be 1-32 lower-case letters, digits or - (not at the ends)');

/** Where the file is: a `file://` URI on the shared data volume, or an object-store URI. */
const FileUri = z
  .string()
  .max(2048, 'at most 2048 characters')
  .regex(/^(?:file|s3a?|gs|abfss?|hdfs):\/\/[!-~]+$/, 'must be a file://, s3://, s3a://, gs://, abfs(s):// or hdfs:// URI');

/**
 * Text of at most `max` characters as JSON Schema counts them (code points, not UTF-16 units), so
 * what the OpenAPI document promises is exactly what is accepted.
 */
const codePoints = (min: number, max: number) =>
  z
    .string()
    .refine((s) => {
      const n = [...s].length;
      return n >= min && n <= max;
    }, `must be ${min} to ${max} characters`)
    .meta({ minLength: min, maxLength: max });

export const FeedArrivalSchema = z.strictObject({
  businessDate: BusinessDateSchema,
  tenant: TenantSchema.default('default'),
  feed: z.enum(FEED_NAMES),
  uri: FileUri,
  /** Hex SHA-256 of the file as delivered, when the sender knows it; ingest checks it. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits').optional(),
  /** The sender's id of this notice, for logs and de-duplication. */
  eventId: codePoints(1, 200).optional(),
  /** RFC 3339 with seconds, as the OpenAPI document's `date-time` says. */
  arrivedAt: Rfc3339Timestamp.optional(),
});

export type FeedArrival = z.output<typeof FeedArrivalSchema>;
export type FeedArrivalInput = z.input<typeof FeedArrivalSchema>;

const NAMED_CHARS = 64;
const NAMED_KEYS = 5;

/**
 * Sender-supplied text as a message may quote it: clipped and without control characters, so a
 * reason stays one short line in a log, a refusal or a Kafka header.
 */
export function quotable(text: string): string {
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length <= NAMED_CHARS ? clean : `${clean.slice(0, NAMED_CHARS)}…`;
}

const fieldName = (key: PropertyKey): string => quotable(String(key));

/** One problem of a rejected value: the field (dotted path, `(root)` for the whole value) and why. */
export function describeIssue(issue: z.core.$ZodIssue): { readonly field: string; readonly message: string } {
  const field = issue.path.map(fieldName).join('.') || '(root)';
  if (issue.code !== 'unrecognized_keys') return { field, message: issue.message };
  const keys = issue.keys.slice(0, NAMED_KEYS).map(fieldName).join(', ');
  const more = issue.keys.length > NAMED_KEYS ? ` and ${issue.keys.length - NAMED_KEYS} more` : '';
  return { field, message: `unexpected field(s) ${keys}${more}` };
}

/** The first problems of a rejected value, each naming its field: for 4xx bodies and dead letters. */
export function describeIssues(error: z.ZodError, max = 5): string {
  return error.issues
    .slice(0, max)
    .map((i) => {
      const { field, message } = describeIssue(i);
      return `${field}: ${message}`;
    })
    .join('; ');
}

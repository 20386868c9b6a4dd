/**
 * The trigger API's contract: the zod schemas its request bodies are checked with, and the
 * OpenAPI 3.1 document served at `/openapi.json`. Request schemas are generated from the same zod
 * schemas the server validates with, so the document cannot drift from what is accepted; the
 * status schema is written out, and checked at type level against `PipelineStatus` so a new field
 * there does not compile until it is described here.
 */
import { z } from 'zod';
import { businessDateRange, businessDateRangePattern, sparkOverridesWithin, type OverrideCaps } from '../domain/bounds';
import { FEED_NAMES } from '../domain/feeds/catalog';
import type { AttemptRecord, FeedManifestEntry, StepRecord } from '../domain/pipeline';
import { SparkOverridesSchema, SparkResourcesOverrideSchema, SparkResourcesSchema } from '../domain/spark/resources';
import { FeedArrivalSchema, TenantSchema } from '../domain/triggers';
import type { FeedState, ParkedStep, PipelineStatus, ResolveStepRequest } from '../workflows/messages';
import type { AttemptPod, SparkJobName } from '../domain/spark/resources';
import { ApiErrorCode } from './errors';
import { TriggerRefusal, type TriggerPolicy } from './policy';


/** Per-night Spark resources, per job; the same shape `planRun` accepts. */
export { SparkOverridesSchema };

/** `POST /v1/tenants/{tenant}/nights/{businessDate}`: the body may be absent or `{}`. */
export const StartNightBodySchema = z.strictObject({ sparkOverrides: SparkOverridesSchema.optional() });

/** The same body with every override within the deployment's caps (what the server checks). */
export function startNightBodySchema(caps: Readonly<Record<SparkJobName, OverrideCaps>>) {
  return z.strictObject({ sparkOverrides: sparkOverridesWithin(caps).optional() });
}

/**
 * `POST …/feeds/{feed}`: a feed arrival whose date, tenant and feed come from the path. The body
 * may repeat them, but only with the path's values.
 */
export const FeedArrivalBodySchema = FeedArrivalSchema.partial({ businessDate: true, tenant: true, feed: true });

export const ROUTE_TEMPLATES = {
  health: '/healthz',
  openapi: '/openapi.json',
  night: '/v1/tenants/{tenant}/nights/{businessDate}',
  feed: '/v1/tenants/{tenant}/nights/{businessDate}/feeds/{feed}',
} as const;

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' });
  return rest;
}

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const str = (description?: string): JsonSchema => ({ type: 'string', ...(description ? { description } : {}) });
const timestamp = (description?: string): JsonSchema => ({ type: 'string', format: 'date-time', ...(description ? { description } : {}) });
const int = (description?: string): JsonSchema => ({ type: 'integer', ...(description ? { description } : {}) });
const arrayOf = (items: JsonSchema): JsonSchema => ({ type: 'array', items });
const oneOfStrings = (values: readonly string[]): JsonSchema => ({ type: 'string', enum: [...values] });

function object(properties: Record<string, JsonSchema>, required: readonly string[], description?: string): JsonSchema {
  return { type: 'object', ...(description ? { description } : {}), properties, required: [...required] };
}

const STEP_NAMES = ['ingest', 'normalize', 'transform', 'export', 'finalize'] as const;
const NIGHT_STATUSES = ['RUNNING', 'AWAITING_FEEDS', 'LATE', 'NEEDS_ATTENTION', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
const RESOLVE_ACTIONS = ['retry', 'skip', 'abort'] as const;

const businessDateSchema: JsonSchema = {
  type: 'string',
  format: 'date',
  pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
  description: 'A calendar date written as YYYY-MM-DD (2026-02-30 is refused).',
  examples: ['2026-03-31'],
};

/**
 * A business date a trigger may name today: the pattern matches exactly the calendar dates of the
 * window (JSON Schema cannot compare dates), so a client checks what the server checks.
 */
function windowDateSchema(policy: TriggerPolicy, today: string): JsonSchema {
  const { from, to } = businessDateRange(policy.window, today);
  return {
    type: 'string',
    pattern: businessDateRangePattern(from, to),
    description:
      `A calendar date written as YYYY-MM-DD, from ${from} to ${to}: at most ${policy.window.pastDays} days before and ` +
      `${policy.window.futureDays} after today (${today}, in the tenant's time zone; this document is rebuilt each day).`,
    examples: [today],
  };
}

/** The tenants this deployment serves; any other is 404 `TENANT_NOT_SERVED`. */
function servedTenantSchema(policy: TriggerPolicy): JsonSchema {
  return { type: 'string', enum: [...policy.tenants], description: `The tenants this deployment serves; any other is refused (404 \`${TriggerRefusal.TenantNotServed}\`).` };
}
const tenantSchema: JsonSchema = { ...jsonSchema(TenantSchema), examples: ['default'] };
const feedSchema: JsonSchema = oneOfStrings(FEED_NAMES);

const resourcesSchema = jsonSchema(SparkResourcesSchema);

const attemptProperties = {
  attempt: int(),
  outcome: oneOfStrings(['SUCCEEDED', 'OUT_OF_MEMORY', 'TRANSIENT', 'PERMANENT', 'FAILED', 'CANCELLED']),
  reason: str(),
  resources: { anyOf: [ref('SparkResources'), { type: 'null' }] },
  startedAt: timestamp(),
  finishedAt: timestamp(),
  durationMs: int(),
  attemptId: str(),
  oomSide: oneOfStrings(['driver', 'executor']),
  leftovers: int('Objects the attempt’s cleanup could not remove (must be 0).'),
  pods: arrayOf(ref('AttemptPod')),
  podsOmitted: int('Pods of the attempt left out of `pods` (driver and failed pods are listed first).'),
} satisfies Record<keyof AttemptRecord, JsonSchema>;

const attemptPodProperties = {
  role: oneOfStrings(['driver', 'executor']),
  name: str(),
  node: str('The node the scheduler bound the pod to.'),
  phase: str('The pod’s last phase seen: Pending, Running, Succeeded, Failed.'),
  exitCode: int('The container’s exit code (137 killed, e.g. OOMKilled; 52 JVM out of memory).'),
  reason: str('Why the container or pod ended, e.g. OOMKilled, Error, Completed, Evicted.'),
} satisfies Record<keyof AttemptPod, JsonSchema>;

const stepProperties = {
  step: oneOfStrings(STEP_NAMES),
  status: oneOfStrings(['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED']),
  startedAt: timestamp(),
  finishedAt: timestamp(),
  attempts: arrayOf(ref('AttemptRecord')),
} satisfies Record<keyof StepRecord, JsonSchema>;

const feedStateProperties = {
  feed: feedSchema,
  required: { type: 'boolean' },
  state: oneOfStrings(['WAITING', 'ARRIVED', 'INGESTED', 'SKIPPED', 'FAILED']),
  uri: str(),
  via: oneOfStrings(['signal', 'discovery']),
  arrivedAt: timestamp(),
  cutoffAt: timestamp('The feed’s own cut-off; after it the night is LATE.'),
} satisfies Record<keyof FeedState, JsonSchema>;

const manifestFeedProperties = {
  feed: feedSchema,
  status: oneOfStrings(['INGESTED', 'MISSING_OPTIONAL']),
  rowsIn: int(),
  rowsAccepted: int(),
  rowsRejected: int(),
  rejectReasons: { type: 'object', additionalProperties: { type: 'integer' }, description: 'Reject counts by reason code.' },
  controlCount: int(),
  controlSum: str('The trailer’s control sum as written, e.g. "1234.50".'),
  sha256: str(),
  rawUri: { type: ['string', 'null'] },
  rejectsUri: { type: ['string', 'null'] },
} satisfies Record<keyof FeedManifestEntry, JsonSchema>;

const parkedProperties = {
  step: oneOfStrings(STEP_NAMES),
  feed: feedSchema,
  error: object({ type: str(), message: str() }, ['type', 'message']),
  since: timestamp(),
  actions: arrayOf(oneOfStrings(RESOLVE_ACTIONS)),
} satisfies Record<keyof ParkedStep, JsonSchema>;

const decisionProperties = {
  step: oneOfStrings(STEP_NAMES),
  feed: feedSchema,
  action: oneOfStrings(RESOLVE_ACTIONS),
  overrides: jsonSchema(SparkResourcesOverrideSchema),
  reason: str(),
  by: str(),
} satisfies Record<keyof ResolveStepRequest, JsonSchema>;

const statusProperties = {
  businessDate: businessDateSchema,
  tenant: tenantSchema,
  status: oneOfStrings(NIGHT_STATUSES),
  stage: oneOfStrings([...STEP_NAMES, 'awaiting-feeds', 'done']),
  late: { type: 'boolean' },
  feeds: arrayOf(ref('FeedState')),
  manifestFeeds: arrayOf(ref('FeedManifestEntry')),
  steps: arrayOf(ref('StepRecord')),
  parked: ref('ParkedStep'),
  exportHold: object({ reason: str(), by: str(), since: timestamp() }, ['reason', 'since'], 'Set while the export is held.'),
  decisions: arrayOf(ref('ResolveStepRequest')),
  error: object({ step: oneOfStrings(STEP_NAMES), type: str(), message: str() }, ['step', 'type', 'message']),
  startedAt: timestamp(),
} satisfies Record<keyof PipelineStatus, JsonSchema>;

function feedArrivalRequestSchema(policy: TriggerPolicy): JsonSchema {
  const generated = jsonSchema(FeedArrivalBodySchema);
  const { businessDate: _date, feed: _feed, ...properties } = generated['properties'] as Record<string, JsonSchema>;
  // The body may repeat the path's tenant, and the path's tenant must be served: with one tenant
  // served that is a constant JSON Schema can state. The date and the feed come from the path only
  // (the server still takes a repeat equal to the path, refusing any other value: PATH_BODY_MISMATCH).
  const tenant: JsonSchema =
    policy.tenants.length === 1
      ? { const: policy.tenants[0], description: "Optional; when given it must equal the path's {tenant}." }
      : { ...servedTenantSchema(policy), description: "Optional; when given it must equal the path's {tenant}." };
  return {
    ...generated,
    description:
      'A feed file arrived. Date, tenant and feed come from the path (the body may repeat the tenant, only with the path’s value); ' +
      'unknown fields are refused.',
    properties: { ...properties, tenant },
    examples: [{ uri: 'file:///data/landing/2026-03-31/transactions.csv', sha256: 'a'.repeat(64), eventId: 'core-banking-4711', arrivedAt: '2026-03-31T23:14:05Z' }],
  };
}

function errorResponse(description: string, headers?: Record<string, JsonSchema>): JsonSchema {
  return { description, ...(headers ? { headers } : {}), content: { 'application/json': { schema: ref('ErrorBody') } } };
}

const json = (schema: JsonSchema): JsonSchema => ({ 'application/json': { schema } });
const responseRef = (name: string): JsonSchema => ({ $ref: `#/components/responses/${name}` });
const parameterRef = (name: string): JsonSchema => ({ $ref: `#/components/parameters/${name}` });

/** The OpenAPI 3.1 document of the trigger API (what `GET /openapi.json` serves) on `today`. */
export function buildOpenApiDocument(options: { readonly maxBodyBytes: number; readonly policy: TriggerPolicy; readonly today: string }): JsonSchema {
  const { policy, today } = options;
  const v1Errors = {
    '400': responseRef('BadRequest'),
    '401': responseRef('Unauthorized'),
    '404': responseRef('NotFound'),
    '405': responseRef('MethodNotAllowed'),
    '503': responseRef('UpstreamUnavailable'),
  };
  const postErrors = {
    ...v1Errors,
    '409': responseRef('Conflict'),
    '413': responseRef('PayloadTooLarge'),
    '415': responseRef('UnsupportedMediaType'),
    '422': responseRef('Unprocessable'),
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Nightjar trigger API',
      version: '1.0.0',
      description:
        'Start nightly (T+1) runs, report feed arrivals and read a night’s status. Every /v1 route needs ' +
        '`Authorization: Bearer <token>`. Request bodies are UTF-8 JSON (`Content-Type: application/json`) ' +
        `of at most ${options.maxBodyBytes} bytes; every error carries the same ErrorBody. This deployment serves ` +
        `${policy.tenants.map((t) => `\`${t}\``).join(', ')} only; business dates are bounded to a window around today and ` +
        'Spark overrides to the caps out-of-memory escalation stops at (both stated in the schemas below).',
    },
    security: [{ bearerAuth: [] }],
    paths: {
      [ROUTE_TEMPLATES.health]: {
        get: {
          operationId: 'health',
          summary: 'Liveness of the API process',
          security: [],
          responses: { '200': { description: 'The process serves requests.', content: json(ref('Health')) } },
        },
        head: {
          operationId: 'healthHead',
          summary: 'Liveness of the API process, without a body (for probes and load balancers)',
          security: [],
          responses: { '200': { description: 'The process serves requests.' } },
        },
      },
      [ROUTE_TEMPLATES.openapi]: {
        get: {
          operationId: 'openapi',
          summary: 'This document',
          security: [],
          responses: { '200': { description: 'The OpenAPI 3.1 document.', content: json({ type: 'object' }) } },
        },
        head: {
          operationId: 'openapiHead',
          summary: 'This document’s headers',
          security: [],
          responses: { '200': { description: 'The OpenAPI 3.1 document would be served.' } },
        },
      },
      [ROUTE_TEMPLATES.night]: {
        parameters: [parameterRef('tenant'), parameterRef('businessDate')],
        post: {
          operationId: 'startNight',
          summary: 'Start the night of a business date (joins it when already running)',
          requestBody: { required: false, content: json(ref('StartNightRequest')) },
          responses: {
            '202': {
              description: 'Started, or joined the night already running (`started: false`).',
              headers: { Location: { description: 'The night’s status URL.', schema: { type: 'string' } } },
              content: json(ref('StartNightResponse')),
            },
            ...postErrors,
          },
        },
        get: {
          operationId: 'nightStatus',
          summary: 'Where the night stands',
          responses: {
            '200': { description: 'The night’s status.', content: json(ref('PipelineStatus')) },
            ...v1Errors,
            '404': errorResponse(
              `No such route (\`${ApiErrorCode.NotFound}\`), a tenant not served here (\`${TriggerRefusal.TenantNotServed}\`), or no such night (\`${ApiErrorCode.NightNotFound}\`).`,
            ),
          },
        },
      },
      [ROUTE_TEMPLATES.feed]: {
        parameters: [parameterRef('tenant'), parameterRef('businessDate'), parameterRef('feed')],
        post: {
          operationId: 'reportFeedArrival',
          summary: 'A feed file arrived (starts the night when it is not running yet)',
          requestBody: { required: true, content: json(ref('FeedArrivalRequest')) },
          responses: {
            '202': { description: 'The night was told (and started if needed).', content: json(ref('FeedArrivalResponse')) },
            ...postErrors,
          },
        },
      },
    },
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'A static API token; several may be valid at once while one is rotated.' },
      },
      parameters: {
        tenant: { name: 'tenant', in: 'path', required: true, schema: servedTenantSchema(policy) },
        businessDate: { name: 'businessDate', in: 'path', required: true, schema: windowDateSchema(policy, today) },
        feed: { name: 'feed', in: 'path', required: true, schema: feedSchema },
      },
      responses: {
        BadRequest: errorResponse(
          `Malformed JSON (\`${ApiErrorCode.MalformedJson}\`), an invalid path or body (\`${ApiErrorCode.ValidationFailed}\`, details name the fields), ` +
            `or a body that contradicts the path (\`${ApiErrorCode.PathBodyMismatch}\`).`,
        ),
        Unauthorized: errorResponse(`Missing or unknown bearer token (\`${ApiErrorCode.Unauthorized}\`).`, {
          'WWW-Authenticate': { schema: { type: 'string' }, description: 'Bearer' },
        }),
        NotFound: errorResponse(`No such route (\`${ApiErrorCode.NotFound}\`), or a tenant not served here (\`${TriggerRefusal.TenantNotServed}\`).`),
        MethodNotAllowed: errorResponse(`The route does not take this method (\`${ApiErrorCode.MethodNotAllowed}\`).`, {
          Allow: { schema: { type: 'string' }, description: 'The methods the route takes.' },
        }),
        PayloadTooLarge: errorResponse(`The body is larger than ${options.maxBodyBytes} bytes (\`${ApiErrorCode.PayloadTooLarge}\`).`),
        UnsupportedMediaType: errorResponse(`A body that is not \`application/json\` in UTF-8 (\`${ApiErrorCode.UnsupportedMediaType}\`).`),
        Conflict: errorResponse(
          'The night’s state does not allow this now: it already completed (`NIGHT_COMPLETED`), or it is already running with other ' +
            'Spark overrides (`OVERRIDES_NOT_APPLIED`, with `error.night`: the running night and the overrides it runs with).',
        ),
        Unprocessable: errorResponse(
          `Understood but not applicable to this night (\`${TriggerRefusal.OutOfWindow}\`, \`${TriggerRefusal.OverridesOutOfBounds}\`); the code says why.`,
        ),
        UpstreamUnavailable: errorResponse(
          `No worker polls the night’s task queue or answers in time (\`${ApiErrorCode.NoWorker}\`, the message names the queue), or the ` +
            `orchestrator could not be reached (\`${ApiErrorCode.UpstreamUnavailable}\`); retry after \`Retry-After\` seconds.`,
          { 'Retry-After': { required: true, schema: { type: 'string', pattern: '^[0-9]+$' }, description: 'Seconds to wait before asking again.' } },
        ),
      },
      schemas: {
        Health: object({ status: { const: 'ok' } }, ['status']),
        ErrorBody: object(
          {
            error: object(
              {
                code: { type: 'string', pattern: '^[A-Z][A-Z0-9_]+$', examples: [ApiErrorCode.ValidationFailed] },
                message: str('For people: the first problems, each naming its field.'),
                details: arrayOf(object({ field: str('Dotted path; `(root)` for the whole body.'), message: str() }, ['field', 'message'])),
                night: object(
                  {
                    workflowId: str(),
                    runId: str(),
                    sparkOverrides: { type: 'object', description: 'The overrides the running night started with; absent: none.' },
                  },
                  ['workflowId', 'runId'],
                  'With OVERRIDES_NOT_APPLIED: the night as it runs.',
                ),
              },
              ['code', 'message'],
            ),
          },
          ['error'],
        ),
        SparkResources: resourcesSchema,
        SparkOverrides: { ...jsonSchema(sparkOverridesWithin(policy.caps)), description: 'Per job, each resource within the caps out-of-memory escalation stops at.' },
        StartNightRequest: {
          ...jsonSchema(startNightBodySchema(policy.caps)),
          properties: { sparkOverrides: ref('SparkOverrides') },
          examples: [{}, { sparkOverrides: { normalize: { driverMemoryMb: Math.min(4096, policy.caps.normalize.maxDriverMemoryMb) } } }],
        },
        StartNightResponse: object(
          {
            workflowId: str(),
            runId: str(),
            started: { type: 'boolean', description: 'false: the night was already running (with the same overrides, or none asked) and was joined.' },
          },
          ['workflowId', 'runId', 'started'],
        ),
        FeedArrivalRequest: feedArrivalRequestSchema(policy),
        FeedArrivalResponse: object({ workflowId: str(), runId: str() }, ['workflowId', 'runId']),
        PipelineStatus: object(statusProperties, ['businessDate', 'tenant', 'status', 'stage', 'late', 'feeds', 'manifestFeeds', 'steps', 'decisions', 'startedAt']),
        FeedState: object(feedStateProperties, ['feed', 'required', 'state', 'cutoffAt']),
        FeedManifestEntry: object(manifestFeedProperties, Object.keys(manifestFeedProperties)),
        StepRecord: object(stepProperties, Object.keys(stepProperties)),
        AttemptRecord: object(attemptProperties, ['attempt', 'outcome', 'resources', 'startedAt', 'finishedAt', 'durationMs']),
        AttemptPod: object(attemptPodProperties, ['role', 'name']),
        ParkedStep: object(parkedProperties, ['step', 'error', 'since', 'actions']),
        ResolveStepRequest: object(decisionProperties, ['step', 'action']),
      },
    },
  };
}

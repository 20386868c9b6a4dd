import { qualifiedKind, qualifiedResource, type ResourceType } from './resources';

/**
 * `metav1.Status`, field for field and in the order the API server writes them. Empty fields are
 * left out (the Go types are all `omitempty`), except `metadata`, which is always `{}`.
 */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code?: number;
}

/** A request the API server refuses: carries the Status it answers with. */
export class KubeApiError extends Error {
  readonly status: KubeStatus & { code: number };

  constructor(status: KubeStatus & { code: number }) {
    super(status.message ?? status.reason ?? `HTTP ${status.code}`);
    this.name = 'KubeApiError';
    this.status = status;
  }

  get code(): number {
    return this.status.code;
  }
}

function failure(code: number, reason: string, message: string, details?: StatusDetails): KubeApiError {
  const status: KubeStatus & { code: number } = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
  return new KubeApiError(status);
}

function resourceDetails(resource: ResourceType, name: string | undefined): StatusDetails {
  return {
    ...(name ? { name } : {}),
    ...(resource.group ? { group: resource.group } : {}),
    kind: resource.plural,
  };
}

/** One entry of a validation failure, rendered the way `field.Error` renders itself. */
export interface FieldError {
  readonly type: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueForbidden';
  readonly field: string;
  readonly detail: string;
  readonly value?: unknown;
  /** The value as Go prints it, where JSON would not (`0x0`). */
  readonly renderedValue?: string;
}

function renderValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? 'null';
}

function errorBody(error: FieldError): string {
  switch (error.type) {
    case 'FieldValueRequired':
      return `Required value: ${error.detail}`;
    case 'FieldValueForbidden':
      return `Forbidden: ${error.detail}`;
    case 'FieldValueInvalid':
      return `Invalid value: ${error.renderedValue ?? renderValue(error.value)}: ${error.detail}`;
  }
}

export function notFound(resource: ResourceType, name: string): KubeApiError {
  return failure(404, 'NotFound', `${qualifiedResource(resource)} ${JSON.stringify(name)} not found`, resourceDetails(resource, name));
}

export function alreadyExists(resource: ResourceType, name: string): KubeApiError {
  return failure(409, 'AlreadyExists', `${qualifiedResource(resource)} ${JSON.stringify(name)} already exists`, resourceDetails(resource, name));
}

export const OBJECT_MODIFIED = 'the object has been modified; please apply your changes to the latest version and try again';

export function conflict(resource: ResourceType, name: string, why: string): KubeApiError {
  return failure(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(resource)} ${JSON.stringify(name)}: ${why}`,
    resourceDetails(resource, name),
  );
}

/** 422: the details name the kind (not the resource), as `errors.NewInvalid` does. */
export function invalid(resource: ResourceType, name: string, errors: readonly FieldError[]): KubeApiError {
  const rendered = errors.map((e) => `${e.field}: ${errorBody(e)}`);
  const summary = rendered.length === 1 ? rendered[0] : `[${rendered.join(', ')}]`;
  return failure(422, 'Invalid', `${qualifiedKind(resource)} ${JSON.stringify(name)} is invalid: ${summary}`, {
    ...(name ? { name } : {}),
    ...(resource.group ? { group: resource.group } : {}),
    kind: resource.kind,
    causes: errors.map((e) => ({ reason: e.type, message: errorBody(e), field: e.field })),
  });
}

export function badRequest(message: string): KubeApiError {
  return failure(400, 'BadRequest', message);
}

/** A json-patch that cannot be applied: the API server answers 422 without naming a resource. */
export function unprocessablePatch(detail: string): KubeApiError {
  return failure(422, 'Invalid', 'the server rejected our request due to an error in our request', {
    causes: [{ reason: 'FieldValueInvalid', message: detail }],
  });
}

export function expired(message: string): KubeApiError {
  return failure(410, 'Expired', message);
}

export function tooLargeResourceVersion(requested: number, current: number): KubeApiError {
  return failure(504, 'Timeout', `Timeout: Too large resource version: ${requested}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });
}

export function unsupportedMediaType(message: string): KubeApiError {
  return failure(415, 'UnsupportedMediaType', message);
}

export function methodNotAllowed(): KubeApiError {
  return failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
}

/** What creating in a namespace that does not exist answers. */
export function namespaceNotFound(namespace: string): KubeApiError {
  return failure(404, 'NotFound', `namespaces ${JSON.stringify(namespace)} not found`, { name: namespace, kind: 'namespaces' });
}

export function pathNotFound(): KubeApiError {
  return failure(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function unauthorized(): KubeApiError {
  return failure(401, 'Unauthorized', 'Unauthorized');
}

export function requestEntityTooLarge(limit: number): KubeApiError {
  return failure(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
}

/** The Status of an injected 429 / 5xx, as the API server (or its priority-and-fairness filter) words it. */
export function injected(code: 429 | 500 | 503 | 504, retryAfterSeconds: number | undefined): KubeApiError {
  const retry = retryAfterSeconds === undefined ? {} : { retryAfterSeconds };
  switch (code) {
    case 429:
      return failure(429, 'TooManyRequests', 'Too many requests, please try again later.', retry);
    case 500:
      return failure(500, 'InternalError', 'Internal error occurred: injected fault', { causes: [{ message: 'injected fault' }], ...retry });
    case 503:
      return failure(503, 'ServiceUnavailable', 'the server is currently unable to handle the request', retryAfterSeconds === undefined ? undefined : retry);
    case 504:
      return failure(504, 'Timeout', 'Timeout: request did not complete within the allotted timeout', retryAfterSeconds === undefined ? undefined : retry);
  }
}

/** What DELETE answers for resources that do not return the deleted object. */
export function deleteSuccess(resource: ResourceType, name: string, uid: string): KubeStatus {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { ...resourceDetails(resource, name), uid },
  };
}

/**
 * The trigger API's error vocabulary: the one body every error response carries, its codes, and
 * the refusal a `NightTriggers` implementation throws when a request is well formed but cannot
 * apply to the night as it stands.
 */

/** Codes the API itself answers with. A `TriggerRejected` brings its own code. */
export const ApiErrorCode = {
  MalformedJson: 'MALFORMED_JSON',
  ValidationFailed: 'VALIDATION_FAILED',
  PathBodyMismatch: 'PATH_BODY_MISMATCH',
  Unauthorized: 'UNAUTHORIZED',
  NotFound: 'NOT_FOUND',
  NightNotFound: 'NIGHT_NOT_FOUND',
  MethodNotAllowed: 'METHOD_NOT_ALLOWED',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  UpstreamUnavailable: 'UPSTREAM_UNAVAILABLE',
  NoWorker: 'NO_WORKER_POLLING',
  Internal: 'INTERNAL_ERROR',
} as const;
export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode];

/** One problem of a rejected value: the field (dotted path, `(root)` for the whole body) and why. */
export interface ApiErrorDetail {
  readonly field: string;
  readonly message: string;
}

/** The night a refusal is about, as it runs: what a caller needs to decide what to do instead. */
export interface RunningNight {
  readonly workflowId: string;
  readonly runId: string;
  /** The overrides the running night started with (absent: none, the planned sizes). */
  readonly sparkOverrides?: Readonly<Record<string, unknown>>;
}

/** The body of every 4xx/5xx response. */
export interface ApiErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly details?: readonly ApiErrorDetail[];
    readonly night?: RunningNight;
  };
}

/**
 * 404: not served here (another tenant's night); 409: conflicts with the night's state (it
 * completed, or it runs with other overrides); 422: understood but not applicable.
 */
export type TriggerRejectedStatus = 404 | 409 | 422;

const CODE = /^[A-Z][A-Z0-9_]{1,63}$/;

/**
 * Thrown by a `NightTriggers` implementation to refuse a request with a reason the caller can act
 * on, e.g. `new TriggerRejected({ code: 'NIGHT_COMPLETED', status: 409, message: '…' })` when a
 * feed arrives for a night that already finished. The HTTP API answers with `status` and
 * `{ error: { code, message } }`; every other error from an implementation is treated as the
 * upstream being unavailable and its text is not shown to the caller.
 */
export class TriggerRejected extends Error {
  override readonly name = 'TriggerRejected';
  readonly code: string;
  readonly status: TriggerRejectedStatus;

  /** The night as it runs, when the refusal is about it (e.g. it runs with other overrides). */
  readonly night?: RunningNight;

  constructor(
    init: { readonly code: string; readonly message: string; readonly status: TriggerRejectedStatus; readonly night?: RunningNight },
    options?: ErrorOptions,
  ) {
    super(init.message, options);
    if (!CODE.test(init.code)) throw new TypeError(`TriggerRejected code must be UPPER_SNAKE_CASE (2-64 characters), got '${init.code}'`);
    this.code = init.code;
    this.status = init.status;
    if (init.night !== undefined) this.night = init.night;
  }
}

/**
 * Thrown by a `NightTriggers` implementation when the orchestrator cannot answer now for a reason
 * it knows (no worker polls the night's task queue): the API answers 503 with `Retry-After` and the
 * reason, at once, instead of waiting for a query to time out.
 */
export class TriggerUnavailable extends Error {
  override readonly name = 'TriggerUnavailable';
  constructor(
    readonly code: string,
    message: string,
    readonly retryAfterSeconds: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

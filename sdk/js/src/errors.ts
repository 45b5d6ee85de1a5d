import type { RateLimit, UpstreamError } from './types.js';

export interface IntajErrorInit {
  code: string;
  message: string;
  /** `null` when no HTTP answer was received (network error, timeout, configuration). */
  status: number | null;
  upstream?: UpstreamError | undefined;
  requestId?: string | null | undefined;
  /** Seconds from the `Retry-After` header, if any. */
  retryAfter?: number | null | undefined;
  rateLimit?: RateLimit | null | undefined;
  cause?: unknown;
}

/** Every failure of the SDK: an error answer of the API, or no answer at all. */
export class IntajError extends Error {
  /** The API's `error.code` (snake_case), or the SDK's own for failures without an answer. */
  readonly code: string;
  readonly status: number | null;
  /** Meta's error when Meta caused the failure (`{code, message, details?, fbtraceId}`). */
  readonly upstream: UpstreamError | undefined;
  readonly requestId: string | null;
  readonly retryAfter: number | null;
  readonly rateLimit: RateLimit | null;

  constructor(init: IntajErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.code = init.code;
    this.status = init.status;
    this.upstream = init.upstream;
    this.requestId = init.requestId ?? null;
    this.retryAfter = init.retryAfter ?? null;
    this.rateLimit = init.rateLimit ?? null;
  }
}

/** 401 or 403: the API key or admin token is missing, unknown or not allowed here. */
export class IntajAuthError extends IntajError {}

/** Any other 4xx: the request must change before it can succeed (422 `invalid_phone_number`, …). */
export class IntajValidationError extends IntajError {}

/** 404: no such message, bot, route (e.g. a route this deployment does not have yet). */
export class IntajNotFoundError extends IntajValidationError {}

/** 429: over the key's rate limit (`rate_limited`) or Meta's per-recipient one (`recipient_rate_limited`). */
export class IntajRateLimitError extends IntajError {}

/** 5xx: the API or WhatsApp could not serve the request (503 `upstream_unavailable`, …). */
export class IntajServerError extends IntajError {}

/** No answer: the network failed or an attempt timed out (`code` is `network_error` or `timeout`). */
export class IntajConnectionError extends IntajError {}

/** The client is missing a setting the call needs (`code` names it); nothing was sent. */
export class IntajConfigError extends IntajError {}

/** The error class for an HTTP status. */
export function errorClassFor(status: number): typeof IntajError {
  if (status === 401 || status === 403) return IntajAuthError;
  if (status === 404) return IntajNotFoundError;
  if (status === 429) return IntajRateLimitError;
  if (status >= 400 && status < 500) return IntajValidationError;
  if (status >= 500) return IntajServerError;
  return IntajError;
}

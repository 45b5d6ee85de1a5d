import {
  IntajConfigError,
  IntajConnectionError,
  IntajError,
  errorClassFor,
} from './errors.js';
import type { RateLimit, RequestOptions, ResponseMeta, UpstreamError, WithMeta } from './types.js';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface TransportConfig {
  baseUrl: string;
  apiKey: string | undefined;
  adminToken: string | undefined;
  timeoutMs: number;
  maxRetries: number;
  fetch: FetchLike;
  userAgent: string | undefined;
  /** Backoff of a retry without `Retry-After`: full jitter in [0, min(cap, base · 2^n)]. */
  retryBaseMs: number;
  retryCapMs: number;
  /** A `Retry-After` longer than this is not waited for: the error is thrown at once. */
  maxRetryAfterMs: number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: () => number;
}

export interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  auth: 'apiKey' | 'admin';
  query?: Record<string, string | number | boolean | undefined> | undefined;
  body?: unknown;
  /** Bytes sent as they are, instead of a JSON `body`. */
  rawBody?: { data: Uint8Array | ArrayBuffer | Blob; contentType: string } | undefined;
  idempotencyKey?: string | undefined;
  /**
   * Whether a request that may have reached the API (network error, timeout) can be sent again.
   * 429 and 503 are retried either way: the API did nothing for them.
   */
  safeToRepeat: boolean;
  options?: RequestOptions | undefined;
}

const REQUEST_ID_HEADERS = ['x-amzn-requestid', 'apigw-requestid', 'x-request-id'];

function header(headers: Headers, name: string): string | null {
  return headers.get(name);
}

export function readRateLimit(headers: Headers): RateLimit | null {
  const limit = header(headers, 'x-ratelimit-limit');
  const remaining = header(headers, 'x-ratelimit-remaining');
  const reset = header(headers, 'x-ratelimit-reset');
  if (limit === null || remaining === null || reset === null) return null;
  const parsed = { limit: Number(limit), remaining: Number(remaining), reset: Number(reset) };
  return Number.isFinite(parsed.limit) && Number.isFinite(parsed.remaining) && Number.isFinite(parsed.reset)
    ? parsed
    : null;
}

function readRequestId(headers: Headers): string | null {
  for (const name of REQUEST_ID_HEADERS) {
    const value = header(headers, name);
    if (value !== null && value !== '') return value;
  }
  return null;
}

/** `Retry-After` in seconds: delta-seconds or an HTTP date. */
export function readRetryAfter(headers: Headers, nowMs = Date.now()): number | null {
  const value = header(headers, 'retry-after');
  if (value === null || value.trim() === '') return null;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, (date - nowMs) / 1000);
}

function withMeta<T extends object>(value: T, response: Response): WithMeta<T> {
  const meta: ResponseMeta = {
    rateLimit: readRateLimit(response.headers),
    requestId: readRequestId(response.headers),
    idempotentReplayed: header(response.headers, 'idempotent-replayed') === 'true',
    httpStatus: response.status,
  };
  // Non-enumerable: the object still serialises to exactly the API's answer.
  for (const [key, v] of Object.entries(meta)) {
    Object.defineProperty(value, key, { value: v, enumerable: false, configurable: true });
  }
  return value as WithMeta<T>;
}

async function errorFromResponse(response: Response): Promise<IntajError> {
  const text = await response.text().catch(() => '');
  let code = `http_${response.status}`;
  let message = text.slice(0, 500) || response.statusText || `HTTP ${response.status}`;
  let upstream: UpstreamError | undefined;
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; upstream?: unknown } };
    if (parsed !== null && typeof parsed.error === 'object' && parsed.error !== null) {
      if (typeof parsed.error.code === 'string') code = parsed.error.code;
      if (typeof parsed.error.message === 'string') message = parsed.error.message;
      if (typeof parsed.error.upstream === 'object' && parsed.error.upstream !== null) {
        upstream = parsed.error.upstream as UpstreamError;
      }
    }
  } catch {
    // Not the API's JSON (a gateway's page, a proxy): keep the text as the message.
  }
  const ErrorClass = errorClassFor(response.status);
  return new ErrorClass({
    code,
    message,
    status: response.status,
    upstream,
    requestId: readRequestId(response.headers),
    retryAfter: readRetryAfter(response.headers),
    rateLimit: readRateLimit(response.headers),
  });
}

export class Transport {
  constructor(readonly config: TransportConfig) {}

  url(path: string, query?: Call['query']): string {
    const url = new URL(this.config.baseUrl.replace(/\/+$/, '') + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  async request<T extends object>(call: Call): Promise<WithMeta<T>> {
    const credential = call.auth === 'admin' ? this.config.adminToken : this.config.apiKey;
    if (credential === undefined || credential === '') {
      const setting = call.auth === 'admin' ? 'adminToken' : 'apiKey';
      throw new IntajConfigError({
        code: call.auth === 'admin' ? 'missing_admin_token' : 'missing_api_key',
        message: `this call needs the client's ${setting} option`,
        status: null,
      });
    }
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `Bearer ${credential}`,
    };
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    if (call.rawBody !== undefined) headers['content-type'] = call.rawBody.contentType;
    if (call.idempotencyKey !== undefined) headers['idempotency-key'] = call.idempotencyKey;
    if (this.config.userAgent !== undefined) headers['user-agent'] = this.config.userAgent;
    const url = this.url(call.path, call.query);
    const body: BodyInit | undefined =
      call.rawBody !== undefined
        ? (call.rawBody.data as BodyInit)
        : call.body === undefined
          ? undefined
          : JSON.stringify(call.body);
    const maxRetries = call.options?.maxRetries ?? this.config.maxRetries;
    const timeoutMs = call.options?.timeoutMs ?? this.config.timeoutMs;
    const signal = call.options?.signal;

    for (let retry = 0; ; retry++) {
      signal?.throwIfAborted();
      let error: IntajError;
      let response: Response | undefined;
      const controller = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, timeoutMs);
      const onAbort = (): void => controller.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const init: RequestInit = { method: call.method, headers, signal: controller.signal };
        if (body !== undefined) init.body = body;
        response = await this.config.fetch(url, init);
        if (response.ok) {
          const text = await response.text();
          const value = (text === '' ? {} : JSON.parse(text)) as T;
          return withMeta(value, response);
        }
        error = await errorFromResponse(response);
      } catch (thrown) {
        if (signal?.aborted === true) throw signal.reason ?? thrown;
        if (thrown instanceof IntajError) throw thrown;
        if (thrown instanceof SyntaxError && response !== undefined) {
          throw new IntajError({
            code: 'invalid_response',
            message: `the API answered ${response.status} with a body that is not JSON`,
            status: response.status,
            requestId: readRequestId(response.headers),
            cause: thrown,
          });
        }
        error = new IntajConnectionError({
          code: timedOut ? 'timeout' : 'network_error',
          message: timedOut
            ? `no answer from ${call.method} ${call.path} within ${timeoutMs} ms`
            : `${call.method} ${call.path} failed: ${thrown instanceof Error ? thrown.message : String(thrown)}`,
          status: null,
          cause: thrown,
        });
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      }

      const delay = this.retryDelay(error, call, retry, maxRetries);
      if (delay === null) throw error;
      await this.config.sleep(delay, signal);
    }
  }

  /**
   * `PUT url` with `headers` and the bytes, no credentials (a presigned URL is its own): an upload
   * to the media store. Not retried: the caller asks for a new upload URL instead.
   */
  async putFile(
    url: string,
    headers: Record<string, string>,
    data: Uint8Array | ArrayBuffer | Blob,
    options?: RequestOptions,
  ): Promise<void> {
    const timeoutMs = options?.timeoutMs ?? this.config.timeoutMs;
    const signal = options?.signal;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const onAbort = (): void => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let response: Response;
    try {
      response = await this.config.fetch(url, { method: 'PUT', headers, body: data as BodyInit, signal: controller.signal });
    } catch (thrown) {
      if (signal?.aborted === true) throw signal.reason ?? thrown;
      throw new IntajConnectionError({
        code: 'upload_failed',
        message: `the file's PUT to its upload URL failed: ${thrown instanceof Error ? thrown.message : String(thrown)}`,
        status: null,
        cause: thrown,
      });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
    if (!response.ok) throw await errorFromResponse(response);
    await response.arrayBuffer().catch(() => undefined);
  }

  /** Milliseconds to wait before the next attempt, or `null` when `error` is final. */
  private retryDelay(error: IntajError, call: Call, retry: number, maxRetries: number): number | null {
    if (retry >= maxRetries) return null;
    const status = error.status;
    // 409 `idempotency_in_progress`: the first request with this key is still running (often
    // this client's own, timed out); the same request after `Retry-After` gets its answer.
    const inProgress = status === 409 && error.code === 'idempotency_in_progress';
    const retryable =
      status === 429 ||
      status === 503 ||
      inProgress ||
      (status === null && error instanceof IntajConnectionError && call.safeToRepeat);
    if (!retryable) return null;
    if (error.retryAfter !== null) {
      const ms = error.retryAfter * 1000;
      return ms > this.config.maxRetryAfterMs ? null : ms;
    }
    const ceiling = Math.min(this.config.retryCapMs, this.config.retryBaseMs * 2 ** retry);
    return Math.floor(this.config.random() * ceiling);
  }
}

export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

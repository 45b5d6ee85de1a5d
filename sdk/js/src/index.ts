export { Intaj, WhatsApp, Connections, type IntajOptions } from './client.js';
export {
  IntajError,
  IntajAuthError,
  IntajValidationError,
  IntajNotFoundError,
  IntajRateLimitError,
  IntajServerError,
  IntajConnectionError,
  IntajConfigError,
  type IntajErrorInit,
} from './errors.js';
export { webhooks, verify as verifyWebhook, sign as signWebhook, SIGNATURE_HEADER } from './webhooks.js';
export type { RawBody, VerifyOptions, Webhooks } from './webhooks.js';
export type { FetchLike } from './http.js';
export type * from './types.js';

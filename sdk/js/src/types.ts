// Request and answer shapes of the intaj-whatsapp REST API (README "API reference").
// Times are unix seconds. Unknown fields the API adds later pass through untouched.

/** Rate-limit headers of an answer (`X-RateLimit-*`); `reset` is the unix second the window resets. */
export interface RateLimit {
  limit: number;
  remaining: number;
  reset: number;
}

/**
 * What every answer carries besides its JSON fields. These properties are non-enumerable, so
 * `JSON.stringify(result)` is exactly the API's answer.
 */
export interface ResponseMeta {
  /** `null` when the answer had no rate-limit headers (e.g. admin routes). */
  readonly rateLimit: RateLimit | null;
  /** The gateway's request id (`x-amzn-requestid`, `apigw-requestid`, `x-request-id`), if any. */
  readonly requestId: string | null;
  /** `true` when the API replayed an earlier answer for the same `Idempotency-Key`. */
  readonly idempotentReplayed: boolean;
  /** The HTTP status of the answer. */
  readonly httpStatus: number;
}

export type WithMeta<T> = T & ResponseMeta;

/** Per-call options. */
export interface RequestOptions {
  /** Cancels the call (and its retries). */
  signal?: AbortSignal | undefined;
  /** Overrides the client's `timeoutMs` for each attempt of this call. */
  timeoutMs?: number | undefined;
  /** Overrides the client's `maxRetries` for this call. */
  maxRetries?: number | undefined;
}

export interface SendOptions extends RequestOptions {
  /** Reused across this call's retries; generated (`crypto.randomUUID()`) when absent. */
  idempotencyKey?: string | undefined;
}

// ---- send ----------------------------------------------------------------------------------

export type MediaContent =
  | { url: string; caption?: string; filename?: string }
  | { id: string; caption?: string; filename?: string };

export interface TextContent {
  body: string;
  previewUrl?: boolean;
}

export interface LocationContent {
  latitude: number;
  longitude: number;
  name?: string;
  address?: string;
}

export interface ReactionContent {
  messageId: string;
  emoji: string;
}

export interface InteractiveButtons {
  type: 'button' | 'buttons';
  body: string;
  header?: string;
  footer?: string;
  buttons: Array<{ id: string; title: string }>;
}

export interface InteractiveList {
  type: 'list';
  body: string;
  button: string;
  header?: string;
  footer?: string;
  sections: Array<{
    title?: string;
    rows: Array<{ id: string; title: string; description?: string }>;
  }>;
}

export interface InteractiveCtaUrl {
  type: 'cta_url';
  body: string;
  displayText: string;
  url: string;
  header?: string;
  footer?: string;
}

export type InteractiveContent = InteractiveButtons | InteractiveList | InteractiveCtaUrl;

/** Meta's template parameter objects, passed through as given. */
export interface TemplateParameter {
  type: string;
  text?: string;
  parameter_name?: string;
  [key: string]: unknown;
}

/** Meta's template components (`header`, `body`, `button`), passed through as given. */
export interface TemplateComponent {
  type: string;
  sub_type?: string;
  index?: number | string;
  parameters?: TemplateParameter[];
  [key: string]: unknown;
}

export interface TemplateMessage {
  name: string;
  /** `"en"` or `{ code: "en" }`. */
  language: string | { code: string; policy?: string };
  components?: TemplateComponent[];
}

/** Fields every `/send` body may carry besides `to`, `type` and `content`. */
export interface SendCommon {
  /**
   * A phone number in any common notation (normalised by the API to E.164 digits without `+`)
   * or a BSUID such as `US.13491208655302741918`.
   */
  to: string;
  /** A message id to reply to (sent to Meta as `context`). */
  replyTo?: string;
  bizOpaqueCallbackData?: string;
  /** An http(s) URL that receives this message's status events. */
  statusCallbackUrl?: string;
}

export type SendBody = SendCommon &
  (
    | { type: 'text'; content: string | TextContent }
    | { type: 'image' | 'video' | 'document' | 'audio' | 'sticker'; content: MediaContent }
    | { type: 'location'; content: LocationContent }
    | { type: 'contacts'; content: Array<Record<string, unknown>> }
    | { type: 'reaction'; content: ReactionContent }
    | { type: 'interactive'; content: InteractiveContent }
    | { type: 'template'; template: TemplateMessage }
    | { type: 'template'; content: TemplateMessage }
  );

/** `sendTemplate`'s argument: a `/send` body without `type` (it is always `template`). */
export type SendTemplateBody = SendCommon & { template: TemplateMessage };

export interface SendResult {
  /** Meta's message id (`wamid…`). */
  messageId: string;
  status: 'accepted' | string;
  /** The recipient as normalised by the API. */
  to: string;
}

// ---- messages and conversations ------------------------------------------------------------

export type MessageStatus = 'received' | 'accepted' | 'sent' | 'delivered' | 'read' | 'failed';

export interface StatusEvent {
  status: MessageStatus | string;
  timestamp: number;
  /** Meta's `errors` array, as Meta sent it. */
  errors?: unknown[];
}

export interface Message {
  messageId: string;
  /** `null` for a message known only by its status webhooks. */
  direction: 'inbound' | 'outbound' | null;
  /** Inbound messages only. */
  from?: string;
  /** Outbound messages only. */
  to?: string;
  /** `null` for a message sent from elsewhere, known by its status webhooks alone. */
  type: string | null;
  status: MessageStatus | string | null;
  statuses: StatusEvent[];
  createdAt: number | null;
  [key: string]: unknown;
}

/** `GET /api/whatsapp/media/{mediaId}`: a customer's media file, kept by the stack. */
export interface Media {
  mediaId: string;
  mimeType: string;
  /** Bytes. */
  size: number;
  /** Lowercase hex. */
  sha256: string;
  /** Reads the file without credentials until `expiresAt`. */
  url: string;
  /** Unix seconds. */
  expiresAt: number;
}

/** `POST /api/whatsapp/media/uploads`: the file you are about to upload. */
export interface MediaUploadBody {
  /** One WhatsApp takes (image/jpeg, application/pdf, …). */
  mimeType: string;
  /** Bytes; the PUT must carry exactly these. */
  size: number;
  filename?: string | undefined;
}

/** Where to `PUT` the file, with exactly these `headers`, before `expiresAt`. */
export interface MediaUpload {
  uploadId: string;
  url: string;
  method: 'PUT';
  headers: Record<string, string>;
  /** Unix seconds. */
  expiresAt: number;
}

/** `POST /api/whatsapp/media` for a file already PUT through its upload URL. */
export interface MediaUploadedBody {
  uploadId: string;
}

/** A file of yours as bytes: a `Uint8Array` (a Node `Buffer` is one), an `ArrayBuffer` or a `Blob`. */
export type MediaFile = Uint8Array | ArrayBuffer | Blob;

/** `POST /api/whatsapp/media` with the file itself as the body (at most 5 MB). */
export interface MediaFileBody {
  file: MediaFile;
  /** The file's type; its first bytes must say the same. */
  mimeType: string;
  filename?: string | undefined;
}

export type MediaKind = 'image' | 'audio' | 'video' | 'document' | 'sticker';

/** WhatsApp has the file: send it as `{ id: mediaId }` in a message of type `kind`. */
export interface MediaSent {
  mediaId: string;
  /** The file's real type, read from its first bytes. */
  mimeType: string;
  kind: MediaKind;
  size: number;
  /** Unix seconds; WhatsApp keeps uploads 30 days. */
  expiresAt: number;
}

export interface UploadMediaOptions extends RequestOptions {
  mimeType: string;
  filename?: string | undefined;
}

export interface Conversation {
  phone: string;
  windowOpen: boolean;
  windowExpiresAt: number | null;
  lastInboundAt: number | null;
  responderPaused: boolean;
  responderPausedUntil: number | null;
}

export interface ResponderSetting {
  paused: boolean;
  /** Unix seconds; absent pauses until resumed. Must be in the future. */
  until?: number;
}

export interface MarkReadOptions extends RequestOptions {
  /** Also show the typing indicator (WhatsApp shows it for up to 25 s or until the reply). */
  typing?: boolean | undefined;
}

/** The body of `POST /api/whatsapp/messages/{id}/read`. */
export interface MarkReadBody {
  /** Show the typing indicator too. */
  typing?: boolean;
}

export interface MarkReadResult {
  messageId: string;
  read: true;
  typing: boolean;
}

// ---- templates -----------------------------------------------------------------------------

export interface ListTemplatesQuery {
  status?: string | undefined;
  /** A substring of the name. */
  name?: string | undefined;
  language?: string | undefined;
  category?: string | undefined;
  /** 1–1000 per page (API default 100). */
  limit?: number | undefined;
  /** Start from this cursor (a previous page's `nextCursor`). */
  cursor?: string | undefined;
}

export interface TemplateParameters {
  header?: { format: string; placeholder?: string } | null;
  body: { format: 'positional'; count: number } | { format: 'named'; names: string[] };
  buttons: Array<{
    index: number;
    kind: string;
    subType: string;
    parameterType: string;
    required: boolean;
    [key: string]: unknown;
  }>;
}

export interface Template {
  id: string;
  name: string;
  language: string;
  status: string;
  category: string;
  subCategory?: string;
  parameterFormat: string;
  /** Meta's components, verbatim. */
  components: Array<Record<string, unknown>>;
  qualityScore?: string;
  rejectedReason?: string;
  statusReason?: string;
  impendingCategory?: string;
  impendingCategoryAt?: number;
  parameters: TemplateParameters;
  [key: string]: unknown;
}

export interface TemplatePage {
  templates: Template[];
  syncedAt: number | null;
  templateLimit?: number;
  /** Absent on the last page. */
  nextCursor?: string;
}

export interface SyncResult {
  fetched: number;
  added: number;
  updated: number;
  removed: number;
  unchanged: number;
  syncedAt: number;
  templateLimit?: number;
}

// ---- connections (admin token) -------------------------------------------------------------

export type ResponderConfig =
  | { kind: 'forward'; url: string; timeoutMs?: number }
  | {
      kind: 'rules';
      rules: Array<{ match: string | { type: string }; reply: unknown }>;
      fallback?: unknown;
    };

/** Fields a connection can be created or updated with. */
export interface ConnectionFields {
  businessAccountId?: string;
  phoneNumberId?: string;
  accessToken?: string;
  appSecret?: string;
  verifyToken?: string;
  rateLimitPerSecond?: number;
  /** `null` removes it. */
  responder?: ResponderConfig | null;
  /** `null` removes it. */
  eventsUrl?: string | null;
  /** A `/send` body without `to`; `null` removes it. */
  fallbackReply?: Record<string, unknown> | null;
  typingIndicator?: boolean;
}

export interface CreateConnectionBody extends ConnectionFields {
  /** Generated (`bot_` + 16 hex digits) when absent. */
  botId?: string;
  businessAccountId: string;
  phoneNumberId: string;
  accessToken: string;
  appSecret: string;
}

export interface UpdateConnectionBody extends ConnectionFields {
  /** Revokes every key of the bot and answers the new one as `apiKey`. */
  rotateApiKey?: boolean;
  /** Replaces the responder secret (the old one stops signing) and answers it as `responderSecret`. */
  rotateResponderSecret?: boolean;
}

/** The `201` answer: the only one that shows secrets. */
export interface CreatedConnection {
  botId: string;
  webhookUrl: string;
  verifyToken: string;
  apiKey: string;
  responderSecret: string;
  displayPhoneNumber: string | null;
  verifiedName: string | null;
}

export interface Connection {
  botId: string;
  businessAccountId: string;
  phoneNumberId: string;
  displayPhoneNumber: string | null;
  verifiedName: string | null;
  webhookUrl: string;
  rateLimitPerSecond: number;
  responderKind: 'none' | 'forward' | 'rules';
  /** Absent when the connection has no responder. */
  responder?: ResponderConfig;
  eventsUrl: string | null;
  /** A `/send` body without `to`; absent when none. */
  fallbackReply?: Record<string, unknown>;
  typingIndicator: boolean;
  createdAt: number;
  updatedAt: number;
  lastWebhookAt: number | null;
  /** Only on the single-connection read (`connections.get`). */
  lastTemplateSyncAt?: number;
  [key: string]: unknown;
}

/** An update's answer: the connection, plus `apiKey` and `responderSecret` when rotated. */
export type UpdatedConnection = Connection & { apiKey?: string; responderSecret?: string };

export interface ListConnectionsQuery {
  /** 1–100. */
  limit?: number | undefined;
  cursor?: string | undefined;
}

export interface ConnectionPage {
  connections: Connection[];
  nextCursor?: string | null;
}

export interface DeletedConnection {
  botId: string;
  deleted: true;
  apiKeysRevoked: number;
}

// ---- what the platform POSTs to a bot backend and an eventsUrl ----------------------------

export interface ForwardedMessage {
  messageId: string;
  botId: string;
  customer: { waId: string | null; bsuid: string | null; profileName: string | null };
  timestamp: number;
  type: string;
  content: unknown;
  text: string | null;
  replyTo: string | null;
  windowExpiresAt: number | null;
  /** For an image, audio, video, document or sticker: fetch it with `whatsapp.getMedia(mediaId)`. */
  media?: { mediaId: string; mimeType: string | null; sha256: string | null; path: string };
}

export interface MessageStatusEvent {
  eventId: string;
  type: 'message.status';
  botId: string;
  messageId: string;
  status: string;
  timestamp: number;
  recipient: { waId?: string; bsuid?: string };
  errors?: unknown[];
}

export interface TemplateStatusEvent {
  eventId: string;
  type: 'template.status';
  botId: string;
  templateId: string;
  name: string;
  language: string;
  status: string;
  previousStatus: string | null;
  reason?: string;
  timestamp: number;
}

export type IntajEvent = MessageStatusEvent | TemplateStatusEvent;

/** The body of every error answer. */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    upstream?: UpstreamError;
  };
}

/** Meta's error, kept when Meta caused the failure. */
export interface UpstreamError {
  code: number;
  message: string;
  details?: string;
  fbtraceId?: string;
  [key: string]: unknown;
}

import { randomUuid } from './crypto.js';
import { IntajConfigError, IntajValidationError } from './errors.js';
import { Transport, defaultSleep, type FetchLike } from './http.js';
import type {
  Connection,
  ConnectionPage,
  Conversation,
  CreateConnectionBody,
  CreatedConnection,
  DeletedConnection,
  ListConnectionsQuery,
  ListTemplatesQuery,
  MarkReadOptions,
  MarkReadResult,
  Media,
  MediaFile,
  MediaFileBody,
  MediaSent,
  MediaUpload,
  MediaUploadBody,
  MediaUploadedBody,
  Message,
  RequestOptions,
  ResponderSetting,
  SendBody,
  SendOptions,
  SendResult,
  SendTemplateBody,
  SyncResult,
  TemplatePage,
  UpdateConnectionBody,
  UpdatedConnection,
  UploadMediaOptions,
  WithMeta,
} from './types.js';
import { webhooks, type Webhooks } from './webhooks.js';

export interface IntajOptions {
  /** The bot's API key (`Authorization: Bearer`); defaults to `INTAJ_API_KEY` where `process.env` exists. */
  apiKey?: string | undefined;
  /**
   * The deployment's API URL, e.g. `https://abc123.execute-api.eu-west-1.amazonaws.com` or
   * `http://127.0.0.1:3000` locally. Defaults to `INTAJ_BASE_URL` where `process.env` exists;
   * there is no public default, since every business deploys its own stack.
   */
  baseUrl?: string | undefined;
  /** The stack's admin token, for `intaj.connections`; defaults to `INTAJ_ADMIN_TOKEN`. */
  adminToken?: string | undefined;
  /** Per attempt (default 30000: API Gateway gives up at 29 s). */
  timeoutMs?: number | undefined;
  /** Retries after the first attempt (default 2). */
  maxRetries?: number | undefined;
  /** A `fetch` to use instead of `globalThis.fetch` (a proxy agent, a test double). */
  fetch?: FetchLike | undefined;
  /** Sent as `User-Agent` where the runtime allows it. */
  userAgent?: string | undefined;
  /** Longest `Retry-After` honoured, in ms (default 60000); a longer one is thrown at once. */
  maxRetryAfterMs?: number | undefined;
  /** Backoff without `Retry-After`: full jitter up to min(cap, base · 2^retry) (defaults 500 ms, 8 s). */
  retryBaseMs?: number | undefined;
  retryCapMs?: number | undefined;
}

function env(name: string): string | undefined {
  // `process` does not exist in browsers and some edge runtimes.
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const value = proc?.env?.[name];
  return value === undefined || value === '' ? undefined : value;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw new IntajConfigError({ code: 'invalid_option', message: `${name} must be a number ≥ 0`, status: null });
  }
  return value;
}

const seg = encodeURIComponent;

/**
 * Files up to this size go as the body of `POST /api/whatsapp/media`; larger ones through an
 * upload URL. Under the API's 5 MB: API Gateway hands Lambda a binary body base64-encoded, in an
 * event of at most 6 MB.
 */
const DIRECT_UPLOAD_MAX_BYTES = 4 * 1024 * 1024;

function byteSize(file: MediaFile): number {
  return file instanceof Blob ? file.size : file.byteLength;
}

/** `intaj.whatsapp`: the routes of a bot's API key. */
export class WhatsApp {
  constructor(private readonly http: Transport) {}

  /**
   * `POST /api/whatsapp/send`. One `Idempotency-Key` per call (yours or a random UUID), reused
   * by every retry, so a retried send never reaches the customer twice.
   */
  async send(body: SendBody, options: SendOptions = {}): Promise<WithMeta<SendResult>> {
    const idempotencyKey = options.idempotencyKey ?? (await randomUuid());
    return this.http.request<SendResult>({
      method: 'POST',
      path: '/api/whatsapp/send',
      auth: 'apiKey',
      body,
      idempotencyKey,
      safeToRepeat: true,
      options,
    });
  }

  /** `send` with `type: "template"`; templates need no open 24-hour window. */
  sendTemplate(body: SendTemplateBody, options: SendOptions = {}): Promise<WithMeta<SendResult>> {
    return this.send({ ...body, type: 'template' }, options);
  }

  /** `GET /api/whatsapp/messages/{id}`: the message and its status history. */
  getMessage(messageId: string, options?: RequestOptions): Promise<WithMeta<Message>> {
    return this.http.request<Message>({
      method: 'GET',
      path: `/api/whatsapp/messages/${seg(messageId)}`,
      auth: 'apiKey',
      safeToRepeat: true,
      options,
    });
  }

  /**
   * `GET /api/whatsapp/media/{mediaId}`: a customer's media file (the `id` of an inbound
   * image, audio, video, document or sticker), copied once from WhatsApp; `url` reads it without
   * credentials until `expiresAt`.
   */
  getMedia(mediaId: string, options?: RequestOptions): Promise<WithMeta<Media>> {
    return this.http.request<Media>({
      method: 'GET',
      path: `/api/whatsapp/media/${seg(mediaId)}`,
      auth: 'apiKey',
      safeToRepeat: true,
      options,
    });
  }

  /**
   * A file of yours to WhatsApp, whatever its size: small files go as the body of
   * `POST /api/whatsapp/media`, larger ones through an upload URL (`createMediaUpload`, the PUT,
   * then `sendMedia({ uploadId })`). Send the answered `mediaId` as `{ id }` in a message.
   */
  async uploadMedia(file: MediaFile, options: UploadMediaOptions): Promise<WithMeta<MediaSent>> {
    const { mimeType, filename, ...request } = options;
    const size = byteSize(file);
    if (size <= DIRECT_UPLOAD_MAX_BYTES) return this.sendMedia({ file, mimeType, filename }, request);
    const upload = await this.createMediaUpload(
      filename === undefined ? { mimeType, size } : { mimeType, size, filename },
      request,
    );
    await this.http.putFile(upload.url, upload.headers, file, request);
    return this.sendMedia({ uploadId: upload.uploadId }, request);
  }

  /**
   * `POST /api/whatsapp/media/uploads`: where to `PUT` a file (with the answered `headers`, within
   * 15 minutes) before `sendMedia({ uploadId })`. Type and size are checked against WhatsApp's
   * limits here already (`media_too_large` 413, `unsupported_media_type` 415).
   */
  createMediaUpload(body: MediaUploadBody, options?: RequestOptions): Promise<WithMeta<MediaUpload>> {
    return this.http.request<MediaUpload>({
      method: 'POST',
      path: '/api/whatsapp/media/uploads',
      auth: 'apiKey',
      body,
      safeToRepeat: true,
      options,
    });
  }

  /**
   * `POST /api/whatsapp/media`: an uploaded file (`{ uploadId }`) or a file of at most 5 MB
   * (`{ file, mimeType, filename? }`) to WhatsApp. Its first bytes must be its declared type.
   */
  sendMedia(source: MediaUploadedBody | MediaFileBody, options?: RequestOptions): Promise<WithMeta<MediaSent>> {
    if ('uploadId' in source) {
      return this.http.request<MediaSent>({
        method: 'POST',
        path: '/api/whatsapp/media',
        auth: 'apiKey',
        body: { uploadId: source.uploadId },
        safeToRepeat: true,
        options,
      });
    }
    return this.http.request<MediaSent>({
      method: 'POST',
      path: '/api/whatsapp/media',
      auth: 'apiKey',
      query: { filename: source.filename },
      rawBody: { data: source.file, contentType: source.mimeType },
      safeToRepeat: true,
      options,
    });
  }

  /** `GET /api/whatsapp/conversations/{phone}`: the customer's window and responder state. */
  getConversation(phone: string, options?: RequestOptions): Promise<WithMeta<Conversation>> {
    return this.http.request<Conversation>({
      method: 'GET',
      path: `/api/whatsapp/conversations/${seg(phone)}`,
      auth: 'apiKey',
      safeToRepeat: true,
      options,
    });
  }

  /** One page of `GET /api/whatsapp/templates`. */
  listTemplatesPage(query: ListTemplatesQuery = {}, options?: RequestOptions): Promise<WithMeta<TemplatePage>> {
    return this.http.request<TemplatePage>({
      method: 'GET',
      path: '/api/whatsapp/templates',
      auth: 'apiKey',
      query: { ...query },
      safeToRepeat: true,
      options,
    });
  }

  /**
   * Every page of `GET /api/whatsapp/templates`, following `nextCursor`:
   * `for await (const page of intaj.whatsapp.listTemplates({ status: 'APPROVED' })) …`.
   * Pages are fetched one at a time, as the loop asks for them.
   */
  async *listTemplates(
    query: ListTemplatesQuery = {},
    options?: RequestOptions,
  ): AsyncGenerator<WithMeta<TemplatePage>, void, undefined> {
    let cursor = query.cursor;
    for (;;) {
      const page = await this.listTemplatesPage(
        cursor === undefined ? withoutCursor(query) : { ...query, cursor },
        options,
      );
      yield page;
      if (page.nextCursor === undefined || page.nextCursor === null || page.nextCursor === '') return;
      cursor = page.nextCursor;
    }
  }

  /** `POST /api/whatsapp/sync-templates`: reads the bot's templates from Meta now. */
  syncTemplates(options?: RequestOptions): Promise<WithMeta<SyncResult>> {
    return this.http.request<SyncResult>({
      method: 'POST',
      path: '/api/whatsapp/sync-templates',
      auth: 'apiKey',
      safeToRepeat: true,
      options,
    });
  }

  /**
   * `PUT /api/whatsapp/conversations/{phone}/responder`: `{paused: true, until?}` hands the
   * customer to a person (the bot stops answering), `{paused: false}` gives them back.
   */
  setResponder(phone: string, setting: ResponderSetting, options?: RequestOptions): Promise<WithMeta<Conversation>> {
    return this.http.request<Conversation>({
      method: 'PUT',
      path: `/api/whatsapp/conversations/${seg(phone)}/responder`,
      auth: 'apiKey',
      body: setting,
      safeToRepeat: true,
      options,
    });
  }

  /**
   * `POST /api/whatsapp/messages/{id}/read`: marks a customer's message read, with the typing
   * indicator when `typing` is true. The bot's own message or an unknown id is 404
   * `message_not_found` (an `IntajNotFoundError`).
   */
  markRead(messageId: string, options: MarkReadOptions = {}): Promise<WithMeta<MarkReadResult>> {
    const { typing, ...requestOptions } = options;
    return this.http.request<MarkReadResult>({
      method: 'POST',
      path: `/api/whatsapp/messages/${seg(messageId)}/read`,
      auth: 'apiKey',
      body: typing === undefined ? {} : { typing },
      safeToRepeat: true,
      options: requestOptions,
    });
  }
}

function withoutCursor(query: ListTemplatesQuery): ListTemplatesQuery {
  const { cursor: _ignored, ...rest } = query;
  return rest;
}

/** `intaj.connections`: the stack's admin routes (needs `adminToken`). */
export class Connections {
  constructor(private readonly http: Transport) {}

  /**
   * `POST /api/whatsapp/connections` for a new bot: answers the API key and responder secret,
   * shown this once. Without a `botId` a lost answer is not resent (it could connect twice).
   */
  async create(body: CreateConnectionBody, options?: RequestOptions): Promise<WithMeta<CreatedConnection>> {
    const created = await this.http.request<CreatedConnection>({
      method: 'POST',
      path: '/api/whatsapp/connections',
      auth: 'admin',
      body,
      safeToRepeat: body.botId !== undefined,
      options,
    });
    // The bot existed already (made before, or by this call's own attempt whose answer was
    // lost): the API changed it and showed no secret, so there is none to resolve with.
    if (typeof created.apiKey !== 'string') {
      throw new IntajValidationError({
        code: 'connection_exists',
        message:
          `bot "${String(body.botId)}" is connected already, so no secret was shown: get new ones with ` +
          `connections.update("${String(body.botId)}", { rotateApiKey: true, rotateResponderSecret: true })`,
        status: 200,
        requestId: created.requestId,
        rateLimit: created.rateLimit,
      });
    }
    return created;
  }

  /**
   * Changes what is given of an existing bot (re-posting its `botId`); the rest is kept.
   * `{rotateApiKey: true}` answers the new key as `apiKey`, `{rotateResponderSecret: true}` the
   * new secret as `responderSecret`.
   */
  update(botId: string, changes: UpdateConnectionBody, options?: RequestOptions): Promise<WithMeta<UpdatedConnection>> {
    return this.http.request<UpdatedConnection>({
      method: 'POST',
      path: '/api/whatsapp/connections',
      auth: 'admin',
      body: { ...changes, botId },
      // A rotation repeated would revoke the key or secret the first one answered.
      safeToRepeat: changes.rotateApiKey !== true && changes.rotateResponderSecret !== true,
      options,
    });
  }

  /** `GET /api/whatsapp/connections/{botId}`, without any secret. */
  get(botId: string, options?: RequestOptions): Promise<WithMeta<Connection>> {
    return this.http.request<Connection>({
      method: 'GET',
      path: `/api/whatsapp/connections/${seg(botId)}`,
      auth: 'admin',
      safeToRepeat: true,
      options,
    });
  }

  /** One page of `GET /api/whatsapp/connections` (bot id order); pass `nextCursor` back as `cursor`. */
  list(query: ListConnectionsQuery = {}, options?: RequestOptions): Promise<WithMeta<ConnectionPage>> {
    return this.http.request<ConnectionPage>({
      method: 'GET',
      path: '/api/whatsapp/connections',
      auth: 'admin',
      query: { ...query },
      safeToRepeat: true,
      options,
    });
  }

  /** `DELETE /api/whatsapp/connections/{botId}`: its keys stop working at once; messages stay. */
  delete(botId: string, options?: RequestOptions): Promise<WithMeta<DeletedConnection>> {
    return this.http.request<DeletedConnection>({
      method: 'DELETE',
      path: `/api/whatsapp/connections/${seg(botId)}`,
      auth: 'admin',
      safeToRepeat: true,
      options,
    });
  }
}

/** The client: `new Intaj({ apiKey, baseUrl })`. */
export class Intaj {
  readonly whatsapp: WhatsApp;
  readonly connections: Connections;
  /** Signature checks for bot backends and `eventsUrl` receivers (needs no key). */
  readonly webhooks: Webhooks = webhooks;
  readonly baseUrl: string;

  constructor(options: IntajOptions = {}) {
    const baseUrl = options.baseUrl ?? env('INTAJ_BASE_URL');
    if (baseUrl === undefined || baseUrl === '') {
      throw new IntajConfigError({
        code: 'missing_base_url',
        message:
          "Intaj needs your deployment's API URL: pass { baseUrl } (e.g. the stack's ApiUrl output, or http://127.0.0.1:3000 locally) or set INTAJ_BASE_URL",
        status: null,
      });
    }
    try {
      new URL(baseUrl);
    } catch {
      throw new IntajConfigError({ code: 'invalid_base_url', message: `baseUrl is not a URL: ${baseUrl}`, status: null });
    }
    const fetchImpl = options.fetch ?? (globalThis as { fetch?: FetchLike }).fetch;
    if (fetchImpl === undefined) {
      throw new IntajConfigError({
        code: 'missing_fetch',
        message: 'this runtime has no global fetch: pass { fetch }',
        status: null,
      });
    }
    this.baseUrl = baseUrl;
    const transport = new Transport({
      baseUrl,
      apiKey: options.apiKey ?? env('INTAJ_API_KEY'),
      adminToken: options.adminToken ?? env('INTAJ_ADMIN_TOKEN'),
      timeoutMs: nonNegative('timeoutMs', options.timeoutMs, 30_000),
      maxRetries: Math.floor(nonNegative('maxRetries', options.maxRetries, 2)),
      // Bound to globalThis: some runtimes throw "Illegal invocation" for a detached fetch.
      fetch: options.fetch ?? ((input, init) => fetchImpl.call(globalThis, input, init)),
      userAgent: options.userAgent,
      retryBaseMs: nonNegative('retryBaseMs', options.retryBaseMs, 500),
      retryCapMs: nonNegative('retryCapMs', options.retryCapMs, 8_000),
      maxRetryAfterMs: nonNegative('maxRetryAfterMs', options.maxRetryAfterMs, 60_000),
      sleep: defaultSleep,
      random: Math.random,
    });
    this.whatsapp = new WhatsApp(transport);
    this.connections = new Connections(transport);
  }
}

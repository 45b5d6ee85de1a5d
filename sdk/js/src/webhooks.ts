import { webCrypto } from './crypto.js';

// `X-Intaj-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, on the
// bot's forwards and on status events (README "How the bot answers").

export const SIGNATURE_HEADER = 'X-Intaj-Signature';

export type RawBody = string | Uint8Array | ArrayBuffer;

export interface VerifyOptions {
  /** The current time in unix seconds (tests); defaults to the clock. */
  now?: number;
}

const encoder = new TextEncoder();

function bytesOf(body: RawBody): Uint8Array {
  if (typeof body === 'string') return encoder.encode(body);
  return body instanceof Uint8Array ? body : new Uint8Array(body);
}

async function hmacSha256(secret: string, t: string, body: RawBody): Promise<Uint8Array> {
  const crypto = await webCrypto();
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  // Signed over the exact bytes received: `<t>.` followed by the raw body, never a re-serialisation.
  const prefix = encoder.encode(`${t}.`);
  const raw = bytesOf(body);
  const data = new Uint8Array(prefix.length + raw.length);
  data.set(prefix, 0);
  data.set(raw, prefix.length);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, data));
}

function fromHex(hex: string): Uint8Array | null {
  if (hex.length !== 64 || !/^[0-9a-fA-F]+$/.test(hex)) return null;
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// Both are 32 bytes here; the loop looks at every byte whatever differs, so timing tells nothing.
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/**
 * Checks an `X-Intaj-Signature` header against the raw request body and the connection's
 * `responderSecret`. Resolves `false` (never throws) when the header or the secret is missing
 * (`undefined`, `null`, `''`) or the header malformed,
 * the signature does not match, or `t` is more than `toleranceSeconds` away from now (older:
 * a replay; newer: a clock that cannot be trusted).
 */
export async function verify(
  rawBody: RawBody,
  signatureHeader: string | null | undefined,
  responderSecret: string | null | undefined,
  toleranceSeconds = 300,
  options: VerifyOptions = {},
): Promise<boolean> {
  // An unset secret (e.g. a missing environment variable) refuses every request: never a
  // throw, and never a signature made with the key "undefined" or "null".
  if (typeof signatureHeader !== 'string' || typeof responderSecret !== 'string') return false;
  if (responderSecret === '') return false;
  let t: string | undefined;
  const signatures: Uint8Array[] = [];
  for (const part of signatureHeader.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === 't') t = value;
    else if (name === 'v1') {
      const bytes = fromHex(value);
      if (bytes !== null) signatures.push(bytes);
    }
  }
  if (t === undefined || !/^\d{1,12}$/.test(t) || signatures.length === 0) return false;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(t)) > toleranceSeconds) return false;
  const expected = await hmacSha256(responderSecret, t, rawBody);
  let ok = false;
  // Every v1 is compared (no early exit), so a header with several cannot time the match.
  for (const given of signatures) ok = constantTimeEqual(given, expected) || ok;
  return ok;
}

/**
 * Makes an `X-Intaj-Signature` value the way the platform does: for tests of a bot backend,
 * or a backend that signs what it forwards further.
 */
export async function sign(
  rawBody: RawBody,
  responderSecret: string,
  timestamp: number = Math.floor(Date.now() / 1000),
): Promise<string> {
  const t = String(Math.floor(timestamp));
  return `t=${t},v1=${toHex(await hmacSha256(responderSecret, t, rawBody))}`;
}

/** `intaj.webhooks`, also usable without a client (`import { webhooks } from 'intaj-sdk'`). */
export const webhooks = { verify, sign, SIGNATURE_HEADER } as const;
export type Webhooks = typeof webhooks;

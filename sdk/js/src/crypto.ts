// WebCrypto from the platform (browsers, Deno, Bun, edge, Node 19+); Node 18 has it only
// as `require('node:crypto').webcrypto`, loaded on demand so other runtimes never see it.

let cached: Promise<Crypto> | undefined;
// A variable, not a literal, so browser bundlers do not try to resolve a Node module.
const NODE_CRYPTO = 'node:crypto';

export function webCrypto(): Promise<Crypto> {
  const global = (globalThis as { crypto?: Crypto }).crypto;
  if (global?.subtle !== undefined) return Promise.resolve(global);
  cached ??= import(NODE_CRYPTO).then((mod: { webcrypto?: Crypto }) => {
    if (mod.webcrypto?.subtle === undefined) throw new Error('no WebCrypto in this runtime');
    return mod.webcrypto;
  });
  return cached;
}

export async function randomUuid(): Promise<string> {
  const crypto = await webCrypto();
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // RFC 4122 version 4 from random bytes, for runtimes without randomUUID.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

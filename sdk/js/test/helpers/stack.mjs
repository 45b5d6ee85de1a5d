// Starts the local stack (`intaj-dev`: every route + the WhatsApp Cloud API simulator) on free
// ports for one test file, or uses a running one when INTAJ_BASE_URL and INTAJ_SIM_URL are set.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

const DEFAULT_BIN = '/tmp/intaj-bin/intaj-dev';
const READY_DEADLINE_MS = 60_000;

/** The API key the stack is started with: the integration guide's placeholder, so its snippet runs as written. */
export const GUIDE_API_KEY = 'your_api_key';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitReady(urls, child, log) {
  const deadline = Date.now() + READY_DEADLINE_MS;
  for (const url of urls) {
    for (;;) {
      if (child && child.exitCode !== null) {
        throw new Error(`intaj-dev exited with ${child.exitCode} before it was ready:\n${log.join('')}`);
      }
      try {
        // Any answer means the server is up (the templates route answers 401 without a key).
        await fetch(url, { signal: AbortSignal.timeout(2_000) });
        break;
      } catch {
        if (Date.now() > deadline) {
          throw new Error(`${url} not ready within ${READY_DEADLINE_MS} ms:\n${log.join('')}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}

/**
 * `{ baseUrl, simUrl, apiKey, adminToken, sim, stop() }`. `stop` ends only the process this call
 * started (by its pid), and waits for it.
 */
export async function startStack(extraEnv = {}) {
  if (process.env.INTAJ_BASE_URL && process.env.INTAJ_SIM_URL) {
    const baseUrl = process.env.INTAJ_BASE_URL.replace(/\/+$/, '');
    const simUrl = process.env.INTAJ_SIM_URL.replace(/\/+$/, '');
    await waitReady([`${simUrl}/_sim/health`, `${baseUrl}/api/whatsapp/templates`], null, []);
    return withSim({
      baseUrl,
      simUrl,
      apiKey: process.env.INTAJ_API_KEY ?? 'dev-api-key',
      adminToken: process.env.INTAJ_ADMIN_TOKEN ?? 'dev-admin-token',
      external: true,
      stop: async () => {},
    });
  }

  const bin = process.env.INTAJ_DEV_BIN ?? DEFAULT_BIN;
  if (!existsSync(bin)) {
    throw new Error(`no local stack binary at ${bin}: build it (cargo build --release -p intaj-dev) or set INTAJ_DEV_BIN`);
  }
  const [port, simPort] = [await freePort(), await freePort()];
  const apiKey = GUIDE_API_KEY;
  const adminToken = 'dev-admin-token';
  const log = [];
  const child = spawn(bin, [], {
    env: {
      ...process.env,
      PORT: String(port),
      SIM_PORT: String(simPort),
      DEV_API_KEY: apiKey,
      DEV_ADMIN_TOKEN: adminToken,
      // The demo bot stays silent: the outbox then holds only what the tests send.
      DEV_RESPONDER: 'none',
      LOG_LEVEL: 'warn',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk) => {
    log.push(chunk.toString());
    if (log.length > 200) log.shift();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', resolve));

  const baseUrl = `http://127.0.0.1:${port}`;
  const simUrl = `http://127.0.0.1:${simPort}`;
  try {
    await waitReady([`${simUrl}/_sim/health`, `${baseUrl}/api/whatsapp/templates`], child, log);
  } catch (error) {
    child.kill('SIGTERM');
    await exited;
    throw error;
  }
  return withSim({
    baseUrl,
    simUrl,
    apiKey,
    adminToken,
    external: false,
    log,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
    },
  });
}

async function json(url, init = {}) {
  const response = await fetch(url, {
    ...init,
    headers: { 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url} → ${response.status} ${text}`);
  return text === '' ? {} : JSON.parse(text);
}

function withSim(stack) {
  const { simUrl } = stack;
  stack.sim = {
    /** A customer writes to the bot: opens their 24-hour window. */
    inbound: (from, text = 'hi', extra = {}) =>
      json(`${simUrl}/_sim/inbound`, {
        method: 'POST',
        body: JSON.stringify({ from, name: 'Test', type: 'text', text, ...extra }),
      }),
    /** What the simulator (Meta) received, oldest first; `to` filters by recipient. */
    outbox: async (to) =>
      (await json(`${simUrl}/_sim/messages${to ? `?to=${encodeURIComponent(to)}` : ''}`)).messages,
    /** Fault injection: `{ failNext: {count, code} }`, `{ fault: {errorRate, delayMs} }`, … (`null` turns off). */
    config: (patch) => json(`${simUrl}/_sim/config`, { method: 'POST', body: JSON.stringify(patch) }),
    /** Teaches the simulator a business number, as Meta knows one. */
    addNumber: (number) => json(`${simUrl}/_sim/numbers`, { method: 'POST', body: JSON.stringify(number) }),
  };
  return stack;
}

/** Waits until `check()` resolves truthy, polling, or fails after `timeoutMs`. */
export async function eventually(check, { timeoutMs = 10_000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * A unique test phone number (`15558` + 6 digits), so tests never share a customer (and never
 * hit the demo bot's own `15550000001`).
 */
let counter = 0;
export function uniquePhone() {
  counter += 1;
  const n = (process.pid * 100 + counter) % 1_000_000;
  return `15558${String(n).padStart(6, '0')}`;
}

/**
 * Ids unique to this run (bot id, phone number id, business account id), so the tests can run
 * again against one long-running stack without meeting their own earlier connections.
 */
export function uniqueConnection(prefix) {
  const tail = `${process.pid % 100_000}${Date.now() % 1_000_000}`.padStart(11, '0').slice(-11);
  return {
    botId: `${prefix}_${tail}`,
    phoneNumberId: `1${tail.padStart(14, '0')}`,
    wabaId: `2${tail.padStart(14, '0')}`,
    displayPhoneNumber: `1556${tail.slice(-7)}`,
  };
}

/** A fetch that records each request's method, path, Idempotency-Key and answer status. */
export function recordingFetch() {
  const calls = [];
  const wrapped = async (input, init = {}) => {
    const headers = new Headers(init.headers);
    const entry = {
      method: init.method ?? 'GET',
      url: String(input),
      idempotencyKey: headers.get('idempotency-key'),
      status: null,
    };
    calls.push(entry);
    const response = await fetch(input, init);
    entry.status = response.status;
    return response;
  };
  return { fetch: wrapped, calls };
}

// The client without a stack: a fake fetch answers what a deployed API Gateway could.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  Intaj,
  IntajConfigError,
  IntajConnectionError,
  IntajError,
  IntajServerError,
  IntajValidationError,
} from 'intaj-sdk';

/** A fetch answering from `responses` in order (each `[status, body, headers]`), recording requests. */
function scripted(responses) {
  const requests = [];
  const fetch = async (url, init) => {
    requests.push({ url, init, at: Date.now() });
    const next = responses.shift();
    if (next instanceof Error) throw next;
    const [status, body, headers = {}] = next;
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    });
  };
  return { fetch, requests };
}

const OK = [200, { messageId: 'wamid.1', status: 'accepted', to: '15551234567' }];
const base = { apiKey: 'k', baseUrl: 'https://api.example.test/prod/' };

describe('configuration', () => {
  test('baseUrl and apiKey default to INTAJ_BASE_URL and INTAJ_API_KEY', async () => {
    const { fetch, requests } = scripted([OK]);
    process.env.INTAJ_BASE_URL = 'https://from-env.example.test';
    process.env.INTAJ_API_KEY = 'env-key';
    try {
      const intaj = new Intaj({ fetch });
      assert.equal(intaj.baseUrl, 'https://from-env.example.test');
      await intaj.whatsapp.send({ to: '15551234567', type: 'text', content: 'x' });
      assert.equal(requests[0].url, 'https://from-env.example.test/api/whatsapp/send');
      assert.equal(new Headers(requests[0].init.headers).get('authorization'), 'Bearer env-key');
    } finally {
      delete process.env.INTAJ_BASE_URL;
      delete process.env.INTAJ_API_KEY;
    }
  });

  test('no baseUrl anywhere is an IntajConfigError at construction', () => {
    const saved = process.env.INTAJ_BASE_URL;
    delete process.env.INTAJ_BASE_URL;
    try {
      assert.throws(() => new Intaj({ apiKey: 'k' }), (e) => e instanceof IntajConfigError && e.code === 'missing_base_url');
    } finally {
      if (saved !== undefined) process.env.INTAJ_BASE_URL = saved;
    }
    assert.throws(() => new Intaj({ apiKey: 'k', baseUrl: 'not a url' }), (e) => e.code === 'invalid_base_url');
    assert.throws(() => new Intaj({ ...base, maxRetries: -1 }), (e) => e.code === 'invalid_option');
  });

  test('a call without its credential fails before any request', async () => {
    const { fetch, requests } = scripted([]);
    const saved = process.env.INTAJ_API_KEY;
    delete process.env.INTAJ_API_KEY;
    try {
      const intaj = new Intaj({ baseUrl: base.baseUrl, fetch });
      await assert.rejects(intaj.whatsapp.getMessage('x'), (e) => e instanceof IntajConfigError && e.code === 'missing_api_key');
    } finally {
      if (saved !== undefined) process.env.INTAJ_API_KEY = saved;
    }
    assert.equal(requests.length, 0);
  });

  test('a base URL with a stage path keeps it; path parts are encoded', async () => {
    const { fetch, requests } = scripted([[200, {}], [200, {}]]);
    const intaj = new Intaj({ ...base, fetch });
    await intaj.whatsapp.getConversation('+1 555/123');
    await intaj.whatsapp.listTemplatesPage({ status: 'APPROVED', limit: 5, name: undefined });
    assert.equal(requests[0].url, 'https://api.example.test/prod/api/whatsapp/conversations/%2B1%20555%2F123');
    assert.equal(requests[1].url, 'https://api.example.test/prod/api/whatsapp/templates?status=APPROVED&limit=5');
  });
});

describe('answers and errors', () => {
  test('requestId comes from the gateway headers; rateLimit from X-RateLimit-*', async () => {
    const { fetch } = scripted([
      [200, OK[1], { 'apigw-requestid': 'abc=', 'x-ratelimit-limit': '80', 'x-ratelimit-remaining': '3', 'x-ratelimit-reset': '1700000000' }],
      [422, { error: { code: 'outside_window', message: 'send a template' } }, { 'x-amzn-requestid': 'req-1' }],
    ]);
    const intaj = new Intaj({ ...base, fetch });
    const ok = await intaj.whatsapp.send({ to: '15551234567', type: 'text', content: 'x' });
    assert.equal(ok.requestId, 'abc=');
    assert.deepEqual(ok.rateLimit, { limit: 80, remaining: 3, reset: 1700000000 });
    await assert.rejects(intaj.whatsapp.send({ to: '15551234567', type: 'text', content: 'x' }), (e) => {
      assert.ok(e instanceof IntajValidationError);
      assert.equal(e.requestId, 'req-1');
      assert.equal(e.message, 'send a template');
      assert.equal(e.rateLimit, null);
      return true;
    });
  });

  test('an answer that is not the API\'s JSON keeps its status and text', async () => {
    const { fetch } = scripted([[502, 'Bad Gateway', { 'content-type': 'text/plain' }]]);
    const intaj = new Intaj({ ...base, fetch });
    await assert.rejects(intaj.whatsapp.getMessage('x'), (e) => {
      assert.ok(e instanceof IntajServerError);
      assert.equal(e.code, 'http_502');
      assert.equal(e.status, 502);
      assert.equal(e.message, 'Bad Gateway');
      return true;
    });
  });

  test('500, 502 and 504 are not retried (only network errors, 429, 503 and an idempotent request still in progress are)', async () => {
    for (const status of [500, 502, 504]) {
      const { fetch, requests } = scripted([[status, { error: { code: 'x', message: 'y' } }], OK]);
      const intaj = new Intaj({ ...base, fetch });
      await assert.rejects(intaj.whatsapp.send({ to: '1', type: 'text', content: 'x' }), IntajServerError);
      assert.equal(requests.length, 1, String(status));
    }
  });
});

describe('retries', () => {
  test('Retry-After as an HTTP date is honoured', async () => {
    const soon = new Date(Date.now() + 1_000).toUTCString();
    const { fetch, requests } = scripted([[503, { error: { code: 'upstream_unavailable', message: 'later' } }, { 'retry-after': soon }], OK]);
    const intaj = new Intaj({ ...base, fetch });
    await intaj.whatsapp.send({ to: '1', type: 'text', content: 'x' });
    assert.equal(requests.length, 2);
  });

  test('409 idempotency_in_progress is waited for and repeated with the same key; other 409s are not', async () => {
    const inProgress = [409, { error: { code: 'idempotency_in_progress', message: 'still running' } }, { 'retry-after': '1' }];
    const { fetch, requests } = scripted([inProgress, OK]);
    const intaj = new Intaj({ ...base, fetch });
    const sent = await intaj.whatsapp.send({ to: '1', type: 'text', content: 'x' });
    assert.equal(sent.messageId, 'wamid.1');
    assert.equal(requests.length, 2);
    assert.ok(requests[1].at - requests[0].at >= 900, 'Retry-After was waited for');
    const keys = new Set(requests.map((r) => new Headers(r.init.headers).get('idempotency-key')));
    assert.equal(keys.size, 1, 'the same Idempotency-Key');

    const conflict = [409, { error: { code: 'phone_number_taken', message: 'taken' } }];
    const other = scripted([conflict, OK]);
    const admin = new Intaj({ ...base, adminToken: 'a', fetch: other.fetch });
    await assert.rejects(
      admin.connections.create({ botId: 'b', businessAccountId: '1', phoneNumberId: '2', accessToken: 't', appSecret: 's' }),
      IntajValidationError,
    );
    assert.equal(other.requests.length, 1);
  });

  test('a Retry-After beyond maxRetryAfterMs is thrown at once', async () => {
    const { fetch, requests } = scripted([[429, { error: { code: 'recipient_rate_limited', message: 'later' } }, { 'retry-after': '120' }], OK]);
    const intaj = new Intaj({ ...base, fetch, maxRetryAfterMs: 10_000 });
    await assert.rejects(intaj.whatsapp.send({ to: '1', type: 'text', content: 'x' }), (e) => e.retryAfter === 120);
    assert.equal(requests.length, 1);
  });

  test('without Retry-After: full-jitter backoff, at most maxRetries retries', async () => {
    const unavailable = [503, { error: { code: 'upstream_unavailable', message: 'x' } }];
    const { fetch, requests } = scripted([unavailable, unavailable, unavailable, unavailable]);
    const intaj = new Intaj({ ...base, fetch, maxRetries: 3, retryBaseMs: 20, retryCapMs: 40 });
    await assert.rejects(intaj.whatsapp.send({ to: '1', type: 'text', content: 'x' }), IntajServerError);
    assert.equal(requests.length, 4);
    for (let i = 1; i < requests.length; i++) {
      assert.ok(requests[i].at - requests[i - 1].at <= 40 + 50, 'each wait is under the cap');
    }
    const keys = new Set(requests.map((r) => new Headers(r.init.headers).get('idempotency-key')));
    assert.equal(keys.size, 1);
  });

  test('creating a connection without a botId is not resent after a network error', async () => {
    const { fetch, requests } = scripted([new TypeError('fetch failed'), [201, {}]]);
    const intaj = new Intaj({ baseUrl: base.baseUrl, adminToken: 'a', fetch, retryBaseMs: 1 });
    await assert.rejects(
      intaj.connections.create({ businessAccountId: '1', phoneNumberId: '2', accessToken: 't', appSecret: 's' }),
      (e) => e instanceof IntajConnectionError && e.code === 'network_error',
    );
    assert.equal(requests.length, 1);
  });

  test('a create whose answer was lost and whose resend found the bot made says so, secrets being shown once', async () => {
    const exists = { botId: 'b', businessAccountId: '1', phoneNumberId: '2', webhookUrl: 'https://x/webhook/whatsapp/b' };
    const { fetch, requests } = scripted([new TypeError('fetch failed'), [200, exists]]);
    const intaj = new Intaj({ baseUrl: base.baseUrl, adminToken: 'a', fetch, retryBaseMs: 1 });
    await assert.rejects(
      intaj.connections.create({ botId: 'b', businessAccountId: '1', phoneNumberId: '2', accessToken: 't', appSecret: 's' }),
      (e) =>
        e instanceof IntajValidationError &&
        e.code === 'connection_exists' &&
        e.message.includes('rotateApiKey: true, rotateResponderSecret: true'),
    );
    assert.equal(requests.length, 2, 'resent once, with its botId');
  });

  test('an update that rotates the responder secret is not resent after a lost answer', async () => {
    const { fetch, requests } = scripted([new TypeError('fetch failed'), [200, {}]]);
    const intaj = new Intaj({ baseUrl: base.baseUrl, adminToken: 'a', fetch, retryBaseMs: 1 });
    await assert.rejects(intaj.connections.update('b', { rotateResponderSecret: true }), IntajConnectionError);
    assert.equal(requests.length, 1);
  });

  test('an abort signal stops the call and its retries', async () => {
    const controller = new AbortController();
    const fetch = (url, init) =>
      new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(init.signal.reason)));
    const intaj = new Intaj({ ...base, fetch });
    const call = intaj.whatsapp.getMessage('x', { signal: controller.signal });
    controller.abort(new Error('stop'));
    await assert.rejects(call, (e) => e.message === 'stop' && !(e instanceof IntajError));
  });
});

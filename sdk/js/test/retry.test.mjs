// Retries and idempotency against the simulator's fault injection.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, afterEach, before, describe, test } from 'node:test';

import {
  Intaj,
  IntajConnectionError,
  IntajRateLimitError,
  IntajServerError,
  IntajValidationError,
} from 'intaj-sdk';
import { eventually, recordingFetch, startStack, uniqueConnection, uniquePhone } from './helpers/stack.mjs';

let stack;

// The API itself tries Meta up to 6 times before it answers 503 upstream_unavailable.
const API_ATTEMPTS_PER_REQUEST = 6;

async function openWindow(phone) {
  await stack.sim.inbound(phone);
  const intaj = new Intaj({ apiKey: stack.apiKey, baseUrl: stack.baseUrl });
  await eventually(async () => (await intaj.whatsapp.getConversation(phone)).windowOpen, { what: 'window open' });
}

describe('retries and idempotency', { timeout: 120_000 }, () => {
  before(async () => {
    stack = await startStack();
  });
  afterEach(async () => {
    await stack.sim.config({ failNext: null, fault: { errorRate: 0, delayMs: 0 } });
  });
  after(async () => {
    await stack?.stop();
  });

  test('503 upstream_unavailable is retried after Retry-After with the same Idempotency-Key; one message is sent', async () => {
    const phone = uniquePhone();
    await openWindow(phone);
    await stack.sim.config({ failNext: { count: API_ATTEMPTS_PER_REQUEST, code: 2 } });
    const recorder = recordingFetch();
    const intaj = new Intaj({ apiKey: stack.apiKey, baseUrl: stack.baseUrl, fetch: recorder.fetch });

    const started = Date.now();
    const result = await intaj.whatsapp.send({ to: phone, type: 'text', content: 'after a retry' });
    const elapsed = Date.now() - started;

    assert.equal(result.status, 'accepted');
    assert.match(result.messageId, /^wamid\./);
    assert.deepEqual(
      recorder.calls.map((c) => c.status),
      [503, 200],
    );
    const [first, second] = recorder.calls;
    assert.ok(first.idempotencyKey, 'an Idempotency-Key was sent');
    assert.match(first.idempotencyKey, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(second.idempotencyKey, first.idempotencyKey, 'the retry reuses the key');
    // The API's Retry-After (5 s here) was waited for, not a short backoff.
    assert.ok(elapsed >= 4_500, `retried after ${elapsed} ms`);

    const sent = await stack.sim.outbox(phone);
    assert.equal(sent.filter((m) => m.request?.type === 'text').length, 1, 'exactly one message reached WhatsApp');
    assert.equal(sent.at(-1).id, result.messageId);
  });

  test('with maxRetries 0 the 503 surfaces as IntajServerError with Retry-After and Meta\'s error', async () => {
    const phone = uniquePhone();
    await openWindow(phone);
    await stack.sim.config({ failNext: { count: API_ATTEMPTS_PER_REQUEST, code: 2 } });
    const recorder = recordingFetch();
    const intaj = new Intaj({ apiKey: stack.apiKey, baseUrl: stack.baseUrl, fetch: recorder.fetch, maxRetries: 0 });

    const error = await intaj.whatsapp.send({ to: phone, type: 'text', content: 'no retry' }).then(
      () => assert.fail('expected a 503'),
      (e) => e,
    );
    assert.ok(error instanceof IntajServerError);
    assert.equal(error.name, 'IntajServerError');
    assert.equal(error.status, 503);
    assert.equal(error.code, 'upstream_unavailable');
    assert.ok(error.retryAfter >= 1);
    assert.equal(error.upstream.code, 2);
    assert.equal(typeof error.upstream.fbtraceId, 'string');
    assert.equal(typeof error.rateLimit.limit, 'number');
    assert.equal(recorder.calls.length, 1);
    assert.equal((await stack.sim.outbox(phone)).filter((m) => m.request?.type === 'text').length, 0);
  });

  test('the caller\'s own Idempotency-Key: a repeat replays the first answer and sends nothing twice', async () => {
    const phone = uniquePhone();
    await openWindow(phone);
    const intaj = new Intaj({ apiKey: stack.apiKey, baseUrl: stack.baseUrl });
    const idempotencyKey = `order-${phone}-shipped`;
    const body = { to: phone, type: 'text', content: 'your order shipped' };

    const first = await intaj.whatsapp.send(body, { idempotencyKey });
    const again = await intaj.whatsapp.send(body, { idempotencyKey });
    assert.equal(first.idempotentReplayed, false);
    assert.equal(again.idempotentReplayed, true);
    assert.equal(again.messageId, first.messageId);
    assert.equal((await stack.sim.outbox(phone)).filter((m) => m.request?.type === 'text').length, 1);

    // The same key with another body is the caller's mistake: 422, not retried.
    await assert.rejects(intaj.whatsapp.send({ ...body, content: 'something else' }, { idempotencyKey }), (e) => {
      assert.ok(e instanceof IntajValidationError);
      assert.equal(e.code, 'idempotency_key_reused');
      return true;
    });
  });

  test('each logical send gets its own key', async () => {
    const phone = uniquePhone();
    await openWindow(phone);
    const recorder = recordingFetch();
    const intaj = new Intaj({ apiKey: stack.apiKey, baseUrl: stack.baseUrl, fetch: recorder.fetch });
    const a = await intaj.whatsapp.send({ to: phone, type: 'text', content: 'same words' });
    const b = await intaj.whatsapp.send({ to: phone, type: 'text', content: 'same words' });
    assert.notEqual(a.messageId, b.messageId);
    assert.notEqual(recorder.calls[0].idempotencyKey, recorder.calls[1].idempotencyKey);
  });

  test('a 422 is never retried', async () => {
    const recorder = recordingFetch();
    const intaj = new Intaj({ apiKey: stack.apiKey, baseUrl: stack.baseUrl, fetch: recorder.fetch, maxRetries: 5 });
    await assert.rejects(intaj.whatsapp.send({ to: 'not a number', type: 'text', content: 'x' }), (e) => {
      assert.ok(e instanceof IntajValidationError);
      assert.equal(e.status, 422);
      assert.equal(e.code, 'invalid_phone_number');
      return true;
    });
    assert.equal(recorder.calls.length, 1);

    // Nor is outside_window: a free-form message to a customer who never wrote.
    const closed = uniquePhone();
    await assert.rejects(intaj.whatsapp.send({ to: closed, type: 'text', content: 'x' }), (e) => {
      assert.equal(e.code, 'outside_window');
      return e instanceof IntajValidationError;
    });
    assert.equal(recorder.calls.length, 2);
  });

  test('429 rate_limited is retried after Retry-After; with maxRetries 0 it is an IntajRateLimitError', async () => {
    // A bot whose key allows 1 request per second.
    const admin = new Intaj({ adminToken: stack.adminToken, baseUrl: stack.baseUrl });
    const ids = uniqueConnection('slow');
    await stack.sim.addNumber({
      phoneNumberId: ids.phoneNumberId,
      wabaId: ids.wabaId,
      accessToken: 'slow-access-token',
      appSecret: 'slow-app-secret',
      displayPhoneNumber: ids.displayPhoneNumber,
      verifiedName: 'Slow',
    });
    const created = await admin.connections.create({
      botId: ids.botId,
      businessAccountId: ids.wabaId,
      phoneNumberId: ids.phoneNumberId,
      accessToken: 'slow-access-token',
      appSecret: 'slow-app-secret',
      rateLimitPerSecond: 1,
    });

    const noRetry = new Intaj({ apiKey: created.apiKey, baseUrl: stack.baseUrl, maxRetries: 0 });
    const phone = uniquePhone();
    let limited;
    // Two reads in the same second: the second is over the limit.
    for (let i = 0; i < 5 && !limited; i++) {
      await noRetry.whatsapp.getConversation(phone).catch((e) => {
        limited = e;
      });
    }
    assert.ok(limited instanceof IntajRateLimitError, String(limited));
    assert.equal(limited.status, 429);
    assert.equal(limited.code, 'rate_limited');
    assert.ok(limited.retryAfter >= 1);
    assert.equal(limited.rateLimit.limit, 1);
    assert.equal(limited.rateLimit.remaining, 0);

    const recorder = recordingFetch();
    const retrying = new Intaj({ apiKey: created.apiKey, baseUrl: stack.baseUrl, fetch: recorder.fetch });
    await retrying.whatsapp.getConversation(phone).catch(() => {});
    const conversation = await retrying.whatsapp.getConversation(phone);
    assert.equal(conversation.phone, phone);
    assert.ok(recorder.calls.some((c) => c.status === 429), 'a 429 was met and retried');
    assert.equal(recorder.calls.at(-1).status, 200);
  });

  test('network errors are retried up to maxRetries, then IntajConnectionError network_error', async () => {
    const server = createServer();
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address();
    await new Promise((r) => server.close(r));
    const recorder = recordingFetch();
    const intaj = new Intaj({
      apiKey: 'k',
      baseUrl: `http://127.0.0.1:${port}`,
      fetch: recorder.fetch,
      maxRetries: 2,
      retryBaseMs: 10,
    });
    await assert.rejects(intaj.whatsapp.getMessage('wamid.x'), (e) => {
      assert.ok(e instanceof IntajConnectionError);
      assert.equal(e.code, 'network_error');
      assert.equal(e.status, null);
      return true;
    });
    assert.equal(recorder.calls.length, 3);
  });

  test('an attempt slower than timeoutMs is IntajConnectionError timeout (and retried)', async () => {
    const server = createServer(() => {
      // Never answers.
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    try {
      const recorder = recordingFetch();
      const intaj = new Intaj({
        apiKey: 'k',
        baseUrl: `http://127.0.0.1:${server.address().port}`,
        fetch: recorder.fetch,
        timeoutMs: 200,
        maxRetries: 1,
        retryBaseMs: 10,
      });
      await assert.rejects(intaj.whatsapp.send({ to: '15551234567', type: 'text', content: 'x' }), (e) => {
        assert.ok(e instanceof IntajConnectionError);
        assert.equal(e.code, 'timeout');
        return true;
      });
      assert.equal(recorder.calls.length, 2);
      assert.equal(recorder.calls[0].idempotencyKey, recorder.calls[1].idempotencyKey);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

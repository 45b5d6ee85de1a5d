// Every operation against the local stack, with its answer types and error classes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  Intaj,
  IntajAuthError,
  IntajConfigError,
  IntajError,
  IntajNotFoundError,
  IntajValidationError,
} from 'intaj-sdk';
import { eventually, startStack, uniqueConnection, uniquePhone } from './helpers/stack.mjs';

let stack;
let intaj;

const REMINDER = {
  name: 'appointment_reminder',
  language: 'en',
  components: [{ type: 'body', parameters: [{ type: 'text', text: 'John' }, { type: 'text', text: '2:30 PM' }] }],
};

async function openWindow(phone) {
  await stack.sim.inbound(phone);
  await eventually(async () => (await intaj.whatsapp.getConversation(phone)).windowOpen, { what: 'window open' });
}

before(async () => {
  stack = await startStack();
  intaj = new Intaj({ apiKey: stack.apiKey, baseUrl: stack.baseUrl });
});
after(async () => {
  await stack?.stop();
});

describe('intaj.whatsapp', { timeout: 60_000 }, () => {

  test('send: the plain answer, with rate-limit fields beside it', async () => {
    const phone = uniquePhone();
    await openWindow(phone);
    const result = await intaj.whatsapp.send({ to: `+${phone}`, type: 'text', content: { body: 'Hi there', previewUrl: false } });
    assert.deepEqual(Object.keys(result).sort(), ['messageId', 'status', 'to']);
    assert.equal(result.status, 'accepted');
    assert.equal(result.to, phone);
    assert.match(result.messageId, /^wamid\./);
    // Non-enumerable, so the object serialises to exactly the API's answer.
    assert.deepEqual(JSON.parse(JSON.stringify(result)), {
      messageId: result.messageId,
      status: 'accepted',
      to: phone,
    });
    assert.equal(result.rateLimit.limit, 80);
    assert.ok(result.rateLimit.remaining >= 0 && result.rateLimit.remaining < 80);
    assert.ok(Math.abs(result.rateLimit.reset - Date.now() / 1000) < 120);
    assert.equal(result.idempotentReplayed, false);
    assert.equal(result.httpStatus, 200);
    assert.equal(result.requestId, null, 'the local stack sends no gateway request id');
  });

  test('getMessage: the outbound message and its statuses', async () => {
    const phone = uniquePhone();
    await openWindow(phone);
    const { messageId } = await intaj.whatsapp.send({ to: phone, type: 'text', content: 'track me' });
    const message = await eventually(
      async () => {
        const m = await intaj.whatsapp.getMessage(messageId);
        return m.status === 'read' ? m : null;
      },
      { what: 'read status' },
    );
    assert.equal(message.messageId, messageId);
    assert.equal(message.direction, 'outbound');
    assert.equal(message.to, phone);
    assert.equal(message.type, 'text');
    assert.deepEqual(
      message.statuses.map((s) => s.status),
      ['accepted', 'sent', 'delivered', 'read'].filter((s) => message.statuses.some((x) => x.status === s)),
    );
    assert.equal(typeof message.createdAt, 'number');
    assert.equal(typeof message.rateLimit.remaining, 'number');
  });

  test('getMessage of an unknown id: IntajNotFoundError message_not_found (an IntajValidationError)', async () => {
    await assert.rejects(intaj.whatsapp.getMessage('wamid.unknown'), (e) => {
      assert.ok(e instanceof IntajNotFoundError);
      assert.ok(e instanceof IntajValidationError);
      assert.ok(e instanceof IntajError);
      assert.equal(e.status, 404);
      assert.equal(e.code, 'message_not_found');
      assert.equal(typeof e.message, 'string');
      assert.equal(e.upstream, undefined);
      assert.equal(e.requestId, null);
      return true;
    });
  });

  test('getConversation and setResponder', async () => {
    const phone = uniquePhone();
    const closed = await intaj.whatsapp.getConversation(phone);
    assert.equal(closed.windowOpen, false);
    assert.equal(closed.windowExpiresAt, null);
    await openWindow(phone);
    const open = await intaj.whatsapp.getConversation(phone);
    assert.equal(open.phone, phone);
    assert.ok(open.windowExpiresAt > Date.now() / 1000);
    assert.equal(typeof open.lastInboundAt, 'number');

    const until = Math.floor(Date.now() / 1000) + 3600;
    const paused = await intaj.whatsapp.setResponder(phone, { paused: true, until });
    assert.equal(paused.responderPaused, true);
    assert.equal(paused.responderPausedUntil, until);
    const resumed = await intaj.whatsapp.setResponder(phone, { paused: false });
    assert.equal(resumed.responderPaused, false);

    await assert.rejects(intaj.whatsapp.setResponder(phone, { paused: true, until: 1 }), (e) => {
      assert.ok(e instanceof IntajValidationError);
      assert.equal(e.status, 422);
      assert.equal(e.code, 'invalid_until');
      return true;
    });
  });

  test('sendTemplate: type "template", no window needed', async () => {
    const phone = uniquePhone();
    const result = await intaj.whatsapp.sendTemplate({ to: phone, template: REMINDER });
    assert.equal(result.status, 'accepted');
    const [sent] = await stack.sim.outbox(phone);
    assert.equal(sent.request.type, 'template');
    assert.equal(sent.request.template.name, 'appointment_reminder');

    await assert.rejects(
      intaj.whatsapp.sendTemplate({ to: phone, template: { ...REMINDER, components: [] } }),
      (e) => e instanceof IntajValidationError && e.code === 'template_parameter_mismatch',
    );
  });

  test('listTemplates: an async iterator over pages, following nextCursor', async () => {
    const all = await intaj.whatsapp.listTemplatesPage({ limit: 1000 });
    assert.equal(all.nextCursor, undefined);
    assert.ok(all.templates.length > 5, `the demo set has ${all.templates.length} templates`);

    const pages = [];
    for await (const page of intaj.whatsapp.listTemplates({ limit: 3 })) {
      assert.ok(page.templates.length <= 3);
      assert.equal(typeof page.rateLimit.limit, 'number');
      pages.push(page);
    }
    assert.equal(pages.length, Math.ceil(all.templates.length / 3));
    assert.deepEqual(
      pages.flatMap((p) => p.templates.map((t) => `${t.name}/${t.language}`)),
      all.templates.map((t) => `${t.name}/${t.language}`),
    );
    assert.equal(pages.at(-1).nextCursor, undefined);

    const approved = [];
    for await (const page of intaj.whatsapp.listTemplates({ status: 'approved', limit: 2 })) approved.push(...page.templates);
    assert.ok(approved.length > 0);
    assert.ok(approved.every((t) => t.status === 'APPROVED'));
    const reminder = approved.find((t) => t.name === 'appointment_reminder');
    assert.deepEqual(reminder.parameters.body, { format: 'positional', count: 2 });

    // Breaking out early fetches no further page.
    let fetched = 0;
    for await (const page of intaj.whatsapp.listTemplates({ limit: 1 })) {
      fetched += page.templates.length;
      break;
    }
    assert.equal(fetched, 1);

    await assert.rejects(
      intaj.whatsapp.listTemplatesPage({ limit: 0 }),
      (e) => e instanceof IntajValidationError && e.status === 400 && e.code === 'invalid_limit',
    );
  });

  test('getMedia: a customer\'s image, read back by its url; an unknown id is media_not_found', async () => {
    // The file as WhatsApp keeps it (uploaded with the demo number's token), then sent by a customer.
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 7) % 256);
    const form = new FormData();
    form.append('messaging_product', 'whatsapp');
    form.append('type', 'image/jpeg');
    form.append('file', new Blob([bytes], { type: 'image/jpeg' }), 'photo.jpg');
    const uploaded = await fetch(`${stack.simUrl}/v25.0/100000000000001/media`, {
      method: 'POST',
      headers: { authorization: 'Bearer dev-access-token' },
      body: form,
    });
    assert.equal(uploaded.status, 200);
    const { id } = await uploaded.json();
    await stack.sim.inbound(uniquePhone(), undefined, { type: 'image', text: undefined, image: { id } });
    const media = await eventually(() => intaj.whatsapp.getMedia(id), { what: 'inbound image stored' });
    assert.deepEqual(Object.keys(media).sort(), ['expiresAt', 'mediaId', 'mimeType', 'sha256', 'size', 'url']);
    assert.equal(media.mediaId, id);
    assert.equal(media.mimeType, 'image/jpeg');
    assert.equal(media.size, bytes.length);
    assert.match(media.sha256, /^[0-9a-f]{64}$/);
    const file = new Uint8Array(await (await fetch(media.url)).arrayBuffer());
    assert.deepEqual(file, bytes);

    await assert.rejects(intaj.whatsapp.getMedia('424242'), (e) => {
      assert.ok(e instanceof IntajNotFoundError);
      assert.equal(e.status, 404);
      assert.equal(e.code, 'media_not_found');
      return true;
    });
  });

  test('uploadMedia: a 6 MB PDF through its upload URL, a small PNG as the body; both reach WhatsApp', async () => {
    const sim = async (mediaId) => {
      const answer = await fetch(`${stack.simUrl}/v25.0/${mediaId}`, {
        headers: { authorization: 'Bearer dev-access-token' },
      });
      assert.equal(answer.status, 200);
      return answer.json();
    };
    const sha256 = async (bytes) =>
      Buffer.from(await crypto.subtle.digest('SHA-256', bytes)).toString('hex');

    const pdf = new Uint8Array(6 * 1024 * 1024).map((_, i) => 32 + (i % 90));
    pdf.set(new TextEncoder().encode('%PDF-1.7\n'));
    const sent = await intaj.whatsapp.uploadMedia(pdf, { mimeType: 'application/pdf', filename: 'Invoice 42.pdf' });
    assert.equal(sent.httpStatus, 201);
    assert.deepEqual(
      { mimeType: sent.mimeType, kind: sent.kind, size: sent.size },
      { mimeType: 'application/pdf', kind: 'document', size: pdf.length },
    );
    const kept = await sim(sent.mediaId);
    assert.equal(kept.sha256, await sha256(pdf));

    const png = new Uint8Array(2048).map((_, i) => i % 256);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const image = await intaj.whatsapp.uploadMedia(new Blob([png]), { mimeType: 'image/png' });
    assert.equal(image.kind, 'image');
    assert.equal((await sim(image.mediaId)).sha256, await sha256(png));

    // Declared a PDF, the bytes are a PNG: refused before WhatsApp sees it.
    await assert.rejects(intaj.whatsapp.uploadMedia(png, { mimeType: 'application/pdf' }), (e) => {
      assert.ok(e instanceof IntajError);
      assert.equal(e.status, 415);
      assert.equal(e.code, 'unsupported_media_type');
      return true;
    });
    await assert.rejects(
      intaj.whatsapp.createMediaUpload({ mimeType: 'image/jpeg', size: 5 * 1024 * 1024 + 1 }),
      (e) => e.status === 413 && e.code === 'media_too_large',
    );
  });

  test('syncTemplates', async () => {
    const result = await intaj.whatsapp.syncTemplates();
    for (const field of ['fetched', 'added', 'updated', 'removed', 'unchanged', 'syncedAt']) {
      assert.equal(typeof result[field], 'number', field);
    }
    assert.ok(result.fetched > 0);
  });

  test('markRead (POST /messages/{id}/read, SPEC §2)', async (t) => {
    const phone = uniquePhone();
    const { messageId } = await stack.sim.inbound(phone, 'read me');
    await eventually(async () => (await intaj.whatsapp.getMessage(messageId)).direction === 'inbound', {
      what: 'inbound message stored',
    });
    let result;
    try {
      result = await intaj.whatsapp.markRead(messageId, { typing: true });
    } catch (e) {
      if (e instanceof IntajNotFoundError && e.code === 'not_found') {
        t.skip('this stack has no POST /api/whatsapp/messages/{id}/read route yet (404 not_found)');
        return;
      }
      throw e;
    }
    assert.equal(result.httpStatus, 200);
    await assert.rejects(intaj.whatsapp.markRead('wamid.unknown'), IntajNotFoundError);
  });

  test('a wrong API key: IntajAuthError 401 unauthorized, no rate limit to report', async () => {
    const wrong = new Intaj({ apiKey: 'not-a-key', baseUrl: stack.baseUrl });
    await assert.rejects(wrong.whatsapp.getConversation('15551234567'), (e) => {
      assert.ok(e instanceof IntajAuthError);
      assert.equal(e.name, 'IntajAuthError');
      assert.equal(e.status, 401);
      assert.equal(e.code, 'unauthorized');
      assert.equal(e.rateLimit, null);
      return true;
    });
  });
});

describe('intaj.connections (admin token)', { timeout: 60_000 }, () => {
  let admin;
  before(() => {
    admin = new Intaj({ adminToken: stack.adminToken, baseUrl: stack.baseUrl });
  });

  test('create, get, list, update, delete', async () => {
    const ids = uniqueConnection('shop');
    const botId = ids.botId;
    const number = {
      phoneNumberId: ids.phoneNumberId,
      wabaId: ids.wabaId,
      accessToken: 'shop-access-token',
      appSecret: 'shop-app-secret',
      displayPhoneNumber: ids.displayPhoneNumber,
      verifiedName: 'Shop',
    };
    await stack.sim.addNumber(number);
    const created = await admin.connections.create({
      botId,
      businessAccountId: number.wabaId,
      phoneNumberId: number.phoneNumberId,
      accessToken: number.accessToken,
      appSecret: number.appSecret,
    });
    assert.equal(created.botId, botId);
    assert.equal(created.httpStatus, 201);
    assert.match(created.apiKey, /^intaj_/);
    assert.match(created.responderSecret, /^intaj_rs_/);
    assert.equal(created.verifiedName, 'Shop');
    assert.ok(created.webhookUrl.endsWith(`/webhook/whatsapp/${botId}`));

    // The new key works with the same client class.
    const shop = new Intaj({ apiKey: created.apiKey, baseUrl: stack.baseUrl });
    assert.equal((await shop.whatsapp.getConversation('15551234567')).phone, '15551234567');

    const got = await admin.connections.get(botId);
    assert.equal(got.phoneNumberId, number.phoneNumberId);
    assert.equal(got.apiKey, undefined, 'no secret in a read');

    const list = await admin.connections.list({ limit: 100 });
    assert.ok(list.connections.some((c) => c.botId === botId));
    assert.ok(list.connections.some((c) => c.botId === 'demo'));

    const updated = await admin.connections.update(botId, {
      rateLimitPerSecond: 5,
      responder: { kind: 'forward', url: 'http://127.0.0.1:9/intaj' },
    });
    assert.equal(updated.rateLimitPerSecond, 5);
    assert.equal(updated.responderKind, 'forward');
    assert.equal(updated.apiKey, undefined);

    const rotated = await admin.connections.update(botId, { rotateApiKey: true });
    assert.match(rotated.apiKey, /^intaj_/);
    assert.notEqual(rotated.apiKey, created.apiKey);
    await assert.rejects(shop.whatsapp.getConversation('15551234567'), IntajAuthError);

    const deleted = await admin.connections.delete(botId);
    assert.deepEqual({ botId: deleted.botId, deleted: deleted.deleted }, { botId, deleted: true });
    await assert.rejects(admin.connections.get(botId), (e) => e instanceof IntajNotFoundError && e.code === 'unknown_bot');
  });

  test('a bad field is an IntajValidationError naming it', async () => {
    await assert.rejects(
      admin.connections.create({ businessAccountId: 'x', phoneNumberId: '1', accessToken: 't', appSecret: 's' }),
      (e) => e instanceof IntajValidationError && e.status === 422 && e.code.startsWith('invalid_'),
    );
  });

  test('an API key is not an admin token; no token at all never leaves the client', async () => {
    const withKey = new Intaj({ adminToken: stack.apiKey, baseUrl: stack.baseUrl });
    await assert.rejects(withKey.connections.list(), (e) => e instanceof IntajAuthError && e.status === 401);

    const saved = process.env.INTAJ_ADMIN_TOKEN;
    delete process.env.INTAJ_ADMIN_TOKEN;
    try {
      const none = new Intaj({ apiKey: stack.apiKey, baseUrl: stack.baseUrl });
      await assert.rejects(none.connections.list(), (e) => {
        assert.ok(e instanceof IntajConfigError);
        assert.equal(e.code, 'missing_admin_token');
        assert.equal(e.status, null);
        return true;
      });
    } finally {
      if (saved !== undefined) process.env.INTAJ_ADMIN_TOKEN = saved;
    }
  });
});

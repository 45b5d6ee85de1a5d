// webhooks.verify: valid, tampered, stale; against node:crypto's HMAC and a real forward.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';

import { Intaj, SIGNATURE_HEADER, signWebhook, verifyWebhook, webhooks } from 'intaj-sdk';
import { eventually, startStack, uniqueConnection, uniquePhone } from './helpers/stack.mjs';

const SECRET = 'intaj_rs_test_secret';
const BODY = '{"messageId":"wamid.1","botId":"demo","text":"caf\\u00e9 ✓"}';

function header(body, t, secret = SECRET) {
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

const now = () => Math.floor(Date.now() / 1000);

describe('webhooks.verify', () => {
  test('a valid signature (made with node:crypto, as the README shows) verifies', async () => {
    assert.equal(await webhooks.verify(BODY, header(BODY, now()), SECRET), true);
    // The same from the client and as bare functions.
    const intaj = new Intaj({ baseUrl: 'http://127.0.0.1:1' });
    assert.equal(await intaj.webhooks.verify(BODY, header(BODY, now()), SECRET), true);
    assert.equal(await verifyWebhook(BODY, header(BODY, now()), SECRET), true);
    assert.equal(SIGNATURE_HEADER, 'X-Intaj-Signature');
  });

  test('raw bytes verify like the string they encode', async () => {
    const t = now();
    const bytes = new TextEncoder().encode(BODY);
    assert.equal(await webhooks.verify(bytes, header(BODY, t), SECRET), true);
    assert.equal(await webhooks.verify(bytes.buffer, header(BODY, t), SECRET), true);
    assert.equal(await webhooks.verify(Buffer.from(BODY), header(BODY, t), SECRET), true);
  });

  test('sign makes what verify accepts, and matches node:crypto', async () => {
    const t = now();
    assert.equal(await signWebhook(BODY, SECRET, t), header(BODY, t));
    assert.equal(await webhooks.verify(BODY, await webhooks.sign(BODY, SECRET), SECRET), true);
  });

  test('tampered: body, signature, timestamp or secret', async () => {
    const t = now();
    const good = header(BODY, t);
    assert.equal(await webhooks.verify(BODY.replace('demo', 'dem0'), good, SECRET), false);
    assert.equal(await webhooks.verify(`${BODY} `, good, SECRET), false, 'a re-serialised body fails');
    const flipped = good.slice(0, -1) + (good.endsWith('0') ? '1' : '0');
    assert.equal(await webhooks.verify(BODY, flipped, SECRET), false);
    assert.equal(await webhooks.verify(BODY, good.replace(`t=${t}`, `t=${t - 1}`), SECRET), false);
    assert.equal(await webhooks.verify(BODY, good, 'another_secret'), false);
  });

  test('stale (older than the tolerance) or too far in the future is refused', async () => {
    const old = now() - 301;
    assert.equal(await webhooks.verify(BODY, header(BODY, old), SECRET), false);
    assert.equal(await webhooks.verify(BODY, header(BODY, old), SECRET, 600), true, 'a wider tolerance accepts it');
    assert.equal(await webhooks.verify(BODY, header(BODY, now() - 299), SECRET), true);
    assert.equal(await webhooks.verify(BODY, header(BODY, now() + 3600), SECRET), false);
    // A fixed clock for replayed fixtures.
    assert.equal(await webhooks.verify(BODY, header(BODY, 1_700_000_000), SECRET, 300, { now: 1_700_000_100 }), true);
  });

  test('missing or malformed headers are false, never a throw', async () => {
    const t = now();
    for (const bad of [
      undefined,
      null,
      '',
      'garbage',
      `t=${t}`,
      `v1=${'a'.repeat(64)}`,
      `t=${t},v1=zz`,
      `t=${t},v1=${'a'.repeat(63)}`,
      `t=abc,v1=${'a'.repeat(64)}`,
      `t=-5,v1=${'a'.repeat(64)}`,
    ]) {
      assert.equal(await webhooks.verify(BODY, bad, SECRET), false, String(bad));
    }
    assert.equal(await webhooks.verify(BODY, header(BODY, t, ''), ''), false, 'an empty secret never verifies');
    // An unset environment variable: every request refused, nothing thrown, and a signature
    // made with the key "undefined" or "null" is no signature.
    for (const unset of [undefined, null]) {
      const forged = header(BODY, t, String(unset));
      assert.equal(await webhooks.verify(BODY, forged, unset), false, String(unset));
    }
  });

  test('one of several v1 values may match (a secret being rotated)', async () => {
    const t = now();
    const other = header(BODY, t, 'old_secret').split(',')[1];
    assert.equal(await webhooks.verify(BODY, `${header(BODY, t)},${other}`, SECRET), true);
    assert.equal(await webhooks.verify(BODY, `t=${t},${other}`, SECRET), false);
  });
});

describe('webhooks.verify on a real forward from the stack', { timeout: 60_000 }, () => {
  let stack;
  let bot;
  const received = [];

  before(async () => {
    stack = await startStack();
    bot = createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(204).end();
      });
    });
    await new Promise((r) => bot.listen(0, '127.0.0.1', r));
  });
  after(async () => {
    await new Promise((r) => bot.close(r));
    await stack?.stop();
  });

  test('the bot backend verifies the forwarded message with its responderSecret', async () => {
    const admin = new Intaj({ adminToken: stack.adminToken, baseUrl: stack.baseUrl });
    const ids = uniqueConnection('echo');
    const number = {
      phoneNumberId: ids.phoneNumberId,
      wabaId: ids.wabaId,
      accessToken: 'echo-access-token',
      appSecret: 'echo-app-secret',
      displayPhoneNumber: ids.displayPhoneNumber,
      verifiedName: 'Echo',
      webhookUrl: `${stack.baseUrl}/webhook/whatsapp/${ids.botId}`,
    };
    await stack.sim.addNumber(number);
    const created = await admin.connections.create({
      botId: ids.botId,
      businessAccountId: number.wabaId,
      phoneNumberId: number.phoneNumberId,
      accessToken: number.accessToken,
      appSecret: number.appSecret,
      responder: { kind: 'forward', url: `http://127.0.0.1:${bot.address().port}/intaj` },
    });
    await stack.sim.inbound(uniquePhone(), 'hi there', { phoneNumberId: number.phoneNumberId });
    const [forward] = await eventually(() => (received.length > 0 ? received : null), { what: 'a forward' });

    const signature = forward.headers['x-intaj-signature'];
    assert.match(signature, /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.equal(await webhooks.verify(forward.body, signature, created.responderSecret), true);
    assert.equal(await webhooks.verify(forward.body.toString('utf8'), signature, created.responderSecret), true);
    assert.equal(JSON.parse(forward.body).text, 'hi there');
    assert.equal(await webhooks.verify(forward.body, signature, 'intaj_rs_wrong'), false);
  });
});

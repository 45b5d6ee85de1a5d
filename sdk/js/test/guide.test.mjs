// The integration guide's three snippets, verbatim (test/guide/guide.mjs), run against the local
// stack started with DEV_API_KEY=your_api_key and INTAJ_BASE_URL, so the constructor line works
// as written. Their placeholder numbers get the API's 422 invalid_phone_number; a copy with a real
// number (its window opened first) sends all three.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { GUIDE_API_KEY, eventually, startStack } from './helpers/stack.mjs';

const run = promisify(execFile);
const GUIDE = fileURLToPath(new URL('./guide/guide.mjs', import.meta.url));
const RUNNER = fileURLToPath(new URL('./guide/run.mjs', import.meta.url));
// Inside the package, so `import 'intaj-sdk'` resolves by the package's self-reference.
const TMP = fileURLToPath(new URL(`./.tmp/guide-${process.pid}/`, import.meta.url));

const GUIDE_TEXT = `import { Intaj } from 'intaj-sdk';
const intaj = new Intaj({ apiKey: 'your_api_key' });
await intaj.whatsapp.send({ to: 'recipient_phone_number', type: 'text', content: 'Hello from Intaj!' });
await intaj.whatsapp.send({ to: 'phone_number', type: 'image', content: { url: 'https://example.com/image.jpg', caption: 'Check this out!' } });
await intaj.whatsapp.sendTemplate({ to: 'recipient_phone_number', template: { name: 'appointment_reminder',
  language: 'en', components: [{ type: 'body', parameters: [{ type: 'text', text: 'John' }, { type: 'text', text: '2:30 PM' }] }] } });
`;

let stack;

async function runSnippet(file) {
  const { stdout } = await run(process.execPath, [RUNNER, file], {
    env: { ...process.env, INTAJ_BASE_URL: stack.baseUrl },
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop());
}

function writeSnippet(name, text) {
  const file = `${TMP}${name}`;
  writeFileSync(file, text);
  return file;
}

describe('the integration guide, verbatim', { timeout: 120_000 }, () => {
  before(async () => {
    stack = await startStack();
    mkdirSync(TMP, { recursive: true });
  });
  after(async () => {
    rmSync(TMP, { recursive: true, force: true });
    await stack?.stop();
  });

  test('test/guide/guide.mjs is the guide text, byte for byte', () => {
    assert.equal(readFileSync(GUIDE, 'utf8'), GUIDE_TEXT);
  });

  test('as written: the placeholder number is refused with 422 invalid_phone_number', async (t) => {
    if (stack.apiKey !== GUIDE_API_KEY) t.skip(`the running stack's key is not ${GUIDE_API_KEY}`);
    const before = (await stack.sim.outbox()).length;
    const outcome = await runSnippet(GUIDE);
    assert.equal(outcome.ok, false);
    assert.equal(outcome.name, 'IntajValidationError');
    assert.equal(outcome.isValidationError, true);
    assert.equal(outcome.code, 'invalid_phone_number');
    assert.equal(outcome.status, 422);
    assert.equal((await stack.sim.outbox()).length, before, 'nothing reached WhatsApp');
  });

  // The file stops at its first call; each call is also run on its own (the guide's import and
  // constructor lines, then that call's lines exactly as written).
  const lines = GUIDE_TEXT.split('\n');
  const head = lines.slice(0, 2).join('\n');
  const calls = {
    text: lines.slice(2, 3).join('\n'),
    image: lines.slice(3, 4).join('\n'),
    template: lines.slice(4, 6).join('\n'),
  };
  for (const [kind, call] of Object.entries(calls)) {
    test(`as written, the ${kind} call alone: 422 invalid_phone_number`, async (t) => {
      if (stack.apiKey !== GUIDE_API_KEY) t.skip(`the running stack's key is not ${GUIDE_API_KEY}`);
      const outcome = await runSnippet(writeSnippet(`${kind}.mjs`, `${head}\n${call}\n`));
      assert.equal(outcome.isValidationError, true, JSON.stringify(outcome));
      assert.equal(outcome.code, 'invalid_phone_number');
      assert.equal(outcome.status, 422);
    });
  }

  test('with a real number whose window is open, all three calls reach WhatsApp', async (t) => {
    if (stack.apiKey !== GUIDE_API_KEY) t.skip(`the running stack's key is not ${GUIDE_API_KEY}`);
    const phone = '15551234567';
    await stack.sim.inbound(phone, 'Hello!');
    // The window opens once the simulator's webhook is stored.
    await eventually(
      async () => {
        const res = await fetch(`${stack.baseUrl}/api/whatsapp/conversations/${phone}`, {
          headers: { authorization: `Bearer ${stack.apiKey}` },
        });
        return (await res.json()).windowOpen === true;
      },
      { what: 'window open' },
    );
    const seen = (await stack.sim.outbox(phone)).length;
    const real = GUIDE_TEXT.replaceAll("'recipient_phone_number'", `'${phone}'`).replaceAll(
      "'phone_number'",
      `'${phone}'`,
    );
    assert.equal((real.match(/15551234567/g) ?? []).length, 3);
    const outcome = await runSnippet(writeSnippet('real.mjs', real));
    assert.deepEqual(outcome, { ok: true });

    const sent = (await stack.sim.outbox(phone)).slice(seen);
    assert.equal(sent.length, 3);
    const [text, image, template] = sent.map((m) => m.request);
    assert.equal(text.type, 'text');
    assert.equal(text.text.body, 'Hello from Intaj!');
    assert.equal(image.type, 'image');
    assert.equal(image.image.link, 'https://example.com/image.jpg');
    assert.equal(image.image.caption, 'Check this out!');
    assert.equal(template.type, 'template');
    assert.equal(template.template.name, 'appointment_reminder');
    assert.deepEqual(
      template.template.components[0].parameters.map((p) => p.text),
      ['John', '2:30 PM'],
    );
  });
});

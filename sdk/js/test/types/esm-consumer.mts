// Type-checked by test/types.test.mjs: what a TypeScript user writes compiles, mistakes do not.
import {
  Intaj,
  IntajError,
  IntajRateLimitError,
  type Conversation,
  type RateLimit,
  type SendResult,
  type Template,
} from 'intaj-sdk';

const intaj = new Intaj({ apiKey: 'your_api_key' });
await intaj.whatsapp.send({ to: 'recipient_phone_number', type: 'text', content: 'Hello from Intaj!' });
await intaj.whatsapp.send({ to: 'phone_number', type: 'image', content: { url: 'https://example.com/image.jpg', caption: 'Check this out!' } });
await intaj.whatsapp.sendTemplate({ to: 'recipient_phone_number', template: { name: 'appointment_reminder',
  language: 'en', components: [{ type: 'body', parameters: [{ type: 'text', text: 'John' }, { type: 'text', text: '2:30 PM' }] }] } });

const sent = await intaj.whatsapp.send({ to: '15551234567', type: 'text', content: 'x' }, { idempotencyKey: 'order-1' });
const plain: SendResult = sent;
const limit: RateLimit | null = sent.rateLimit;
const replayed: boolean = sent.idempotentReplayed;
void plain, limit, replayed;

const conversation: Conversation = await intaj.whatsapp.setResponder('15551234567', { paused: true, until: 1 });
void conversation;

const all: Template[] = [];
for await (const page of intaj.whatsapp.listTemplates({ status: 'APPROVED', limit: 50 })) all.push(...page.templates);

try {
  await intaj.whatsapp.markRead('wamid.x', { typing: true });
} catch (e) {
  if (e instanceof IntajRateLimitError) {
    const seconds: number | null = e.retryAfter;
    void seconds;
  } else if (e instanceof IntajError) {
    const code: string = e.code;
    const status: number | null = e.status;
    void code, status;
  }
}

const ok: boolean = await intaj.webhooks.verify('{}', 't=1,v1=00', 'secret');
void ok;

// @ts-expect-error an image needs a url or an id
await intaj.whatsapp.send({ to: '1', type: 'image', content: { caption: 'no media' } });
// @ts-expect-error unknown type
await intaj.whatsapp.send({ to: '1', type: 'fax', content: 'x' });
// @ts-expect-error a template send needs its template
await intaj.whatsapp.sendTemplate({ to: '1' });

// Options accept `undefined` (e.g. an unset environment variable) even with exactOptionalPropertyTypes.
declare const fromEnv: string | undefined;
new Intaj({ apiKey: fromEnv, baseUrl: fromEnv, adminToken: fromEnv, timeoutMs: undefined });
await intaj.whatsapp.send({ to: '1', type: 'text', content: 'x' }, { idempotencyKey: fromEnv });

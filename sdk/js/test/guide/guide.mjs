import { Intaj } from 'intaj-sdk';
const intaj = new Intaj({ apiKey: 'your_api_key' });
await intaj.whatsapp.send({ to: 'recipient_phone_number', type: 'text', content: 'Hello from Intaj!' });
await intaj.whatsapp.send({ to: 'phone_number', type: 'image', content: { url: 'https://example.com/image.jpg', caption: 'Check this out!' } });
await intaj.whatsapp.sendTemplate({ to: 'recipient_phone_number', template: { name: 'appointment_reminder',
  language: 'en', components: [{ type: 'body', parameters: [{ type: 'text', text: 'John' }, { type: 'text', text: '2:30 PM' }] }] } });

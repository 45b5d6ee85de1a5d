// The `require` condition's declarations (dist/cjs) type-check too.
import sdk = require('intaj-sdk');

const intaj = new sdk.Intaj({ apiKey: 'k', baseUrl: 'http://127.0.0.1:3000' });
export const sending: Promise<sdk.SendResult & sdk.ResponseMeta> = intaj.whatsapp.send({ to: '1', type: 'text', content: 'x' });
export const listing: Promise<sdk.ConnectionPage> = intaj.connections.list({ limit: 10 });

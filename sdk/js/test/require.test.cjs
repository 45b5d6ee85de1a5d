// The CommonJS entry: require('intaj-sdk') gives the same API as the ESM one.
const assert = require('node:assert/strict');
const { test } = require('node:test');

test('require("intaj-sdk") loads the CommonJS build', async () => {
  const sdk = require('intaj-sdk');
  assert.ok(require.resolve('intaj-sdk').endsWith('/dist/cjs/index.js'));
  for (const name of ['Intaj', 'IntajError', 'IntajAuthError', 'IntajValidationError', 'IntajNotFoundError',
    'IntajRateLimitError', 'IntajServerError', 'IntajConnectionError', 'IntajConfigError']) {
    assert.equal(typeof sdk[name], 'function', name);
  }
  const intaj = new sdk.Intaj({ apiKey: 'k', baseUrl: 'http://127.0.0.1:1' });
  const header = await intaj.webhooks.sign('{}', 'secret', 1700000000);
  assert.equal(await sdk.webhooks.verify('{}', header, 'secret', 300, { now: 1700000000 }), true);
  assert.ok(new sdk.IntajRateLimitError({ code: 'rate_limited', message: 'm', status: 429 }) instanceof sdk.IntajError);
});

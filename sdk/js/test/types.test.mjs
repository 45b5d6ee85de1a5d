// The published declarations, from both entry points, checked with tsc as a user's project would.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

test('a TypeScript project using intaj-sdk (import and require) type-checks', { timeout: 120_000 }, async () => {
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  const project = fileURLToPath(new URL('./types/tsconfig.json', import.meta.url));
  const { stdout } = await run(process.execPath, [tsc, '-p', project]).catch((e) => {
    assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`);
  });
  assert.equal(stdout, '');
});

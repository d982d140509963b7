import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { clientRequests, notifications, requests } from './methods';

// The hash helper is shared with `npm run protocol:hash`.
const load = () => import('../scripts/protocolHash.mjs');

test('protocol/README.md was updated with the protocol (hash matches)', async () => {
  const { protocolHash, recordedHash } = await load();
  assert.equal(
    recordedHash(),
    protocolHash(),
    'protocol/*.ts changed but protocol/README.md did not: update the tables, then run `npm run protocol:hash`',
  );
});

test('every method in methods.ts is in the README table', () => {
  const readme = readFileSync(path.join(__dirname, 'README.md'), 'utf8');
  for (const m of [...requests, ...clientRequests, ...notifications])
    assert.ok(readme.includes(`| \`${m.method}\` |`), `${m.method} is missing from protocol/README.md`);
});

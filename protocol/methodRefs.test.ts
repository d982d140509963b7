import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as refs from './methodRefs';
import { clientRequests, notifications, requests } from './methods';

// Issue 13: the extension takes method names from methodRefs.ts (no zod); they must be the protocol's.
test('methodRefs.ts is what `npm run protocol:refs` renders from the protocol', async () => {
  const { refsPath, renderMethodRefs } = await import('../scripts/protocolRefs.mjs');
  assert.equal(
    readFileSync(refsPath, 'utf8'),
    await renderMethodRefs(),
    'protocol/methodRefs.ts disagrees with the protocol: run `npm run protocol:refs`',
  );
});

test('every method of the registry has a ref with its kind, name and direction, and no schema', () => {
  const byMethod = new Map<string, object>(Object.values(refs).map((r) => [r.method, r]));
  for (const def of [...requests, ...clientRequests, ...notifications]) {
    const ref = byMethod.get(def.method);
    assert.ok(ref, `${def.method} has no ref in methodRefs.ts`);
    assert.deepEqual(ref, { kind: def.kind, method: def.method, direction: def.direction });
  }
  assert.equal(byMethod.size, Object.keys(refs).length, 'two refs share a method name');
});

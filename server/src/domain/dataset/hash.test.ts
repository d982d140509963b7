import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { canonicalJson, fnv1a32, sha256Hex } from './hash';

test('sha256Hex matches node:crypto for empty, ASCII, multi-block and non-ASCII input', () => {
  const inputs = ['', 'abc', 'a'.repeat(55), 'a'.repeat(56), 'a'.repeat(64), 'x'.repeat(1000), 'héllo wörld ✓ 🚀', '{"k":"\\n"}'];
  for (let n = 0; n < 130; n += 7) inputs.push('q'.repeat(n));
  for (const s of inputs) assert.equal(sha256Hex(s), createHash('sha256').update(s, 'utf8').digest('hex'), `length ${s.length}`);
});

test('canonicalJson sorts keys at every level and drops undefined members', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } }), '{"a":{"d":[3,{"y":2,"z":1}]},"b":1}');
  assert.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
  assert.equal(canonicalJson([undefined, null, 'x']), '[null,null,"x"]');
});

test('fnv1a32 is deterministic and spreads', () => {
  assert.equal(fnv1a32('hello'), fnv1a32('hello'));
  assert.notEqual(fnv1a32('hello'), fnv1a32('hellp'));
  assert.equal(fnv1a32(''), 0x811c9dc5);
});

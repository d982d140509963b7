import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GptTokenCounter } from './gptTokenCounter';

test('counts o200k_base tokens once loaded: known small strings, empty text, and growth with length', async () => {
  const c = new GptTokenCounter();
  assert.throws(() => c.count('x'), /await ready\(\) before count\(\)/);
  await c.ready();
  await c.ready();
  assert.equal(c.encoding, 'o200k_base');
  assert.equal(c.count(''), 0);
  assert.equal(c.count('hello world'), 2);
  const one = c.count('export function add(a: number, b: number): number { return a + b; }\n');
  assert.ok(one > 10 && one < 30, String(one));
  assert.ok(Math.abs(c.count('word '.repeat(1000)) - 1000) <= 2);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gitEnv, hardenedArgs } from './gitHygiene';

test('every patch-producing git command gets --no-ext-diff --no-textconv after its subcommand', () => {
  assert.deepEqual(hardenedArgs(['diff', 'a', 'b']), ['diff', '--no-ext-diff', '--no-textconv', 'a', 'b']);
  for (const sub of ['log', 'show', 'whatchanged', 'format-patch'])
    assert.deepEqual(hardenedArgs([sub, '-p']).slice(0, 3), [sub, '--no-ext-diff', '--no-textconv']);
  assert.deepEqual(hardenedArgs(['merge', '--no-ff', 'x']), ['merge', '--no-ff', 'x'], 'other commands are left alone');
  assert.deepEqual(hardenedArgs([]), []);
});

test('git never inherits an external diff program from our environment', () => {
  process.env.GIT_EXTERNAL_DIFF = '/tmp/evil';
  try {
    const env = gitEnv({ LC_ALL: 'C' });
    assert.equal(env.GIT_EXTERNAL_DIFF, undefined);
    assert.equal(env.LC_ALL, 'C');
  } finally {
    delete process.env.GIT_EXTERNAL_DIFF;
  }
});

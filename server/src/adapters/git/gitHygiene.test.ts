import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gitEnv, hardenedArgs, noRepoFilters } from './gitHygiene';

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

test('filter drivers of the repository config are switched off; the user’s global ones (Git LFS) are kept', () => {
  const out = [
    'local',
    'filter.evil.clean\ntouch x; cat',
    'local',
    'filter.a.b.smudge\ny',
    'worktree',
    'filter.w.process\nz',
    'global',
    'filter.lfs.clean\ngit-lfs clean -- %f',
    '',
  ].join('\0');
  const args = noRepoFilters(out);
  for (const name of ['evil', 'a.b', 'w'])
    for (const k of ['clean', 'smudge', 'process']) assert.ok(args.includes(`filter.${name}.${k}=`), `${name}.${k}`);
  assert.ok(!args.some((a) => a.startsWith('filter.lfs.')), 'global filters stay');
  assert.deepEqual(noRepoFilters(''), []);
});

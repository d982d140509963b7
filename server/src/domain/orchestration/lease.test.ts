import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  emptyLeaseTable,
  expire,
  leaseOf,
  matchesGlob,
  outsideLease,
  overlaps,
  release,
  renew,
  tryAcquire,
  type LeaseTable,
} from './lease';

test('overlap: exact paths, directories and globstars', () => {
  assert.equal(overlaps(['src/a.ts'], ['src/a.ts']), true);
  assert.equal(overlaps(['src/a.ts'], ['src/b.ts']), false);
  assert.equal(overlaps(['./src//a.ts'], ['src\\a.ts']), true);
  assert.equal(overlaps(['src/a.ts'], ['SRC/A.ts']), true, 'case-insensitive');
  assert.equal(overlaps(['src/**'], ['src/deep/x/y.ts']), true);
  assert.equal(overlaps(['src/**'], ['test/x.ts']), false);
  assert.equal(overlaps(['src/lib'], ['src/lib/util.ts']), true, 'a plain path covers what is below it');
  assert.equal(overlaps(['src/lib/'], ['src/lib/util.ts']), true);
  assert.equal(overlaps(['src/lib'], ['src/library.ts']), false);
  assert.equal(overlaps(['**'], ['anything/at/all']), true);
  assert.equal(overlaps(['**/*.md'], ['docs/guide.md']), true);
  assert.equal(overlaps(['**/*.md'], ['src/a.ts']), false);
  assert.equal(overlaps([], ['src/a.ts']), false);
});

test('overlap: single-segment wildcards, classes and braces', () => {
  assert.equal(overlaps(['src/*.ts'], ['src/a.ts']), true);
  assert.equal(overlaps(['src/*.ts'], ['src/a.js']), false);
  assert.equal(overlaps(['src/*.ts'], ['src/sub/a.ts']), false, '* does not cross /');
  assert.equal(overlaps(['*.ts'], ['*.js']), false);
  assert.equal(overlaps(['src/*.ts'], ['src/a*']), true);
  assert.equal(overlaps(['src/a?.ts'], ['src/ab.ts']), true);
  assert.equal(overlaps(['src/[ab].ts'], ['src/c.ts']), false);
  assert.equal(overlaps(['src/[ab].ts'], ['src/b.ts']), true);
  assert.equal(overlaps(['src/{a,b}.ts'], ['src/b.ts']), true);
  assert.equal(overlaps(['src/{a,b}.ts'], ['src/c.ts']), false);
  assert.equal(overlaps(['src/**/test/*.ts'], ['src/x/test/y.ts']), true);
  assert.equal(overlaps(['../outside'], ['src/a.ts']), true, 'climbing out of the repo is unsure → overlap');
});

test('matchesGlob and outsideLease', () => {
  assert.equal(matchesGlob('src/a.ts', 'src/*.ts'), true);
  assert.equal(matchesGlob('src/a.ts', 'src'), true);
  assert.equal(matchesGlob('src', 'src/a.ts'), false, 'a concrete path does not cover what is below it');
  assert.equal(matchesGlob('src/[x].ts', 'src/*.ts'), true, 'special characters in a changed path are literal');
  assert.deepEqual(outsideLease(['src/a.ts', 'src/b/c.ts', 'README.md', 'test/a.test.ts'], ['src/**', 'test/*.test.ts']), ['README.md']);
  assert.deepEqual(outsideLease(['a.ts'], []), ['a.ts']);
});

const req = (taskId: string, globs: string[], mode: 'write' | 'read' = 'write', repo = '/r') => ({ taskId, repo, globs, mode });

test('tryAcquire refuses overlapping writes of other tasks, all or nothing', () => {
  let t: LeaseTable = emptyLeaseTable();
  const a = tryAcquire(t, req('a', ['src/a.ts']), 0, 1_000);
  assert.ok(a.ok);
  t = a.table;
  const b = tryAcquire(t, req('b', ['src/b.ts', 'src/a.ts']), 0, 1_000);
  assert.equal(b.ok, false);
  if (!b.ok) {
    assert.deepEqual(
      b.conflicts.map((c) => c.taskId),
      ['a'],
    );
    assert.match(b.reason, /overlaps a \(write: src\/a\.ts\)/);
  }
  assert.equal(leaseOf(t, 'b'), undefined, 'nothing was granted');
  assert.ok(tryAcquire(t, req('b', ['src/b.ts']), 0, 1_000).ok);
  assert.ok(tryAcquire(t, req('b', ['src/a.ts'], 'write', '/other-repo'), 0, 1_000).ok, 'other repos do not conflict');
  assert.ok(tryAcquire(t, req('a', ['src/a.ts', 'src/c.ts']), 0, 1_000).ok, 'a task re-acquiring replaces its own lease');
});

test('read leases share; read vs write conflicts', () => {
  let t = emptyLeaseTable();
  const r1 = tryAcquire(t, req('r1', ['src/**'], 'read'), 0, 1_000);
  assert.ok(r1.ok);
  t = r1.table;
  const r2 = tryAcquire(t, req('r2', ['src/a.ts'], 'read'), 0, 1_000);
  assert.ok(r2.ok);
  assert.equal(tryAcquire(r2.table, req('w', ['src/a.ts']), 0, 1_000).ok, false);
  assert.ok(tryAcquire(r2.table, req('w', ['docs/x.md']), 0, 1_000).ok);
  assert.ok(tryAcquire(r2.table, req('n', []), 0, 1_000).ok, 'an empty request claims nothing');
});

test('leases expire unless renewed; expired leases do not block and are not renewed', () => {
  const a = tryAcquire(emptyLeaseTable(), req('a', ['x']), 0, 100);
  assert.ok(a.ok);
  const r = renew(a.table, 'a', 50, 100);
  assert.equal(r.renewed, true);
  assert.equal(leaseOf(r.table, 'a')?.expiresAt, 150);
  assert.ok(tryAcquire(r.table, req('b', ['x']), 149, 100).ok === false);
  assert.ok(tryAcquire(r.table, req('b', ['x']), 150, 100).ok, 'expired lease no longer blocks');
  assert.equal(renew(r.table, 'a', 150, 100).renewed, false);
  const e = expire(r.table, 150);
  assert.deepEqual(
    e.expired.map((l) => l.taskId),
    ['a'],
  );
  assert.deepEqual(e.table.leases, []);
  assert.deepEqual(release(r.table, 'a').leases, []);
  assert.equal(release(r.table, 'zzz'), r.table);
});

test('a lease table round-trips through JSON (survives a restart)', () => {
  const a = tryAcquire(emptyLeaseTable(), req('a', ['src/**']), 0, 100);
  assert.ok(a.ok);
  const restored = JSON.parse(JSON.stringify(a.table)) as LeaseTable;
  assert.equal(tryAcquire(restored, req('b', ['src/x.ts']), 10, 100).ok, false);
});

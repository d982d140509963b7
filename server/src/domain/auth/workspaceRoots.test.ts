import assert from 'node:assert/strict';
import { test } from 'node:test';
import { insideRoots, writtenPathProblem } from './workspaceRoots';

test('a written path must be absolute and have no ".." segment', () => {
  assert.equal(writtenPathProblem('/srv/repos/a'), undefined);
  assert.match(writtenPathProblem('repos/a')!, /absolute/);
  assert.match(writtenPathProblem('/srv/repos/../etc')!, /\.\./);
  assert.match(writtenPathProblem('/srv/repos/a/..')!, /\.\./);
  assert.match(writtenPathProblem('/srv/x\0y')!, /NUL/);
  assert.equal(writtenPathProblem('/srv/a..b'), undefined, 'dots inside a name are fine');
});

test('inside a root: the root itself and below, never a sibling sharing a prefix', () => {
  const roots = ['/srv/acme', '/home/ci/work/'];
  assert.ok(insideRoots('/srv/acme', roots));
  assert.ok(insideRoots('/srv/acme/app/src', roots));
  assert.ok(insideRoots('/home/ci/work/x', roots));
  assert.ok(!insideRoots('/srv/acme-evil', roots));
  assert.ok(!insideRoots('/srv', roots));
  assert.ok(!insideRoots('/etc', roots));
  assert.ok(!insideRoots('/srv/acme', []));
});

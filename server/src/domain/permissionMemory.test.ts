import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PermissionMemory, maxRulesPerScope, relativeWhere, ruleFor, ruleMatches, scopeKey, whyNotRememberable } from './permissionMemory';

const taskA = '/data/worktrees/s1/a';
const taskB = '/data/worktrees/s1/b';
const uname = { permission: 'bash', patterns: ['uname'], taskFolder: taskA };

describe('a remembered rule allows only the very ask it came from', () => {
  const rule = ruleFor(uname)!;

  test('the same command in the same session is allowed, also from another task of the session', () => {
    assert.ok(ruleMatches(rule, uname));
    assert.ok(ruleMatches(rule, { ...uname, taskFolder: taskB }), 'same command, same relative place, another task');
  });

  test('a different command, an extra argument, or a chained command still asks', () => {
    for (const cmd of ['whoami', 'uname -a', 'uname ; rm -rf x', 'uname && curl evil', ' uname', 'uname ', 'UNAME', 'un""ame'])
      assert.ok(!ruleMatches(rule, { ...uname, patterns: [cmd] }), cmd);
  });

  test('the same command under another permission kind still asks', () => {
    assert.ok(!ruleMatches(rule, { ...uname, permission: 'edit' }));
    assert.ok(!ruleMatches(rule, { ...uname, permission: 'external_directory' }));
  });

  test('more or fewer patterns than asked still ask', () => {
    assert.ok(!ruleMatches(rule, { ...uname, patterns: ['uname', 'whoami'] }));
    assert.ok(!ruleMatches(rule, { ...uname, patterns: [] }));
    const two = ruleFor({ ...uname, patterns: ['git status', 'uname'] })!;
    assert.ok(!ruleMatches(two, uname), 'a rule for two commands does not cover one of them alone');
    assert.ok(!ruleMatches(two, { ...uname, patterns: ['uname', 'git status'] }), 'order is part of the command');
  });

  test('the same command in another folder (bash workdir) still asks; a `..` makes a different place', () => {
    assert.ok(!ruleMatches(rule, { ...uname, commandCwd: `${taskA}/sub` }));
    assert.ok(!ruleMatches(rule, { ...uname, commandCwd: '/tmp' }));
    const inSub = ruleFor({ ...uname, commandCwd: `${taskA}/sub` })!;
    assert.ok(ruleMatches(inSub, { ...uname, commandCwd: `${taskA}/sub/` }), 'a trailing slash is the same folder');
    assert.ok(!ruleMatches(inSub, { ...uname, commandCwd: `${taskA}/sub/..` }));
    assert.ok(!ruleMatches(inSub, { ...uname, commandCwd: `${taskA}/other/../sub` }));
    assert.ok(ruleMatches(rule, { ...uname, commandCwd: taskA }), 'the task folder itself is the default place');
  });

  test('paths: the same path is allowed; `..`, a sibling, a prefix or a glob still ask', () => {
    const read = { permission: 'read', patterns: ['/home/u/notes/todo.txt'], taskFolder: taskA };
    const r = ruleFor(read)!;
    assert.ok(ruleMatches(r, read));
    for (const p of [
      '/home/u/notes/../notes/todo.txt',
      '/home/u/notes/./todo.txt',
      '/home/u/notes/todo.txt.bak',
      '/home/u/notes/todo',
      '/home/u/notes/*',
      '/home/u/notes',
      '/home/u/.ssh/id_rsa',
    ])
      assert.ok(!ruleMatches(r, { ...read, patterns: [p] }), p);
  });
});

describe('what is never remembered', () => {
  test('an ask without a pattern or with a bare wildcard is too broad', () => {
    assert.match(whyNotRememberable({ permission: 'webfetch', patterns: [], taskFolder: taskA })!, /no pattern/);
    for (const p of ['*', '**', '/*', '/**', '.', '*/*', ' '])
      assert.match(whyNotRememberable({ permission: 'external_directory', patterns: [p], taskFolder: taskA })!, /anything/, p);
    assert.equal(ruleFor({ permission: 'bash', patterns: ['*'], taskFolder: taskA }), undefined);
    assert.equal(whyNotRememberable(uname), undefined);
  });
});

describe('memory is per scope', () => {
  test('a rule remembered in one session does not allow the ask in another session or a single run', () => {
    const m = new PermissionMemory();
    const s1 = scopeKey({ sessionId: 's1', runId: 'r1' });
    const s2 = scopeKey({ sessionId: 's2', runId: 'r9' });
    const run = scopeKey({ runId: 'r1' });
    assert.deepEqual(s1, { key: 'session:s1', scope: 'session' });
    assert.deepEqual(run, { key: 'run:r1', scope: 'run' });
    assert.ok(m.remember(s1.key, uname));
    assert.ok(m.find(s1.key, uname));
    assert.ok(m.find(s1.key, { ...uname, taskFolder: taskB }), 'another task of the same session');
    assert.equal(m.find(s2.key, uname), undefined, 'another session asks again');
    assert.equal(m.find(run.key, uname), undefined, 'a single run asks again');
    assert.equal(m.find(s1.key, { ...uname, patterns: ['uname -a'] }), undefined);
  });

  test('remembering twice keeps one rule; forget drops the scope; the list is bounded', () => {
    const m = new PermissionMemory();
    m.remember('session:s', uname);
    m.remember('session:s', uname);
    assert.equal(m.list('session:s').length, 1);
    m.forget('session:s');
    assert.equal(m.find('session:s', uname), undefined);
    for (let i = 0; i < maxRulesPerScope + 5; i++) m.remember('session:s', { ...uname, patterns: [`echo ${i}`] });
    assert.equal(m.list('session:s').length, maxRulesPerScope);
    assert.equal(m.find('session:s', { ...uname, patterns: ['echo 0'] }), undefined, 'the oldest went first');
  });

  test('a too-broad ask is not remembered', () => {
    const m = new PermissionMemory();
    assert.equal(m.remember('session:s', { ...uname, patterns: ['*'] }), undefined);
    assert.equal(m.list('session:s').length, 0);
  });
});

test('relativeWhere: lexical, `..` never collapses', () => {
  assert.equal(relativeWhere(taskA, undefined), '.');
  assert.equal(relativeWhere(`${taskA}/`, taskA), '.');
  assert.equal(relativeWhere(taskA, `${taskA}/x/y`), 'x/y');
  assert.equal(relativeWhere(taskA, `${taskA}-evil`), `${taskA}-evil`);
  assert.equal(relativeWhere(taskA, `${taskA}/x/..`), 'x/..');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lockKey, mergeJobSchema, mergeOrder, parseJob, taskJobSchema } from './taskJob';

const job = {
  tenantId: 'acme',
  sessionId: 's1',
  taskId: 't001',
  remote: '/srv/git/team.git',
  baseCommit: '0123456789abcdef0123456789abcdef01234567',
  prompt: 'do it',
  agent: 'fixture-agent',
  order: 0,
  sessionTasks: 3,
};

test('a task job is checked at the edge; a bad one names its field', () => {
  assert.deepEqual(parseJob(taskJobSchema, job, 'task'), job);
  assert.throws(() => parseJob(taskJobSchema, { ...job, taskId: '../x' }, 'task'), /bad task job: taskId: letters, digits/);
  assert.throws(() => parseJob(taskJobSchema, { ...job, baseCommit: 'main' }, 'task'), /bad task job: baseCommit: a commit id/);
  for (const bad of ['t1.lock', 'a..b', 't1.', '-t1', '.t1', 'a/b', 'a@{1}'])
    assert.throws(() => parseJob(taskJobSchema, { ...job, taskId: bad }, 'task'), /bad task job: taskId: /, bad);
  assert.throws(() => parseJob(taskJobSchema, { ...job, sessionId: 's1.lock' }, 'task'), /bad task job: sessionId: no "\.\."/);
  assert.deepEqual(parseJob(taskJobSchema, { ...job, taskId: 't1.v2_x-y' }, 'task').taskId, 't1.v2_x-y');
  assert.throws(() => parseJob(taskJobSchema, { ...job, sessionTasks: 0 }, 'task'), /sessionTasks/);
  assert.throws(() => parseJob(taskJobSchema, { ...job, extra: 1 }, 'task'), /bad task job: \(root\)|extra/);
  const { taskId: _t, prompt: _p, agent: _a, order: _o, ...merge } = job;
  assert.deepEqual(parseJob(mergeJobSchema, merge, 'merge'), merge);
  assert.throws(() => parseJob(mergeJobSchema, { ...merge, tenantId: '' }, 'merge'), /bad merge job: tenantId/);
});

test('merges follow the plan order, then the task id', () => {
  const tasks = [
    { taskId: 'b', order: 1 },
    { taskId: 'c', order: 0 },
    { taskId: 'a', order: 1 },
  ];
  assert.deepEqual(
    mergeOrder(tasks).map((t) => t.taskId),
    ['c', 'a', 'b'],
  );
  assert.deepEqual(
    tasks.map((t) => t.taskId),
    ['b', 'c', 'a'],
    'the input is not changed',
  );
});

test('lock keys: two int4s, stable, different per namespace and per part', () => {
  const k = lockKey(7, 'acme', 's1', 't1');
  assert.deepEqual(k, lockKey(7, 'acme', 's1', 't1'));
  assert.notDeepEqual(k, lockKey(8, 'acme', 's1', 't1'));
  assert.notDeepEqual(k, lockKey(7, 'acme', 's1', 't2'));
  // Parts are separated: ("ab", "c") is not ("a", "bc").
  assert.notDeepEqual(lockKey(7, 'ab', 'c'), lockKey(7, 'a', 'bc'));
  for (const x of k) assert.ok(Number.isInteger(x) && x >= -(2 ** 31) && x < 2 ** 31);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { priorityArg, taskRefOf } from './taskRef';

test('taskRefOf: a tree row, or a session id and a task id; anything else is no task', () => {
  assert.deepEqual(taskRefOf({ sessionId: 's1', taskId: 's1:a', task: { id: 's1:a', planId: 'a' } }), {
    sessionId: 's1',
    taskId: 's1:a',
    label: 'a',
  });
  assert.deepEqual(taskRefOf({ sessionId: 's1', task: { id: 's1:b' } }), { sessionId: 's1', taskId: 's1:b', label: 's1:b' });
  assert.deepEqual(taskRefOf('s1', 's1:a'), { sessionId: 's1', taskId: 's1:a', label: 's1:a' });
  assert.equal(taskRefOf('s1'), undefined);
  assert.equal(taskRefOf('s1', 42), undefined);
  assert.equal(taskRefOf({ sessionId: 's1' }), undefined);
  assert.equal(taskRefOf(undefined), undefined);
});

test('priorityArg: only an integer from 0 to 4 is a priority', () => {
  assert.deepEqual([0, 1, 4].map(priorityArg), [0, 1, 4]);
  for (const bad of [5, -1, 1.5, '1', [], undefined, null, Number.NaN]) assert.equal(priorityArg(bad), undefined, String(bad));
});

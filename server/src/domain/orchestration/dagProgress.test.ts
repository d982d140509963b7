import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyUsage } from '../agentEvent';
import { DomainError } from '../errors';
import {
  afterTaskFinished,
  cancelAll,
  cancelCascade,
  dependentsIndex,
  promoteReady,
  requeueInterrupted,
  retryTask,
  transitiveDependents,
} from './dagProgress';
import { tasksFromPlan } from './plan';
import { transitionTask, type Task } from './taskState';
import { templatePlan } from './templatePlanner';

// a → b → d, a → c → d, e independent
function session(): Task[] {
  const r = templatePlan(
    ['- [a] A: x', '- [b] B (after: a): x', '- [c] C (after: a): x', '- [d] D (after: b, c): x', '- [e] E: x'].join('\n'),
  );
  assert.ok(r.ok);
  return tasksFromPlan(r.plan, { sessionId: 's', tenantId: 'local', nowMs: 0, makeId: (id) => id });
}
const stateOf = (tasks: Task[]) => Object.fromEntries(tasks.map((t) => [t.id, t.state]));
const set = (tasks: Task[], id: string, f: (t: Task) => Task): Task[] => tasks.map((t) => (t.id === id ? f(t) : t));
const run = (t: Task): Task => transitionTask(t, { type: 'dispatch', agentId: 'x', routeReason: '', nowMs: 1 });
const succeed = (t: Task): Task =>
  transitionTask(run(t), { type: 'succeed', result: { summary: '', changedFiles: [], usage: emptyUsage() }, nowMs: 2 });
const fail = (t: Task): Task => transitionTask(run(t), { type: 'fail', error: 'boom', nowMs: 2 });

test('index and transitive dependents', () => {
  const idx = dependentsIndex(session());
  assert.deepEqual(idx.get('a'), ['b', 'c']);
  assert.deepEqual(transitiveDependents('a', idx).sort(), ['b', 'c', 'd']);
  assert.deepEqual(transitiveDependents('e', idx), []);
});

test('promoteReady starts the roots; a dependent is ready only when all deps succeeded', () => {
  let p = promoteReady(session(), 1);
  assert.deepEqual(stateOf(p.tasks), { a: 'ready', b: 'pending', c: 'pending', d: 'pending', e: 'ready' });
  assert.deepEqual(
    p.changed.map((t) => t.id),
    ['a', 'e'],
  );
  let tasks = set(p.tasks, 'a', succeed);
  p = afterTaskFinished(tasks, 'a', 3);
  assert.deepEqual(stateOf(p.tasks), { a: 'succeeded', b: 'ready', c: 'ready', d: 'pending', e: 'ready' });
  tasks = set(p.tasks, 'b', succeed);
  p = afterTaskFinished(tasks, 'b', 4);
  assert.equal(stateOf(p.tasks).d, 'pending', 'c has not succeeded yet');
  assert.deepEqual(p.changed, []);
  tasks = set(p.tasks, 'c', succeed);
  p = afterTaskFinished(tasks, 'c', 5);
  assert.equal(stateOf(p.tasks).d, 'ready');
});

test('a failure is retried with backoff while attempts remain, then dependents are skipped', () => {
  let tasks = promoteReady(session(), 0).tasks;
  for (let attempt = 1; attempt <= 3; attempt++) {
    tasks = set(tasks, 'a', fail);
    const p = afterTaskFinished(tasks, 'a', 100, { backoffBaseMs: 10 });
    tasks = p.tasks;
    const a = tasks.find((t) => t.id === 'a');
    if (attempt < 3) {
      assert.equal(a?.state, 'ready', `retry ${attempt}`);
      assert.equal(a?.notBeforeMs, 100 + 10 * 2 ** (attempt - 1));
      assert.equal(a?.attempts, attempt);
    }
  }
  assert.deepEqual(stateOf(tasks), { a: 'failed', b: 'skipped', c: 'skipped', d: 'skipped', e: 'ready' });
  assert.equal(tasks.find((t) => t.id === 'd')?.lastError, 'dependency a failed');
  // without auto retry the first failure is final
  const once = afterTaskFinished(set(promoteReady(session(), 0).tasks, 'a', fail), 'a', 1, { autoRetry: false });
  assert.equal(stateOf(once.tasks).b, 'skipped');
});

test('cancel cascades to transitive dependents only', () => {
  const tasks = promoteReady(session(), 0).tasks;
  const p = cancelCascade(tasks, 'b', 1);
  assert.deepEqual(stateOf(p.tasks), { a: 'ready', b: 'cancelled', c: 'pending', d: 'cancelled', e: 'ready' });
  assert.equal(p.tasks.find((t) => t.id === 'd')?.lastError, 'dependency b was cancelled');
  const all = cancelAll(set(tasks, 'e', succeed), 2);
  assert.deepEqual(stateOf(all.tasks), { a: 'cancelled', b: 'cancelled', c: 'cancelled', d: 'cancelled', e: 'succeeded' });
});

test('a user retry re-opens the task and the dependents skipped because of it', () => {
  let tasks = promoteReady(session(), 0).tasks;
  tasks = afterTaskFinished(set(tasks, 'a', fail), 'a', 1, { autoRetry: false }).tasks;
  const p = retryTask(tasks, 'a', 2);
  assert.deepEqual(stateOf(p.tasks), { a: 'ready', b: 'pending', c: 'pending', d: 'pending', e: 'ready' });
  // exhausted attempts need raiseLimit
  const exhausted = set(tasks, 'a', (t) => ({ ...t, attempts: 3 }));
  assert.throws(
    () => retryTask(exhausted, 'a', 3),
    (e: unknown) => DomainError.is(e, 'conflict'),
  );
  assert.equal(stateOf(retryTask(exhausted, 'a', 3, { raiseLimit: true }).tasks).a, 'ready');
  // succeeded tasks are never re-opened
  assert.throws(() => retryTask(set(tasks, 'e', succeed), 'e', 3), /succeeded → pending/);
});

test('requeueInterrupted refunds the attempt of running tasks and ignores others', () => {
  let tasks = promoteReady(session(), 0).tasks;
  tasks = set(tasks, 'a', run);
  const p = requeueInterrupted(tasks, ['a', 'e'], 5);
  assert.deepEqual(
    p.changed.map((t) => [t.id, t.state, t.attempts]),
    [['a', 'ready', 0]],
  );
});

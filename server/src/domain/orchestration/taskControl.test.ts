import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyUsage } from '../agentEvent';
import { DomainError } from '../errors';
import { afterTaskFinished, cancelCascade, retryTask } from './dagProgress';
import { tasksFromPlan } from './plan';
import type { Session } from './sessionState';
import { checkCancel, checkPriority, checkRetry, sessionTask } from './taskControl';
import { transitionTask, type Task } from './taskState';
import { templatePlan } from './templatePlanner';

// a → b, c independent
function tasks(): Task[] {
  const r = templatePlan(['- [a] A: x', '- [b] B (after: a): x', '- [c] C: x'].join('\n'));
  assert.ok(r.ok);
  return tasksFromPlan(r.plan, { sessionId: 's', tenantId: 'local', nowMs: 0, makeId: (id) => `s:${id}` });
}
const running: Pick<Session, 'id' | 'state' | 'startedAt'> = { id: 's', state: 'running', startedAt: 1 };
const byPlan = (ts: Task[], planId: string) => ts.find((t) => t.planId === planId)!;
const put = (ts: Task[], t: Task) => ts.map((x) => (x.id === t.id ? t : x));
const start = (t: Task): Task =>
  transitionTask(transitionTask(t, { type: 'ready', nowMs: 1 }), { type: 'dispatch', agentId: 'x', routeReason: '', nowMs: 1 });
const fail = (t: Task): Task => transitionTask(start(t), { type: 'fail', error: 'boom', nowMs: 2 });

/** Asserts a DomainError of `reason` whose message starts with `field:` and whose data names it. */
function refuses(fn: () => unknown, reason: string, field: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(DomainError.is(e), String(e));
    assert.equal(e.reason, reason);
    assert.equal(e.data?.field, field);
    assert.match(e.message, new RegExp(`^${field}: `));
    assert.match(e.message, message);
    return true;
  });
}

test('sessionTask: unknown ids and tasks of another session are notFound naming taskId; a plan id gets a hint', () => {
  const ts = tasks();
  assert.equal(sessionTask('s', ts, 's:a').planId, 'a');
  refuses(() => sessionTask('s', ts, 'nope'), 'not_found', 'taskId', /session s has no task "nope"/);
  refuses(() => sessionTask('other', ts, 's:a'), 'not_found', 'taskId', /session other has no task "s:a"/);
  refuses(() => sessionTask('s', ts, 'a'), 'not_found', 'taskId', /its plan id "a" is task "s:a"/);
});

test('cancel: open tasks of a started, live session; ended tasks, drafts and ended sessions are refused', () => {
  const ts = tasks();
  const a = start(byPlan(ts, 'a'));
  checkCancel(running, a);
  checkCancel({ ...running, state: 'paused' }, byPlan(ts, 'c'));
  refuses(() => checkCancel({ id: 's', state: 'draft' }, a), 'conflict', 'sessionId', /draft/);
  refuses(() => checkCancel({ ...running, state: 'partially_completed' }, a), 'conflict', 'sessionId', /already ended/);
  refuses(() => checkCancel(running, fail(byPlan(ts, 'c'))), 'conflict', 'taskId', /already ended \(failed\)/);
  // The domain's cascade: a's dependent b is cancelled too, c is untouched.
  const after = cancelCascade(put(ts, a), 's:a', 5);
  assert.deepEqual(
    after.tasks.map((t) => [t.planId, t.state]),
    [
      ['a', 'cancelled'],
      ['b', 'cancelled'],
      ['c', 'pending'],
    ],
  );
});

test('retry: failed, cancelled or skipped tasks whose dependencies succeeded; the rest is refused with the reason', () => {
  let ts = tasks();
  // a fails for good (3 attempts) → b is skipped.
  let a = byPlan(ts, 'a');
  for (let i = 0; i < 3; i++) {
    a = fail(i ? transitionTask(a, { type: 'retry', nowMs: 3 }) : a);
    ts = put(ts, a);
  }
  ts = afterTaskFinished(ts, a.id, 4).tasks;
  assert.equal(byPlan(ts, 'b').state, 'skipped');
  checkRetry(running, ts, byPlan(ts, 'a'));
  checkRetry({ ...running, state: 'partially_completed' }, ts, byPlan(ts, 'a'));
  refuses(() => checkRetry(running, ts, byPlan(ts, 'a'), false), 'conflict', 'raiseLimit', /used all its attempts \(3\/3\)/);
  refuses(() => checkRetry(running, ts, byPlan(ts, 'b')), 'conflict', 'taskId', /depends on a, which is failed; retry a instead/);
  refuses(() => checkRetry(running, ts, byPlan(ts, 'c')), 'conflict', 'taskId', /is pending, not failed or cancelled/);
  const done = transitionTask(start(byPlan(ts, 'c')), {
    type: 'succeed',
    result: { summary: '', changedFiles: [], usage: emptyUsage() },
    nowMs: 5,
  });
  refuses(() => checkRetry(running, put(ts, done), done), 'conflict', 'taskId', /already succeeded/);
  refuses(() => checkRetry({ id: 's', state: 'draft' }, ts, byPlan(ts, 'a')), 'conflict', 'sessionId', /draft/);
  refuses(() => checkRetry({ ...running, applied: { at: 1 } }, ts, byPlan(ts, 'a')), 'conflict', 'sessionId', /already applied/);
  refuses(() => checkRetry({ id: 's', state: 'cancelled' }, ts, byPlan(ts, 'a')), 'conflict', 'sessionId', /cancelled before it started/);
  // The domain's retry re-opens a (one attempt beyond the limit) and its skipped dependent b.
  const re = retryTask(ts, 's:a', 6, { raiseLimit: true });
  assert.deepEqual(
    re.changed.map((t) => [t.planId, t.state, t.maxAttempts]),
    [
      ['a', 'ready', 4],
      ['b', 'pending', 3],
    ],
  );
});

test('priority: any task that is neither running nor succeeded', () => {
  const ts = tasks();
  checkPriority(byPlan(ts, 'a'));
  checkPriority(fail(byPlan(ts, 'c')));
  refuses(() => checkPriority(start(byPlan(ts, 'a'))), 'conflict', 'taskId', /already running/);
});

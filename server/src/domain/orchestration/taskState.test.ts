import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyUsage } from '../agentEvent';
import { DomainError } from '../errors';
import { canRetry, isFinallyFailed, newTask, retryBackoffMs, transitionTask, type Task } from './taskState';

const base = (): Task => newTask({ id: 's1:a', planId: 'a', sessionId: 's1', tenantId: 'local', title: 'A', prompt: 'do a', nowMs: 0 });
const result = { summary: 'ok', changedFiles: ['src/a.ts'], usage: emptyUsage() };

function conflict(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => DomainError.is(e, 'conflict') && re.test((e as Error).message));
}

test('happy path: pending → ready → running → succeeded, immutably', () => {
  const t0 = base();
  const t1 = transitionTask(t0, { type: 'ready', nowMs: 1 });
  assert.equal(t0.state, 'pending', 'the input is not mutated');
  const t2 = transitionTask(t1, { type: 'dispatch', agentId: 'oc', routeReason: 'best fit', branch: 'orchestrator/s1/a', nowMs: 2 });
  assert.equal(t2.state, 'running');
  assert.equal(t2.attempts, 1);
  assert.equal(t2.agentId, 'oc');
  assert.equal(t2.startedAt, 2);
  const t3 = transitionTask(t2, { type: 'succeed', result, nowMs: 3 });
  assert.equal(t3.state, 'succeeded');
  assert.deepEqual(t3.result, result);
  assert.equal(t3.updatedAt, 3);
});

test('invalid transitions throw conflict naming from and to', () => {
  conflict(
    () => transitionTask(base(), { type: 'dispatch', agentId: 'x', routeReason: '', nowMs: 1 }),
    /s1:a: invalid transition pending → running \(dispatch\)/,
  );
  conflict(() => transitionTask(base(), { type: 'succeed', result, nowMs: 1 }), /pending → succeeded/);
  const done = transitionTask(
    transitionTask(transitionTask(base(), { type: 'ready', nowMs: 1 }), { type: 'dispatch', agentId: 'x', routeReason: '', nowMs: 1 }),
    { type: 'succeed', result, nowMs: 1 },
  );
  conflict(() => transitionTask(done, { type: 'retry', nowMs: 2 }), /succeeded → pending/);
  conflict(() => transitionTask(done, { type: 'cancel', nowMs: 2 }), /succeeded → cancelled/);
});

test('blocked: on a lease from ready, on a permission from running', () => {
  const ready = transitionTask(base(), { type: 'ready', nowMs: 1 });
  const leaseBlocked = transitionTask(ready, { type: 'block', on: 'lease', reason: 'src/a.ts held by b', nowMs: 2 });
  assert.equal(leaseBlocked.state, 'blocked');
  assert.deepEqual(leaseBlocked.blocked, { on: 'lease', reason: 'src/a.ts held by b', since: 2 });
  const again = transitionTask(leaseBlocked, { type: 'block', on: 'lease', reason: 'still', nowMs: 5 });
  assert.equal(again.blocked?.since, 2, 'repeated block keeps the original since');
  assert.equal(transitionTask(leaseBlocked, { type: 'unblock', nowMs: 3 }).state, 'ready');
  const running = transitionTask(leaseBlocked, { type: 'dispatch', agentId: 'x', routeReason: 'r', nowMs: 3 });
  assert.equal(running.state, 'running', 'a lease-blocked task can be dispatched directly');
  assert.equal(running.blocked, undefined);
  const permBlocked = transitionTask(running, { type: 'block', on: 'permission', reason: 'bash rm', nowMs: 4 });
  assert.equal(transitionTask(permBlocked, { type: 'unblock', nowMs: 5 }).state, 'running');
  conflict(() => transitionTask(permBlocked, { type: 'dispatch', agentId: 'x', routeReason: '', nowMs: 5 }), /blocked → running/);
  conflict(() => transitionTask(ready, { type: 'block', on: 'permission', reason: '', nowMs: 5 }), /ready → blocked/);
});

test('retry re-opens failed tasks until attempts reach maxAttempts', () => {
  let t = transitionTask(base(), { type: 'ready', nowMs: 0 });
  for (let i = 1; i <= 3; i++) {
    t = transitionTask(t, { type: 'dispatch', agentId: 'x', routeReason: '', nowMs: i });
    t = transitionTask(t, { type: 'fail', error: `boom ${i}`, nowMs: i });
    assert.equal(t.attempts, i);
    if (i < 3) {
      assert.ok(canRetry(t));
      t = transitionTask(t, { type: 'retry', notBeforeMs: 100 * i, nowMs: i });
      assert.equal(t.state, 'pending');
      assert.equal(t.notBeforeMs, 100 * i);
      assert.equal(t.lastError, `boom ${i}`);
      t = transitionTask(t, { type: 'ready', nowMs: i });
    }
  }
  assert.equal(isFinallyFailed(t), true);
  assert.equal(canRetry(t), false);
  conflict(() => transitionTask(t, { type: 'retry', nowMs: 9 }), /failed → pending \(retry\): attempts exhausted \(3\/3\)/);
  const forced = transitionTask(t, { type: 'retry', raiseLimit: true, nowMs: 9 });
  assert.equal(forced.state, 'pending');
  assert.equal(forced.maxAttempts, 4);
});

test('each retried or requeued attempt is kept in the history with its times, outcome and error; the newest ten', () => {
  let t = transitionTask(base(), { type: 'ready', nowMs: 0 });
  t = transitionTask(t, { type: 'dispatch', agentId: 'x', routeReason: '', nowMs: 10 });
  t = transitionTask(t, { type: 'requeue', reason: 'agent crashed at start', nowMs: 15 });
  assert.equal(t.startedAt, undefined);
  t = transitionTask(t, { type: 'dispatch', agentId: 'y', routeReason: '', nowMs: 20 });
  t = transitionTask(t, { type: 'fail', error: 'boom', nowMs: 30 });
  t = transitionTask(t, { type: 'retry', nowMs: 40 });
  assert.equal(t.startedAt, undefined, 'the re-opened task has not started again');
  assert.deepEqual(t.earlierAttempts, [
    { startedAt: 10, finishedAt: 15, outcome: 'requeued', agentId: 'x', error: 'agent crashed at start' },
    { startedAt: 20, finishedAt: 30, outcome: 'failed', agentId: 'y', error: 'boom' },
  ]);
  for (let i = 0; i < 12; i++) {
    t = transitionTask(transitionTask(t, { type: 'ready', nowMs: 50 + i }), {
      type: 'dispatch',
      agentId: 'x',
      routeReason: '',
      nowMs: 50 + i,
    });
    t = transitionTask(t, { type: 'fail', error: `e${i}`, nowMs: 51 + i });
    t = transitionTask(t, { type: 'retry', raiseLimit: true, nowMs: 52 + i });
  }
  assert.equal(t.earlierAttempts?.length, 10);
  assert.equal(t.earlierAttempts?.at(-1)?.error, 'e11');
});

test("a retried task that then succeeds no longer carries the failed attempt's error", () => {
  let t = transitionTask(base(), { type: 'ready', nowMs: 0 });
  t = transitionTask(t, { type: 'dispatch', agentId: 'x', routeReason: '', nowMs: 1 });
  t = transitionTask(t, { type: 'fail', error: 'boom', nowMs: 2 });
  t = transitionTask(transitionTask(t, { type: 'retry', nowMs: 3 }), { type: 'ready', nowMs: 3 });
  t = transitionTask(t, { type: 'dispatch', agentId: 'x', routeReason: '', nowMs: 4 });
  assert.equal(t.lastError, 'boom', 'while the retry runs, the earlier error stays visible');
  t = transitionTask(t, { type: 'succeed', result, nowMs: 5 });
  assert.equal(t.state, 'succeeded');
  assert.equal(t.lastError, undefined);
});

test('dispatch refuses when attempts are exhausted; requeue refunds the attempt', () => {
  let t = transitionTask(newTask({ id: 'x', sessionId: 's', tenantId: 'local', title: 'X', prompt: 'p', maxAttempts: 1, nowMs: 0 }), {
    type: 'ready',
    nowMs: 0,
  });
  t = transitionTask(t, { type: 'dispatch', agentId: 'a', routeReason: '', nowMs: 1 });
  t = transitionTask(t, { type: 'requeue', reason: 'server restarted', nowMs: 2 });
  assert.equal(t.state, 'ready');
  assert.equal(t.attempts, 0);
  t = transitionTask(t, { type: 'dispatch', agentId: 'a', routeReason: '', nowMs: 3 });
  t = transitionTask(t, { type: 'fail', error: 'e', nowMs: 4 });
  assert.throws(
    () => transitionTask({ ...t, state: 'ready' }, { type: 'dispatch', agentId: 'a', routeReason: '', nowMs: 5 }),
    /attempts exhausted \(1\/1\)/,
  );
});

test('skip and cancel', () => {
  const skipped = transitionTask(base(), { type: 'skip', reason: 'dependency b failed', nowMs: 1 });
  assert.equal(skipped.state, 'skipped');
  assert.equal(skipped.lastError, 'dependency b failed');
  assert.equal(transitionTask(skipped, { type: 'retry', nowMs: 2 }).state, 'pending');
  const running = transitionTask(transitionTask(base(), { type: 'ready', nowMs: 1 }), {
    type: 'dispatch',
    agentId: 'x',
    routeReason: '',
    nowMs: 1,
  });
  conflict(() => transitionTask(running, { type: 'skip', reason: '', nowMs: 2 }), /running → skipped/);
  assert.equal(transitionTask(running, { type: 'cancel', nowMs: 2 }).state, 'cancelled');
});

test('newTask validates and defaults; backoff grows and caps', () => {
  const t = base();
  assert.equal(t.maxAttempts, 3);
  assert.equal(t.mode, 'write');
  assert.throws(
    () => newTask({ id: 'x', sessionId: 's', tenantId: 'l', title: 't', prompt: 'p', maxAttempts: 0, nowMs: 0 }),
    (e: unknown) => DomainError.is(e, 'bad_input'),
  );
  assert.throws(
    () => newTask({ id: 'x', sessionId: 's', tenantId: 'l', title: 't', prompt: 'p', priority: 7, nowMs: 0 }),
    /priority must be an integer 0–4/,
  );
  assert.deepEqual(
    [1, 2, 3, 10].map((a) => retryBackoffMs(a, 1_000, 5_000)),
    [1_000, 2_000, 4_000, 5_000],
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../errors';
import type { Plan } from './plan';
import { countTasks, deriveSessionOutcome, newSession, transitionSession, type Session } from './sessionState';
import type { TaskState } from './taskState';

const plan: Plan = {
  tasks: [
    {
      id: 'a',
      title: 'A',
      prompt: 'p',
      dependsOn: [],
      expectedFiles: [],
      capabilities: [],
      estimate: { tokens: 1, minutes: 1 },
      mode: 'write',
    },
  ],
};
const draft = (): Session => newSession({ id: 's1', tenantId: 'local', goal: 'add x', cwd: '/repo', budget: { tokens: 1_000 }, nowMs: 0 });
const running = (): Session =>
  transitionSession(transitionSession(draft(), { type: 'set_plan', plan, planner: 'template', nowMs: 1 }), { type: 'approve', nowMs: 2 });
const crossing = {
  limit: 'tokens' as const,
  limitValue: 1_000,
  used: 900,
  reserved: 0,
  requested: 500,
  message: 'tokens budget would be crossed',
};

function conflict(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => DomainError.is(e, 'conflict') && re.test((e as Error).message));
}

test('newSession validates input and starts as draft', () => {
  const s = draft();
  assert.equal(s.state, 'draft');
  assert.equal(s.priority, 2);
  assert.equal(s.budget.limits.tokens, 1_000);
  assert.equal(s.usage.inputTokens, 0);
  assert.throws(
    () => newSession({ id: 'x', tenantId: 'l', goal: 'g', cwd: '/', priority: 5, nowMs: 0 }),
    (e: unknown) => DomainError.is(e, 'bad_input'),
  );
  assert.throws(() => newSession({ id: 'x', tenantId: 'l', goal: '  ', cwd: '/', nowMs: 0 }), /goal must not be empty/);
  assert.throws(
    () => newSession({ id: 'x', tenantId: 'l', goal: 'g', cwd: '/', budget: { tokens: -1 }, nowMs: 0 }),
    /budget\.tokens must be a number ≥ 0/,
  );
  assert.throws(() => newSession({ id: 'x', tenantId: 'l', goal: 'g', cwd: '/', budget: { maxParallel: 0 }, nowMs: 0 }), /maxParallel/);
});

test('draft needs a plan before approval; plans change only in draft', () => {
  conflict(() => transitionSession(draft(), { type: 'approve', nowMs: 1 }), /draft → running \(approve\): there is no plan to approve/);
  const s = running();
  assert.equal(s.state, 'running');
  assert.equal(s.startedAt, 2);
  assert.equal(s.planner, 'template');
  conflict(() => transitionSession(s, { type: 'set_plan', plan, nowMs: 3 }), /running → draft/);
});

test('budget approval round trip keeps the numbers until approved', () => {
  const waiting = transitionSession(running(), {
    type: 'await_approval',
    approval: { kind: 'budget', message: crossing.message, crossing },
    nowMs: 3,
  });
  assert.equal(waiting.state, 'awaiting_approval');
  assert.equal(waiting.approval?.kind === 'budget' && waiting.approval.crossing.requested, 500);
  const paused = transitionSession(waiting, { type: 'pause', nowMs: 4 });
  assert.equal(paused.state, 'paused');
  assert.equal(transitionSession(paused, { type: 'resume', nowMs: 5 }).state, 'awaiting_approval', 'the pending approval is asked again');
  const approved = transitionSession(waiting, { type: 'approve', nowMs: 6 });
  assert.equal(approved.state, 'running');
  assert.equal(approved.approval, undefined);
  conflict(() => transitionSession(approved, { type: 'resume', nowMs: 7 }), /running → running \(resume\)/);
});

test('finishing, cancelling, timing out and retrying', () => {
  const done = transitionSession(running(), { type: 'finish', outcome: 'completed', nowMs: 9 });
  assert.equal(done.state, 'completed');
  assert.equal(done.finishedAt, 9);
  conflict(() => transitionSession(done, { type: 'retry', nowMs: 10 }), /completed → running \(retry\)/);
  conflict(() => transitionSession(done, { type: 'cancel', nowMs: 10 }), /completed → cancelled/);
  conflict(() => transitionSession(draft(), { type: 'finish', outcome: 'completed', nowMs: 1 }), /draft → completed/);
  assert.equal(transitionSession(draft(), { type: 'cancel', nowMs: 1 }).state, 'cancelled');
  const timedOut = transitionSession(running(), { type: 'time_out', nowMs: 5 });
  assert.equal(timedOut.state, 'timed_out');
  const reopened = transitionSession(timedOut, { type: 'retry', nowMs: 6 });
  assert.equal(reopened.state, 'running');
  assert.equal(reopened.finishedAt, undefined);
  const partial = transitionSession(running(), { type: 'finish', outcome: 'partially_completed', nowMs: 5 });
  assert.equal(transitionSession(partial, { type: 'retry', nowMs: 6 }).state, 'running');
  const cancelled = transitionSession(running(), { type: 'cancel', reason: 'user', nowMs: 5 });
  assert.equal(cancelled.error, 'user');
  assert.equal(
    transitionSession(cancelled, { type: 'retry', nowMs: 6 }).state,
    'running',
    'a cancelled session that had started can be retried',
  );
  const cancelledDraft = transitionSession(draft(), { type: 'cancel', nowMs: 2 });
  conflict(
    () => transitionSession(cancelledDraft, { type: 'retry', nowMs: 6 }),
    /cancelled → running \(retry\): it was cancelled before it started/,
  );
  assert.equal(transitionSession(draft(), { type: 'fail', error: 'planner timed out', nowMs: 1 }).error, 'planner timed out');
});

const states = (...s: TaskState[]) => s.map((state) => ({ state }));

test('the session outcome is derived from its tasks', () => {
  assert.equal(deriveSessionOutcome(states('succeeded', 'running')), undefined);
  assert.equal(deriveSessionOutcome(states('succeeded', 'blocked')), undefined);
  assert.equal(deriveSessionOutcome(states('succeeded', 'succeeded')), 'completed');
  assert.equal(deriveSessionOutcome(states('succeeded', 'failed', 'skipped')), 'partially_completed');
  assert.equal(deriveSessionOutcome(states('succeeded', 'cancelled')), 'partially_completed');
  assert.equal(deriveSessionOutcome(states('failed', 'skipped')), 'failed');
  assert.equal(deriveSessionOutcome(states('cancelled', 'cancelled')), 'cancelled');
  assert.equal(deriveSessionOutcome(states('cancelled', 'failed')), 'failed');
  assert.equal(deriveSessionOutcome([]), 'completed');
  assert.deepEqual(countTasks(states('failed', 'failed', 'ready')), {
    total: 3,
    pending: 0,
    ready: 1,
    running: 0,
    blocked: 0,
    succeeded: 0,
    failed: 2,
    cancelled: 0,
    skipped: 0,
  });
});

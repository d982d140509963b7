import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyUsage } from '../agentEvent';
import { reserve } from './budget';
import { conflictError, conflictQuestion, finishTask, needsMerge, type FinishInput, type MergeOutcome, type RunEnd } from './finishRules';
import { tryAcquire, type LeaseTable } from './lease';
import { tasksFromPlan } from './plan';
import { newAgentHealth, recordDispatch, type AgentHealth } from './routing';
import { newSession, transitionSession, type Session } from './sessionState';
import { transitionTask, type Task } from './taskState';
import { templatePlan } from './templatePlanner';

const usage = { inputTokens: 100, outputTokens: 50, reasoningTokens: 0, cacheReadTokens: 0, cost: 0.01 };
const branch = 'orchestrator/s/a';

/** Session `s` running a → b (b after a), plus c independent; `a` is running (attempt 1 of 3) with a lease and a reservation. */
function fixture(o: { attempts?: number; sessionState?: 'running' | 'awaiting_approval' | 'paused'; mode?: 'read' | 'write' } = {}) {
  const plan = templatePlan(['- [a] A {files: a.txt}: do a', '- [b] B (after: a): do b', '- [c] C: do c'].join('\n'));
  assert.ok(plan.ok);
  let tasks: Task[] = tasksFromPlan(plan.plan, { sessionId: 's', tenantId: 'local', nowMs: 0, makeId: (id) => id });
  tasks = tasks.map((t) => {
    let x = t.dependsOn.length ? t : transitionTask(t, { type: 'ready', nowMs: 1 });
    if (x.id === 'a') {
      x = { ...x, mode: o.mode ?? 'write', attempts: (o.attempts ?? 1) - 1 };
      x = transitionTask(x, { type: 'dispatch', agentId: 'opencode', routeReason: 'only agent', branch, nowMs: 2 });
    }
    return x;
  });
  let session: Session = transitionSession(newSession({ id: 's', tenantId: 'local', goal: 'g', cwd: '/repo', nowMs: 0 }), {
    type: 'set_plan',
    plan: plan.plan,
    nowMs: 0,
  });
  session = transitionSession(session, { type: 'approve', nowMs: 1 });
  const reserved = reserve(session.budget, 'a', { tokens: 1000, money: 0 }, 2);
  assert.ok(reserved.ok);
  session = { ...session, budget: reserved.state };
  if (o.sessionState === 'paused') session = transitionSession(session, { type: 'pause', nowMs: 3 });
  if (o.sessionState === 'awaiting_approval')
    session = transitionSession(session, { type: 'await_approval', approval: { kind: 'other', message: 'a question' }, nowMs: 3 });
  const acquired = tryAcquire({ leases: [] }, { taskId: 'a', repo: '/repo', globs: ['a.txt'], mode: 'write' }, 2, 60_000);
  assert.ok(acquired.ok);
  const leases: LeaseTable = acquired.table;
  const agentHealth: Record<string, AgentHealth> = { opencode: recordDispatch(newAgentHealth(), 'a') };
  return { session, tasks, leases, agentHealth };
}

const succeeded = (summary = 'done a'): RunEnd['result'] => ({ status: 'succeeded', summary, usage });
const merged = (changedFiles = ['a.txt'], outsideLease: string[] = []): MergeOutcome => ({ kind: 'merged', changedFiles, outsideLease });

function finish(f: ReturnType<typeof fixture>, run: RunEnd, merge?: MergeOutcome, extra: Partial<FinishInput<Session, Task>> = {}) {
  return finishTask({ ...f, taskId: 'a', branch, run, merge, nowMs: 10, ...extra });
}
const byId = (tasks: readonly Task[], id: string) => tasks.find((t) => t.id === id)!;

test('needsMerge: only a run that succeeded (and did not throw) is committed and merged', () => {
  assert.equal(needsMerge({ result: succeeded(), cancelRequested: false }), true);
  assert.equal(needsMerge({ result: succeeded(), failure: 'boom', cancelRequested: false }), false);
  assert.equal(needsMerge({ result: { status: 'failed', summary: '', usage }, cancelRequested: false }), false);
  assert.equal(needsMerge({ cancelRequested: true }), false);
});

test('succeeded and merged: the task succeeds with its files and usage, frees its lease, promotes its dependent, charges the session', () => {
  const f = fixture();
  const d = finish(f, { result: succeeded(), cancelRequested: false }, merged());
  const a = byId(d.tasks, 'a');
  assert.equal(d.kind, 'finished');
  assert.equal(a.state, 'succeeded');
  assert.deepEqual(a.result, { summary: 'done a', changedFiles: ['a.txt'], usage });
  assert.equal(byId(d.tasks, 'b').state, 'ready', 'the dependent is promoted');
  assert.equal(byId(d.tasks, 'c').state, 'ready', 'an unrelated task is untouched');
  assert.deepEqual(d.leases.leases, [], 'the lease is released');
  assert.equal(d.health.running, 0);
  assert.equal(d.health.successes, 1);
  assert.deepEqual(d.session.budget.spent, { tokens: 150, money: 0.01 });
  assert.deepEqual(d.session.budget.reserved, {}, 'the reservation is settled');
  assert.equal(d.session.usage.inputTokens, 100);
  assert.equal(d.session.state, 'running', 'b and c are still to run');
  assert.equal(d.error, undefined);
  assert.equal(d.removeWorktree, true);
});

test('the last task to succeed finishes the session as completed', () => {
  const f = fixture();
  f.tasks = f.tasks.filter((t) => t.id === 'a');
  const d = finish(f, { result: succeeded(), cancelRequested: false }, merged());
  assert.equal(d.session.state, 'completed');
  assert.equal(d.session.finishedAt, 10);
});

test('files touched outside the lease are noted in the summary; a writing task that changed nothing gets a warning', () => {
  const outside = finish(fixture(), { result: succeeded(), cancelRequested: false }, merged(['a.txt', 'z.txt'], ['z.txt']));
  assert.equal(byId(outside.tasks, 'a').result?.summary, 'done a (touched outside its lease: z.txt; the merge checks them)');
  const nothing = finish(fixture(), { result: succeeded(), cancelRequested: false }, merged([]));
  assert.deepEqual(byId(nothing.tasks, 'a').result?.warnings, ['the task changed no files']);
  const reader = finish(fixture({ mode: 'read' }), { result: succeeded(), cancelRequested: false }, merged([]));
  assert.equal(byId(reader.tasks, 'a').result?.warnings, undefined, 'a read-only task is expected to change nothing');
});

test('a merge conflict fails the task without a retry, keeps its branch, skips its dependent and asks the user', () => {
  const d = finish(fixture(), { result: succeeded(), cancelRequested: false }, { kind: 'conflict', files: ['a.txt', 'x.txt'] });
  const a = byId(d.tasks, 'a');
  assert.equal(a.state, 'failed', 'not retried automatically although attempts are left');
  assert.equal(a.lastError, conflictError(['a.txt', 'x.txt'], branch));
  assert.match(
    a.lastError!,
    /merge conflict with the integration branch in a\.txt, x\.txt; the task's work is kept on branch orchestrator\/s\/a/,
  );
  assert.equal(byId(d.tasks, 'b').state, 'skipped');
  assert.equal(d.session.state, 'awaiting_approval');
  assert.equal(
    d.session.approval?.message,
    'Task a conflicts with work already merged (a.txt, x.txt). Its branch orchestrator/s/a is kept. Approve to continue without it, or resolve and retry.',
  );
  assert.equal(d.session.approval?.message, conflictQuestion('a', ['a.txt', 'x.txt'], branch));
  assert.equal(d.health.failures, 1);
  assert.deepEqual(d.leases.leases, []);
  assert.equal(d.removeWorktree, false);
});

test('a conflict with no file names still says so; a paused session is not made to wait', () => {
  const d = finish(fixture({ sessionState: 'paused' }), { result: succeeded(), cancelRequested: false }, { kind: 'conflict', files: [] });
  assert.match(byId(d.tasks, 'a').lastError!, /in unknown files/);
  assert.equal(d.session.state, 'paused');
});

test('a failed commit or merge fails the task and retries it after a backoff', () => {
  const d = finish(fixture(), { result: succeeded(), cancelRequested: false }, { kind: 'failed', message: 'index.lock exists' });
  const a = byId(d.tasks, 'a');
  assert.equal(a.state, 'ready', 'retried: back to ready with a backoff');
  assert.equal(a.lastError, 'commit or merge failed: index.lock exists');
  assert.ok(a.notBeforeMs! > 10);
  assert.equal(d.error, 'commit or merge failed: index.lock exists');
  assert.equal(d.session.state, 'running');
});

test('a failed run with attempts left is retried; its usage still counts', () => {
  const d = finish(fixture(), {
    result: { status: 'failed', summary: '', usage, error: { reason: 'model_error', message: 'HTTP 500' } },
    cancelRequested: false,
  });
  const a = byId(d.tasks, 'a');
  assert.equal(a.state, 'ready');
  assert.equal(a.lastError, 'model_error: HTTP 500');
  assert.equal(byId(d.tasks, 'b').state, 'pending', 'the dependent waits');
  assert.equal(d.health.consecutiveFailures, 1);
  assert.equal(d.health.lastError, 'model_error: HTTP 500');
  assert.deepEqual(d.session.budget.spent, { tokens: 150, money: 0.01 });
});

test('a failed run on its last attempt fails finally: its dependent is skipped and the session ends when nothing is left', () => {
  const f = fixture({ attempts: 3 });
  f.tasks = f.tasks.filter((t) => t.id !== 'c');
  const d = finish(f, {
    result: { status: 'failed', summary: '', usage, error: { reason: 'timeout', message: 'idle' } },
    cancelRequested: false,
  });
  assert.equal(byId(d.tasks, 'a').state, 'failed');
  assert.equal(byId(d.tasks, 'b').state, 'skipped');
  assert.equal(d.session.state, 'failed');
});

test('a failure without a reason or message still names one', () => {
  const d = finish(fixture({ attempts: 3 }), { result: { status: 'failed', summary: '', usage }, cancelRequested: false });
  assert.equal(byId(d.tasks, 'a').lastError, 'error: the agent failed');
});

test('a run that threw fails the task with the exception message', () => {
  const d = finish(fixture({ attempts: 3 }), { failure: 'git worktree add failed', cancelRequested: false });
  assert.equal(byId(d.tasks, 'a').lastError, 'git worktree add failed');
  assert.equal(d.error, 'git worktree add failed');
});

test('a cancel that was asked for cancels the task and its dependent, and does not count against the agent', () => {
  const d = finish(fixture(), { result: { status: 'cancelled', summary: 'partial', usage }, cancelRequested: true });
  assert.equal(byId(d.tasks, 'a').state, 'cancelled');
  assert.equal(byId(d.tasks, 'b').state, 'cancelled');
  assert.equal(d.health.running, 0);
  assert.equal(d.health.failures, 0);
  assert.equal(d.error, undefined);
  assert.equal(d.removeWorktree, false);
});

test('a run cancelled before the agent started (no result) is a cancel when it was asked for', () => {
  const d = finish(fixture(), { failure: 'cancelled before the agent started', cancelRequested: true });
  assert.equal(byId(d.tasks, 'a').state, 'cancelled');
});

test('a run that ended cancelled without anyone asking is a failure: the agent stopped without a final answer', () => {
  const d = finish(fixture({ attempts: 3 }), { result: { status: 'cancelled', summary: '', usage }, cancelRequested: false });
  assert.equal(byId(d.tasks, 'a').state, 'failed');
  assert.equal(byId(d.tasks, 'a').lastError, 'the agent stopped without a final answer');
  assert.equal(d.health.failures, 1);
});

test('an agent that cannot start: the attempt is refunded, the lease and reservation freed, and the session asks the user', () => {
  const f = fixture();
  const run: RunEnd = {
    result: {
      status: 'failed',
      summary: '',
      usage: emptyUsage(),
      error: { reason: 'not_installed', message: 'opencode is not installed' },
    },
    cancelRequested: false,
  };
  const d = finish(f, run, undefined, { unavailableQuestion: (id) => `${id} is missing; install it?` });
  const a = byId(d.tasks, 'a');
  assert.equal(d.kind, 'requeued');
  assert.equal(a.state, 'ready');
  assert.equal(a.attempts, 0, 'the attempt is refunded');
  assert.equal(a.lastError, 'not_installed: opencode is not installed');
  assert.deepEqual(d.leases.leases, []);
  assert.deepEqual(d.session.budget.reserved, {});
  assert.equal(d.session.state, 'awaiting_approval');
  assert.equal(d.session.approval?.message, 'opencode is missing; install it?');
  assert.equal(d.health.running, 0);
  assert.equal(d.health.failures, 0, 'not held against the agent');
  const fallback = finish(fixture(), run);
  assert.equal(
    fallback.session.approval?.message,
    'opencode cannot start: not_installed: opencode is not installed. Fix it, then approve to continue.',
  );
});

test('a session already waiting for the user stays waiting when its last task ends; approving it finishes it', () => {
  const f = fixture({ sessionState: 'awaiting_approval' });
  f.tasks = f.tasks.filter((t) => t.id === 'a');
  const d = finish(f, { result: succeeded(), cancelRequested: false }, merged());
  assert.equal(d.session.state, 'awaiting_approval');
  assert.equal(d.session.approval?.message, 'a question');
});

test('a task the session already ended (cancelled) keeps its state; its lease and agent slot are still freed', () => {
  const f = fixture();
  f.tasks = f.tasks.map((t) => (t.id === 'a' ? transitionTask(t, { type: 'cancel', reason: 'session cancelled', nowMs: 5 }) : t));
  const d = finish(f, { result: succeeded(), cancelRequested: true }, merged());
  assert.equal(byId(d.tasks, 'a').state, 'cancelled');
  assert.deepEqual(d.leases.leases, []);
  assert.equal(d.health.running, 0);
});

test('stored fields beyond the domain task and session are kept', () => {
  const f = fixture();
  const tasks = f.tasks.map((t) => ({ ...t, runId: 'r1' }));
  const session = { ...f.session, model: 'p/m' };
  const d = finishTask({
    ...f,
    tasks,
    session,
    taskId: 'a',
    branch,
    run: { result: succeeded(), cancelRequested: false },
    merge: merged(),
    nowMs: 10,
  });
  assert.equal(byId(d.tasks, 'a').state, 'succeeded');
  assert.equal(d.tasks.find((t) => t.id === 'a')!.runId, 'r1');
  assert.equal(d.session.model, 'p/m');
});

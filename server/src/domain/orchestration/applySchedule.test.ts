import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applySchedule } from './applySchedule';
import type { BudgetCrossing } from './budget';
import { tasksFromPlan } from './plan';
import { newAgentHealth } from './routing';
import type { SchedulerDecision } from './scheduler';
import { newSession, transitionSession, type Session } from './sessionState';
import { transitionTask, type Task } from './taskState';
import { templatePlan } from './templatePlanner';

/** Session `s` running a, b → c (c after b), all of a and b ready. */
function fixture() {
  const plan = templatePlan(['- [a] A: do a', '- [b] B: do b', '- [c] C (after: b): do c'].join('\n'));
  assert.ok(plan.ok);
  const tasks: Task[] = tasksFromPlan(plan.plan, { sessionId: 's', tenantId: 'local', nowMs: 0, makeId: (id) => id }).map((t) =>
    t.dependsOn.length ? t : transitionTask(t, { type: 'ready', nowMs: 1 }),
  );
  let session: Session = newSession({ id: 's', tenantId: 'local', goal: 'g', cwd: '/repo', nowMs: 0 });
  session = transitionSession(transitionSession(session, { type: 'set_plan', plan: plan.plan, nowMs: 0 }), { type: 'approve', nowMs: 1 });
  return { sessions: [{ ...session, model: 'p/m' }], tasks: tasks.map((t) => ({ ...t, runId: undefined as string | undefined })) };
}

const empty = (): SchedulerDecision => ({
  dispatches: [],
  blocked: [],
  approvals: [],
  unavailable: [],
  unroutable: [],
  waiting: [],
  leases: { leases: [] },
  budgets: {},
  agents: {},
});
const branchOf = (sessionId: string, planId: string) => `orchestrator/${sessionId}/${planId}`;
const byId = (tasks: readonly Task[], id: string) => tasks.find((t) => t.id === id)!;

test('a dispatched task runs on its branch; the decision’s leases and agent health are taken; the session is touched', () => {
  const f = fixture();
  const lease = { taskId: 'a', repo: '/repo', globs: [], mode: 'write' as const, acquiredAt: 5, expiresAt: 100 };
  const decision: SchedulerDecision = {
    ...empty(),
    dispatches: [
      {
        taskId: 'a',
        sessionId: 's',
        agentId: 'opencode',
        routeReason: 'only agent',
        probe: false,
        lease,
        reservation: { tokens: 1, money: 0 },
      },
    ],
    leases: { leases: [lease] },
    agents: { opencode: { ...newAgentHealth(), running: 1 } },
  };
  const out = applySchedule({ ...f, agentHealth: { other: newAgentHealth() }, decision, branchOf, nowMs: 5 });
  const a = byId(out.tasks, 'a');
  assert.equal(a.state, 'running');
  assert.equal(a.branch, 'orchestrator/s/a');
  assert.equal(a.agentId, 'opencode');
  assert.equal(a.attempts, 1);
  assert.equal(byId(out.tasks, 'b').state, 'ready', 'an undecided task is untouched');
  assert.deepEqual(out.leases.leases, [lease]);
  assert.deepEqual(Object.keys(out.agentHealth).sort(), ['opencode', 'other'], 'health of other agents is kept');
  assert.deepEqual([...out.touched], ['s']);
  assert.equal(out.sessions[0].model, 'p/m', 'stored fields of the session are kept');
});

test('a task blocked on a lease waits; an unroutable task fails and its dependents are skipped', () => {
  const f = fixture();
  const decision: SchedulerDecision = {
    ...empty(),
    blocked: [{ taskId: 'a', sessionId: 's', reason: 'a.txt is leased by x', conflictsWith: ['x'] }],
    unroutable: [{ taskId: 'b', sessionId: 's', failure: 'no_capable_agent', message: 'no agent can do rust' }],
  };
  const out = applySchedule({ ...f, agentHealth: {}, decision, branchOf, nowMs: 5 });
  assert.equal(byId(out.tasks, 'a').state, 'blocked');
  assert.deepEqual(byId(out.tasks, 'a').blocked, { on: 'lease', reason: 'a.txt is leased by x', since: 5 });
  assert.equal(byId(out.tasks, 'b').state, 'failed');
  assert.equal(byId(out.tasks, 'b').lastError, 'no agent can do rust');
  assert.equal(byId(out.tasks, 'c').state, 'skipped', 'the dependent of a task no agent can take is skipped');
});

test('a budget crossing or an agent that cannot start makes a running session wait for the user', () => {
  const crossing: BudgetCrossing = {
    limit: 'tokens',
    limitValue: 10,
    used: 9,
    reserved: 0,
    requested: 5,
    message: 'tokens budget would be crossed',
  };
  const budget = fixture();
  const withBudget = applySchedule({
    ...budget,
    agentHealth: {},
    decision: { ...empty(), approvals: [{ sessionId: 's', taskId: 'a', crossing }] },
    branchOf,
    nowMs: 5,
  });
  assert.equal(withBudget.sessions[0].state, 'awaiting_approval');
  assert.deepEqual(withBudget.sessions[0].approval, { kind: 'budget', message: 'tokens budget would be crossed', crossing });

  const agent = fixture();
  const decision = { ...empty(), unavailable: [{ sessionId: 's', taskId: 'a', message: 'every capable agent is unavailable' }] };
  const asked = applySchedule({ ...agent, agentHealth: {}, decision, branchOf, unavailableQuestion: 'Install OpenCode?', nowMs: 5 });
  assert.equal(asked.sessions[0].approval?.message, 'Install OpenCode?');
  const fallback = applySchedule({ ...agent, agentHealth: {}, decision, branchOf, nowMs: 5 });
  assert.equal(fallback.sessions[0].approval?.message, 'every capable agent is unavailable');
  assert.deepEqual([...fallback.touched], ['s']);
});

test('a session that is not running is not made to wait, and nothing changes without a decision', () => {
  const f = fixture();
  const paused = [transitionSession(f.sessions[0], { type: 'pause', nowMs: 2 })];
  const crossing: BudgetCrossing = { limit: 'money', limitValue: 1, used: 1, reserved: 0, requested: 1, message: 'money' };
  const out = applySchedule({
    ...f,
    sessions: paused,
    agentHealth: {},
    decision: { ...empty(), approvals: [{ sessionId: 's', crossing }] },
    branchOf,
    nowMs: 5,
  });
  assert.equal(out.sessions[0].state, 'paused');
  const none = applySchedule({ ...f, agentHealth: {}, decision: empty(), branchOf, nowMs: 5 });
  assert.deepEqual(none.tasks, f.tasks);
  assert.deepEqual(none.sessions, f.sessions);
  assert.equal(none.touched.size, 0);
});

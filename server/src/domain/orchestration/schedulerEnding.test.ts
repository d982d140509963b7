/** The scheduler and tasks whose agent turn has ended while their commit and merge run (`ending`). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newBudget } from './budget';
import { promoteReady } from './dagProgress';
import { emptyLeaseTable } from './lease';
import { tasksFromPlan } from './plan';
import { newAgentHealth, type AgentHealth } from './routing';
import { nextDispatches, type SchedulerInput, type SchedulerSession } from './scheduler';
import { transitionTask, type Task } from './taskState';
import { templatePlan } from './templatePlanner';

const sess = (id: string, maxParallel?: number): SchedulerSession => ({
  id,
  state: 'running',
  priority: 2,
  createdAt: 0,
  cwd: `/repo/${id}`,
  budget: newBudget(maxParallel ? { maxParallel } : {}),
});
function tasksOf(sessionId: string, lines: string[]): Task[] {
  const r = templatePlan(lines.join('\n'));
  assert.ok(r.ok);
  return promoteReady(tasksFromPlan(r.plan, { sessionId, tenantId: 'local', nowMs: 0 }), 0).tasks;
}
const running = (t: Task): Task => transitionTask(t, { type: 'dispatch', agentId: 'a1', routeReason: 'only', nowMs: 1 });
const ids = (d: { dispatches: { taskId: string }[] }) => d.dispatches.map((x) => x.taskId);

/** Session `s` with t0 running (dispatched: its write lease on f0.ts and one agent slot taken) and the rest ready. */
function oneRunning(lines: string[], over: Partial<SchedulerInput> = {}, maxConcurrency = 10): SchedulerInput {
  const [t0, ...rest] = tasksOf('s', lines);
  const first = nextDispatches({
    sessions: [sess('s')],
    tasks: [t0],
    leases: emptyLeaseTable(),
    agents: [{ profile: { id: 'a1', capabilities: ['*'], maxConcurrency }, health: newAgentHealth() }],
    limits: { global: 10 },
    nowMs: 0,
    leaseTtlMs: 60_000,
  });
  assert.deepEqual(ids(first), ['s:t0']);
  const health: AgentHealth = first.agents.a1;
  return {
    sessions: [sess('s')],
    tasks: [running(t0), ...rest],
    leases: first.leases,
    agents: [{ profile: { id: 'a1', capabilities: ['*'], maxConcurrency }, health }],
    limits: { global: 10 },
    nowMs: 2,
    leaseTtlMs: 60_000,
    ...over,
  };
}

const two = ['- [t0] T0 {files: f0.ts}: x', '- [t1] T1 {files: f1.ts}: x'];

test('ending: a task whose turn ended frees its session slot (perSession and the budget maxParallel) and the global slot', () => {
  for (const over of [{ limits: { global: 10, perSession: 1 } }, { sessions: [sess('s', 1)] }, { limits: { global: 1 } }]) {
    assert.deepEqual(ids(nextDispatches(oneRunning(two, over))), [], 'running: its slot is taken');
    assert.deepEqual(ids(nextDispatches(oneRunning(two, { ...over, ending: new Set(['s:t0']) }))), ['s:t1'], 'ending: the slot is free');
  }
});

test("ending: the task's agent slot is free for routing, and the recorded running count stays the stored one", () => {
  const busy = nextDispatches(oneRunning(two, {}, 1));
  assert.deepEqual(ids(busy), []);
  assert.match(busy.waiting[0]?.reason ?? '', /at capacity/);
  const d = nextDispatches(oneRunning(two, { ending: new Set(['s:t0']) }, 1));
  assert.deepEqual(ids(d), ['s:t1']);
  // t0 still counts in the store until its end is recorded (finishTask takes it off): 1 + the new dispatch.
  assert.equal(d.agents.a1.running, 2);
});

test('ending: the task keeps its lease, so a task on the same files still waits', () => {
  const same = ['- [t0] T0 {files: f0.ts}: x', '- [t1] T1 {files: f0.ts}: x', '- [t2] T2 {files: f2.ts}: x'];
  const d = nextDispatches(oneRunning(same, { limits: { global: 10, perSession: 1 }, ending: new Set(['s:t0']) }));
  assert.deepEqual(
    d.blocked.map((b) => [b.taskId, b.conflictsWith]),
    [['s:t1', ['s:t0']]],
  );
  assert.deepEqual(ids(d), ['s:t2']);
});

test("ending: the task still counts for its owners' limits", () => {
  const owners = { s: ['user:alice'] };
  const limits = { global: 10, perOwner: { 'user:alice': 1 } };
  const d = nextDispatches(oneRunning(two, { limits, owners, ending: new Set(['s:t0']) }));
  assert.deepEqual(ids(d), []);
  assert.match(d.waiting[0]?.reason ?? '', /user:alice is at its limit of 1/);
});

test('ending: an id of a task that is not running changes nothing', () => {
  const d = nextDispatches(oneRunning(two, { limits: { global: 10, perSession: 1 }, ending: new Set(['s:t1', 'other']) }));
  assert.deepEqual(ids(d), []);
});

test("ending: the task still counts for the tenant's active-task limit (limits.tenant), not for the global one", () => {
  const ending = new Set(['s:t0']);
  assert.deepEqual(ids(nextDispatches(oneRunning(two, { limits: { global: 1, tenant: 1 }, ending }))), []);
  assert.deepEqual(ids(nextDispatches(oneRunning(two, { limits: { global: 1, tenant: 2 }, ending }))), ['s:t1']);
  const three = [...two, '- [t2] T2 {files: f2.ts}: x'];
  assert.deepEqual(ids(nextDispatches(oneRunning(three, { limits: { global: 10, tenant: 2 }, ending }))), ['s:t1']);
});

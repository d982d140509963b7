/** The scheduler's per-owner limit (team server: a user's or an API key's concurrent tasks). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newBudget } from './budget';
import { promoteReady } from './dagProgress';
import { emptyLeaseTable } from './lease';
import { tasksFromPlan } from './plan';
import { newAgentHealth } from './routing';
import { nextDispatches, type SchedulerInput, type SchedulerSession } from './scheduler';
import { transitionTask, type Task } from './taskState';
import { templatePlan } from './templatePlanner';

const sess = (id: string, createdAt = 0): SchedulerSession => ({
  id,
  state: 'running',
  priority: 2,
  createdAt,
  cwd: `/repo/${id}`,
  budget: newBudget({}),
});
function tasksOf(sessionId: string, n: number): Task[] {
  const r = templatePlan(Array.from({ length: n }, (_, i) => `- [t${i}] T${i} {files: f${i}.ts}: x`).join('\n'));
  assert.ok(r.ok);
  return promoteReady(tasksFromPlan(r.plan, { sessionId, tenantId: 'local', nowMs: 0 }), 0).tasks;
}
const input = (over: Partial<SchedulerInput>): SchedulerInput => ({
  sessions: [],
  tasks: [],
  leases: emptyLeaseTable(),
  agents: [{ profile: { id: 'a1', capabilities: ['*'], maxConcurrency: 10 }, health: newAgentHealth() }],
  limits: { global: 10 },
  nowMs: 0,
  leaseTtlMs: 60_000,
  ...over,
});
const ids = (d: { dispatches: { taskId: string }[] }) => d.dispatches.map((x) => x.taskId);

test('per owner: a user at its limit waits while another user of the tenant runs several tasks at once', () => {
  // Alice's session is older, so her tasks come first in the order; the limit must not stop Bob's behind them.
  const tasks = [...tasksOf('sa', 3), ...tasksOf('sb', 3)];
  const d = nextDispatches(
    input({
      sessions: [sess('sa', 0), sess('sb', 1)],
      tasks,
      limits: { global: 10, perOwner: { 'user:alice': 1 } },
      owners: { sa: ['user:alice', 'key:ka'], sb: ['user:bob', 'key:kb'] },
    }),
  );
  assert.deepEqual(ids(d), ['sa:t0', 'sb:t0', 'sb:t1', 'sb:t2']);
  assert.deepEqual(
    d.waiting.map((w) => w.taskId),
    ['sa:t1', 'sa:t2'],
  );
  assert.match(d.waiting[0].reason, /user:alice is at its limit of 1 concurrent task/);
});

test('per owner: a running task counts from dispatch until it ends; then the next one starts', () => {
  const [t0, t1] = tasksOf('sa', 2);
  const running = transitionTask(t0, { type: 'dispatch', agentId: 'a1', routeReason: 'only', nowMs: 1 });
  const owners = { sa: ['user:alice'] };
  const limits = { global: 10, perOwner: { 'user:alice': 1 } };
  assert.deepEqual(ids(nextDispatches(input({ sessions: [sess('sa')], tasks: [running, t1], limits, owners }))), []);
  // Blocked on a permission while running still counts.
  const asking = { ...running, state: 'blocked' as const, blocked: { on: 'permission' as const, reason: 'ask', since: 2 } };
  assert.deepEqual(ids(nextDispatches(input({ sessions: [sess('sa')], tasks: [asking, t1], limits, owners }))), []);
  // Ended (terminal tasks are ignored): the next one goes.
  const ended = { ...running, state: 'succeeded' as const };
  assert.deepEqual(ids(nextDispatches(input({ sessions: [sess('sa')], tasks: [ended, t1], limits, owners }))), ['sa:t1']);
});

test('per owner: a key limit applies across the sessions of that key; the tenant (global) limit still applies', () => {
  const tasks = [...tasksOf('s1', 2), ...tasksOf('s2', 2), ...tasksOf('s3', 4)];
  const owners = { s1: ['user:u', 'key:k1'], s2: ['user:u', 'key:k1'], s3: ['user:v', 'key:k2'] };
  const d = nextDispatches(
    input({ sessions: [sess('s1', 0), sess('s2', 1), sess('s3', 2)], tasks, limits: { global: 4, perOwner: { 'key:k1': 2 } }, owners }),
  );
  assert.deepEqual(ids(d), ['s1:t0', 's2:t0', 's3:t0', 's3:t1']);
  // The global limit (the tenant's) caps the total even when owners have room.
  const g = nextDispatches(
    input({ sessions: [sess('s3')], tasks: tasksOf('s3', 4), limits: { global: 2, perOwner: { 'user:v': 3 } }, owners }),
  );
  assert.equal(g.dispatches.length, 2);
  // A limit of 0 holds every task of that owner; sessions with no owner are not limited.
  const z = nextDispatches(
    input({
      sessions: [sess('s1'), sess('s9', 5)],
      tasks: [...tasksOf('s1', 1), ...tasksOf('s9', 2)],
      limits: { global: 10, perOwner: { 'user:u': 0 } },
      owners,
    }),
  );
  assert.deepEqual(ids(z), ['s9:t0', 's9:t1']);
});

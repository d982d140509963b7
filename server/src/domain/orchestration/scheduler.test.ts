import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyUsage } from '../agentEvent';
import { newBudget, reconcile, type BudgetLimits } from './budget';
import { afterTaskFinished, promoteReady } from './dagProgress';
import { emptyLeaseTable, overlaps, release, type LeaseTable } from './lease';
import { tasksFromPlan } from './plan';
import { newAgentHealth, recordOutcome, type AgentCandidate } from './routing';
import { leaseRequestFor, nextDispatches, type SchedulerInput, type SchedulerSession } from './scheduler';
import { transitionTask, type Task } from './taskState';
import { templatePlan } from './templatePlanner';

const agent = (id: string, maxConcurrency = 10, capabilities = ['*']): AgentCandidate => ({
  profile: { id, capabilities, maxConcurrency },
  health: newAgentHealth(),
});
const sess = (id: string, extra: Partial<SchedulerSession> = {}, limits: BudgetLimits = {}): SchedulerSession => ({
  id,
  state: 'running',
  priority: 2,
  createdAt: 0,
  cwd: `/repo/${id}`,
  budget: newBudget(limits),
  ...extra,
});
function tasksOf(sessionId: string, text: string): Task[] {
  const r = templatePlan(text);
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  return promoteReady(tasksFromPlan(r.plan, { sessionId, tenantId: 'local', nowMs: 0 }), 0).tasks;
}
const input = (over: Partial<SchedulerInput>): SchedulerInput => ({
  sessions: [],
  tasks: [],
  leases: emptyLeaseTable(),
  agents: [agent('a1')],
  limits: { global: 10 },
  nowMs: 0,
  leaseTtlMs: 60_000,
  ...over,
});

test('lease requests: writes without predictions lease the whole repo; reads with none lease nothing', () => {
  assert.deepEqual(leaseRequestFor({ id: 't', mode: 'write', expectedFiles: [] }, '/r').globs, ['**']);
  assert.deepEqual(leaseRequestFor({ id: 't', mode: 'read', expectedFiles: [] }, '/r').globs, []);
  assert.equal(leaseRequestFor({ id: 't', mode: 'read', expectedFiles: ['a'] }, '/r').mode, 'read');
});

test('two tasks predicted to touch the same file never start together; the second is blocked with the reason', () => {
  const tasks = tasksOf('s', '- [a] A {files: src/x.ts}: x\n- [b] B {files: src/*.ts}: y\n- [c] C {files: docs/c.md}: z');
  const d = nextDispatches(input({ sessions: [sess('s')], tasks }));
  assert.deepEqual(
    d.dispatches.map((x) => x.taskId),
    ['s:a', 's:c'],
  );
  assert.deepEqual(d.blocked, [
    { taskId: 's:b', sessionId: 's', reason: 'lease on src/*.ts overlaps s:a (write: src/x.ts)', conflictsWith: ['s:a'] },
  ]);
  assert.deepEqual(
    d.leases.leases.map((l) => l.taskId),
    ['s:a', 's:c'],
  );
  // once a's lease is released and b was marked blocked, b dispatches from blocked
  const blockedB = tasks.map((t) =>
    t.id === 's:b' ? transitionTask(t, { type: 'block', on: 'lease', reason: d.blocked[0]?.reason ?? '', nowMs: 1 }) : t,
  );
  const next = nextDispatches(
    input({ sessions: [sess('s')], tasks: blockedB.filter((t) => t.id === 's:b'), leases: release(d.leases, 's:a'), nowMs: 2 }),
  );
  assert.deepEqual(
    next.dispatches.map((x) => x.taskId),
    ['s:b'],
  );
});

test('concurrency: global, per session (and budget maxParallel) and per agent', () => {
  const many = (sid: string) => tasksOf(sid, Array.from({ length: 6 }, (_, i) => `- [t${i}] T${i} {files: f${i}.ts}: x`).join('\n'));
  const tasks = [...many('s1'), ...many('s2')];
  const g = nextDispatches(input({ sessions: [sess('s1'), sess('s2')], tasks, limits: { global: 3 } }));
  assert.equal(g.dispatches.length, 3);
  const p = nextDispatches(
    input({ sessions: [sess('s1'), sess('s2', {}, { maxParallel: 1 })], tasks, limits: { global: 10, perSession: 2 } }),
  );
  assert.deepEqual(p.dispatches.map((x) => x.sessionId).sort(), ['s1', 's1', 's2']);
  const a = nextDispatches(input({ sessions: [sess('s1')], tasks, agents: [agent('small', 2)], limits: { global: 10 } }));
  assert.equal(a.dispatches.length, 2);
  assert.equal(a.agents.small?.running, 2);
  assert.ok(a.waiting.length >= 1 && /at capacity/.test(a.waiting[0]?.reason ?? ''));
  // tasks already running count against the limits
  const running = tasks.map((t, i) => (i < 2 ? transitionTask(t, { type: 'dispatch', agentId: 'a1', routeReason: '', nowMs: 0 }) : t));
  assert.equal(nextDispatches(input({ sessions: [sess('s1'), sess('s2')], tasks: running, limits: { global: 3 } })).dispatches.length, 1);
});

test('priority first, then topological order; paused sessions and backoff wait', () => {
  const low = tasksOf('low', '- [a] A {files: a}: x');
  const high = tasksOf('high', '- [a] A {files: a}: x');
  const d = nextDispatches(
    input({
      sessions: [sess('low', { priority: 4 }), sess('high', { priority: 0, createdAt: 5 })],
      tasks: [...low, ...high],
      limits: { global: 1 },
    }),
  );
  assert.deepEqual(
    d.dispatches.map((x) => x.taskId),
    ['high:a'],
  );
  const paused = nextDispatches(input({ sessions: [sess('low', { state: 'paused' })], tasks: low }));
  assert.equal(paused.dispatches.length, 0);
  const backoff = low.map((t) => ({ ...t, notBeforeMs: 100 }));
  assert.equal(nextDispatches(input({ sessions: [sess('low')], tasks: backoff, nowMs: 99 })).dispatches.length, 0);
  assert.equal(nextDispatches(input({ sessions: [sess('low')], tasks: backoff, nowMs: 100 })).dispatches.length, 1);
});

test('a budget crossing stops dispatch for that session with the numbers; other sessions go on', () => {
  const tasks = [
    ...tasksOf('poor', '- [a] A {files: a} {tokens: 6000}: x\n- [b] B {files: b} {tokens: 6000}: y'),
    ...tasksOf('rich', '- [a] A {files: a}: x'),
  ];
  const d = nextDispatches(input({ sessions: [sess('poor', {}, { tokens: 10_000 }), sess('rich')], tasks }));
  assert.deepEqual(d.dispatches.map((x) => x.taskId).sort(), ['poor:a', 'rich:a']);
  assert.equal(d.approvals.length, 1);
  const ap = d.approvals[0];
  assert.equal(ap?.sessionId, 'poor');
  assert.equal(ap?.taskId, 'poor:b');
  assert.deepEqual(
    [ap?.crossing.limit, ap?.crossing.limitValue, ap?.crossing.used, ap?.crossing.reserved, ap?.crossing.requested],
    ['tokens', 10_000, 0, 6_000, 6_000],
  );
  assert.equal(d.budgets.poor?.reservedTotal.tokens, 6_000);
  assert.equal(d.budgets.poor?.startedAtMs, 0, 'the wall clock starts at the first dispatch');
  // a session already over its budget gets an approval without dispatching
  const spent = reconcile(newBudget({ tokens: 100 }), 'x', { tokens: 500, money: 0 });
  const over = nextDispatches(
    input({ sessions: [{ ...sess('poor'), budget: spent }], tasks: tasks.filter((t) => t.sessionId === 'poor') }),
  );
  assert.equal(over.dispatches.length, 0);
  assert.equal(over.approvals[0]?.crossing.used, 500);
});

test('unroutable tasks are reported; nothing is committed for them', () => {
  const tasks = tasksOf('s', '- [g] GPU {caps: gpu} {files: a}: x');
  const d = nextDispatches(input({ sessions: [sess('s')], tasks, agents: [agent('cpu', 4, ['code'])] }));
  assert.equal(d.unroutable[0]?.failure, 'no_capable_agent');
  assert.deepEqual(d.leases.leases, [], 'the lease acquired for the check is not kept');
  assert.deepEqual(d.budgets, {});
});

test('simulation: a 5-task DAG runs in dependency order with independent tasks overlapping', () => {
  let tasks = tasksOf(
    's',
    [
      '- [lexer] Lexer {files: src/lexer.ts}: x',
      '- [ast] AST {files: src/ast.ts}: x',
      '- [parser] Parser (after: lexer, ast) {files: src/parser.ts}: x',
      '- [tests] Tests (after: parser) {files: test/**}: x',
      '- [docs] Docs (after: parser) {files: README.md}: x',
    ].join('\n'),
  );
  let leases: LeaseTable = emptyLeaseTable();
  let agents = [agent('a1', 4)];
  const waves: string[][] = [];
  for (let now = 1; tasks.some((t) => t.state !== 'succeeded'); now++) {
    assert.ok(now < 20, 'the run must finish');
    const d = nextDispatches(input({ sessions: [sess('s')], tasks, leases, agents, nowMs: now }));
    leases = d.leases;
    waves.push(d.dispatches.map((x) => x.taskId.slice(2)));
    const started = d.dispatches.map((x) => x.taskId);
    tasks = tasks.map((t) =>
      started.includes(t.id) ? transitionTask(t, { type: 'dispatch', agentId: 'a1', routeReason: '', nowMs: now }) : t,
    );
    for (const id of started) {
      tasks = tasks.map((t) =>
        t.id === id
          ? transitionTask(t, { type: 'succeed', result: { summary: '', changedFiles: [], usage: emptyUsage() }, nowMs: now })
          : t,
      );
      tasks = afterTaskFinished(tasks, id, now).tasks;
      leases = release(leases, id);
      agents = agents.map((a) => ({ ...a, health: recordOutcome(a.health, { taskId: id, ok: true }, now) }));
    }
  }
  assert.deepEqual(waves, [['lexer', 'ast'], ['parser'], ['tests', 'docs']]);
});

test('1,000 queued tasks across 100 sessions: limits, priorities and leases all hold', () => {
  const sessions: SchedulerSession[] = [];
  const tasks: Task[] = [];
  for (let s = 0; s < 100; s++) {
    const id = `s${String(s).padStart(3, '0')}`;
    sessions.push(sess(id, { priority: s % 5, createdAt: s, cwd: `/repo/${s % 10}` }));
    // 5 roots (two share a file) and 5 dependents: 10 tasks per session
    const lines = Array.from({ length: 5 }, (_, i) => `- [r${i}] Root ${i} {files: ${id}/${i === 1 ? 0 : i}.ts}: x`);
    for (let i = 0; i < 5; i++) lines.push(`- [d${i}] Dep ${i} (after: r${i}) {files: ${id}/d${i}.ts}: x`);
    tasks.push(...tasksOf(id, lines.join('\n')));
  }
  assert.equal(tasks.length, 1_000);
  const agents = Array.from({ length: 5 }, (_, i) => agent(`agent${i}`, 12));
  const d = nextDispatches(input({ sessions, tasks, agents, limits: { global: 50, perSession: 3 } }));
  assert.equal(d.dispatches.length, 50);
  const perSession = new Map<string, number>();
  for (const x of d.dispatches) perSession.set(x.sessionId, (perSession.get(x.sessionId) ?? 0) + 1);
  assert.ok([...perSession.values()].every((n) => n <= 3));
  const perAgent = new Map<string, number>();
  for (const x of d.dispatches) perAgent.set(x.agentId, (perAgent.get(x.agentId) ?? 0) + 1);
  assert.ok([...perAgent.values()].every((n) => n <= 12));
  // priority: 20 priority-0 sessions × 3 slots would exceed 50, so only priority-0 sessions start
  const prio = new Map(sessions.map((s) => [s.id, s.priority] as const));
  assert.ok(d.dispatches.every((x) => prio.get(x.sessionId) === 0));
  // only ready roots start, never a dependent, and no two dispatched leases overlap in one repo
  assert.ok(d.dispatches.every((x) => /:r\d$/.test(x.taskId)));
  for (const [i, x] of d.dispatches.entries())
    for (const y of d.dispatches.slice(i + 1)) {
      if (x.lease.repo === y.lease.repo) assert.equal(overlaps(x.lease.globs, y.lease.globs), false, `${x.taskId} vs ${y.taskId}`);
    }
  // the shared-file root is blocked, naming its holder
  assert.ok(d.blocked.some((b) => b.taskId.endsWith(':r1') && b.conflictsWith[0] === b.taskId.replace(':r1', ':r0')));
});

test('an agent that cannot start: the session is reported for a question, nothing is dispatched, no lease or attempt is taken', () => {
  const tasks = tasksOf('s', '- [a] A {files: a.txt}: x\n- [b] B {files: b.txt}: y');
  const down: AgentCandidate = {
    profile: { id: 'opencode', capabilities: ['*'], maxConcurrency: 4, unavailable: 'no OpenCode binary' },
    health: newAgentHealth(),
  };
  const d = nextDispatches(input({ sessions: [sess('s')], tasks, agents: [down] }));
  assert.deepEqual(d.dispatches, []);
  assert.deepEqual(d.unroutable, []);
  assert.deepEqual(d.unavailable, [{ sessionId: 's', taskId: 's:a', message: 'opencode: no OpenCode binary' }]);
  assert.deepEqual(d.leases.leases, []);
  assert.deepEqual(d.agents, {});
  assert.deepEqual(d.budgets, {});
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SessionView, TaskView } from '../../../protocol/session';
import { commandIds } from '../commands/ids';
import { commandFor, sessionsSnapshot, Throttle, type Clock } from './dashboardModel';

const task = (id: string, state: TaskView['state']): TaskView => ({
  id,
  planId: id.split(':')[1],
  title: id,
  prompt: '',
  dependsOn: [],
  expectedFiles: [],
  state,
  attempts: 1,
  maxAttempts: 2,
});
const session = (id: string, createdAt: string, tasks: TaskView[] = []): SessionView => ({
  id,
  goal: `goal ${id}`,
  cwd: '/r',
  state: 'running',
  priority: 2,
  tasks,
  budget: { limits: {}, spent: { tokens: 0, money: 0 }, reservedTotal: { tokens: 0, money: 0 } },
  usage: { inputTokens: 0, outputTokens: 0, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 },
  createdAt,
});

test('the snapshot lists sessions newest first and carries the chosen one in full, else the newest', () => {
  const a = session('a', '2026-01-01T00:00:00Z', [task('a:x', 'succeeded'), task('a:y', 'running'), task('a:z', 'pending')]);
  const b = session('b', '2026-01-02T00:00:00Z');
  const m = sessionsSnapshot([a, b], 'a', 7);
  assert.equal(m.seq, 7);
  assert.deepEqual(
    m.sessions.map((s) => s.id),
    ['b', 'a'],
  );
  assert.equal(m.selected?.id, 'a');
  assert.deepEqual(
    { tasks: m.sessions[1].tasks, done: m.sessions[1].done, running: m.sessions[1].running },
    { tasks: 3, done: 1, running: 1 },
  );
  assert.equal(sessionsSnapshot([a, b], 'gone', 8).selected?.id, 'b');
  assert.equal(sessionsSnapshot([], undefined, 9).selected, null);
});

test('commands map to the extension commands with session and task ids', () => {
  assert.deepEqual(commandFor({ type: 'dashboard/command', command: 'showLogs' }), { id: commandIds.showLogs, args: [] });
  assert.deepEqual(commandFor({ type: 'dashboard/command', command: 'applySession', sessionId: 's' }), {
    id: commandIds.applySession,
    args: ['s'],
  });
  assert.deepEqual(commandFor({ type: 'dashboard/command', command: 'cancelTask', sessionId: 's', taskId: 's:t' }), {
    id: 'orchestrator.cancelTask',
    args: ['s', 's:t'],
  });
  assert.deepEqual(commandFor({ type: 'dashboard/command', command: 'setTaskPriority', sessionId: 's', taskId: 's:t' }), {
    id: commandIds.setTaskPriority,
    args: ['s', 's:t'],
  });
});

test('the throttle runs at once, then collapses a burst into one run at the end of the interval', () => {
  let now = 1000;
  const timers: { at: number; fn: () => void }[] = [];
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => timers.push({ at: now + ms, fn }),
    clearTimeout: () => {},
  };
  let runs = 0;
  const t = new Throttle(100, () => runs++, clock);
  t.request();
  assert.equal(runs, 1);
  now += 10;
  t.request();
  t.request();
  t.request();
  assert.equal(runs, 1);
  assert.equal(timers.length, 1);
  assert.equal(timers[0].at, 1100);
  now = 1100;
  timers[0].fn();
  assert.equal(runs, 2);
  now = 1300;
  t.request();
  assert.equal(runs, 3, 'a request after a quiet interval runs at once');
});

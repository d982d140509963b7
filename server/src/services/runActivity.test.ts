import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SessionView, TaskView } from '../../../protocol/session';
import { activityKey, withRunActivity } from './runActivity';

const usage = { inputTokens: 10, outputTokens: 5, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 };
const task = (over: Partial<TaskView>): TaskView => ({
  id: 's1:a',
  planId: 'a',
  title: 'A',
  prompt: 'p',
  dependsOn: [],
  expectedFiles: [],
  state: 'running',
  attempts: 1,
  maxAttempts: 3,
  ...over,
});
const session = (tasks: TaskView[]): SessionView => ({
  id: 's1',
  goal: 'g',
  cwd: '/repo',
  state: 'running',
  priority: 2,
  tasks,
  budget: { limits: {}, spent: { tokens: 0, money: 0 }, reservedTotal: { tokens: 0, money: 0 } },
  usage,
  createdAt: '2026-01-01T00:00:00.000Z',
});

test('a running task shows its run’s tool in progress and usage; finished and other tasks are untouched', () => {
  const v = session([
    task({ id: 's1:a', runId: 'r1' }),
    task({ id: 's1:b', runId: 'r2', state: 'succeeded' }),
    task({ id: 's1:c', state: 'ready' }),
  ]);
  const out = withRunActivity(v, (id) => (id === 'r1' ? { currentTool: 'write notes.txt', usage } : { usage }));
  assert.equal(out.tasks[0].currentTool, 'write notes.txt');
  assert.deepEqual(out.tasks[0].usage, usage);
  assert.equal(out.tasks[1], v.tasks[1]);
  assert.equal(out.tasks[2], v.tasks[2]);
});

test('a run that already finished (no activity) leaves the view as it was', () => {
  const v = session([task({ runId: 'r1' })]);
  assert.equal(
    withRunActivity(v, () => undefined),
    v,
  );
});

test('the activity key changes with the tool and the tokens, not with the cost', () => {
  const a = activityKey({ usage });
  assert.notEqual(a, activityKey({ usage, currentTool: 'bash' }));
  assert.notEqual(a, activityKey({ usage: { ...usage, outputTokens: 6 } }));
  assert.equal(a, activityKey({ usage: { ...usage, cost: 1 } }));
});

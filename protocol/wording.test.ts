import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunView } from './run';
import type { SessionView, TaskView } from './session';
import {
  blockedText,
  errorText,
  routeText,
  runDescription,
  sessionDescription,
  sessionTooltip,
  taskDescription,
  taskTooltip,
} from './wording';

const usage = { inputTokens: 1000, outputTokens: 200, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 };
const task = (over: Partial<TaskView>): TaskView => ({
  id: 's1:x',
  planId: 'x',
  title: 'X',
  prompt: 'do x',
  dependsOn: [],
  expectedFiles: [],
  state: 'pending',
  attempts: 0,
  maxAttempts: 3,
  ...over,
});
const session = (over: Partial<SessionView>): SessionView => ({
  id: 's1',
  goal: '- [x] X\n- [y] Y',
  cwd: '/repo',
  state: 'running',
  priority: 2,
  tasks: [],
  budget: { limits: {}, spent: { tokens: 0, money: 0 }, reservedTotal: { tokens: 0, money: 0 } },
  usage,
  createdAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

test('a lease wait names the task the user wrote and the files, not internal lease owner ids', () => {
  const t = task({
    state: 'blocked',
    blocked: { on: 'lease', reason: 'lease on shared.txt overlaps s1mq2x0:y (write: shared.txt)', since: '2026-01-01T00:00:00.000Z' },
  });
  assert.equal(blockedText(t), 'waiting for y to finish with shared.txt');
  assert.equal(taskDescription(t), 'waiting for y to finish with shared.txt');
  assert.doesNotMatch(taskDescription(t), /s1mq2x0|overlaps|lease/);
  assert.match(taskTooltip(t), /Details: .*lease: lease on shared\.txt overlaps s1mq2x0:y/, 'the raw reason is one hover away');
  assert.equal(
    blockedText(task({ state: 'blocked', blocked: { on: 'permission', reason: 'bash: rm -rf', since: '2026-01-01T00:00:00.000Z' } })),
    'waiting for your permission',
  );
});

test('routing is said without scores; circuit-breaker terms become plain words', () => {
  assert.equal(routeText('opencode: generalist (*), no history, load 0/4; score 0.87 (only candidate)'), 'run by OpenCode');
  assert.equal(
    routeText('opencode: full capability match, success 90% of 10, load 1/4; score 0.91 over acp-x 0.5'),
    'run by OpenCode (preferred to acp-x)',
  );
  assert.equal(
    routeText('opencode: probe task after its circuit opened (3 consecutive failures, last: boom)'),
    'OpenCode is being tried again after 3 failures in a row',
  );
  const rotation = errorText('every capable agent is out of rotation (circuit open): opencode');
  assert.equal(rotation, 'no agent can take it now: OpenCode paused after repeated failures and is tried again shortly');
  assert.doesNotMatch(rotation!, /circuit|rotation/);
  const t = task({ state: 'running', routeReason: 'opencode: generalist (*), no history, load 0/4; score 0.87 (only candidate)' });
  const tip = taskTooltip(t);
  assert.match(tip.split('\n\n')[0], /^\*\*running\*\* · run by OpenCode$/, 'the first line is the current state in words');
  assert.match(tip, /Details: .*routing: opencode: generalist/, 'the score stays available under Details');
});

test('session lines and tooltips say the current state, progress, planning tokens and whether it was applied', () => {
  const s = session({
    state: 'running',
    plannerUsage: { ...usage, inputTokens: 300, outputTokens: 50 },
    tasks: [
      task({ id: 's1:x', state: 'succeeded', result: { summary: 'ok', changedFiles: ['x.txt'], usage } }),
      task({ id: 's1:y', planId: 'y', state: 'running' }),
    ],
  });
  assert.equal(sessionDescription(s), 'running · 1/2 done · 1 running · 1,200 tokens');
  const tip = sessionTooltip(s);
  assert.match(tip, /^\*\*running\*\*/);
  assert.match(tip, /2 tasks: 1 running, 1 done/);
  assert.match(tip, /Tokens: 1,200 \(planning 350\)/);
  const applied = session({ state: 'completed', appliedAt: '2026-01-01T00:00:00.000Z', integrationBranch: 'orchestrator/s1/integration' });
  assert.match(sessionDescription(applied), /^completed, applied/);
  assert.match(sessionTooltip(applied), /applied to your working tree/);
  assert.doesNotMatch(sessionTooltip(applied), /orchestrator\/s1\/integration/, 'an applied session has no branch left to mention');
  assert.match(
    sessionTooltip(session({ state: 'awaiting_approval', approval: { kind: 'budget', message: 'tokens budget would be crossed' } })),
    /^\*\*waiting for you\*\*\n\nWaiting for you: tokens budget/,
  );
});

test('a running task shows the tool its attempt is in and its tokens so far; a single run too', () => {
  const running = task({ state: 'running', runId: 'r1', currentTool: 'write notes.txt', usage });
  assert.equal(taskDescription(running), 'running · tool: write notes.txt · 1,200 tokens');
  assert.equal(taskDescription(task({ state: 'running', runId: 'r1', usage })), 'running · 1,200 tokens');
  const run: RunView = {
    id: 'r2',
    agent: 'opencode',
    cwd: '/repo',
    prompt: 'p',
    state: 'running',
    createdAt: '2026-01-01T00:00:00.000Z',
    currentTool: 'bash',
    usage,
    events: 3,
  };
  assert.equal(runDescription(run), 'running · bash · 1200 tokens');
});

test("a task's own priority is in its tooltip", () => {
  assert.match(taskTooltip(task({ priority: 0 })), /priority 0 \(0 = highest\)/);
  assert.doesNotMatch(taskTooltip(task({})), /priority/);
});

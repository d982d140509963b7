import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentEvent } from '../../../protocol/agentEvent';
import type { RunView } from '../../../protocol/run';
import type { SessionView, TaskView } from '../../../protocol/session';
import { renderTimelineSvg } from './sessionGraph';
import {
  mergeTranscript,
  renderSessionHead,
  renderSessionList,
  renderSpend,
  renderTaskActions,
  renderTaskDetail,
  renderTranscript,
  sessionActions,
  taskActions,
  toGraphTasks,
} from './sessionView';

const usage = { inputTokens: 1200, outputTokens: 300, reasoningTokens: 0, cacheReadTokens: 0, cost: 0.0125 };
const t = (over: Partial<TaskView>): TaskView => ({
  id: 's1:a',
  planId: 'a',
  title: 'Write A',
  prompt: 'p',
  dependsOn: [],
  expectedFiles: [],
  state: 'pending',
  attempts: 0,
  maxAttempts: 2,
  ...over,
});
const s = (over: Partial<SessionView>): SessionView => ({
  id: 's1',
  goal: 'Add <b>',
  cwd: '/r',
  state: 'running',
  priority: 2,
  tasks: [],
  budget: {
    limits: { tokens: 10_000, money: 1 },
    spent: { tokens: 9_000, money: 0.25 },
    reservedTotal: { tokens: 0, money: 0 },
    startedAt: '2026-01-01T00:00:00.000Z',
  },
  usage,
  createdAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

test('protocol ISO times become epoch ms for the graph, and lease waits read in words', () => {
  const [g] = toGraphTasks([
    t({
      state: 'blocked',
      startedAt: '2026-01-01T00:00:01.000Z',
      blocked: { on: 'lease', reason: 'lease on b.txt overlaps s1:b (write: b.txt)', since: '2026-01-01T00:00:02.000Z' },
    }),
  ]);
  assert.equal(g.startedAt, Date.parse('2026-01-01T00:00:01.000Z'));
  assert.equal(g.finishedAt, undefined);
  assert.deepEqual(g.blocked, { since: Date.parse('2026-01-01T00:00:02.000Z'), reason: 'waiting for b to finish with b.txt' });
});

test('the session list is a keyboard-reachable listbox with human states, escaped goals and the selection marked', () => {
  const html = renderSessionList(
    [{ id: 's1', goal: 'Fix <x>\nmore', state: 'awaiting_approval', tasks: 3, done: 1, running: 1, createdAt: '' }],
    's1',
  );
  assert.match(html, /role="listbox"/);
  assert.match(html, /<li role="option" tabindex="0" data-session="s1" aria-selected="true"/);
  assert.match(html, /Fix &lt;x&gt;<\/span>/);
  assert.match(html, /waiting for you · 1\/3 done · 1 running/);
  assert.match(renderSessionList([], undefined), /No sessions yet/);
});

test('actions follow the session and task states', () => {
  assert.deepEqual(sessionActions(s({ state: 'draft' })), ['approveSession', 'cancelSession']);
  assert.deepEqual(sessionActions(s({ state: 'running' })), ['cancelSession']);
  assert.deepEqual(sessionActions(s({ state: 'partially_completed' })), ['retrySession', 'applySession']);
  assert.deepEqual(sessionActions(s({ state: 'completed', appliedAt: '2026-01-01T00:00:00Z' })), []);
  assert.deepEqual(taskActions(t({ state: 'failed' })), ['retryTask', 'setTaskPriority']);
  assert.deepEqual(taskActions(t({ state: 'running' })), ['cancelTask'], 'a running task keeps its turn: no priority');
  assert.deepEqual(taskActions(t({ state: 'ready' })), ['cancelTask', 'setTaskPriority']);
  assert.deepEqual(taskActions(t({ state: 'succeeded' })), []);
  const head = renderSessionHead(s({ state: 'draft', approval: { kind: 'plan', message: 'review the plan' } }));
  assert.match(head, /data-command="approveSession"/);
  assert.match(head, /Waiting for you: review the plan/);
  assert.match(head, /plan ready for review/);
});

test('spend shows each limit with a meter, warning near it, and time since the first dispatch', () => {
  const html = renderSpend(s({}), Date.parse('2026-01-01T00:01:05.000Z'));
  assert.match(html, /meter high"><span>Tokens<\/span><span>9,000 of 10,000/);
  assert.match(html, /meter ok"><span>Cost<\/span><span>\$0\.2500 of \$1\.00/);
  assert.match(html, /Time<\/span><span>1m 5s \(no limit\)/);
});

test('the task detail has agent, model, attempt, elapsed, tokens, cost, tool, route and error', () => {
  const run = { id: 'r1', model: 'demo/echo', usage } as RunView;
  const html = renderTaskDetail(
    t({
      state: 'failed',
      runId: 'r1',
      agentId: 'opencode',
      attempts: 2,
      priority: 1,
      usage,
      currentTool: 'bash',
      routeReason: 'opencode: capable',
      lastError: 'every capable agent is at capacity',
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:03.000Z',
    }),
    run,
    0,
  );
  for (const re of [
    /Agent<\/th><td>OpenCode/,
    /Model<\/th><td>demo\/echo/,
    /Attempt<\/th><td>2 of 2/,
    /Elapsed<\/th><td>3s/,
    /Tokens<\/th><td>1,500/,
    /Cost<\/th><td>\$0\.0125/,
    /Current tool<\/th><td>bash/,
    /Route<\/th><td>run by OpenCode/,
    /Last error<\/th><td class="error">every agent that can do it is busy/,
    /Priority<\/th><td>1 \(0 = highest\)/,
  ])
    assert.match(html, re);
  assert.doesNotMatch(renderTaskDetail(t({ runId: 'r2' }), run, 0), /Model/, "another run's model is not shown");
});

test("a re-opened task running again shows the earlier error as the previous attempt's, not as its last error", () => {
  const html = renderTaskDetail(t({ state: 'running', attempts: 2, lastError: 'boom' }), undefined, 0);
  assert.match(html, /Previous attempt<\/th><td class="error">boom/);
  assert.doesNotMatch(html, /Last error/);
});

test('the task buttons are their own region: retry on a failed task, cancel on a running one, none when done', () => {
  assert.match(renderTaskActions(t({ state: 'failed' })), /data-command="retryTask"/);
  assert.match(renderTaskActions(t({ state: 'failed' })), /data-command="setTaskPriority"/);
  assert.match(renderTaskActions(t({ state: 'running' })), /data-command="cancelTask"/);
  assert.equal(renderTaskActions(t({ state: 'succeeded' })), '');
  assert.doesNotMatch(renderTaskDetail(t({ state: 'running' }), undefined, 0), /data-command/, 'the ticking details hold no button');
});

const ev = (seq: number, body: Record<string, unknown>) => ({ seq, at: '', key: String(seq), ...body }) as AgentEvent;

test('transcript pages append in order; a page that does not follow is dropped, one from 0 replaces', () => {
  const a = [ev(1, { kind: 'message_chunk', role: 'assistant', text: 'a' })];
  const b = [ev(2, { kind: 'message_chunk', role: 'assistant', text: 'b' })];
  assert.deepEqual(
    mergeTranscript(a, 1, b)?.map((e) => e.seq),
    [1, 2],
  );
  assert.equal(mergeTranscript(a, 5, b), undefined);
  assert.deepEqual(
    mergeTranscript(a, 0, b)?.map((e) => e.seq),
    [2],
  );
});

test('the transcript joins message chunks and shows each tool call once, collapsed, with its latest status', () => {
  const html = renderTranscript([
    ev(1, { kind: 'message_chunk', role: 'assistant', text: 'Hel' }),
    ev(2, { kind: 'message_chunk', role: 'assistant', text: 'lo <you>' }),
    ev(3, { kind: 'tool_call', id: 't1', title: 'write a.txt', toolName: 'write', status: 'in_progress', input: { path: 'a.txt' } }),
    ev(4, {
      kind: 'tool_call',
      id: 't1',
      title: 'write a.txt',
      toolName: 'write',
      status: 'completed',
      input: { path: 'a.txt' },
      output: 'ok',
    }),
    ev(5, { kind: 'permission_decision', id: 'p', decision: 'deny', by: 'timeout' }),
    ev(6, { kind: 'finished', stopReason: 'end_turn' }),
  ]);
  assert.match(html, /<p class="msg assistant">Hello &lt;you&gt;<\/p>/);
  assert.equal(html.match(/<details class="tool/g)?.length, 1);
  assert.match(
    html,
    /<details class="tool completed"><summary>write: write a\.txt · completed<\/summary><pre>\{\n {2}&quot;path&quot;: &quot;a\.txt&quot;\n\}<\/pre><pre>ok<\/pre>/,
  );
  assert.doesNotMatch(html, /<details[^>]* open/);
  assert.match(html, /Permission denied \(timeout\)/);
  assert.match(html, /Finished: end turn/);
});

test('a many-line goal shows its first line as the heading and the whole goal folded below it', () => {
  const head = renderSessionHead(s({ goal: '\n- [a] A: x\n- [b] B: <y>' }));
  assert.match(head, /<h2 class="goal" title="[^"]*">- \[a\] A: x<\/h2>/);
  assert.match(
    head,
    /<details class="goal-full"><summary>Whole goal<\/summary><pre>\n- \[a\] A: x\n- \[b\] B: &lt;y&gt;<\/pre><\/details>/,
  );
  assert.doesNotMatch(renderSessionHead(s({ goal: 'one line' })), /goal-full/);
});

test('the transcript labels the prompt and shows paths inside the worktree relative to it', () => {
  const html = renderTranscript(
    [
      ev(1, { kind: 'message_chunk', role: 'user', text: 'write it' }),
      ev(2, {
        kind: 'tool_call',
        id: 't1',
        title: '/w/s1/a/src/a.txt',
        toolName: 'write',
        status: 'completed',
        locations: [{ path: '/w/s1/a/src/a.txt' }, { path: '/elsewhere/b.txt' }],
      }),
    ],
    '/w/s1/a/',
  );
  assert.match(html, /<p class="msg user"><span class="role">Prompt<\/span>write it<\/p>/);
  assert.match(html, /<summary>write: src\/a\.txt · completed · \/elsewhere\/b\.txt<\/summary>/);
});

test("a retried task's failed attempt reaches the timeline as its own bar, with its error in the label", () => {
  const [g] = toGraphTasks([
    t({
      state: 'running',
      attempts: 2,
      startedAt: '2026-01-01T00:00:05.000Z',
      earlierAttempts: [
        { startedAt: '2026-01-01T00:00:01.000Z', finishedAt: '2026-01-01T00:00:03.000Z', outcome: 'failed', error: 'boom' },
      ],
    }),
  ]);
  const svg = renderTimelineSvg([g!], Date.parse('2026-01-01T00:00:06.000Z'));
  assert.equal((svg.match(/<rect class="bar run/g) ?? []).length, 2);
  assert.match(svg, /class="bar run state-failed"[^>]*aria-label="Write A: failed \(boom\), 2\.0 s"/);
});

test("an agent's progress reports (through our MCP server) show in the transcript, escaped, with the percent", () => {
  const html = renderTranscript([
    ev(1, { kind: 'progress', message: 'reading <src>' }),
    ev(2, { kind: 'progress', message: 'writing tests', percent: 60 }),
  ]);
  assert.match(html, /<p class="muted">Progress: reading &lt;src&gt;<\/p>/);
  assert.match(html, /<p class="muted">Progress \(60%\): writing tests<\/p>/);
});

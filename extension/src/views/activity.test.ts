import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunView } from '../../../protocol/run';
import type { SessionView } from '../../../protocol/session';
import { activitySuffix, summarizeActivity } from './activity';

const usage = (i: number, o: number, cost = 0) => ({ inputTokens: i, outputTokens: o, reasoningTokens: 0, cacheReadTokens: 0, cost });
const session = (state: SessionView['state'], tasks: string[], u = usage(0, 0)) =>
  ({ id: state, state, tasks: tasks.map((t, i) => ({ id: `t${i}`, state: t })), usage: u }) as unknown as SessionView;
const run = (state: RunView['state'], u = usage(0, 0), sessionId?: string) =>
  ({ id: state, state, usage: u, sessionId }) as unknown as RunView;

test('running counts session tasks and single runs; waiting counts drafts and sessions paused for the user', () => {
  const a = summarizeActivity(
    [
      session('running', ['running', 'running', 'ready']),
      session('draft', ['pending']),
      session('awaiting_approval', ['succeeded']),
      session('completed', ['succeeded']),
    ],
    [run('running'), run('succeeded'), run('running', usage(0, 0), 'running')],
  );
  assert.equal(a.running, 3, "two session tasks and one single run (the session's own run is not counted twice)");
  assert.equal(a.waiting, 2);
});

test('spend adds sessions and single runs once each', () => {
  const a = summarizeActivity(
    [session('completed', [], usage(1000, 500, 0.02))],
    [run('succeeded', usage(200, 300, 0.01)), run('succeeded', usage(9e6, 0, 9), 'completed')],
  );
  assert.equal(a.tokens, 2000);
  assert.ok(Math.abs(a.cost - 0.03) < 1e-9);
  assert.equal(activitySuffix(a), ' · 2.0k tokens · $0.030');
});

test('nothing ran: no suffix; big numbers are compact', () => {
  assert.equal(activitySuffix(summarizeActivity([], [])), '');
  assert.equal(
    activitySuffix({ running: 2, waiting: 1, tokens: 3_400_000, cost: 12.5 }),
    ' · 2 running · 1 waiting · 3.4M tokens · $12.50',
  );
});

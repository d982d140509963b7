import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunView } from '../../../protocol/run';
import type { SessionView } from '../../../protocol/session';
import { activitySuffix, applyConflictFiles, summarizeActivity } from './activity';

const usage = (i: number, o: number, cost = 0) => ({ inputTokens: i, outputTokens: o, reasoningTokens: 0, cacheReadTokens: 0, cost });
const session = (state: SessionView['state'], tasks: string[], u = usage(0, 0), id: string = state, appliedAt?: string) =>
  ({ id, state, tasks: tasks.map((t, i) => ({ id: `t${i}`, state: t })), usage: u, appliedAt }) as unknown as SessionView;
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
    activitySuffix({
      running: 2,
      waiting: 1,
      waitingOn: { approvals: 1, permissionAsks: 0, applyConflicts: 0 },
      tokens: 3_400_000,
      cost: 12.5,
    }),
    ' · 2 running · 1 waiting · 3.4M tokens · $12.50',
  );
});

test('waiting adds plans to approve, open permission asks and applies refused over uncommitted edits', () => {
  const sessions = [
    session('draft', ['pending']),
    session('completed', [], usage(0, 0), 'refused'),
    session('completed', [], usage(0, 0), 'appliedSince', '2026-01-01T00:00:00.000Z'),
  ];
  const a = summarizeActivity(sessions, [], { permissionAsks: 2, applyConflicts: ['refused', 'appliedSince', 'deleted'] });
  assert.deepEqual(a.waitingOn, { approvals: 1, permissionAsks: 2, applyConflicts: 1 }, 'an applied or unknown session no longer waits');
  assert.equal(a.waiting, 4);
  assert.match(activitySuffix(a), /4 waiting/);
  assert.equal(summarizeActivity(sessions, []).waiting, 1, "without the extension's own waits: the plan only");
});

test('an apply conflict is a conflict error that names the overlapping files', () => {
  assert.deepEqual(applyConflictFiles({ code: 43004, message: 'uncommitted', data: { files: ['a.txt', 'b/c.ts'] } }), ['a.txt', 'b/c.ts']);
  assert.equal(applyConflictFiles({ code: 43004, message: 'session is running' }), undefined, 'other refusals are not conflicts');
  assert.equal(applyConflictFiles({ code: 43003, data: { files: ['a.txt'] } }), undefined);
  assert.equal(applyConflictFiles({ code: 43004, data: { files: [] } }), undefined);
  assert.equal(applyConflictFiles(new Error('boom')), undefined);
  assert.equal(applyConflictFiles(undefined), undefined);
});

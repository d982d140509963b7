/**
 * The end of a turn read from the messages the SSE stream delivered: a clean turn settles without asking the
 * messages API (one OpenCode round trip less), with the same summary and usage; a turn whose stream could not
 * be placed (a delta for a part never seen, a removal) reads the API as before.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentEventLog } from '../../domain/agentEvent';
import type { MessageWithParts } from './normalize';
import { Turn, type TurnApi } from './turn';

const S = 'ses_1';
const tokens = { input: 7, output: 3, reasoning: 0, cache: { read: 0, write: 0 } };
const userInfo = { id: 'msg_1', sessionID: S, role: 'user', time: { created: 1 } };
const assistantInfo = (done: boolean) => ({
  id: 'msg_2',
  sessionID: S,
  role: 'assistant',
  parentID: 'msg_1',
  time: { created: 1, ...(done ? { completed: 2 } : {}) },
  ...(done ? { finish: 'stop' } : {}),
  tokens,
  cost: 0,
});
const textPart = (text: string) => ({ id: 'prt_1', sessionID: S, messageID: 'msg_2', type: 'text', text, time: { start: 1 } });
const stepFinish = { id: 'prt_2', sessionID: S, messageID: 'msg_2', type: 'step-finish', reason: 'stop', tokens, cost: 0 };
const stored = [
  { info: userInfo, parts: [] },
  { info: assistantInfo(true), parts: [{ ...textPart('from the API'), time: { start: 1, end: 2 } }] },
] as unknown as MessageWithParts[];

/**
 * `before`: what the messages API lists on its first read (e.g. a resync while the turn still runs); `diffs`:
 * what the diff API answers on each read (the last one repeated), else nothing.
 */
function setUp(before?: MessageWithParts[], diffs: unknown[][] = [[]]) {
  const calls: string[] = [];
  const api: TurnApi = {
    messages: async () => {
      calls.push('messages');
      return before && calls.filter((c) => c === 'messages').length === 1 ? before : stored;
    },
    diff: async () => {
      calls.push('diff');
      return diffs[Math.min(calls.filter((c) => c === 'diff').length, diffs.length) - 1] as never;
    },
    abort: async () => undefined,
    replyPermission: async () => undefined,
    pendingPermissions: async () => [],
  };
  const turn = new Turn({
    runId: 'r',
    sessionId: S,
    cwd: '/nowhere',
    log: new AgentEventLog(),
    onEvent: () => undefined,
    timeouts: { idleMs: 10_000, turnMs: 20_000, unreachableMs: 10_000, permissionMs: 1000 },
    api,
  });
  const ev = (type: string, properties: Record<string, unknown>) => turn.handleEvent({ type, properties } as never);
  ev('message.updated', { sessionID: S, info: userInfo });
  ev('message.updated', { sessionID: S, info: assistantInfo(false) });
  // The part starts with text of its own: the mirror (part + deltas) differs from the live text (deltas only).
  ev('message.part.updated', { sessionID: S, part: textPart('Done. ') });
  return { calls, turn, ev };
}

test('a clean turn ends from the messages the stream delivered, without reading the messages API', async () => {
  const { calls, turn, ev } = setUp();
  ev('message.part.delta', { sessionID: S, messageID: 'msg_2', partID: 'prt_1', field: 'text', delta: 'Wrote ' });
  ev('message.part.delta', { sessionID: S, messageID: 'msg_2', partID: 'prt_1', field: 'text', delta: 'a.txt' });
  ev('message.part.updated', { sessionID: S, part: stepFinish });
  ev('message.updated', { sessionID: S, info: assistantInfo(true) });
  ev('session.status', { sessionID: S, status: { type: 'idle' } });
  const r = await turn.result;
  assert.equal(r.status, 'succeeded');
  assert.equal(r.summary, 'Done. Wrote a.txt');
  assert.equal(r.usage.inputTokens, 7);
  assert.equal(r.usage.outputTokens, 3);
  assert.deepEqual(calls, ['diff']);
});

test('a delta the stream cannot place (its part never seen) makes the end read the messages API', async () => {
  const { calls, turn, ev } = setUp();
  ev('message.part.delta', { sessionID: S, messageID: 'msg_2', partID: 'prt_unknown', field: 'text', delta: 'lost' });
  ev('message.part.updated', { sessionID: S, part: stepFinish });
  ev('message.updated', { sessionID: S, info: assistantInfo(true) });
  ev('session.status', { sessionID: S, status: { type: 'idle' } });
  const r = await turn.result;
  assert.equal(r.status, 'succeeded');
  assert.equal(r.summary, 'from the API');
  assert.deepEqual(calls, ['messages', 'diff']);
});

test('a removed message makes the end read the messages API', async () => {
  const { calls, turn, ev } = setUp();
  ev('message.removed', { sessionID: S, messageID: 'msg_0' });
  ev('message.part.updated', { sessionID: S, part: stepFinish });
  ev('message.updated', { sessionID: S, info: assistantInfo(true) });
  ev('session.status', { sessionID: S, status: { type: 'idle' } });
  await turn.result;
  assert.deepEqual(calls, ['messages', 'diff']);
});

test('a final message whose step-finish part did not come over the stream reads the messages API', async () => {
  const { calls, turn, ev } = setUp();
  ev('message.updated', { sessionID: S, info: assistantInfo(true) });
  ev('session.status', { sessionID: S, status: { type: 'idle' } });
  const r = await turn.result;
  assert.equal(r.summary, 'from the API');
  assert.deepEqual(calls, ['messages', 'diff']);
});

test('a turn that is not complete by the stream (no final message seen) reads the messages API', async () => {
  const { calls, turn, ev } = setUp();
  ev('session.status', { sessionID: S, status: { type: 'idle' } });
  const r = await turn.result;
  assert.equal(r.summary, 'from the API');
  assert.deepEqual(calls, ['messages', 'diff']);
});

test('after the stream reconnected (resync), the end reads the messages API even when the rest looks complete', async () => {
  // At the resync the final message is not written yet (the turn goes on).
  const running = [
    { info: userInfo, parts: [] },
    { info: assistantInfo(false), parts: [] },
  ] as unknown as MessageWithParts[];
  const { calls, turn, ev } = setUp(running);
  await turn.resync();
  ev('message.part.updated', { sessionID: S, part: stepFinish });
  ev('message.updated', { sessionID: S, info: assistantInfo(true) });
  ev('session.status', { sessionID: S, status: { type: 'idle' } });
  const r = await turn.result;
  assert.equal(r.summary, 'from the API');
  // One read by the resync itself, one at the end.
  assert.deepEqual(calls, ['messages', 'messages', 'diff']);
});

test("the turn's diff is asked again while it names fewer files than the turn's patch parts (a later step not in it yet)", async () => {
  const diffs = [
    [{ file: 'a.txt', additions: 1, deletions: 0 }],
    [
      { file: 'a.txt', additions: 1, deletions: 0 },
      { file: 'b.txt', additions: 1, deletions: 0 },
    ],
  ];
  const patch = (id: string, files: string[]) => ({ id, sessionID: S, messageID: 'msg_2', type: 'patch', hash: id, files });
  const { calls, turn, ev } = setUp(undefined, diffs);
  // Two steps: a.txt twice (counted once), then b.txt.
  ev('message.part.updated', { sessionID: S, part: patch('prt_a1', ['/w/a.txt']) });
  ev('message.part.updated', { sessionID: S, part: patch('prt_a2', ['/w/a.txt']) });
  ev('message.part.updated', { sessionID: S, part: patch('prt_b', ['/w/b.txt']) });
  ev('message.part.updated', { sessionID: S, part: { ...stepFinish, id: 'prt_z' } });
  ev('message.updated', { sessionID: S, info: assistantInfo(true) });
  ev('session.status', { sessionID: S, status: { type: 'idle' } });
  const r = await turn.result;
  assert.deepEqual(
    r.diff.map((f) => f.path),
    ['a.txt', 'b.txt'],
  );
  assert.deepEqual(calls, ['diff', 'diff']);
});

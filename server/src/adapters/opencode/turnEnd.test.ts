/**
 * The end of a turn: the diff is asked for together with the messages when the turn's user message is known
 * (one OpenCode round trip less on the critical path), and asked again when that early diff names fewer
 * files than the turn's patch parts do (OpenCode had not summarised the last step yet).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentEventLog } from '../../domain/agentEvent';
import type { MessageWithParts } from './normalize';
import { Turn, type TurnApi } from './turn';

const S = 'ses_1';
const tokens = { input: 1, output: 1, reasoning: 0, cache: { read: 0, write: 0 } };
const user = { info: { id: 'msg_1', sessionID: S, role: 'user', time: { created: 1 } }, parts: [] } as unknown as MessageWithParts;
const assistant = (files: string[]) =>
  ({
    info: {
      id: 'msg_2',
      sessionID: S,
      role: 'assistant',
      parentID: 'msg_1',
      time: { created: 1, completed: 2 },
      finish: 'stop',
      tokens,
      cost: 0,
    },
    parts: [
      { id: 'p1', sessionID: S, messageID: 'msg_2', type: 'patch', hash: 'h', files },
      { id: 'p2', sessionID: S, messageID: 'msg_2', type: 'text', text: 'done', time: { start: 1, end: 2 } },
    ],
  }) as unknown as MessageWithParts;
const fileDiff = (file: string) => ({ file, before: '', after: 'x\n', additions: 1, deletions: 0, status: 'added' });

function turnWith(api: Partial<TurnApi>): Turn {
  const full: TurnApi = {
    messages: async () => [],
    diff: async () => [],
    abort: async () => undefined,
    replyPermission: async () => undefined,
    pendingPermissions: async () => [],
    ...api,
  };
  const turn = new Turn({
    runId: 'r',
    sessionId: S,
    cwd: '/nowhere',
    log: new AgentEventLog(),
    onEvent: () => undefined,
    timeouts: { idleMs: 10_000, turnMs: 20_000, unreachableMs: 10_000, permissionMs: 1000 },
    api: full,
  });
  turn.handleEvent({ type: 'message.updated', properties: { sessionID: S, info: user.info } } as never);
  return turn;
}

test("the diff is asked for before the messages' answer when the user message is known", async () => {
  const order: string[] = [];
  let diffAsked!: () => void;
  const asked = new Promise<void>((r) => (diffAsked = r));
  const turn = turnWith({
    messages: async () => {
      order.push('messages asked');
      // Answers once the diff was asked, or after a wide deadline (then the order shows the diff came later).
      await Promise.race([asked, new Promise((r) => setTimeout(r, 2000))]);
      order.push('messages answered');
      return [user, assistant(['/w/a.txt'])];
    },
    diff: async () => {
      order.push('diff asked');
      diffAsked();
      return [fileDiff('a.txt')] as never;
    },
  });
  turn.handleEvent({ type: 'session.idle', properties: { sessionID: S } } as never);
  const r = await turn.result;
  assert.equal(r.status, 'succeeded');
  assert.deepEqual(
    r.diff.map((d) => d.path),
    ['a.txt'],
  );
  assert.ok(order.indexOf('diff asked') < order.indexOf('messages answered'), order.join(' → '));
  assert.equal(order.filter((o) => o === 'diff asked').length, 1, 'the diff was asked for twice');
});

test('an early diff naming fewer files than the patch parts is asked for again', async () => {
  let calls = 0;
  const turn = turnWith({
    messages: async () => [user, assistant(['/w/a.txt', '/w/b.txt', '/w/a.txt'])],
    diff: async () => (++calls === 1 ? [fileDiff('a.txt')] : [fileDiff('a.txt'), fileDiff('b.txt')]) as never,
  });
  turn.handleEvent({ type: 'session.idle', properties: { sessionID: S } } as never);
  const r = await turn.result;
  assert.deepEqual(
    r.diff.map((d) => d.path),
    ['a.txt', 'b.txt'],
  );
  assert.equal(calls, 2);
});

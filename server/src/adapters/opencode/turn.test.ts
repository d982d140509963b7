/**
 * The order of OpenCode events seen in CI under load after a cancelled turn: the aborted loop completed its
 * message (and went idle) only after the next turn's prompt was accepted. That late idle must not end the
 * new turn. Replayed here against a Turn whose OpenCode calls answer from the same message list.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentEventLog } from '../../domain/agentEvent';
import type { MessageWithParts } from './normalize';
import { Turn, type TurnApi } from './turn';

const S = 'ses_1';
const tokens = { input: 1, output: 1, reasoning: 0, cache: { read: 0, write: 0 } };
const assistant = (id: string, parentID: string, done: boolean, text = '') =>
  ({
    info: {
      id,
      sessionID: S,
      role: 'assistant',
      parentID,
      time: { created: 1, ...(done ? { completed: 2 } : {}) },
      ...(done ? { finish: 'stop' } : {}),
      tokens,
      cost: 0,
    },
    parts: text ? [{ id: `p-${id}`, sessionID: S, messageID: id, type: 'text', text, time: { start: 1, end: 2 } }] : [],
  }) as unknown as MessageWithParts;
const user = (id: string) => ({ info: { id, sessionID: S, role: 'user', time: { created: 1 } }, parts: [] }) as unknown as MessageWithParts;

function setUp() {
  const messages: MessageWithParts[] = [user('msg_1'), assistant('msg_2', 'msg_1', false)];
  const api: TurnApi = {
    messages: async () => messages,
    diff: async () => [],
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
    previousUserMessageId: 'msg_1',
    api,
  });
  const ev = (type: string, properties: Record<string, unknown>) => turn.handleEvent({ type, properties } as never);
  return { messages, turn, ev };
}

test("an aborted earlier loop's late idle does not end the next turn; the turn ends on its own idle", async () => {
  const { messages, turn, ev } = setUp();
  let settled = false;
  void turn.result.then(() => (settled = true));
  messages.push(user('msg_3'));
  ev('message.updated', { sessionID: S, info: messages[2].info });
  ev('session.status', { sessionID: S, status: { type: 'busy' } });
  // The earlier loop winds down now: its message completes, then the session goes idle.
  messages[1] = assistant('msg_2', 'msg_1', true);
  ev('message.updated', { sessionID: S, info: messages[1].info });
  ev('session.status', { sessionID: S, status: { type: 'idle' } });
  ev('session.idle', { sessionID: S });
  await new Promise((r) => setTimeout(r, 1300));
  assert.equal(settled, false, 'the late idle of the earlier loop ended this turn');
  // This turn's own loop answers.
  messages.push(assistant('msg_4', 'msg_3', true, 'after abort'));
  ev('message.updated', { sessionID: S, info: messages[3].info });
  ev('session.idle', { sessionID: S });
  const r = await turn.result;
  assert.equal(r.status, 'succeeded');
  assert.equal(r.summary, 'after abort');
});

test('if this turn had already finished when the late idle was ignored, the recheck settles it', async () => {
  const { messages, turn, ev } = setUp();
  messages.push(user('msg_3'), assistant('msg_4', 'msg_3', true, 'done early'));
  ev('message.updated', { sessionID: S, info: messages[2].info });
  ev('message.updated', { sessionID: S, info: messages[3].info });
  messages[1] = assistant('msg_2', 'msg_1', true);
  ev('message.updated', { sessionID: S, info: messages[1].info });
  ev('session.idle', { sessionID: S });
  const t0 = Date.now();
  const r = await turn.result;
  assert.equal(r.status, 'succeeded');
  assert.equal(r.summary, 'done early');
  assert.ok(Date.now() - t0 < 5000);
});

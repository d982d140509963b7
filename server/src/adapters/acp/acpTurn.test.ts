import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentEventLog, type AgentEvent } from '../../domain/agentEvent';
import type { FileChange, TurnResult } from '../../ports/agentRuntime';
import { AcpTurn } from './acpTurn';

const change: FileChange = { path: 'a.txt', status: 'added', additions: 1, deletions: 0 };

function turnWithDiff() {
  const events: AgentEvent[] = [];
  let release!: (d: FileChange[]) => void;
  const diff = new Promise<FileChange[]>((r) => (release = r));
  const turn = new AcpTurn({
    taskId: 'r1',
    cwd: '/tmp',
    agentSessionId: 's1',
    log: new AgentEventLog(),
    onEvent: (e) => events.push(e),
    timeouts: { idleMs: 60_000, turnMs: 60_000, unreachableMs: 60_000, permissionMs: 60_000 },
    turnTag: 't1',
    cancelGraceMs: 1000,
    sendCancel: async () => undefined,
    abandon: () => undefined,
    diff: () => diff,
  });
  return { turn, events, release };
}

test('the answer’s end is published when the turn ends; the result, with the diff, only once the diff is there', async () => {
  const { turn, events, release } = turnWithDiff();
  let result: TurnResult | undefined;
  void turn.result.then((r) => (result = r));
  turn.onUpdate({ sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: 'done' } });
  turn.promptReturned({ stopReason: 'end_turn' });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(events.at(-1)?.kind, 'finished', 'the finished event is out while the diff is computed');
  assert.equal(result, undefined, 'no result (no final run state, nothing to merge) without the diff');
  release([change]);
  const r = await turn.result;
  assert.equal(r.status, 'succeeded');
  assert.deepEqual(r.diff, [change]);
  assert.equal(r.summary, 'done');
  assert.equal(events.filter((e) => e.kind === 'finished').length, 1);
  assert.equal(r.lastSeq, events.at(-1)?.seq, 'nothing was published after the finished event');
});

test('a failed turn: its error and finished events come before the diff, the result carries the diff', async () => {
  const { turn, events, release } = turnWithDiff();
  turn.promptReturned({ stopReason: 'max_tokens' });
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(
    events.map((e) => e.kind),
    ['error', 'finished'],
  );
  release([change]);
  const r = await turn.result;
  assert.equal(r.status, 'failed');
  assert.deepEqual(r.diff, [change]);
});

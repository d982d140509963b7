import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentEventLog, addUsage, emptyUsage, isToolAdvance, mergeEvents, textRemainder, type AgentEvent } from './agentEvent';

const fixedNow = () => '2026-01-01T00:00:00.000Z';

test('push assigns increasing seq and drops repeated keys', () => {
  const log = new AgentEventLog(fixedNow);
  const a = log.push('k1', { kind: 'finished', stopReason: 'end_turn' });
  const b = log.push('k1', { kind: 'finished', stopReason: 'end_turn' });
  const c = log.push('k2', { kind: 'error', message: 'x', reason: 'timeout' });
  assert.equal(a?.seq, 1);
  assert.equal(a?.at, '2026-01-01T00:00:00.000Z');
  assert.equal(b, undefined);
  assert.equal(c?.seq, 2);
  assert.equal(log.lastSeq, 2);
});

test('startSeq continues numbering of an earlier turn', () => {
  const log = new AgentEventLog(fixedNow, 41);
  assert.equal(log.push('k', { kind: 'finished', stopReason: 'end_turn' })?.seq, 42);
});

test('text deltas then a snapshot emit exactly the missing remainder', () => {
  const log = new AgentEventLog(fixedNow);
  const out = [log.textDelta('p1', 'assistant', 'Hello '), log.textDelta('p1', 'assistant', 'wor')].filter(Boolean) as AgentEvent[];
  const snap = log.textSnapshot('p1', 'assistant', 'Hello world!');
  assert.ok(snap && snap.kind === 'message_chunk');
  assert.equal(snap.text, 'ld!');
  assert.equal(snap.key, 'text:p1@9');
  assert.equal(log.textSnapshot('p1', 'assistant', 'Hello world!'), undefined, 'same snapshot twice adds nothing');
  const all = [...out, snap].map((e) => (e.kind === 'message_chunk' ? e.text : '')).join('');
  assert.equal(all, 'Hello world!');
});

test('a frozen part ignores deltas that may already be inside the snapshot', () => {
  const log = new AgentEventLog(fixedNow);
  log.textDelta('p', 'assistant', 'ab');
  log.textSnapshot('p', 'assistant', 'abcd', true); // resync saw "cd" already
  assert.equal(log.textDelta('p', 'assistant', 'cd'), undefined, 'late delta dropped');
  const fin = log.textSnapshot('p', 'assistant', 'abcdef');
  assert.ok(fin && fin.kind === 'message_chunk');
  assert.equal(fin.text, 'ef');
});

test('after a stream gap, a delta that arrives before the resync snapshot is not placed at the wrong offset', () => {
  // Seen in CI: "Wrote cu" streamed, the stream was cut while "t.txt slowly" streamed, the first delta after
  // the reconnect (". Stream") was appended at offset 8, and the snapshot then filled from offset 16.
  const log = new AgentEventLog(fixedNow);
  const text = (e: AgentEvent | undefined): string => (e && e.kind === 'message_chunk' ? e.text : '');
  let seen = text(log.textDelta('p', 'assistant', 'Wrote cu'));
  const gap = log.beginGap();
  seen += text(log.textDelta('p', 'assistant', '. Stream'));
  seen += text(log.textSnapshot('p', 'assistant', 'Wrote cut.txt slowly. Stream', true));
  log.endGap(gap);
  seen += text(log.textDelta('p', 'assistant', 'ing'));
  seen += text(log.textSnapshot('p', 'assistant', 'Wrote cut.txt slowly. Streaming the final answer.'));
  assert.equal(seen, 'Wrote cut.txt slowly. Streaming the final answer.');
  assert.equal(text(log.textDelta('q', 'assistant', 'live')), 'live', 'a part that starts after the gap streams live');
});

test('a second gap opened before the first snapshot keeps deltas out until its own snapshot', () => {
  const log = new AgentEventLog(fixedNow);
  const first = log.beginGap();
  const second = log.beginGap();
  log.endGap(first);
  assert.equal(log.textDelta('p', 'assistant', 'x'), undefined, 'still in the second gap');
  log.endGap(second);
  assert.ok(log.textDelta('r', 'assistant', 'y'), 'a part untouched by the gap streams again');
});

test('tool status only moves forward; completed and failed are final', () => {
  assert.equal(isToolAdvance(undefined, 'pending'), true);
  assert.equal(isToolAdvance('pending', 'in_progress'), true);
  assert.equal(isToolAdvance('in_progress', 'pending'), false);
  assert.equal(isToolAdvance('completed', 'failed'), false);
  const log = new AgentEventLog(fixedNow);
  const base = { kind: 'tool_call' as const, id: 'c1', title: 'write', toolName: 'write' };
  assert.ok(log.tool({ ...base, status: 'completed' }), 'a resync may jump straight to completed');
  assert.equal(log.tool({ ...base, status: 'in_progress' }), undefined, 'late in_progress is dropped');
  assert.equal(log.toolStatusOf('c1'), 'completed');
});

test('textRemainder', () => {
  assert.equal(textRemainder(3, 'abc'), undefined);
  assert.deepEqual(textRemainder(1, 'abc'), { offset: 1, text: 'bc' });
});

test('mergeEvents unions by key in seq order', () => {
  const e = (seq: number, key: string): AgentEvent => ({ kind: 'finished', stopReason: 'end_turn', seq, at: 'x', key });
  const merged = mergeEvents([e(1, 'a'), e(3, 'c')], [e(2, 'b'), e(3, 'c'), e(1, 'a')]);
  assert.deepEqual(
    merged.map((m) => m.key),
    ['a', 'b', 'c'],
  );
});

test('addUsage sums optional fields as zero', () => {
  const t = addUsage(addUsage(emptyUsage(), { kind: 'usage', inputTokens: 10, outputTokens: 2, cost: 0.5 }), {
    kind: 'usage',
    inputTokens: 1,
    outputTokens: 1,
    reasoningTokens: 3,
    cacheReadTokens: 4,
    cost: 0,
  });
  assert.deepEqual(t, { inputTokens: 11, outputTokens: 3, reasoningTokens: 3, cacheReadTokens: 4, cost: 0.5 });
});

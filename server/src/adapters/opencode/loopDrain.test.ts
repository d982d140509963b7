import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openAssistantMessages, waitForLoopEnd } from './loopDrain';
import type { MessageWithParts } from './normalize';

const msg = (id: string, role: 'user' | 'assistant', completed?: number) =>
  ({ info: { id, role, time: { created: 1, ...(completed ? { completed } : {}) } }, parts: [] }) as unknown as MessageWithParts;

test('an assistant message without a completion time is open; user messages never are', () => {
  assert.deepEqual(openAssistantMessages([msg('u1', 'user'), msg('a1', 'assistant', 5), msg('a2', 'assistant')]), ['a2']);
  assert.deepEqual(openAssistantMessages([msg('u1', 'user'), msg('a1', 'assistant', 5)]), []);
});

test('waits until the aborted message completes, then resolves', async () => {
  let reads = 0;
  const t0 = Date.now();
  await waitForLoopEnd({
    messages: async () => [msg('a1', 'assistant', ++reads >= 4 ? 9 : undefined)],
    deadlineMs: 5000,
    pollMs: 10,
  });
  assert.equal(reads, 4);
  assert.ok(Date.now() - t0 < 1000);
});

test('gives up at the deadline, says so, and never rejects (also when reading fails)', async () => {
  const lines: string[] = [];
  const t0 = Date.now();
  await waitForLoopEnd({ messages: async () => [msg('a1', 'assistant')], deadlineMs: 120, pollMs: 10, debug: (l) => lines.push(l) });
  const took = Date.now() - t0;
  assert.ok(took >= 120 && took < 1000, `${took} ms`);
  assert.match(lines.join('\n'), /a1 open after 120 ms/);
  await waitForLoopEnd({ messages: async () => Promise.reject(new Error('gone')), deadlineMs: 5000, debug: (l) => lines.push(l) });
  assert.match(lines.at(-1) ?? '', /gone/);
});

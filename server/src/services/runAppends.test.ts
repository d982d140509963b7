/**
 * The run service's transcript appends: each event's append is issued when the event arrives (so appends
 * queued during a write share the transcript's next fdatasync), while every event is still published only
 * after its own append resolved, and in seq order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentEvent } from '../../../protocol/agentEvent';
import type { AgentRuntime, TurnResult } from '../ports/agentRuntime';
import type { TranscriptPort } from '../ports/transcript';
import type { WorkspacePort } from '../ports/workspace';
import { enospc, fixtureRunService, until } from './testDoubles';

const usage = { inputTokens: 1, outputTokens: 1, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 };
const ok: TurnResult = { status: 'succeeded', stopReason: 'end_turn', summary: 'done', usage, diff: [], durationMs: 1, lastSeq: 3 };
const ws = { assertRepo: async (cwd: string) => ({ root: cwd, head: 'base' }) } as unknown as WorkspacePort;
const chunk = (seq: number) => ({ kind: 'message_chunk', text: 'x', seq, at: 'now', key: `k${seq}` }) as AgentEvent;

/** A transcript whose appends resolve (or fail) only when the test says so. */
function heldTranscript() {
  const calls: { key: string; resolve(): void; reject(e: unknown): void }[] = [];
  const port: TranscriptPort<AgentEvent> = {
    append: (_folder, _run, e) => new Promise<void>((resolve, reject) => calls.push({ key: e.key, resolve, reject })),
    read: async () => [],
  };
  return { port, calls };
}

function service(transcripts: TranscriptPort<AgentEvent>, published: string[]) {
  let release!: () => void;
  const ended = new Promise<void>((r) => (release = r));
  const runtime: AgentRuntime = {
    id: 'fixture',
    start: async () => undefined,
    cancel: async () => undefined,
    dispose: async () => undefined,
    prompt: async (_req, onEvent) => {
      for (let seq = 1; seq <= 3; seq++) onEvent(chunk(seq));
      await ended;
      return ok;
    },
  };
  const runs = fixtureRunService({ transcripts: transcripts, workspace: ws, runtime, published });
  return { runs, release };
}

test('appends are issued as events arrive; each event is published after its own append, in order', async () => {
  const t = heldTranscript();
  const published: string[] = [];
  const { runs, release } = service(t.port, published);
  const { done } = await runs.start({ agent: 'fixture', cwd: '/repo', prompt: 'go' });
  // All three appends are in the transcript's hands while none has resolved: they can share one fdatasync.
  await until('three appends issued', () => t.calls.length === 3);
  assert.deepEqual(
    t.calls.map((c) => c.key),
    ['k1', 'k2', 'k3'],
  );
  // The second and third are on disk first: nothing is published before the first is.
  t.calls[1].resolve();
  t.calls[2].resolve();
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(published, [], 'an event was published before an earlier event was on disk');
  t.calls[0].resolve();
  await until('three published', () => published.length === 3);
  assert.deepEqual(published, ['k1', 'k2', 'k3']);
  release();
  assert.equal((await done)?.status, 'succeeded');
});

test('a failed append: its event is never published and the turn fails as write_failed', async () => {
  const t = heldTranscript();
  const published: string[] = [];
  const { runs, release } = service(t.port, published);
  const { done } = await runs.start({ agent: 'fixture', cwd: '/repo', prompt: 'go' });
  await until('three appends issued', () => t.calls.length === 3);
  t.calls[0].resolve();
  t.calls[1].reject(enospc());
  t.calls[2].resolve();
  release();
  const result = await done;
  assert.equal(result?.status, 'failed');
  assert.equal(result?.error?.reason, 'write_failed');
  assert.ok(published.includes('k1'));
  assert.ok(!published.includes('k2'), 'an event whose append failed was published');
  assert.ok(!published.includes('k3'), 'an event after a failed append was published: subscribers would see a gap');
});

/**
 * The run service's `firstReply` (the signal that a run's first model request went out, used to hold the
 * pre-warm of waiting tasks, issue 13): not the echo of the user's prompt, the first event from the model's side;
 * or the turn's end when none came.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentEvent } from '../../../protocol/agentEvent';
import type { AgentRuntime, TurnResult } from '../ports/agentRuntime';
import type { TranscriptPort } from '../ports/transcript';
import type { WorkspacePort } from '../ports/workspace';
import { fixtureRunService, until } from './testDoubles';

const usage = { inputTokens: 1, outputTokens: 1, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 };
const ok: TurnResult = { status: 'succeeded', stopReason: 'end_turn', summary: 'done', usage, diff: [], durationMs: 1, lastSeq: 2 };
const ws = { assertRepo: async (cwd: string) => ({ root: cwd, head: 'base' }) } as unknown as WorkspacePort;
const transcripts: TranscriptPort<AgentEvent> = { append: async () => undefined, read: async () => [] };
const chunk = (seq: number, role: 'user' | 'assistant') =>
  ({ kind: 'message_chunk', role, text: 'x', seq, at: 'now', key: `k${seq}` }) as AgentEvent;

/** A runtime that echoes the user's prompt, then waits for `step()` before each further event. */
function service(events: AgentEvent[]) {
  const steps: (() => void)[] = [];
  const step = () => steps.shift()?.();
  const runtime: AgentRuntime = {
    id: 'fixture',
    start: async () => undefined,
    cancel: async () => undefined,
    dispose: async () => undefined,
    prompt: async (_req, onEvent) => {
      for (const e of events) {
        await new Promise<void>((r) => steps.push(r));
        onEvent(e);
      }
      await new Promise<void>((r) => steps.push(r));
      return ok;
    },
  };
  const published: string[] = [];
  const runs = fixtureRunService({ transcripts: transcripts, workspace: ws, runtime, published });
  return { runs, step, steps, published };
}

test("firstReply resolves at the model's first event, not at the echo of the user's prompt", async () => {
  const t = service([chunk(1, 'user'), chunk(2, 'assistant')]);
  const { done, firstReply } = await t.runs.start({ agent: 'fixture', cwd: '/repo', prompt: 'go' });
  let replied = false;
  void firstReply.then(() => (replied = true));
  await until('the prompt to start', () => t.steps.length === 1);
  t.step();
  await until("the user's echo published", () => t.published.includes('k1'));
  await until('the next step', () => t.steps.length === 1);
  assert.equal(replied, false, "the user's echo is not the model's reply");
  t.step();
  await until('the first reply', () => replied);
  await until('the last step', () => t.steps.length === 1);
  t.step();
  assert.equal((await done)?.status, 'succeeded');
});

test('firstReply resolves at the end of a turn that had no event from the model', async () => {
  const t = service([chunk(1, 'user')]);
  const { done, firstReply } = await t.runs.start({ agent: 'fixture', cwd: '/repo', prompt: 'go' });
  let replied = false;
  void firstReply.then(() => (replied = true));
  await until('the prompt to start', () => t.steps.length === 1);
  t.step();
  await until('the last step', () => t.steps.length === 1);
  assert.equal(replied, false);
  t.step();
  await done;
  await until('the first reply at the end', () => replied);
});

/**
 * Write faults (ENOSPC, EIO, …) in the session runner and the task service, with in-memory ports: the
 * store stays consistent, the fault is reported, dispatching stops, and a turn whose transcript cannot
 * be written is stopped instead of running on unrecorded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentEvent } from '../../../protocol/agentEvent';
import { emptyStore, localTenantId } from '../domain/storeSchema';
import type { AgentRuntime, TurnResult } from '../ports/agentRuntime';
import type { TranscriptPort } from '../ports/transcript';
import type { WorkspacePort } from '../ports/workspace';
import { SessionRecords } from './sessionRecords';
import { SessionRunner, type TurnRunner } from './sessionRunner';
import { SessionService } from './sessionService';
import { MemoryStore, enospc, fixtureRunService, immediate, quiet, until } from './testDoubles';

const ws: WorkspacePort = {
  assertRepo: async (cwd) => ({ root: cwd, head: 'base' }),
  headCommit: async () => 'base',
  branchExists: async () => true,
  createBranch: async () => undefined,
  addWorktree: async () => undefined,
  removeWorktree: async () => undefined,
  resetWorktree: async () => undefined,
  commitAll: async () => 'c1',
  commitChanges: async () => [],
  merge: async () => ({ ok: true }),
  changedFiles: async () => [],
  diff: async () => '',
  readBlob: async () => ({ kind: 'absent' as const }),
  dirtyFiles: async () => [],
  applyPatch: async () => undefined,
  abortMerge: async () => undefined,
  resolveRef: async () => null,
  deleteBranches: async () => [],
};
const usage = { inputTokens: 1, outputTokens: 1, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 };
const ok: TurnResult = { status: 'succeeded', stopReason: 'end_turn', summary: 'done', usage, diff: [], durationMs: 1, lastSeq: 1 };

test('the end of a task cannot be recorded (ENOSPC): the runner halts and says why, the store keeps the task running, nothing more is dispatched', async () => {
  const store = new MemoryStore(emptyStore(new Date(0).toISOString()));
  const records = new SessionRecords(store, localTenantId);
  let finishA!: (r: TurnResult) => void;
  const dispatched: string[] = [];
  const runs: TurnRunner = {
    start: async (input) => {
      dispatched.push(input.prompt.split('\n')[0]);
      return {
        runId: `run${dispatched.length}`,
        done: new Promise<TurnResult>((r) => {
          finishA = r;
        }),
      };
    },
    cancel: async () => undefined,
  };
  const runner = new SessionRunner({
    records,
    workspace: ws,
    runs,
    executor: immediate,
    agents: [{ id: 'opencode', capabilities: ['*'], maxConcurrency: 4 }],
    limits: { global: 4 },
    worktreeRoot: '/wt',
    leaseTtlMs: 60_000,
    publish: () => undefined,
    now: Date.now,
    logger: quiet,
  });
  const halts: string[] = [];
  runner.onHalt((r) => halts.push(r));
  const sessions = new SessionService({
    records,
    runner,
    workspace: ws,
    worktreeRoot: '/wt',
    newId: () => 's1',
    now: Date.now,
    cancelRun: async () => undefined,
  });
  await sessions.start({ goal: '- [a] A {files: a.txt}: alpha\n- [b] B (after: a) {files: b.txt}: beta', cwd: '/repo', approve: true });
  const a = () => store.data.tasks.find((t) => t.planId === 'a')!;
  await until('a running', () => a().state === 'running' && !!a().runId);
  store.full = true;
  finishA(ok);
  await until('the runner to halt', () => halts.length > 0);
  assert.match(halts[0], /could not be recorded.*ENOSPC/);
  assert.equal(runner.haltedBy(), halts[0]);
  assert.equal(a().state, 'running', 'the store is consistent: the unrecorded end leaves a running (the next start re-queues it)');
  // Space returns, but this process stays halted: a session approved now is recorded, not dispatched.
  store.full = false;
  let n = 1;
  const more = new SessionService({
    records,
    runner,
    workspace: ws,
    worktreeRoot: '/wt',
    newId: () => `s${++n}`,
    now: Date.now,
    cancelRun: async () => undefined,
  });
  const second = await more.start({ goal: '- [z] Z {files: z.txt}: zeta', cwd: '/repo', approve: true });
  runner.pump();
  await runner.quiesce(second.id, 5_000);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(second.state, 'running');
  assert.deepEqual(dispatched, ['alpha'], 'nothing was dispatched after the fault');
  runner.stop();
});

test('a transcript that cannot be written stops the turn and fails it as write_failed', async () => {
  const store = new MemoryStore(emptyStore(new Date(0).toISOString()));
  let cancelled = false;
  let aborted = false;
  const runtime: AgentRuntime = {
    id: 'opencode',
    start: async () => undefined,
    cancel: async () => {
      cancelled = true;
    },
    dispose: async () => undefined,
    prompt: async (req, onEvent) => {
      req.signal?.addEventListener('abort', () => {
        aborted = true;
      });
      for (let seq = 1; seq <= 3; seq++) onEvent({ kind: 'message_chunk', text: 'x', seq, at: 'now', key: `k${seq}` } as AgentEvent);
      await until('the abort', () => aborted, 5_000);
      return { ...ok, status: 'cancelled', stopReason: 'cancelled' };
    },
  };
  const failing: TranscriptPort<AgentEvent> = {
    append: async () => {
      throw enospc();
    },
    read: async () => [],
  };
  const published: string[] = [];
  const runService = fixtureRunService({ store, transcripts: failing, workspace: ws, runtime, published });
  const { done } = await runService.start({ agent: 'opencode', cwd: '/repo', prompt: 'go' });
  const result = await done;
  assert.equal(result?.status, 'failed');
  assert.equal(result?.error?.reason, 'write_failed');
  assert.match(result?.error?.message ?? '', /ENOSPC/);
  assert.ok(aborted && cancelled, 'the agent was told to stop');
  assert.deepEqual(published, [], 'no event was published that is not in the transcript');
  assert.equal(runService.get('r1').state, 'failed');
});

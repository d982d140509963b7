/**
 * Crash recovery with in-memory records (no disk, no git, no agent): a session is driven by the real
 * services until tasks run, the process "dies" (its store is copied as it was), and the next process's
 * `SessionService.recover` and `RunService.recoverInterrupted` run on the copy.
 */
import type { AgentEvent } from '../../../protocol/agentEvent';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyUsage } from '../domain/agentEvent';
import { emptyStore, localTenantId, type StoreData } from '../domain/storeSchema';
import type { AgentRuntime, TurnResult } from '../ports/agentRuntime';
import type { StorePort } from '../ports/store';
import type { TranscriptPort } from '../ports/transcript';
import type { WorkspacePort } from '../ports/workspace';
import { SessionRecords } from './sessionRecords';
import { SessionRunner, type TurnRunner } from './sessionRunner';
import { SessionService } from './sessionService';
import { RunService } from './runService';
import { MemoryStore, identityPaths, immediate, quiet, until } from './testDoubles';

function workspace(calls: string[]): WorkspacePort {
  return {
    assertRepo: async (cwd) => ({ root: cwd, head: 'base' }),
    headCommit: async () => 'base',
    branchExists: async () => true,
    createBranch: async () => undefined,
    addWorktree: async (_r, dir) => {
      calls.push(`addWorktree ${dir}`);
    },
    removeWorktree: async () => undefined,
    resetWorktree: async () => undefined,
    commitAll: async () => 'c1',
    commitChanges: async () => [{ path: 'a.txt', status: 'added' }],
    merge: async () => ({ ok: true }),
    changedFiles: async () => [{ path: 'a.txt', status: 'added' }],
    diff: async () => '',
    readBlob: async () => ({ kind: 'absent' as const }),
    dirtyFiles: async () => [],
    applyPatch: async () => undefined,
    abortMerge: async (dir) => {
      calls.push(`abortMerge ${dir}`);
    },
    resolveRef: async () => null,
    deleteBranches: async () => [],
  };
}

const ok = (summary: string): TurnResult => ({
  status: 'succeeded',
  stopReason: 'end_turn',
  summary,
  usage: { inputTokens: 100, outputTokens: 50, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 },
  diff: [],
  durationMs: 1,
  lastSeq: 1,
});

function build(store: StorePort, runs: TurnRunner, calls: string[]) {
  const records = new SessionRecords(store, localTenantId);
  const ws = workspace(calls);
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
  const sessions = new SessionService({
    records,
    runner,
    workspace: ws,
    worktreeRoot: '/wt',
    newId: () => 's1',
    now: Date.now,
    cancelRun: async () => undefined,
  });
  return { records, runner, sessions };
}

test('recover after a crash: running tasks re-queued with the attempt refunded, leases and reservations freed, finished work untouched', async () => {
  const store = new MemoryStore(emptyStore(new Date(0).toISOString()));
  let n = 0;
  // Task a's turn succeeds; every other turn never ends (the process dies while they run).
  const runs: TurnRunner = {
    start: async (input) => ({
      runId: `run${++n}`,
      done: input.prompt.startsWith('alpha') ? Promise.resolve(ok('a done')) : new Promise<never>(() => undefined),
    }),
    cancel: async () => undefined,
  };
  const first = build(store, runs, []);
  const goal = [
    '- [a] A {files: a.txt}: alpha',
    '- [b] B {files: b.txt}: beta',
    '- [c] C (after: a) {files: c.txt}: gamma',
    '- [d] D (after: b) {files: d.txt}: delta',
  ].join('\n');
  await first.sessions.start({ goal, cwd: '/repo', approve: true, budget: { tokens: 1_000_000 } });
  const byPlan = (s: StoreData, id: string) => s.tasks.find((t) => t.planId === id)!;
  await until(
    'a succeeded and b, c running',
    () =>
      byPlan(store.data, 'a').state === 'succeeded' &&
      byPlan(store.data, 'b').state === 'running' &&
      byPlan(store.data, 'c').state === 'running',
  );
  first.runner.stop();
  // The crash: the next process starts from the store exactly as it was on disk.
  const crashed = structuredClone(store.data);
  crashed.runs = [
    {
      id: 'r-live',
      tenantId: localTenantId,
      sessionId: 'run-r-live',
      state: 'running',
      agent: 'opencode',
      cwd: '/repo',
      prompt: 'p',
      createdAt: 'x',
      usage: emptyUsage(),
      events: 3,
    },
    {
      id: 'r-done',
      tenantId: localTenantId,
      sessionId: 'run-r-done',
      state: 'succeeded',
      agent: 'opencode',
      cwd: '/repo',
      prompt: 'p',
      createdAt: 'x',
      summary: 'kept',
      usage: emptyUsage(),
      events: 2,
    },
  ];
  assert.ok(
    crashed.leases.leases.some((l) => l.taskId === byPlan(crashed, 'b').id),
    'b held a lease when the process died',
  );
  assert.ok(byPlan(crashed, 'b').attempts === 1 && byPlan(crashed, 'c').attempts === 1);
  const aBefore = structuredClone(byPlan(crashed, 'a'));

  const next = new MemoryStore(crashed);
  const calls: string[] = [];
  const second = build(
    next,
    {
      start: async () => {
        throw new Error('nothing may run during this test');
      },
      cancel: async () => undefined,
    },
    calls,
  );
  second.runner.stop(); // no dispatch after recovery: the test looks at what recovery itself wrote
  const requeued = await second.sessions.recover();
  const runService = new RunService({
    store: next,
    transcripts: {} as TranscriptPort<AgentEvent>,
    workspace: workspace([]),
    runtime: () => undefined as AgentRuntime | undefined,
    checkModel: () => undefined,
    publish: () => undefined,
    askUser: async () => 'deny',
    newId: () => 'x',
    now: () => new Date(0),
    logger: quiet,
    paths: identityPaths,
  });
  const failedRuns = await runService.recoverInterrupted();

  assert.equal(requeued, 2, 'b and c were interrupted');
  for (const id of ['b', 'c']) {
    const t = byPlan(next.data, id);
    assert.equal(t.state, 'ready', `${id} is queued again`);
    assert.equal(t.attempts, 0, `${id}: the interrupted attempt is refunded`);
    assert.ok(!next.data.leases.leases.some((l) => l.taskId === t.id), `${id}: its lease is released`);
  }
  assert.deepEqual(byPlan(next.data, 'a'), aBefore, 'the finished task and its result are untouched');
  assert.equal(byPlan(next.data, 'd').state, 'pending', 'd still waits for b');
  const session = next.data.sessions[0];
  assert.equal(session.state, 'running');
  assert.deepEqual(Object.keys(session.budget.reserved), [], 'no reservation is left for the interrupted tasks');
  assert.equal(session.budget.spent.tokens, 150, "a's usage stays spent");
  assert.equal(next.data.agentHealth.opencode.running, 0, 'no agent turn counts as running');
  assert.deepEqual(
    calls,
    ['addWorktree /wt/s1/_integration', 'abortMerge /wt/s1/_integration'],
    'the integration worktree is back and a half-done merge aborted',
  );
  assert.equal(failedRuns, 1);
  const runsAfter = next.data.runs;
  assert.deepEqual(
    runsAfter.map((r) => [r.id, r.state, r.error?.reason]),
    [
      ['r-live', 'failed', 'interrupted'],
      ['r-done', 'succeeded', undefined],
    ],
  );
  assert.equal(runsAfter[1].summary, 'kept');
});

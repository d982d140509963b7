// task/cancel and task/retry through SessionService and SessionRunner: real store on disk, real git
// worktrees and merges, real executor; the turn runner stands in for the agent (a turn that runs until it
// is cancelled, turns that write their file). The same promises through the real OpenCode binary are in
// test/integration/sessionTaskControl.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { SessionView } from '../../../protocol/session';
import { GitWorkspace } from '../adapters/git/git';
import { LowdbStore } from '../adapters/lowdb/lowdbStore';
import { PQueueExecutor } from '../adapters/queue/pQueueExecutor';
import { DomainError } from '../domain/errors';
import { localTenantId } from '../domain/storeSchema';
import type { TurnResult } from '../ports/agentRuntime';
import { SessionRecords } from './sessionRecords';
import { SessionRunner, type TurnRunner } from './sessionRunner';
import { SessionService } from './sessionService';
import { quiet, gitRepo } from './testDoubles';

const usage = { inputTokens: 10, outputTokens: 5, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 };
const result = (status: TurnResult['status'], summary: string): TurnResult => ({
  status,
  stopReason: status === 'cancelled' ? 'cancelled' : 'end_turn',
  summary,
  usage,
  diff: [],
  durationMs: 1,
  lastSeq: 0,
});

const repo = (): string => gitRepo('orch-taskctl-');

let debug: (() => unknown) | undefined;
async function until<T>(what: string, ms: number, probe: () => T | undefined): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}: ${JSON.stringify(debug?.())}`);
}

test('cancelling one running task leaves the other to finish; retrying it alone completes the session', async () => {
  const data = mkdtempSync(path.join(os.tmpdir(), 'orch-taskctl-data-'));
  const store = new LowdbStore(path.join(data, 'store.json'), quiet);
  await store.load();
  const records = new SessionRecords(store, localTenantId);
  // Real git; once armed, removing the integration worktree stops half-way (its `.git` file gone, the
  // folder still there, as a `git worktree remove` in progress leaves it) until the test lets it go on.
  let armed = false;
  let reached: () => void = () => undefined;
  const halfway = new Promise<void>((r) => (reached = r));
  let goOn: () => void = () => undefined;
  const gate = new Promise<void>((r) => (goOn = r));
  const git = new (class extends GitWorkspace {
    override async removeWorktree(repo: string, dir: string): Promise<void> {
      if (armed && path.basename(dir) === '_integration') {
        armed = false;
        rmSync(path.join(dir, '.git'), { force: true });
        reached();
        await gate;
      }
      return super.removeWorktree(repo, dir);
    }
  })();
  // A prompt with "hold" runs until it is cancelled, the first time; every other turn writes its file.
  const held = new Map<string, (r: TurnResult) => void>();
  const turns: string[] = [];
  let releaseC: () => void = () => undefined;
  const cGate = new Promise<void>((r) => (releaseC = r));
  const runs: TurnRunner = {
    start: async (input) => {
      const runId = `run${turns.length + 1}`;
      const file = /write (\S+)/.exec(input.prompt)?.[1] ?? 'x.txt';
      turns.push(file);
      if (/hold/.test(input.prompt) && turns.filter((f) => f === file).length === 1)
        return { runId, done: new Promise<TurnResult>((r) => held.set(runId, r)) };
      if (file === 'c.txt') await cGate;
      writeFileSync(path.join(input.cwd, file), `${file}\n`);
      return { runId, done: Promise.resolve(result('succeeded', `wrote ${file}`)) };
    },
    cancel: async (runId) => held.get(runId)?.(result('cancelled', 'partial')),
  };
  const worktreeRoot = path.join(data, 'worktrees');
  const runner = new SessionRunner({
    records,
    workspace: git,
    runs,
    worktreeRoot,
    executor: new PQueueExecutor(3, () => undefined),
    agents: [{ id: 'opencode', capabilities: ['*'], maxConcurrency: 3 }],
    limits: { global: 3 },
    leaseTtlMs: 60_000,
    publish: () => undefined,
    now: Date.now,
    logger: quiet,
  });
  let n = 0;
  const sessions = new SessionService({
    records,
    runner,
    workspace: git,
    worktreeRoot,
    newId: () => `s${++n}`,
    now: Date.now,
    cancelRun: (runId) => runs.cancel(runId),
  });
  const cwd = repo();
  debug = () => [records.state().sessions, records.state().tasks.map((t) => [t.planId, t.state, t.lastError, t.attempts]), turns];
  const goal = [
    '- [a] A {files: a.txt}: hold, then write a.txt',
    '- [b] B (after: a) {files: b.txt}: write b.txt',
    '- [c] C {files: c.txt}: write c.txt',
  ].join('\n');
  const s = await sessions.start({ goal, cwd, approve: true });
  const states = (v: SessionView) => v.tasks.map((t) => [t.planId, t.state]).sort((x, y) => x[0]!.localeCompare(y[0]!));
  const taskOf = (v: SessionView, planId: string) => v.tasks.find((t) => t.planId === planId)!;
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => {
        assert.ok(DomainError.is(e), String(e));
        return e;
      },
    );

  const both = await until('a and c to run', 10_000, () => {
    const v = records.view(s.id);
    return taskOf(v, 'a').runId && taskOf(v, 'c').state === 'running' ? v : undefined;
  });
  const a = taskOf(both, 'a');
  // Bad input changes nothing.
  const e1 = await refusal(sessions.tasks.cancel(s.id, 'a'));
  assert.equal(e1.reason, 'not_found');
  assert.equal(e1.data?.field, 'taskId');
  const e2 = await refusal(sessions.tasks.retry(s.id, a.id));
  assert.equal(e2.reason, 'conflict');
  assert.match(e2.message, /^taskId: task a is running/);
  assert.deepEqual(
    records.view(s.id).tasks.map((t) => t.state),
    both.tasks.map((t) => t.state),
  );

  const afterCancel = await sessions.tasks.cancel(s.id, a.id);
  assert.deepEqual(states(afterCancel), [
    ['a', 'cancelled'],
    ['b', 'cancelled'],
    ['c', 'running'],
  ]);
  assert.equal(afterCancel.state, 'running', 'the session goes on');
  armed = true;
  releaseC();
  const ended = await until('the session to end', 15_000, () => {
    const v = records.view(s.id);
    return v.state !== 'running' ? v : undefined;
  });
  assert.equal(ended.state, 'partially_completed');
  assert.deepEqual(states(ended), [
    ['a', 'cancelled'],
    ['b', 'cancelled'],
    ['c', 'succeeded'],
  ]);
  assert.equal(records.state().agentHealth.opencode?.failures ?? 0, 0, 'a cancel is not a failure of the agent');
  assert.deepEqual(records.state().leases.leases, [], 'leases released');
  const e3 = await refusal(sessions.tasks.cancel(s.id, a.id));
  assert.match(e3.message, /^sessionId: session s1 already ended/);
  const e4 = await refusal(sessions.tasks.retry(s.id, taskOf(ended, 'b').id));
  assert.match(e4.message, /^taskId: task b depends on a, which is cancelled; retry a instead/);

  // The retry comes while the ended session's clean-up is removing its integration worktree: it waits
  // for that removal, then adds the worktree again; the retried work merges into it.
  // Another pump meanwhile (the runner's tick, another session's end) must not dispatch into the
  // half-removed worktrees either.
  await halfway;
  let settled = false;
  const retrying = sessions.tasks.retry(s.id, a.id).finally(() => (settled = true));
  await new Promise((r) => setTimeout(r, 300));
  runner.pump();
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(settled, false, 'the retry waits for the clean-up under way');
  goOn();
  const reopened = await retrying;
  assert.equal(reopened.state, 'running');
  assert.ok(existsSync(path.join(worktreeRoot, s.id, '_integration', '.git')), 'the integration worktree is back');
  // The other pump may have dispatched a already (its turn waited for the clean-up).
  assert.deepEqual(states(reopened), [
    ['a', taskOf(reopened, 'a').state === 'running' ? 'running' : 'ready'],
    ['b', 'pending'],
    ['c', 'succeeded'],
  ]);
  const done = await until('the session to complete', 15_000, () => {
    const v = records.view(s.id);
    return v.state !== 'running' ? v : undefined;
  });
  assert.equal(done.state, 'completed', JSON.stringify(done.tasks.map((t) => [t.planId, t.state, t.lastError])));
  assert.deepEqual(
    [...turns.slice(0, 2).sort(), ...turns.slice(2)],
    ['a.txt', 'c.txt', 'a.txt', 'b.txt'],
    'c ran once; a twice; b after a',
  );
  const tree = execFileSync('git', ['ls-tree', '--name-only', done.integrationBranch!], { cwd, encoding: 'utf8' }).trim().split('\n');
  assert.deepEqual(tree.sort(), ['README.md', 'a.txt', 'b.txt', 'c.txt']);
  const e5 = await refusal(sessions.tasks.retry(s.id, taskOf(done, 'c').id));
  assert.match(e5.message, /^taskId: task c already succeeded/);
  const prio = await refusal(sessions.tasks.setPriority(s.id, taskOf(done, 'c').id, 0));
  assert.equal(prio.data?.field, 'taskId');
  runner.stop();
});

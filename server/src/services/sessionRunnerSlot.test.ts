// A task frees its agent slot when its turn ends, not after its merge: real store on disk, real git
// worktrees and merges, real executor; the turn runner stands in for the agent (turns that write their file)
// and the first merge is held until the test lets it go on.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { GitWorkspace } from '../adapters/git/git';
import { LowdbStore } from '../adapters/lowdb/lowdbStore';
import { PQueueExecutor } from '../adapters/queue/pQueueExecutor';
import { localTenantId } from '../domain/storeSchema';
import type { MergeOutcome } from '../ports/workspace';
import { SessionRecords } from './sessionRecords';
import { SessionRunner, type TurnRunner } from './sessionRunner';
import { SessionService } from './sessionService';
import { SessionTaskControl } from './sessionTaskControl';
import { integrationDirOf } from './sessionLayout';
import { quiet, gitRepo } from './testDoubles';

const repo = (): string => gitRepo('orch-slot-');

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

/** Real store, git (the merge of task a's branch waits for `goOn`), executor at concurrency 1; turns write their file. */
async function harness() {
  const data = mkdtempSync(path.join(os.tmpdir(), 'orch-slot-data-'));
  const store = new LowdbStore(path.join(data, 'store.json'), quiet);
  await store.load();
  const records = new SessionRecords(store, localTenantId);
  // Real git; the merge of task a's branch waits for the test.
  let reached: () => void = () => undefined;
  const mergeHeld = new Promise<void>((r) => (reached = r));
  let goOn: () => void = () => undefined;
  const gate = new Promise<void>((r) => (goOn = r));
  const merged: string[] = [];
  const git = new (class extends GitWorkspace {
    override async merge(cwd: string, branch: string, message: string): Promise<MergeOutcome> {
      if (branch.endsWith('/a')) {
        reached();
        await gate;
      }
      const out = await super.merge(cwd, branch, message);
      merged.push(branch.split('/').pop()!);
      return out;
    }
  })();
  const turns: string[] = [];
  const runs: TurnRunner = {
    start: async (input) => {
      const [, file, text] = /write (\S+) (\S+)/.exec(input.prompt)!;
      turns.push(text);
      writeFileSync(path.join(input.cwd, file), `${text}\n`);
      return {
        runId: `run${turns.length}`,
        done: Promise.resolve({
          status: 'succeeded' as const,
          stopReason: 'end_turn',
          summary: `wrote ${file}`,
          usage: { inputTokens: 1, outputTokens: 1, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 },
          diff: [],
          durationMs: 1,
          lastSeq: 0,
        }),
      };
    },
    cancel: async () => undefined,
  };
  const worktreeRoot = path.join(data, 'worktrees');
  const runner = new SessionRunner({
    records,
    workspace: git,
    runs,
    worktreeRoot,
    executor: new PQueueExecutor(1, () => undefined),
    agents: [{ id: 'opencode', capabilities: ['*'], maxConcurrency: 1 }],
    limits: { global: 1 },
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
    cancelRun: async () => undefined,
  });
  const control = new SessionTaskControl({ records, runner, now: Date.now, cancelRun: async () => undefined });
  return { records, runner, sessions, control, mergeHeld, goOn, merged, turns, worktreeRoot };
}

test('at concurrency 1 the next task starts while the previous merge runs; a task on the same file waits for its end', async () => {
  const { records, runner, sessions, mergeHeld, goOn, merged, turns } = await harness();
  const cwd = repo();
  const taskIn = (planId: string) => records.state().tasks.find((t) => t.planId === planId)!;
  debug = () => [records.state().tasks.map((t) => [t.planId, t.state, t.blocked?.reason]), turns, merged];
  const goal = [
    '- [a] A {files: a.txt}: write a.txt first',
    '- [b] B {files: b.txt}: write b.txt second',
    '- [c] C {files: a.txt}: write a.txt third',
  ].join('\n');
  const s = await sessions.start({ goal, cwd, approve: true });

  await mergeHeld;
  // a's merge is under way: b (other file) gets the one slot and its turn runs, and ends too (its merge
  // queues behind a's); c (a's file) waits for a's lease, not for a slot.
  const c = await until('c to wait for the lease of a', 20_000, () => {
    const t = taskIn('c');
    return turns.includes('second') && t.state === 'blocked' ? t : undefined;
  });
  assert.equal(c.blocked?.on, 'lease');
  assert.deepEqual(turns, ['first', 'second']);
  assert.equal(taskIn('a').state, 'running', 'a stays running in the store until its end is recorded');
  assert.ok(
    records.state().leases.leases.some((l) => l.taskId === taskIn('a').id),
    'a keeps its lease while it merges',
  );
  assert.deepEqual(merged, [], 'merges of a session stay one at a time: b waits for a');

  goOn();
  const ended = await until('the session to end', 30_000, () => {
    const v = records.view(s.id);
    return v.state !== 'running' ? v : undefined;
  });
  assert.equal(ended.state, 'completed', JSON.stringify(debug()));
  assert.deepEqual(turns, ['first', 'second', 'third']);
  assert.deepEqual(merged, ['a', 'b', 'c']);
  // c started from the integration branch with a merged: its write is the one that stays.
  const tip = execFileSync('git', ['show', `${records.session(s.id).integrationBranch}:a.txt`], { cwd, encoding: 'utf8' });
  assert.equal(tip, 'third\n');
  assert.ok(readFileSync(path.join(cwd, 'README.md'), 'utf8'));
  assert.deepEqual(records.state().leases.leases, [], 'leases released');
  assert.equal(records.state().agentHealth.opencode?.running, 0, "the agent's running count is back to 0");
  await runner.quiesce(s.id, 30_000);
  runner.stop();
});

for (const how of ['task/retry', 'session/retry'] as const)
  test(`a task cancelled while it merges: ${how} waits for the old end, the integration worktree stays for the merge, the runner goes on`, async () => {
    const { records, runner, sessions, control, mergeHeld, goOn, merged, turns, worktreeRoot } = await harness();
    let halted: string | undefined;
    runner.onHalt((why) => (halted = why));
    const cwd = repo();
    const taskIn = (planId: string) => records.state().tasks.find((t) => t.planId === planId)!;
    debug = () => [records.state().tasks.map((t) => [t.planId, t.state]), turns, merged, halted];
    const s = await sessions.start({ goal: '- [a] A {files: a.txt}: write a.txt first', cwd, approve: true });
    await mergeHeld;
    await control.cancel(s.id, taskIn('a').id);
    assert.equal(taskIn('a').state, 'cancelled');
    // The session ended (its only task cancelled); its clean-up must leave the integration worktree to the merge.
    await until('the session to end as cancelled', 20_000, () => (records.view(s.id).state === 'cancelled' ? true : undefined));
    let retried = false;
    const retry = (how === 'task/retry' ? control.retry(s.id, taskIn('a').id) : sessions.retry(s.id)).then((v) => {
      retried = true;
      return v;
    });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(retried, false, 'the retry waits for the old attempt to end');
    assert.ok(existsSync(integrationDirOf(worktreeRoot, s.id)), 'the integration worktree stays while a merge runs in it');
    goOn();
    await retry;
    const ended = await until('the retried session to end', 30_000, () => {
      const v = records.view(s.id);
      return v.state === 'completed' || v.state === 'failed' ? v : undefined;
    });
    assert.equal(halted, undefined, 'the runner did not halt');
    assert.equal(ended.state, 'completed', JSON.stringify(debug()));
    assert.deepEqual(turns, ['first', 'first']);
    await runner.quiesce(s.id, 30_000);
    runner.stop();
  });

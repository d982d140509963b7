// Pre-warmed worktrees (issue 13) through the real SessionRunner: real store on disk, real git worktrees,
// real executor; the turn runner stands in for the agent (it writes the task's file when released).
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
import type { TurnResult } from '../ports/agentRuntime';
import type { Logger } from '../ports/logger';
import { taskBranchOf, taskWorktreeOf } from './sessionLayout';
import { SessionRecords } from './sessionRecords';
import { SessionRunner, type TurnRunner } from './sessionRunner';
import { SessionService } from './sessionService';
import { gitRepo } from './testDoubles';

const quiet: Logger = { error() {}, warn() {}, info() {}, debug() {} };
const usage = { inputTokens: 0, outputTokens: 0, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 };

const repo = (): string => gitRepo('orch-prewarm-');

const branchExists = (cwd: string, b: string) => {
  try {
    execFileSync('git', ['rev-parse', '--verify', '-q', `refs/heads/${b}`], { cwd, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

async function until<T>(what: string, ms: number, probe: () => T | undefined | false): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** The real GitWorkspace, counting where worktrees are added (to tell a pre-warmed worktree from a new one). */
class CountingGit extends GitWorkspace {
  readonly added: string[] = [];
  override async addWorktree(repoDir: string, dir: string, branch: string, base: string) {
    this.added.push(dir);
    return super.addWorktree(repoDir, dir, branch, base);
  }
}

/** Concurrency 1: while the first task runs, the second waits ready and gets a pre-warmed worktree. */
async function setup(
  o: {
    warmAgent?: (cwd: string) => Promise<void>;
    warmAgentMs?: number;
    goal?: string;
    approve?: boolean;
    global?: number;
    /** The runs' first reply (first model request) waits for `replies.get(name)()`; default: at once. */
    holdReplies?: boolean;
    holdMs?: number;
    /** Default true, as in the server; false: the slot is held until a task's merge is recorded. */
    freeSlotAtTurnEnd?: boolean;
  } = {},
) {
  const data = mkdtempSync(path.join(os.tmpdir(), 'orch-prewarm-data-'));
  const store = new LowdbStore(path.join(data, 'store.json'), quiet);
  await store.load();
  const records = new SessionRecords(store, localTenantId);
  const git = new CountingGit();
  const gates = new Map<string, () => void>();
  const replies = new Map<string, () => void>();
  const started: { cwd: string; prompt: string; files: string[] }[] = [];
  let n = 0;
  const runs: TurnRunner = {
    start: async (input) => {
      const name = /write (\w+)/.exec(input.prompt)?.[1] ?? 'x';
      started.push({ cwd: input.cwd, prompt: input.prompt, files: execFileSync('ls', [input.cwd], { encoding: 'utf8' }).split('\n') });
      const done = new Promise<TurnResult>((resolve) =>
        gates.set(name, () => {
          writeFileSync(path.join(input.cwd, `${name}.txt`), `${name}\n`);
          resolve({ status: 'succeeded', stopReason: 'end_turn', summary: 'ok', usage, diff: [], durationMs: 1, lastSeq: 0 });
        }),
      );
      const firstReply = o.holdReplies ? new Promise<void>((r) => replies.set(name, r)) : Promise.resolve();
      return { runId: `run${++n}`, done, firstReply };
    },
    cancel: async () => undefined,
  };
  const worktreeRoot = path.join(data, 'worktrees');
  const warmed: string[] = [];
  const runner = new SessionRunner({
    records,
    workspace: git,
    runs,
    worktreeRoot,
    executor: new PQueueExecutor(o.global ?? 1, () => undefined),
    agents: [{ id: 'opencode', capabilities: ['*'], maxConcurrency: o.global ?? 1 }],
    limits: { global: o.global ?? 1 },
    leaseTtlMs: 60_000,
    publish: () => undefined,
    now: Date.now,
    logger: quiet,
    prewarm: {
      warmAgent: async (cwd) => {
        warmed.push(cwd);
        await o.warmAgent?.(cwd);
      },
      warmAgentMs: o.warmAgentMs,
      holdMs: o.holdMs,
    },
    ...(o.freeSlotAtTurnEnd === undefined ? {} : { freeSlotAtTurnEnd: o.freeSlotAtTurnEnd }),
  });
  let id = 0;
  const sessions = new SessionService({
    records,
    runner,
    workspace: git,
    worktreeRoot,
    newId: () => `s${++id}`,
    now: Date.now,
    cancelRun: async () => undefined,
  });
  const cwd = repo();
  const s = await sessions.start({
    goal: o.goal ?? '- [a] A {files: a.txt}: write a\n- [b] B {files: b.txt}: write b',
    cwd,
    approve: o.approve ?? true,
  });
  const wtB = taskWorktreeOf(worktreeRoot, s.id, 'b');
  const ended = () => {
    const v = records.view(s.id);
    return ['completed', 'failed', 'partially_completed', 'cancelled'].includes(v.state) ? v : undefined;
  };
  const wt = (planId: string) => taskWorktreeOf(worktreeRoot, s.id, planId);
  return { records, git, gates, replies, started, runner, sessions, cwd, s, wtB, wt, warmed, ended, worktreeRoot };
}

test('a ready task waiting for a slot gets its worktree ahead; its dispatch uses it, at the integration branch as it is then', async () => {
  // The slot held until a's merge is recorded, so that b's dispatch comes after a merge landed: the
  // pre-warmed worktree must be moved to it. (With the slot freed at a's turn end, b, on other files, may
  // start before a's merge: sessionRunnerSlot.test.ts.)
  const t = await setup({ freeSlotAtTurnEnd: false });
  await until('task a to start', 20_000, () => t.gates.has('a'));
  await until("b's pre-warmed worktree", 20_000, () => existsSync(path.join(t.wtB, '.git')) && t.warmed.includes(t.wtB));
  await t.runner.prewarmer.settled();
  assert.deepEqual(t.runner.prewarmer.held(), [t.s.tasks.find((x) => x.planId === 'b')!.id]);
  assert.equal(t.git.added.filter((d) => d === t.wtB).length, 1, 'made once, by the pre-warm');
  assert.ok(!t.warmed.includes(t.wt('a')), 'a task dispatched at once is not pre-warmed: ' + t.warmed.join(' '));

  t.gates.get('a')!();
  await until('task b to start', 20_000, () => t.gates.has('b'));
  const b = t.started[1];
  assert.equal(b.cwd, t.wtB, 'b runs in its pre-warmed worktree');
  assert.ok(b.files.includes('a.txt'), `b starts from the integration branch holding a's merge (saw ${b.files.join(' ')})`);
  t.gates.get('b')!();
  const done = await until('the session to end', 20_000, t.ended);
  assert.equal(done.state, 'completed', JSON.stringify(done.tasks));
  assert.equal(readFileSync(path.join(t.cwd, 'README.md'), 'utf8'), '# r\n');
  const files = execFileSync('git', ['ls-tree', '--name-only', `orchestrator/${t.s.id}/integration`], { cwd: t.cwd, encoding: 'utf8' });
  assert.deepEqual(files.trim().split('\n').sort(), ['README.md', 'a.txt', 'b.txt']);
  assert.deepEqual(t.runner.prewarmer.held(), []);
  t.runner.stop();
});

test('a pre-warmed task cancelled before dispatch loses its worktree and branch; nothing is left behind', async () => {
  const t = await setup();
  await until('task a to start', 20_000, () => t.gates.has('a'));
  await until("b's pre-warmed worktree", 20_000, () => existsSync(path.join(t.wtB, '.git')));
  await t.runner.prewarmer.settled();
  const bId = t.s.tasks.find((x) => x.planId === 'b')!.id;
  await t.sessions.tasks.cancel(t.s.id, bId);
  await until("b's worktree to go", 20_000, () => !existsSync(t.wtB));
  await t.runner.prewarmer.settled();
  assert.equal(branchExists(t.cwd, taskBranchOf(t.s.id, 'b')), false, "b's branch is gone");
  const listed = execFileSync('git', ['worktree', 'list', '--porcelain'], { cwd: t.cwd, encoding: 'utf8' });
  assert.ok(!listed.includes(t.wtB), `no registration left for b's worktree:\n${listed}`);
  assert.deepEqual(t.runner.prewarmer.held(), []);

  t.gates.get('a')!();
  const done = await until('the session to end', 20_000, t.ended);
  assert.deepEqual(
    done.tasks.map((x) => [x.planId, x.state]),
    [
      ['a', 'succeeded'],
      ['b', 'cancelled'],
    ],
  );
  assert.equal(t.started.length, 1, 'b never ran');
  t.runner.stop();
});

test('an agent warm-up that never answers does not hold the task: past its deadline the dispatch takes the worktree as it is', async () => {
  const t = await setup({ warmAgent: () => new Promise<void>(() => undefined), warmAgentMs: 300 });
  await until('task a to start', 20_000, () => t.gates.has('a'));
  await until("b's agent warm-up to begin", 20_000, () => t.warmed.includes(t.wtB));
  t.gates.get('a')!();
  await until('task b to start', 20_000, () => t.gates.has('b'));
  assert.equal(t.started[1].cwd, t.wtB, 'b runs in its pre-warmed worktree');
  assert.equal(t.git.added.filter((d) => d === t.wtB).length, 1, 'made once, by the pre-warm');
  t.gates.get('b')!();
  const done = await until('the session to end', 20_000, t.ended);
  assert.equal(done.state, 'completed', JSON.stringify(done.tasks));
  t.runner.stop();
});

const draftGoal = ['- [a] A {files: a.txt}: write a', '- [b] B {files: b.txt}: write b', '- [c] C (after: a) {files: c.txt}: write c'].join(
  '\n',
);
const worktreesOf = (cwd: string) => execFileSync('git', ['worktree', 'list', '--porcelain'], { cwd, encoding: 'utf8' });

test("a draft's first wave gets its worktrees (and the agent's warm-up) while the plan awaits approval; approval runs the tasks there", async () => {
  const t = await setup({ goal: draftGoal, approve: false, global: 2 });
  await until('the first wave pre-warmed', 20_000, () => t.warmed.includes(t.wt('a')) && t.warmed.includes(t.wt('b')));
  await t.runner.prewarmer.settled();
  assert.equal(t.records.view(t.s.id).state, 'draft', 'nothing was approved');
  assert.ok(existsSync(path.join(t.wt('a'), 'README.md')) && existsSync(path.join(t.wt('b'), 'README.md')));
  assert.ok(!existsSync(t.wt('c')), 'a task with a dependency is not in the first wave');
  assert.equal(t.started.length, 0, 'no turn before approval');

  await t.sessions.approve(t.s.id);
  await until('a and b to start', 20_000, () => t.gates.has('a') && t.gates.has('b'));
  assert.deepEqual(t.started.map((x) => x.cwd).sort(), [t.wt('a'), t.wt('b')].sort(), 'they run in their pre-warmed worktrees');
  for (const p of ['a', 'b'])
    assert.equal(t.git.added.filter((d) => d === t.wt(p)).length, 1, `${p}'s worktree was made once, before approval`);
  t.gates.get('a')!();
  t.gates.get('b')!();
  await until('task c to start', 20_000, () => t.gates.has('c'));
  t.gates.get('c')!();
  const done = await until('the session to end', 20_000, t.ended);
  assert.equal(done.state, 'completed', JSON.stringify(done.tasks));
  t.runner.stop();
});

for (const how of ['cancelled', 'deleted', 're-planned'] as const) {
  test(`a draft ${how} before approval leaves none of its pre-warmed worktrees or branches behind`, async () => {
    const t = await setup({ goal: draftGoal, approve: false, global: 2 });
    await until(
      'the first wave pre-warmed',
      20_000,
      () => existsSync(path.join(t.wt('a'), '.git')) && existsSync(path.join(t.wt('b'), '.git')),
    );
    if (how === 'cancelled') await t.sessions.cancel(t.s.id);
    else if (how === 'deleted') await t.sessions.delete(t.s.id);
    else await t.sessions.setPlan(t.s.id, { tasks: [{ id: 'z', title: 'Z', prompt: 'write z', dependsOn: [] }] });
    await until("the old first wave's worktrees to go", 20_000, () => !existsSync(t.wt('a')) && !existsSync(t.wt('b')));
    await t.runner.prewarmer.settled();
    for (const p of ['a', 'b']) {
      assert.equal(branchExists(t.cwd, taskBranchOf(t.s.id, p)), false, `${p}'s branch is gone`);
      assert.ok(!worktreesOf(t.cwd).includes(t.wt(p)), `no registration left for ${p}'s worktree`);
    }
    if (how === 're-planned') {
      await until("the new plan's first task pre-warmed", 20_000, () => existsSync(path.join(t.wt('z'), '.git')));
      await t.sessions.delete(t.s.id);
      assert.ok(!existsSync(t.wt('z')), "deleting the draft removes the new plan's pre-warmed worktree");
      assert.equal(branchExists(t.cwd, taskBranchOf(t.s.id, 'z')), false);
    }
    t.runner.stop();
  });
}

test("a waiting task's pre-warm does not start while a dispatched task has not had its first request; it starts once it has", async () => {
  const t = await setup({ holdReplies: true, holdMs: 600_000 });
  await until('task a to start', 20_000, () => t.gates.has('a'));
  // The decision to hold is taken in the pass that dispatched a: whatever it queued has run once the queue settled.
  await t.runner.prewarmer.settled();
  assert.ok(!t.git.added.includes(t.wtB) && !t.warmed.includes(t.wtB), "b's pre-warm waits for a's first request");
  assert.ok(!existsSync(t.wtB));

  t.replies.get('a')!();
  await until("b's pre-warmed worktree", 20_000, () => existsSync(path.join(t.wtB, '.git')) && t.warmed.includes(t.wtB));
  t.gates.get('a')!();
  await until('task b to start', 20_000, () => t.gates.has('b'));
  assert.equal(t.started[1].cwd, t.wtB);
  assert.equal(t.git.added.filter((d) => d === t.wtB).length, 1, 'made once, by the pre-warm');
  t.replies.get('b')!();
  t.gates.get('b')!();
  const done = await until('the session to end', 20_000, t.ended);
  assert.equal(done.state, 'completed', JSON.stringify(done.tasks));
  t.runner.stop();
});

test('a held pre-warm starts after the deadline even when no first request came', async () => {
  const t = await setup({ holdReplies: true, holdMs: 300 });
  await until('task a to start', 20_000, () => t.gates.has('a'));
  await until("b's pre-warmed worktree past the deadline", 20_000, () => existsSync(path.join(t.wtB, '.git')) && t.warmed.includes(t.wtB));
  assert.equal(t.replies.size, 1, 'a is still before its first reply');
  t.gates.get('a')!();
  await until('task b to start', 20_000, () => t.gates.has('b'));
  t.gates.get('b')!();
  const done = await until('the session to end', 20_000, t.ended);
  assert.equal(done.state, 'completed', JSON.stringify(done.tasks));
  t.runner.stop();
});

test('a task dispatched while its pre-warm is still held makes its worktree itself, without waiting for the gate', async () => {
  const goal = ['- [a] A {files: a.txt}: write a', '- [b] B {files: b.txt}: write b', '- [c] C {files: c.txt}: write c'].join('\n');
  const t = await setup({ goal, global: 2, holdReplies: true, holdMs: 600_000 });
  await until('a and b to start', 20_000, () => t.gates.has('a') && t.gates.has('b'));
  t.replies.get('a')!();
  t.gates.get('a')!(); // b has had no first request: c's pre-warm stays held while c is dispatched
  await until('task c to start', 20_000, () => t.gates.has('c'));
  assert.equal(t.started[2].cwd, t.wt('c'));
  assert.equal(t.git.added.filter((d) => d === t.wt('c')).length, 1, "c's worktree was made once, by its dispatch");
  assert.ok(!t.warmed.includes(t.wt('c')), 'no warm-up of a folder already in use');
  for (const p of ['b', 'c']) {
    t.replies.get(p)?.();
    t.gates.get(p)!();
  }
  const done = await until('the session to end', 20_000, t.ended);
  assert.equal(done.state, 'completed', JSON.stringify(done.tasks));
  await t.runner.prewarmer.settled();
  assert.deepEqual(t.runner.prewarmer.held(), []);
  t.runner.stop();
});

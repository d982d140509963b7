// SessionRunner when the agent cannot start at dispatch time (the binary vanished after the start-up
// probe, before any prewarm noticed): real store on disk, real git worktrees, real executor; the turn
// runner stands in for the agent and reports what OpenCode's adapter reports (`not_installed`).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { GitWorkspace } from '../adapters/git/git';
import { LowdbStore } from '../adapters/lowdb/lowdbStore';
import { PQueueExecutor } from '../adapters/queue/pQueueExecutor';
import { localTenantId } from '../domain/storeSchema';
import type { TurnResult } from '../ports/agentRuntime';
import type { Logger } from '../ports/logger';
import { SessionRecords } from './sessionRecords';
import { SessionRunner, type TurnRunner } from './sessionRunner';
import { SessionService } from './sessionService';
import { gitRepo } from './testDoubles';

const quiet: Logger = { error() {}, warn() {}, info() {}, debug() {} };
const usage = { inputTokens: 0, outputTokens: 0, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 };

const repo = (): string => gitRepo('orch-unavail-');

async function until<T>(what: string, ms: number, probe: () => T | undefined): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

test('a fatal start failure at dispatch hands the task back (attempt refunded), asks the user, and never opens the circuit', async () => {
  const data = mkdtempSync(path.join(os.tmpdir(), 'orch-unavail-data-'));
  const store = new LowdbStore(path.join(data, 'store.json'), quiet);
  await store.load();
  const records = new SessionRecords(store, localTenantId);
  const git = new GitWorkspace();
  let installed = false;
  let turns = 0;
  const question = 'OpenCode cannot start: no binary. Set orchestrator.opencode.path, then approve to continue.';
  const runs: TurnRunner = {
    start: async (input) => {
      turns++;
      const fail = !installed;
      if (!fail) writeFileSync(path.join(input.cwd, 'a.txt'), 'a\n');
      const result: TurnResult = fail
        ? {
            status: 'failed',
            stopReason: 'error',
            summary: '',
            usage,
            diff: [],
            error: { reason: 'not_installed', message: 'No OpenCode binary.' },
            durationMs: 1,
            lastSeq: 0,
          }
        : { status: 'succeeded', stopReason: 'end_turn', summary: 'wrote a.txt', usage, diff: [], durationMs: 1, lastSeq: 0 };
      return { runId: `run${turns}`, done: Promise.resolve(result) };
    },
    cancel: async () => undefined,
  };
  const worktreeRoot = path.join(data, 'worktrees');
  const runner = new SessionRunner({
    records,
    workspace: git,
    runs,
    worktreeRoot,
    executor: new PQueueExecutor(2, () => undefined),
    agents: [{ id: 'opencode', capabilities: ['*'], maxConcurrency: 2 }],
    // The runtime marks the agent unavailable as it reports the failure (see Agents.track).
    unavailable: () => (turns > 0 && !installed ? question : undefined),
    limits: { global: 2 },
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
  const s = await sessions.start({ goal: '- [a] A {files: a.txt}: write a', cwd: repo(), approve: true });

  const waiting = await until('the session to ask', 20_000, () => {
    const v = records.view(s.id);
    return v.state === 'awaiting_approval' ? v : undefined;
  });
  assert.equal(waiting.approval?.message, question);
  assert.deepEqual(
    waiting.tasks.map((t) => [t.state, t.attempts]),
    [['ready', 0]],
  );
  assert.equal(turns, 1, 'one turn, no automatic retry');
  const health = records.state().agentHealth.opencode;
  assert.equal(health?.failures, 0);
  assert.equal(health?.circuit, 'closed');
  assert.equal(health?.running, 0);
  assert.deepEqual(records.state().leases.leases, [], 'the lease was released');

  installed = true;
  await sessions.approve(s.id);
  const done = await until('the session to complete', 30_000, () => {
    const v = records.view(s.id);
    return ['completed', 'failed', 'partially_completed'].includes(v.state) ? v : undefined;
  });
  assert.equal(done.state, 'completed', JSON.stringify(done.tasks));
  assert.deepEqual(
    done.tasks.map((t) => t.attempts),
    [1],
  );
  runner.stop();
});

/**
 * The team server's following of worker tasks (`workerDispatch.ts`): its deadlines and cancels, on an
 * in-memory ledger and queue and a clock the test moves (the real ones run in
 * test/integration/teamServerWorkers.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { UsageLedger } from '../adapters/auth/tenantLog';
import type { MergeJob, TaskJob } from '../domain/workers/taskJob';
import type { DoneTask, MergeRecord, TaskKey, TaskLedgerPort, TaskOutcome } from '../ports/taskLedger';
import type { TaskQueuePort } from '../ports/taskQueue';
import { workerUsageLine } from '../teamWorkers';
import { quiet } from './testDoubles';
import { WorkerDispatch, type WorkerTaskInput, type WorkerUsageEvent } from './workerDispatch';

const k = (x: TaskKey) => `${x.tenantId}/${x.sessionId}/${x.taskId}`;

function parts() {
  const outcomes = new Map<string, TaskOutcome>();
  const starts = new Map<string, string>();
  const jobs: TaskJob[] = [];
  const merges: MergeJob[] = [];
  const ledger: TaskLedgerPort = {
    ensure: async () => undefined,
    claim: async () => undefined,
    outcome: async (key) => outcomes.get(k(key)),
    recordStart: async () => undefined,
    startedBy: async (key) => starts.get(k(key)),
    recordOutcome: async (key, o) => {
      if (outcomes.has(k(key))) return false;
      outcomes.set(k(key), o);
      return true;
    },
    recordUsage: async (key, usage) => {
      const o = outcomes.get(k(key));
      if (!o || o.usage) return false;
      outcomes.set(k(key), { ...o, usage });
      return true;
    },
    doneTasks: async () => [...outcomes].map(([key, o]): DoneTask => ({ taskId: key.split('/')[2], ...o })),
    withMergeLock: async (_t, _s, _w, fn) => fn(),
    mergeOf: async () => undefined as MergeRecord | undefined,
    recordMerge: async () => undefined,
    close: async () => undefined,
  };
  const queue: TaskQueuePort = {
    ensureQueues: async () => undefined,
    enqueueTasks: async (j) => {
      jobs.push(...j);
      return j.map((_, i) => String(i));
    },
    enqueueMerge: async (j) => void merges.push(j),
    work: async () => undefined,
    stop: async () => undefined,
  };
  let now = 0;
  const dispatch = new WorkerDispatch({
    queue,
    ledger,
    remote: '/remote.git',
    pushBase: async () => undefined,
    changedFiles: async () => ['out/a.txt'],
    mergeDependencies: async () => 'deadbeef',
    fetchInto: async () => undefined,
    logger: quiet,
    // Every look at the clock moves it one second on: the deadlines pass in a few hundred polls.
    now: () => (now += 1_000),
    pollMs: 0,
    warnMs: 10_000,
    pickupMs: 60_000,
    runMs: 120_000,
  });
  return { outcomes, starts, jobs, merges, dispatch, ledger, queue };
}

function input(over: Partial<WorkerTaskInput> = {}): WorkerTaskInput & { notes: (string | undefined)[] } {
  const notes: (string | undefined)[] = [];
  return {
    tenantId: 'acme',
    sessionId: 's1',
    cwd: '/repo',
    baseCommit: 'abc1234',
    taskId: 'a',
    agent: 'fixture-agent',
    prompt: 'do a',
    order: 0,
    sessionTasks: 1,
    dependsOn: [],
    wanted: () => true,
    waiting: (n) => void notes.push(n),
    notes,
    ...over,
  };
}

test('no worker takes the task: it says so after warnMs, fails after pickupMs, and a cancelled outcome keeps late workers off it', async () => {
  const p = parts();
  const i = input();
  const end = await p.dispatch.run(i);
  assert.equal(p.jobs.length, 1, 'queued once');
  assert.equal(end.state, 'failed');
  assert.match(end.error ?? '', /no worker took the task within 60 s/);
  assert.equal(i.notes.length, 1, 'one waiting note');
  assert.match(i.notes[0] ?? '', /no worker has taken it/);
  assert.equal(p.outcomes.get('acme/s1/a')?.state, 'cancelled');
});

test('a worker takes it: the waiting note is withdrawn; its outcome comes back with the changed files', async () => {
  const p = parts();
  let looks = 0;
  const i = input({
    wanted: () => {
      looks++;
      if (looks === 15) p.starts.set('acme/s1/a', 'w1');
      if (looks === 20)
        p.outcomes.set('acme/s1/a', { state: 'succeeded', commit: 'c0ffee1', branch: 'orchestrator/s1/a', order: 0, workerId: 'w1' });
      return true;
    },
  });
  const end = await p.dispatch.run(i);
  assert.deepEqual(end, { state: 'succeeded', workerId: 'w1', commit: 'c0ffee1', changedFiles: ['out/a.txt'] });
  assert.equal(i.notes.length, 2);
  assert.equal(i.notes[1], undefined, 'withdrawn once a worker took it');
});

test('a started task the worker does not finish fails after runMs', async () => {
  const p = parts();
  p.starts.set('acme/s1/a', 'w1');
  const end = await p.dispatch.run(input());
  assert.equal(end.state, 'failed');
  assert.match(end.error ?? '', /did not finish the task within 120 s/);
});

test('a cancelled task is recorded cancelled at once; a worker outcome recorded first wins', async () => {
  const p = parts();
  const end = await p.dispatch.run(input({ wanted: () => false }));
  assert.equal(end.state, 'cancelled');
  assert.equal(p.outcomes.get('acme/s1/a')?.workerId, 'team-server');

  const q = parts();
  let first = true;
  const raced = await q.dispatch.run(
    input({
      wanted: () => {
        if (first) q.outcomes.set('acme/s1/a', { state: 'failed', branch: 'b', order: 0, workerId: 'w2', error: 'boom' });
        first = false;
        return false;
      },
    }),
  );
  assert.deepEqual(raced, { state: 'failed', workerId: 'w2', error: 'boom' });
});

test('a dependent starts from its dependencies merged; the job carries that commit', async () => {
  const p = parts();
  p.outcomes.set('acme/s1/a', { state: 'succeeded', commit: 'aaaaaaa', branch: 'orchestrator/s1/a', order: 0, workerId: 'w1' });
  let looks = 0;
  await p.dispatch.run(
    input({
      taskId: 'c',
      dependsOn: ['a'],
      wanted: () => {
        if (++looks === 2) p.outcomes.set('acme/s1/c', { state: 'succeeded', commit: 'ccccccc', branch: 'x', order: 1, workerId: 'w1' });
        return true;
      },
    }),
  );
  assert.equal(p.jobs[0].baseCommit, 'deadbeef');
});

test('the merge is queued with the recorded tasks and its record awaited; no worker: it times out', async () => {
  const p = parts();
  p.outcomes.set('acme/s1/a', { state: 'succeeded', commit: 'aaaaaaa', branch: 'orchestrator/s1/a', order: 0, workerId: 'w1' });
  const m = await p.dispatch.merge('acme', 's1', 'abc1234');
  assert.equal(p.merges.length, 1);
  assert.equal(p.merges[0].sessionTasks, 1);
  assert.equal(m.state, 'timeout');
  assert.deepEqual(await parts().dispatch.merge('acme', 's1', 'abc1234'), { state: 'nothing' }, 'nothing succeeded: no merge');
});

/** `fn` failing its first `n` calls (a database that drops a connection now and then). */
function flaky<A extends unknown[], T>(n: number, fn: (...a: A) => Promise<T>): (...a: A) => Promise<T> {
  let calls = 0;
  return async (...a) => {
    if (++calls <= n) throw new Error('connection terminated unexpectedly');
    return fn(...a);
  };
}

test('ledger reads that fail for a while are tried again: the queued task is followed to its outcome', async () => {
  const p = parts();
  p.ledger.outcome = flaky(5, p.ledger.outcome);
  p.ledger.startedBy = flaky(8, p.ledger.startedBy);
  let looks = 0;
  const end = await p.dispatch.run(
    input({
      wanted: () => {
        if (++looks === 12)
          p.outcomes.set('acme/s1/a', { state: 'succeeded', commit: 'c0ffee1', branch: 'orchestrator/s1/a', order: 0, workerId: 'w1' });
        return true;
      },
    }),
  );
  assert.equal(end.state, 'succeeded');
  assert.equal(p.jobs.length, 1, 'queued once');
});

test('a ledger that stays unreadable: the task fails at the deadline and a cancelled outcome keeps workers off it', async () => {
  const p = parts();
  const read = p.ledger.outcome;
  let unreadable = false;
  p.ledger.outcome = async (key) => {
    if (unreadable) throw new Error('connection terminated unexpectedly');
    return read(key);
  };
  p.ledger.startedBy = async () => {
    unreadable = true;
    throw new Error('connection terminated unexpectedly');
  };
  const end = await p.dispatch.run(input());
  assert.equal(end.state, 'failed');
  assert.equal(p.jobs.length, 1);
  assert.equal(p.outcomes.get('acme/s1/a')?.state, 'cancelled', 'a worker that comes later skips it');
});

test('a task a worker started before a restart of the server is followed, not queued again', async () => {
  const p = parts();
  p.starts.set('acme/s1/a', 'w1');
  let looks = 0;
  const end = await p.dispatch.run(
    input({
      wanted: () => {
        if (++looks === 3) p.outcomes.set('acme/s1/a', { state: 'succeeded', commit: 'c0ffee1', branch: 'b', order: 0, workerId: 'w1' });
        return true;
      },
    }),
  );
  assert.equal(end.state, 'succeeded');
  assert.equal(p.jobs.length, 0, 'not queued again');
});

test('a queue that refuses the job: the task fails with a cancelled outcome (a job that did get in is skipped)', async () => {
  const p = parts();
  p.queue.enqueueTasks = async () => {
    throw new Error('connection terminated unexpectedly');
  };
  const end = await p.dispatch.run(input());
  assert.equal(end.state, 'failed');
  assert.match(end.error ?? '', /queueing the task for the workers failed/);
  assert.equal(p.outcomes.get('acme/s1/a')?.state, 'cancelled');
});

test("the merge's ledger reads are tried again; the merged record comes back", async () => {
  const p = parts();
  p.outcomes.set('acme/s1/a', { state: 'succeeded', commit: 'aaaaaaa', branch: 'orchestrator/s1/a', order: 0, workerId: 'w1' });
  p.ledger.doneTasks = flaky(3, p.ledger.doneTasks);
  let calls = 0;
  p.ledger.mergeOf = async () => {
    calls++;
    if (calls <= 4) throw new Error('connection terminated unexpectedly');
    return calls > 6 ? { state: 'merged', commit: 'f00d', workerId: 'w1' } : undefined;
  };
  const m = await p.dispatch.merge('acme', 's1', 'abc1234');
  assert.equal(p.merges.length, 1);
  assert.deepEqual(m, { state: 'merged', commit: 'f00d', workerId: 'w1' });
});

test("a worker's usage: handed to its tenant's handler with each read; the usage ledger keeps it once, also after a reload", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orch-worker-usage-'));
  const p = parts();
  const usage = { inputTokens: 30, outputTokens: 12, reasoningTokens: 0, cacheReadTokens: 0, cost: 0.5, agent: 'fixture-agent' };
  p.outcomes.set('acme/s1/a', { state: 'succeeded', commit: 'c0ffee1', branch: 'b', order: 0, workerId: 'w1', usage, finishedAtMs: 1234 });
  p.outcomes.set('other/s1/a', { state: 'succeeded', commit: 'c0ffee1', branch: 'b', order: 0, workerId: 'w1', usage });
  const owner = { userId: 'u1', userName: 'dev', keyId: 'k1' };
  const seen: WorkerUsageEvent[] = [];
  const attach = async () => {
    const ledger = new UsageLedger(dir);
    await ledger.load();
    p.dispatch.onUsage('acme', async (e) => {
      seen.push(e);
      await ledger.record(workerUsageLine(e, owner));
    });
    return ledger;
  };
  await attach();
  const end = await p.dispatch.run(input());
  assert.deepEqual(end.usage, usage, "the task's end carries the usage (the session's budget counts it)");
  await p.dispatch.run(input()); // the same row read again
  await p.dispatch.run(input({ tenantId: 'other' })); // another tenant's: not this tenant's handler
  const ledger = await attach(); // a restart: the ledger is read back from its file
  await p.dispatch.run(input());
  assert.equal(seen.length, 3);
  assert.deepEqual(seen[0], { usageId: 'worker:s1/a', sessionId: 's1', taskId: 'a', workerId: 'w1', atMs: 1234, usage });
  assert.deepEqual(ledger.all(), [
    {
      atMs: 1234,
      runId: 'worker:s1/a',
      tokens: 42,
      inputTokens: 30,
      outputTokens: 12,
      cost: 0.5,
      agent: 'fixture-agent',
      sessionId: 's1',
      userId: 'u1',
      userName: 'dev',
      keyId: 'k1',
    },
  ]);
  // No usage (a cancel the server recorded): nothing is handed over.
  p.outcomes.set('acme/s1/c', { state: 'cancelled', branch: '', order: 0, workerId: 'team-server', error: 'cancelled' });
  assert.equal((await p.dispatch.run(input({ taskId: 'c' }))).usage, undefined);
  assert.equal(seen.length, 3);
});

test('a task cancelled while a worker runs it: the usage the worker adds to the cancelled row is recorded once, by the follow and again at the merge', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orch-worker-late-usage-'));
  const p = parts();
  const ledger = new UsageLedger(dir);
  await ledger.load();
  const seen: WorkerUsageEvent[] = [];
  p.dispatch.onUsage('acme', async (e) => {
    seen.push(e);
    await ledger.record(workerUsageLine(e, { userId: 'u1', userName: 'dev' }));
  });
  p.starts.set('acme/s1/a', 'w1');
  const end = await p.dispatch.run(input({ wanted: () => false }));
  assert.equal(end.state, 'cancelled');
  assert.equal(p.outcomes.get('acme/s1/a')?.workerId, 'team-server');
  // The worker's turn ends after the cancel: its outcome is not recorded, its usage is added to the row once.
  const key = { tenantId: 'acme', sessionId: 's1', taskId: 'a' };
  const usage = { inputTokens: 20, outputTokens: 5, reasoningTokens: 0, cacheReadTokens: 0, cost: 0.25, agent: 'fixture-agent' };
  assert.equal(
    await p.ledger.recordOutcome(key, { state: 'succeeded', commit: 'c0ffee1', branch: 'b', order: 0, workerId: 'w1', usage }),
    false,
  );
  assert.equal(await p.ledger.recordUsage(key, usage), true);
  assert.equal(await p.ledger.recordUsage(key, { ...usage, inputTokens: 999 }), false, 'a row with usage keeps it');
  await p.dispatch.settled();
  assert.equal(seen.length, 1, 'the follow of the cancelled row recorded its late usage');
  assert.deepEqual({ ...seen[0], atMs: 0 }, { usageId: 'worker:s1/a', sessionId: 's1', taskId: 'a', workerId: 'w1', atMs: 0, usage });
  // The session's merge reads the rows again (a follow cut short by a restart): the same line, counted once.
  assert.deepEqual(await p.dispatch.merge('acme', 's1', 'abc1234'), { state: 'nothing' });
  assert.equal(seen.length, 2);
  assert.deepEqual(
    ledger.all().map((l) => [l.runId, l.tokens, l.cost, l.userId]),
    [['worker:s1/a', 25, 0.25, 'u1']],
  );

  // No worker had started it: the follow gives up (after warnMs) and records nothing.
  const q = parts();
  const none: WorkerUsageEvent[] = [];
  q.dispatch.onUsage('acme', async (e) => void none.push(e));
  assert.equal((await q.dispatch.run(input({ wanted: () => false }))).state, 'cancelled');
  await q.dispatch.settled();
  assert.equal(none.length, 0);
});

/**
 * Orchestration figures for `npm run bench`: N independent tasks of known duration L at concurrency C
 * through the real session machinery (store on disk, git worktrees, merges; the agent turn is a timed
 * stand-in), against ceil(N/C)·L and against a serial run in the same process; scheduler decision time
 * and store load time with 1,000 queued tasks across 100 sessions. Prints one `BENCH_ROWS` JSON line.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GitWorkspace } from '../../server/src/adapters/git/git';
import { LowdbStore } from '../../server/src/adapters/lowdb/lowdbStore';
import { PQueueExecutor } from '../../server/src/adapters/queue/pQueueExecutor';
import { emptyUsage } from '../../server/src/domain/agentEvent';
import { newBudget } from '../../server/src/domain/orchestration/budget';
import { emptyLeaseTable } from '../../server/src/domain/orchestration/lease';
import { newAgentHealth } from '../../server/src/domain/orchestration/routing';
import { nextDispatches } from '../../server/src/domain/orchestration/scheduler';
import { newSession, transitionSession, type Session } from '../../server/src/domain/orchestration/sessionState';
import { newTask, transitionTask, type Task } from '../../server/src/domain/orchestration/taskState';
import { emptyStore } from '../../server/src/domain/storeSchema';
import type { TurnResult } from '../../server/src/ports/agentRuntime';
import type { Logger } from '../../server/src/ports/logger';
import { SessionRecords } from '../../server/src/services/sessionRecords';
import { SessionRunner } from '../../server/src/services/sessionRunner';
import { SessionService } from '../../server/src/services/sessionService';

const quiet: Logger = { error: (m) => process.stderr.write(`${m}\n`), warn() {}, info() {}, debug() {} };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const N = Number(process.env.BENCH_TASKS ?? 8);
const L = Number(process.env.BENCH_TASK_MS ?? 3000);
const C = Number(process.env.BENCH_CONCURRENCY ?? 4);

function repo(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'orch-bench-sched-'));
  const git = (...a: string[]) => execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', ...a], { cwd: d, stdio: 'ignore' });
  git('init', '-q');
  writeFileSync(path.join(d, 'README.md'), '# bench\n');
  git('add', '-A');
  git('commit', '-qm', 'init');
  return d;
}

/** BENCH_TRACE=1: each workspace call's duration on stderr (where a task's time goes besides its turn). */
function traced(g: GitWorkspace): GitWorkspace {
  if (!process.env.BENCH_TRACE) return g;
  const t0 = performance.now();
  return new Proxy(g, {
    get(target, p, recv) {
      const v = Reflect.get(target, p, recv) as unknown;
      if (typeof v !== 'function' || p === 'run' || p === 'exec') return v;
      return async (...a: unknown[]) => {
        const t = performance.now();
        try {
          return await (v as (...x: unknown[]) => Promise<unknown>).apply(target, a);
        } finally {
          const where = a.find((x) => typeof x === 'string' && x.includes('worktrees')) ?? '';
          process.stderr.write(
            `  +${Math.round(t - t0)} ${String(p)} ${Math.round(performance.now() - t)} ms ${path.basename(String(where))}\n`,
          );
        }
      };
    },
  });
}

/** A whole session of N independent tasks at concurrency `c`; returns wall ms from approve to the end. */
async function runSession(c: number, prewarm = true, freeSlotAtTurnEnd = true): Promise<number> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'orch-bench-data-'));
  const store = new LowdbStore(path.join(dataDir, 'store.json'), quiet);
  await store.load();
  const git = traced(new GitWorkspace());
  const records = new SessionRecords(store, 'local');
  let done!: () => void;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  let n = 0;
  const runs = {
    // The stand-in agent turn: takes L ms and writes its file, like a real turn would.
    start: async (input: { cwd: string; prompt: string }) => ({
      runId: `run${n++}`,
      // The stand-in's "model request" goes out at once.
      firstReply: Promise.resolve(),
      done: (async (): Promise<TurnResult> => {
        await new Promise((r) => setTimeout(r, L));
        await writeFile(path.join(input.cwd, `${input.prompt}.txt`), `${input.prompt}\n`);
        return { status: 'succeeded', stopReason: 'end_turn', summary: 'ok', usage: emptyUsage(), diff: [], durationMs: L, lastSeq: 0 };
      })(),
    }),
    cancel: async () => undefined,
  };
  const worktreeRoot = path.join(dataDir, 'worktrees');
  const runner = new SessionRunner({
    records,
    workspace: git,
    runs,
    worktreeRoot,
    executor: new PQueueExecutor(c, (e) => quiet.error(String(e))),
    agents: [{ id: 'opencode', capabilities: ['*'], maxConcurrency: c }],
    limits: { global: c },
    leaseTtlMs: 600_000,
    publish: (v) => {
      if (['completed', 'failed', 'partially_completed'].includes(v.state)) done();
    },
    now: Date.now,
    logger: quiet,
    prewarm: prewarm ? { ahead: () => c } : undefined,
    freeSlotAtTurnEnd,
  });
  const sessions = new SessionService({
    records,
    runner,
    workspace: git,
    worktreeRoot,
    newId: () => `s${Date.now()}`,
    now: Date.now,
    cancelRun: async () => undefined,
  });
  const goal = Array.from({ length: N }, (_, i) => `- [t${i}] Task ${i} {files: t${i}.txt}: t${i}`).join('\n');
  const s = await sessions.start({ goal, cwd: repo() });
  const t0 = performance.now();
  await sessions.approve(s.id);
  await finished;
  const wall = performance.now() - t0;
  const v = sessions.get(s.id);
  if (v.state !== 'completed') throw new Error(`bench session ended ${v.state}`);
  if (process.env.BENCH_TRACE)
    for (const t of v.tasks)
      process.stderr.write(
        `${t.planId} start +${Date.parse(t.startedAt!) - Date.parse(v.startedAt!)} end +${Date.parse(t.finishedAt!) - Date.parse(v.startedAt!)}\n`,
      );
  return wall;
}

function bigState(): { sessions: Session[]; tasks: Task[] } {
  const now = Date.now();
  const sessions: Session[] = [];
  const tasks: Task[] = [];
  for (let s = 0; s < 100; s++) {
    let session = newSession({ id: `s${s}`, tenantId: 'local', goal: 'g', cwd: `/repo/${s % 10}`, nowMs: now });
    session = transitionSession(
      transitionSession(session, {
        type: 'set_plan',
        plan: {
          tasks: [
            {
              id: 'x',
              title: 'x',
              prompt: 'x',
              dependsOn: [],
              expectedFiles: [],
              capabilities: [],
              estimate: { tokens: 1, minutes: 1 },
              mode: 'write',
            },
          ],
        },
        nowMs: now,
      }),
      { type: 'approve', nowMs: now },
    );
    sessions.push({ ...session, budget: newBudget({ tokens: 10_000_000 }) });
    for (let t = 0; t < 10; t++) {
      const task = newTask({
        id: `s${s}:t${t}`,
        planId: `t${t}`,
        sessionId: `s${s}`,
        tenantId: 'local',
        title: 't',
        prompt: 'p',
        expectedFiles: [`src/f${t}.ts`],
        order: t,
        nowMs: now,
      });
      tasks.push(transitionTask(task, { type: 'ready', nowMs: now }));
    }
  }
  return { sessions, tasks };
}

async function main() {
  const ideal = Math.ceil(N / C) * L;
  // Interleaved: pre-warmed worktrees off, on, and the slot held until the merge (as before the slot is freed
  // at the turn's end), again and again; the median of each (the machine is shared and noisy).
  const cold: number[] = [];
  const warm: number[] = [];
  const held: number[] = [];
  for (let i = 0; i < Number(process.env.BENCH_PARALLEL_RUNS ?? 2); i++) {
    cold.push(await runSession(C, false));
    warm.push(await runSession(C));
    held.push(await runSession(C, false, false));
  }
  // The server does not pre-warm (docs/performance.md): the goal row is without it.
  const parallel = median(cold);
  const serial = process.env.BENCH_SKIP_SERIAL ? NaN : await runSession(1);
  const { sessions, tasks } = bigState();
  const decisions: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    nextDispatches({
      sessions,
      tasks,
      leases: emptyLeaseTable(),
      agents: [{ profile: { id: 'opencode', capabilities: ['*'], maxConcurrency: 16 }, health: newAgentHealth() }],
      limits: { global: 16 },
      nowMs: Date.now(),
      leaseTtlMs: 600_000,
    });
    decisions.push(performance.now() - t);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orch-bench-store-'));
  const file = path.join(dir, 'store.json');
  writeFileSync(file, JSON.stringify({ ...emptyStore(new Date().toISOString()), sessions, tasks }, null, 2));
  const loads: number[] = [];
  const parses: number[] = [];
  for (let i = 0; i < 10; i++) {
    let t = performance.now();
    const s = new LowdbStore(file, quiet);
    await s.load();
    loads.push(performance.now() - t);
    t = performance.now();
    JSON.parse(readFileSync(file, 'utf8'));
    parses.push(performance.now() - t);
  }
  const rows = [
    [`${N} tasks of ${L} ms at concurrency ${C}: wall (median of ${cold.length})`, parallel, ideal, 'ceil(N/C)·L (goal: ratio ≤ 1.1)'],
    [`same, pre-warmed worktrees on (median of ${warm.length})`, median(warm), ideal, 'ceil(N/C)·L'],
    [`same, agent slot held until the merge is recorded (median of ${held.length})`, median(held), ideal, 'ceil(N/C)·L'],
    [`same ${N} tasks serially (concurrency 1): wall`, serial, N * L, 'N·L'],
    ['planning + dispatch + merge overhead per task', (parallel - ideal) / N, L, 'one task duration L'],
    ['scheduler decision, 1,000 ready tasks / 100 sessions', median(decisions), 1, '1 ms'],
    ['store load + validate, 1,000 tasks / 100 sessions', median(loads), median(parses), 'bare JSON.parse of the same file'],
  ];
  process.stdout.write(`BENCH_ROWS ${JSON.stringify(rows)}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);

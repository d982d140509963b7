/**
 * Store growth figure for `npm run bench` (`ORCH_BENCH_ONLY=store`): p95 of one task-state write (one
 * `SessionRecords.mutate`, i.e. one group-committed atomic store write) on a live session, in a store
 * with BENCH_STORE_SESSIONS finished sessions (default 10,000) of BENCH_STORE_TASKS_PER tasks each
 * (default 10: 100,000 tasks, one run per task) of history, against the same write on a store with no
 * history, interleaved in the same process.
 *
 * Seeding takes the server's path: each chunk of finished sessions is written to the hot store (one
 * update) and moved out by `LowdbStore.archiveSessions` exactly as the archiver moves them (archive
 * files, `runs.log`, index entry, hot-store write). Prints one `BENCH_ROWS` JSON line.
 */
import { mkdtempSync, promises as nodeFs, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AtomicFs } from '../../server/src/adapters/fs/atomicFile';
import { LowdbStore } from '../../server/src/adapters/lowdb/lowdbStore';
import { emptyUsage } from '../../server/src/domain/agentEvent';
import { newSession, transitionSession, type Session } from '../../server/src/domain/orchestration/sessionState';
import { newTask, transitionTask, type Task } from '../../server/src/domain/orchestration/taskState';
import type { StoredRun } from '../../server/src/domain/storeEntities';
import type { Logger } from '../../server/src/ports/logger';
import { SessionRecords } from '../../server/src/services/sessionRecords';

const sessionsN = Number(process.env.BENCH_STORE_SESSIONS ?? 10_000);
const tasksPer = Number(process.env.BENCH_STORE_TASKS_PER ?? 10);
const writes = Number(process.env.BENCH_STORE_WRITES ?? 200);
const chunk = 1000;

const quiet: Logger = { error: (m) => process.stderr.write(`${m}\n`), warn() {}, info() {}, debug() {} };
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

const plan = (n: number) => ({
  tasks: Array.from({ length: n }, (_, i) => ({
    id: `t${i}`,
    title: `Task ${i}`,
    prompt: `Do part ${i} of the goal`,
    dependsOn: i ? [`t${i - 1}`] : [],
    expectedFiles: [`src/f${i}.ts`],
    capabilities: [],
    estimate: { tokens: 1000, minutes: 1 },
    mode: 'write' as const,
  })),
});

/** A session of `n` tasks, approved; `finished`: every task succeeded and the session completed at `nowMs`. */
function sessionOf(id: string, n: number, nowMs: number, finished: boolean): { session: Session; tasks: Task[]; runs: StoredRun[] } {
  let session = newSession({ id, tenantId: 'local', goal: `Bench goal ${id}: change ${n} files`, cwd: '/repo', nowMs });
  session = transitionSession(transitionSession(session, { type: 'set_plan', plan: plan(n), nowMs }), { type: 'approve', nowMs });
  const tasks: Task[] = [];
  const runs: StoredRun[] = [];
  for (let i = 0; i < n; i++) {
    let t = newTask({
      id: `${id}:t${i}`,
      planId: `t${i}`,
      sessionId: id,
      tenantId: 'local',
      title: `Task ${i}`,
      prompt: `Do part ${i} of the goal`,
      expectedFiles: [`src/f${i}.ts`],
      order: i,
      nowMs,
    });
    t = transitionTask(t, { type: 'ready', nowMs });
    if (finished) {
      t = transitionTask(t, { type: 'dispatch', agentId: 'opencode', routeReason: 'default', branch: `orchestrator/${id}/t${i}`, nowMs });
      t = transitionTask(t, { type: 'succeed', result: { summary: 'done', changedFiles: [`src/f${i}.ts`], usage: emptyUsage() }, nowMs });
      const iso = new Date(nowMs).toISOString();
      runs.push({
        id: `${id}-r${i}`,
        tenantId: 'local',
        sessionId: id,
        taskId: t.id,
        agent: 'opencode',
        cwd: `/data/worktrees/${id}/t${i}`,
        prompt: `Do part ${i} of the goal`,
        state: 'succeeded',
        createdAt: iso,
        startedAt: iso,
        finishedAt: iso,
        usage: emptyUsage(),
        events: 12,
        summary: 'done',
        diff: [{ path: `src/f${i}.ts`, status: 'modified', additions: 3, deletions: 1 }],
      });
    }
    tasks.push(t);
  }
  if (finished) session = transitionSession(session, { type: 'finish', outcome: 'completed', nowMs });
  return { session, tasks, runs };
}

/**
 * Seeding only: the real atomic writes without their fsyncs (10,000 archive files with two fsyncs each
 * would take minutes on a busy disk). The measured writes use the real file system.
 */
const noSyncFs: AtomicFs = {
  mkdir: (d, o) => nodeFs.mkdir(d, o),
  open: async (f, flags, mode) => {
    const h = await nodeFs.open(f, flags, mode);
    return { writeFile: (d, e) => h.writeFile(d, e), sync: async () => undefined, close: () => h.close() };
  },
  rename: (a, b) => nodeFs.rename(a, b),
  rm: (f, o) => nodeFs.rm(f, o),
};

async function openStore(file?: string, fs?: AtomicFs): Promise<{ store: LowdbStore; records: SessionRecords; file: string }> {
  file ??= path.join(mkdtempSync(path.join(os.tmpdir(), 'orch-bench-store-')), 'store.json');
  const store = new LowdbStore(file, quiet, { fs });
  await store.load();
  return { store, records: new SessionRecords(store, 'local'), file };
}

/** Adds the live session every measured write touches. */
async function addLive(records: SessionRecords): Promise<string[]> {
  const { session, tasks } = sessionOf('live', tasksPer, Date.now(), false);
  await records.mutate((d) => {
    d.sessions.push({ ...session });
    d.tasks.push(...tasks);
  });
  return tasks.map((t) => t.id);
}

async function seedHistory(store: LowdbStore): Promise<void> {
  const finishedAt = Date.now() - 3_600_000;
  for (let from = 0; from < sessionsN; from += chunk) {
    const ids: string[] = [];
    const batch = { sessions: [] as Session[], tasks: [] as Task[], runs: [] as StoredRun[] };
    for (let i = from; i < Math.min(sessionsN, from + chunk); i++) {
      const s = sessionOf(`h${i}`, tasksPer, finishedAt, true);
      ids.push(s.session.id);
      batch.sessions.push(s.session);
      batch.tasks.push(...s.tasks);
      batch.runs.push(...s.runs);
    }
    await store.update((d) => {
      d.sessions.push(...batch.sessions);
      d.tasks.push(...batch.tasks);
      d.runs.push(...batch.runs);
    });
    const moved = await store.archiveSessions(ids);
    if (moved.length !== ids.length) throw new Error(`archived ${moved.length} of ${ids.length} sessions`);
  }
}

/** One task-state write: the live session's task i flips between ready and blocked (a real transition). */
async function oneWrite(records: SessionRecords, taskIds: string[], i: number): Promise<number> {
  const id = taskIds[i % taskIds.length];
  const t0 = performance.now();
  await records.mutate((d) => {
    const k = d.tasks.findIndex((t) => t.id === id);
    const t = d.tasks[k];
    d.tasks[k] =
      t.state === 'ready'
        ? transitionTask(t, { type: 'block', on: 'lease', reason: 'bench', nowMs: Date.now() })
        : transitionTask(t, { type: 'unblock', nowMs: Date.now() });
  });
  return performance.now() - t0;
}

async function main() {
  const t0 = performance.now();
  const empty = await openStore();
  const seeding = await openStore(undefined, noSyncFs);
  await seedHistory(seeding.store);
  // The measured store is the seeded file opened again, as a restarted server would open it.
  const full = await openStore(seeding.file);
  const seedMs = performance.now() - t0;
  const emptyTasks = await addLive(empty.records);
  const fullTasks = await addLive(full.records);
  const data = full.store.read();
  if (data.archive.length !== sessionsN) throw new Error(`expected ${sessionsN} archived sessions, the index has ${data.archive.length}`);
  if (data.sessions.length !== 1 || data.tasks.length !== tasksPer) throw new Error('history left in the hot store');

  // Warm-up, then interleaved pairs so both see the same machine load.
  for (let i = 0; i < 10; i++) {
    await oneWrite(empty.records, emptyTasks, i);
    await oneWrite(full.records, fullTasks, i);
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < writes; i++) {
    a.push(await oneWrite(empty.records, emptyTasks, i));
    b.push(await oneWrite(full.records, fullTasks, i));
  }

  // A restart: load + validate of the store with the history, against the empty one.
  const loads: number[] = [];
  const emptyLoads: number[] = [];
  for (let i = 0; i < 5; i++) {
    let t = performance.now();
    await new LowdbStore(full.file, quiet).load({ readOnly: true });
    loads.push(performance.now() - t);
    t = performance.now();
    await new LowdbStore(empty.file, quiet).load({ readOnly: true });
    emptyLoads.push(performance.now() - t);
  }
  const kb = (f: string) => statSync(f).size / 1024;
  const label = `${sessionsN.toLocaleString('en')} finished sessions / ${(sessionsN * tasksPer).toLocaleString('en')} tasks`;
  process.stderr.write(
    `store bench: seeded ${label} in ${(seedMs / 1000).toFixed(1)} s; hot store ${kb(full.file).toFixed(0)} KB vs ${kb(empty.file).toFixed(0)} KB\n`,
  );
  const rows = [
    [
      `task-state write, store with ${label}`,
      pct(b, 50),
      pct(b, 95),
      pct(a, 95),
      'p95 of the same write, empty store (goal: p95 ratio ≤ 2)',
      'ms',
    ],
    [`store load + validate, ${label} archived`, pct(loads, 50), NaN, pct(emptyLoads, 50), 'load of the empty store', 'ms'],
    [`hot store.json size, ${label} archived`, kb(full.file), NaN, kb(empty.file), 'size with no history', 'KB'],
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

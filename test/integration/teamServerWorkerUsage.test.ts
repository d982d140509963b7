/**
 * Worker turns count like local runs (issue 15): the real team server (`serve --workers`) on a real PostgreSQL
 * queues a session's tasks for a real `orchestrator worker`; the fixture agent's `MODELU` asks the scripted
 * model and reports its token usage, the worker records it in the outcome row, and the server adds it once to
 * the tenant's usage ledger for the session's owner: `usage/report` and the session's usage show it, also
 * after a server restart, and a user's token quota crossed by a worker turn stops the session before its next
 * dispatch (awaiting approval; approving is refused with the numbers), as teamUserQuota.test.ts shows locally.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { errorCodes } from '../../protocol/errors';
import type { SessionView } from '../../protocol/session';
import type { UsageReport } from '../../protocol/usage';
import { startTestPostgres, type TestPostgres } from '../../server/src/adapters/postgres/testPostgres';
import { tempDir } from './serverProcess';
import { admin, connected, startTeamServer, userWithKey, type RpcClient, type TeamServer } from './teamClient';
import { git, startWorkerTeam, type WorkerProc, type WorkerTeam } from './workerTeam';

let db: TestPostgres;
let team: WorkerTeam;
let server: TeamServer;
let worker: WorkerProc;
let dataDir: string;
let root: string;
let serverArgs: string[];
let devKey: string;
let timKey: string;
let dev: RpcClient;
let tim: RpcClient;
let devId: string;
let timId: string;
const ended = ['completed', 'partially_completed', 'failed', 'cancelled', 'timed_out'];

before(async () => {
  db = await startTestPostgres();
  team = await startWorkerTeam(await db.createDatabase('workerusage'), 60);
  dataDir = tempDir('orch-worker-usage-');
  root = tempDir('orch-worker-usage-repos-');
  devKey = userWithKey(dataDir, 'acme', 'dev', 'developer').key;
  timKey = userWithKey(dataDir, 'acme', 'tim', 'developer').key;
  admin(dataDir, 'set-roots', 'acme', root);
  const users = (admin(dataDir, 'list') as { users: { id: string; name: string }[] }).users;
  devId = users.find((u) => u.name === 'dev')!.id;
  timId = users.find((u) => u.name === 'tim')!.id;
  const config = JSON.parse(fs.readFileSync(team.configFile, 'utf8')) as Record<string, unknown>;
  const serverConfig = path.join(dataDir, 'server-config.json');
  fs.writeFileSync(serverConfig, JSON.stringify({ ...config, disabled: ['opencode'] }));
  serverArgs = ['--store', team.url, '--workers', '--remote', team.remote, '--workers-tenant', 'acme', '--config', serverConfig];
  server = await startTeamServer(dataDir, serverArgs);
  dev = await connected(server.url, devKey);
  tim = await connected(server.url, timKey);
  worker = await team.startWorker('w1', { concurrency: 2 });
});
after(async () => {
  await dev?.close();
  await tim?.close();
  await server?.stop();
  await worker?.stop();
  await team?.close();
  await db?.stop();
});

function repo(name: string): string {
  const dir = path.join(root, name);
  git(root, 'clone', '-q', team.remote, dir);
  return fs.realpathSync(dir);
}

const task = (id: string, dependsOn: string[] = []) => ({
  id,
  title: `Task ${id}`,
  prompt: `MODELU out/${id}.txt 0 task=acme/${id} write the ${id} file`,
  dependsOn,
  expectedFiles: [`out/${id}.txt`],
  estimate: { tokens: 1, minutes: 1 },
});

async function until<T>(c: RpcClient, sessionId: string, what: string, probe: (v: SessionView) => T | undefined, ms = 300_000): Promise<T> {
  let v = await c.call<SessionView>('session/get', { sessionId });
  for (const end = Date.now() + ms; ;) {
    const r = probe(v);
    if (r !== undefined) return r;
    if (Date.now() > end)
      throw new Error(
        `${what} not within ${ms} ms: ${v.state} ${JSON.stringify(v.tasks.map((t) => [t.planId, t.state, t.lastError]))}\n` +
          `server: ${server.stderr().slice(-3000)}\nworker: ${worker.stderr().slice(-1500)}`,
      );
    await new Promise((r) => setTimeout(r, 250));
    v = await c.call<SessionView>('session/get', { sessionId });
  }
}

/** The usage the worker recorded in the session's outcome rows (input + output tokens per task). */
const recorded = async (sessionId: string) =>
  (
    await team.sql.query<{ task_id: string; input: number; output: number }>(
      `select task_id, (usage->>'inputTokens')::int as input, (usage->>'outputTokens')::int as output
       from orch_worker_task_outcomes where tenant_id = 'acme' and session_id = $1 order by task_id`,
      [sessionId],
    )
  ).rows;

const report = (c: RpcClient) => c.call<UsageReport>('usage/report', { groupBy: 'user' });

test(
  "a session run on workers shows its tokens in the owner's usage report, counted once, also after a restart",
  { timeout: 600_000 },
  async () => {
    const s = await dev.call<SessionView>('session/start', {
      goal: 'two files',
      cwd: repo('usage'),
      approve: true,
      plan: { tasks: [task('a'), task('b')] },
    });
    const v = await until(dev, s.id, 'the session ended', (x) => (ended.includes(x.state) ? x : undefined));
    assert.equal(v.state, 'completed', JSON.stringify(v.tasks.map((t) => [t.planId, t.state, t.lastError])));
    const rows = await recorded(s.id);
    assert.deepEqual(
      rows.map((r) => r.task_id),
      ['a', 'b'],
    );
    for (const r of rows) assert.ok(r.input > 0 && r.output > 0, `the worker recorded the turn's usage: ${JSON.stringify(r)}`);
    const input = rows.reduce((n, r) => n + r.input, 0);
    const output = rows.reduce((n, r) => n + r.output, 0);

    // The session's own view: its usage and each task's.
    assert.deepEqual([v.usage.inputTokens, v.usage.outputTokens], [input, output]);
    assert.deepEqual(
      v.tasks.map((t) => [t.planId, t.result?.usage.inputTokens, t.result?.usage.outputTokens]),
      rows.map((r) => [r.task_id, r.input, r.output]),
    );
    assert.equal(v.budget?.spent.tokens, input + output, "the session's budget counts the worker turns");

    const expected = { key: devId, label: 'dev', inputTokens: input, outputTokens: output, tokens: input + output, cost: 0, runs: 2 };
    const mine = await report(dev);
    assert.equal(mine.scope, 'own');
    assert.deepEqual(mine.rows, [expected]);
    assert.deepEqual((await report(tim)).rows, [], "not tim's");

    // A restart: the ledger is read back; the session's outcomes are not counted again.
    await dev.close();
    await tim.close();
    await server.stop();
    server = await startTeamServer(dataDir, serverArgs);
    dev = await connected(server.url, devKey);
    tim = await connected(server.url, timKey);
    assert.deepEqual((await report(dev)).rows, [expected], 'counted once after a restart');
    const lines = fs
      .readFileSync(path.join(dataDir, 'tenants', 'acme', 'usage.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.includes(s.id));
    assert.equal(lines.length, 2, lines.join('\n'));
  },
);

test(
  "a user's token quota crossed by a worker turn stops the session before its next dispatch; approving is refused with the numbers",
  { timeout: 600_000 },
  async () => {
    // One scripted turn uses more than 5 tokens: tim's first task crosses his quota.
    admin(dataDir, 'set-quota', 'acme', '--user', 'tim', '--tokens', '5', '--window-minutes', '60');
    const s = await tim.call<SessionView>('session/start', {
      goal: 'two steps',
      cwd: repo('quota'),
      approve: true,
      plan: { tasks: [task('p'), task('q', ['p'])] },
    });
    assert.equal(s.budget?.limits.tokens, 5, `tim's tokens left are his session's grant: ${JSON.stringify(s.budget)}`);
    const v = await until(tim, s.id, 'the session to stop on its grant', (x) => {
      assert.ok(!ended.includes(x.state), `it must stop first: ${x.state}`);
      return x.state === 'awaiting_approval' ? x : undefined;
    });
    const [p, q] = ['p', 'q'].map((id) => v.tasks.find((t) => t.planId === id)!);
    assert.equal(p.state, 'succeeded');
    assert.ok(!['running', 'succeeded'].includes(q.state), `q was never dispatched: ${JSON.stringify(q)}`);
    assert.deepEqual(
      (await recorded(s.id)).map((r) => r.task_id),
      ['p'],
      'only p ran on a worker',
    );
    const used = (await report(tim)).total.tokens;
    assert.ok(used > 5, `tim's worker turn is in his report: ${used}`);

    const approve = await tim.request('session/approve', { sessionId: s.id });
    assert.equal(approve.error?.code, errorCodes.quotaExceeded, JSON.stringify(approve));
    const data = approve.error!.data as Record<string, unknown>;
    assert.deepEqual([data.quota, data.limit, data.inUse, data.scope], ['tokens', 5, used, { kind: 'user', id: timId }]);
    // Dev's quota is not tim's: dev still starts sessions.
    const other = await dev.request('session/start', { goal: 'draft', cwd: repo('other'), plan: { tasks: [task('r')] } });
    assert.equal(other.error, undefined, JSON.stringify(other.error));
    await tim.call('session/cancel', { sessionId: s.id });
  },
);

test(
  "a task cancelled while a worker runs it: the worker's turn still shows in the owner's usage report, once",
  { timeout: 600_000 },
  async () => {
    const before = (await report(dev)).total;
    const slow = { ...task('slow'), prompt: 'MODELU out/slow.txt 15000 task=acme/slow write the slow file' };
    const s = await dev.call<SessionView>('session/start', {
      goal: 'one slow file',
      cwd: repo('cancelled'),
      approve: true,
      plan: { tasks: [slow] },
    });
    const started = async () =>
      (await team.sql.query(`select 1 from orch_worker_task_starts where tenant_id = 'acme' and session_id = $1`, [s.id])).rowCount;
    for (const end = Date.now() + 300_000; !(await started()); await new Promise((r) => setTimeout(r, 250)))
      assert.ok(Date.now() < end, `no worker started the task: ${worker.stderr().slice(-1500)}`);
    await dev.call('session/cancel', { sessionId: s.id });
    await until(dev, s.id, 'the session cancelled', (x) => (x.state === 'cancelled' ? x : undefined));

    // The server wrote the outcome first; the worker's turn ended later and added its usage to that row.
    const row = async () =>
      (
        await team.sql.query<{ worker_id: string; input: number | null; output: number | null }>(
          `select worker_id, (usage->>'inputTokens')::int as input, (usage->>'outputTokens')::int as output
           from orch_worker_task_outcomes where tenant_id = 'acme' and session_id = $1`,
          [s.id],
        )
      ).rows[0];
    let r = await row();
    for (const end = Date.now() + 300_000; !r?.input; r = await row()) {
      assert.ok(Date.now() < end, `the worker did not add its usage: ${JSON.stringify(r)}\nworker: ${worker.stderr().slice(-1500)}`);
      await new Promise((res) => setTimeout(res, 250));
    }
    assert.equal(r.worker_id, 'team-server', 'the cancel was recorded before the turn ended');
    assert.ok(r.input! > 0 && r.output! > 0, JSON.stringify(r));
    const tokens = before.tokens + r.input! + r.output!;
    let now = (await report(dev)).total;
    for (const end = Date.now() + 120_000; now.tokens !== tokens; now = (await report(dev)).total) {
      assert.ok(Date.now() < end, `the report does not show the cancelled turn: ${JSON.stringify([before, now, r])}`);
      await new Promise((res) => setTimeout(res, 250));
    }
    assert.equal(now.runs, before.runs + 1);
    const lines = fs
      .readFileSync(path.join(dataDir, 'tenants', 'acme', 'usage.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.includes(s.id));
    assert.equal(lines.length, 1, lines.join('\n'));
  },
);

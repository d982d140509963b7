/**
 * The PostgreSQL schema of the store, as versioned SQL migrations, and the runner that applies them.
 *
 * `orch_schema_migrations` records every applied version. The runner holds a transaction-scoped advisory
 * lock, so two servers starting on one empty database never apply a migration twice; every pending
 * migration runs in that one transaction (PostgreSQL DDL is transactional), so a failure leaves the
 * database at the version it had. A database newer than this server is refused, never touched.
 *
 * Every table holds `tenant_id`; its primary key starts with it, so every read and write the adapter
 * makes is scoped by it (`pgStore.ts`).
 */
import type { ClientBase } from 'pg';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The store's collections kept as rows of their own table: `doc` is the record as the domain sees it. */
export const collectionTables = {
  sessions: 'orch_sessions',
  tasks: 'orch_tasks',
  runs: 'orch_runs',
  agents: 'orch_agents',
  agentHealth: 'orch_agent_health',
  leases: 'orch_leases',
  fineTuneJobs: 'orch_fine_tune_jobs',
  models: 'orch_models',
  archive: 'orch_archive',
} as const;
export type Collection = keyof typeof collectionTables;

const recordTable = (table: string) => `
create table ${table} (
  tenant_id text not null references orch_tenants (tenant_id) on delete cascade,
  id text not null,
  position integer not null,
  doc jsonb not null,
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id)
);`;

/** Append only: a released migration is never edited; a change is a new version. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'tenants and one table per store collection',
    sql: `
create table orch_tenants (
  tenant_id text primary key,
  name text not null,
  schema_version integer not null,
  created_at text not null
);
${Object.values(collectionTables).map(recordTable).join('\n')}`,
  },
  {
    version: 2,
    name: 'tasks and runs by session',
    sql: `
create index orch_tasks_by_session on orch_tasks (tenant_id, (doc->>'sessionId'));
create index orch_runs_by_session on orch_runs (tenant_id, (doc->>'sessionId'));`,
  },
];

export const latestMigration = migrations[migrations.length - 1].version;

/** A fixed advisory-lock key: "orch" + "mig" in ASCII, so it does not collide with the tenant locks. */
const migrationLockKey = '0x6f7263686d6967';

/** Thrown when the database was migrated by a newer server: this one must not read or write it. */
export class SchemaTooNewError extends Error {
  constructor(
    readonly found: number,
    readonly supported: number,
  ) {
    super(`the database schema is at version ${found}, newer than this server supports (${supported}); upgrade the orchestrator`);
    this.name = 'SchemaTooNewError';
  }
}

/**
 * Brings the database up to `latestMigration`; returns the versions applied now (empty when it was
 * already current). `client` must not be inside a transaction.
 */
export async function migrate(client: ClientBase, list: readonly Migration[] = migrations): Promise<number[]> {
  await client.query('begin');
  try {
    await client.query(`select pg_advisory_xact_lock(${migrationLockKey})`);
    await client.query(
      `create table if not exists orch_schema_migrations (
         version integer primary key,
         name text not null,
         applied_at timestamptz not null default now()
       )`,
    );
    const done = new Set(
      (await client.query<{ version: number }>('select version from orch_schema_migrations')).rows.map((r) => r.version),
    );
    const newest = Math.max(0, ...done);
    const supported = list[list.length - 1]?.version ?? 0;
    if (newest > supported) throw new SchemaTooNewError(newest, supported);
    const applied: number[] = [];
    for (const m of list) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('insert into orch_schema_migrations (version, name) values ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    await client.query('commit');
    return applied;
  } catch (e) {
    await client.query('rollback').catch(() => undefined);
    throw e;
  }
}

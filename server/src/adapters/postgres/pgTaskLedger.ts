/**
 * The task ledger (`ports/taskLedger.ts`) over `pg`: tables `orch_worker_task_starts` (every start),
 * `orch_worker_task_outcomes` (one row per finished task: the exactly-once record) and
 * `orch_worker_merges` (one row per merged session). A running task is held by a session advisory lock on a
 * connection of its own, so it is free again the moment its worker's process dies. Deadlines on connect and
 * on every statement.
 */
import pg from 'pg';
import { withDeadline } from '../deadline';
import { lockKey } from '../../domain/workers/taskJob';
import type { DoneTask, MergeRecord, TaskClaim, TaskKey, TaskLedgerPort, TaskOutcome, WorkerUsage } from '../../ports/taskLedger';

/** Advisory lock namespaces (first int4 of the key); PgStore's tenant lock uses its own. */
const taskLockSpace = 0x0f15_0001;
const mergeLockSpace = 0x0f15_0002;
const schemaLockSpace = 0x0f15_0003;

const ddl = `
create table if not exists orch_worker_task_starts (
  tenant_id text not null, session_id text not null, task_id text not null,
  worker_id text not null, attempt int not null, started_at timestamptz not null default now());
create index if not exists orch_worker_task_starts_task on orch_worker_task_starts (tenant_id, session_id, task_id);
create table if not exists orch_worker_task_outcomes (
  tenant_id text not null, session_id text not null, task_id text not null,
  state text not null, commit text, branch text not null, ord int not null, worker_id text not null, error text,
  finished_at timestamptz not null default now(),
  primary key (tenant_id, session_id, task_id));
create table if not exists orch_worker_merges (
  tenant_id text not null, session_id text not null, state text not null, commit text, worker_id text not null,
  task_id text, merged_at timestamptz not null default now(),
  primary key (tenant_id, session_id));
alter table orch_worker_merges add column if not exists failed text[];
alter table orch_worker_task_outcomes add column if not exists usage jsonb;`;

export interface PgTaskLedgerOptions {
  url: string;
  /** Connections for statements (claims and merge locks take their own). */
  poolSize?: number;
  connectMs?: number;
  queryMs?: number;
}

export class PgTaskLedger implements TaskLedgerPort {
  private readonly pool: pg.Pool;
  private readonly connectMs: number;
  private readonly queryMs: number;

  constructor(private readonly opts: PgTaskLedgerOptions) {
    this.connectMs = opts.connectMs ?? 10_000;
    this.queryMs = opts.queryMs ?? 30_000;
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 4,
      connectionTimeoutMillis: this.connectMs,
      statement_timeout: this.queryMs,
    });
    this.pool.on('error', () => undefined); // an idle client's lost connection: the next query reconnects
  }

  private query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    return withDeadline(this.pool.query<R>(sql, params), this.queryMs + this.connectMs, 'a task ledger statement');
  }

  /** A connection of its own (for session advisory locks that must live exactly as long as it). */
  private async dedicated(): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: this.opts.url, connectionTimeoutMillis: this.connectMs, statement_timeout: this.queryMs });
    c.on('error', () => undefined);
    await withDeadline(c.connect(), this.connectMs + 1_000, 'connecting to PostgreSQL');
    return c;
  }

  async ensure(): Promise<void> {
    const c = await this.dedicated();
    try {
      const [a, b] = lockKey(schemaLockSpace, 'schema');
      await c.query('select pg_advisory_lock($1, $2)', [a, b]);
      await c.query(ddl);
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  async claim(key: TaskKey): Promise<TaskClaim | undefined> {
    const c = await this.dedicated();
    const [a, b] = lockKey(taskLockSpace, key.tenantId, key.sessionId, key.taskId);
    try {
      const r = await c.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [a, b]);
      if (!r.rows[0]?.ok) {
        await c.end().catch(() => undefined);
        return undefined;
      }
    } catch (e) {
      await c.end().catch(() => undefined);
      throw e;
    }
    // Ending the connection releases the lock (as does the worker's death).
    return { release: () => withDeadline(c.end(), this.connectMs, 'releasing a task').catch(() => undefined) };
  }

  async outcome(key: TaskKey): Promise<TaskOutcome | undefined> {
    const r = await this.query<OutcomeRow>(
      `select ${outcomeColumns} from orch_worker_task_outcomes where tenant_id = $1 and session_id = $2 and task_id = $3`,
      [key.tenantId, key.sessionId, key.taskId],
    );
    const row = r.rows[0];
    return row ? toOutcome(row) : undefined;
  }

  async recordStart(key: TaskKey, workerId: string, attempt: number): Promise<void> {
    await this.query(
      'insert into orch_worker_task_starts (tenant_id, session_id, task_id, worker_id, attempt) values ($1, $2, $3, $4, $5)',
      [key.tenantId, key.sessionId, key.taskId, workerId, attempt],
    );
  }

  async startedBy(key: TaskKey): Promise<string | undefined> {
    const r = await this.query<{ worker_id: string }>(
      `select worker_id from orch_worker_task_starts where tenant_id = $1 and session_id = $2 and task_id = $3
       order by started_at limit 1`,
      [key.tenantId, key.sessionId, key.taskId],
    );
    return r.rows[0]?.worker_id;
  }

  async recordOutcome(key: TaskKey, o: TaskOutcome): Promise<boolean> {
    const r = await this.query(
      `insert into orch_worker_task_outcomes (tenant_id, session_id, task_id, state, commit, branch, ord, worker_id, error, usage)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) on conflict do nothing`,
      [
        ...[key.tenantId, key.sessionId, key.taskId, o.state, o.commit ?? null, o.branch, o.order, o.workerId, o.error ?? null],
        o.usage ? JSON.stringify(o.usage) : null,
      ],
    );
    return r.rowCount === 1;
  }

  async recordUsage(key: TaskKey, usage: WorkerUsage): Promise<boolean> {
    const r = await this.query(
      `update orch_worker_task_outcomes set usage = $4
       where tenant_id = $1 and session_id = $2 and task_id = $3 and usage is null`,
      [key.tenantId, key.sessionId, key.taskId, JSON.stringify(usage)],
    );
    return r.rowCount === 1;
  }

  async doneTasks(tenantId: string, sessionId: string): Promise<DoneTask[]> {
    const r = await this.query<OutcomeRow & { task_id: string }>(
      `select task_id, ${outcomeColumns} from orch_worker_task_outcomes
       where tenant_id = $1 and session_id = $2 order by ord, task_id`,
      [tenantId, sessionId],
    );
    return r.rows.map((row) => ({ taskId: row.task_id, ...toOutcome(row) }));
  }

  async withMergeLock<T>(tenantId: string, sessionId: string, waitMs: number, fn: () => Promise<T>): Promise<T> {
    const c = await this.dedicated();
    try {
      const [a, b] = lockKey(mergeLockSpace, tenantId, sessionId);
      await c.query(`set lock_timeout = ${Math.max(1, Math.floor(waitMs))}`);
      await c.query('select pg_advisory_lock($1, $2)', [a, b]);
      return await fn();
    } finally {
      // Ending the connection releases the lock.
      await withDeadline(c.end(), this.connectMs, 'releasing a merge lock').catch(() => undefined);
    }
  }

  async mergeOf(tenantId: string, sessionId: string): Promise<MergeRecord | undefined> {
    const r = await this.query<{
      state: MergeRecord['state'];
      commit: string | null;
      worker_id: string;
      task_id: string | null;
      failed: string[] | null;
    }>('select state, commit, worker_id, task_id, failed from orch_worker_merges where tenant_id = $1 and session_id = $2', [
      tenantId,
      sessionId,
    ]);
    const row = r.rows[0];
    return row
      ? {
          state: row.state,
          workerId: row.worker_id,
          ...(row.commit ? { commit: row.commit } : {}),
          ...(row.task_id ? { taskId: row.task_id } : {}),
          ...(row.failed?.length ? { failed: row.failed } : {}),
        }
      : undefined;
  }

  async recordMerge(tenantId: string, sessionId: string, m: MergeRecord): Promise<void> {
    await this.query(
      `insert into orch_worker_merges (tenant_id, session_id, state, commit, worker_id, task_id, failed)
       values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing`,
      [tenantId, sessionId, m.state, m.commit ?? null, m.workerId, m.taskId ?? null, m.failed?.length ? m.failed : null],
    );
  }

  async close(): Promise<void> {
    await withDeadline(this.pool.end(), this.connectMs, 'closing the task ledger').catch(() => undefined);
  }
}

const outcomeColumns =
  'state, commit, branch, ord, worker_id, error, usage, (extract(epoch from finished_at) * 1000)::float8 as finished_ms';

/** A row of `orch_worker_task_outcomes`, as the ledger reads it. */
interface OutcomeRow {
  usage: WorkerUsage | null;
  finished_ms: number;
  state: TaskOutcome['state'];
  commit: string | null;
  branch: string;
  ord: number;
  worker_id: string;
  error: string | null;
}

function toOutcome(row: OutcomeRow): TaskOutcome {
  return {
    state: row.state,
    branch: row.branch,
    order: row.ord,
    workerId: row.worker_id,
    ...(row.commit ? { commit: row.commit } : {}),
    ...(row.error ? { error: row.error } : {}),
    ...(row.usage ? { usage: row.usage } : {}),
    finishedAtMs: row.finished_ms,
  };
}

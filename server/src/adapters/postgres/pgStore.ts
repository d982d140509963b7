/**
 * The team store: the store port over PostgreSQL (`pg`), for one tenant.
 *
 * A `PgStore` is built for one tenant and every statement it sends carries that tenant's id in its
 * `where` or `values`: it cannot read or write another tenant's rows, and a change that would put a
 * record of another tenant into its data is refused before any query (`rows.ts` `checkScope`).
 *
 * Like the lowdb store, it keeps the tenant's data in memory (reads are synchronous) and is the one
 * writer of it: `load` takes a session advisory lock per tenant on its connection; a second store for
 * the same tenant reads, reports `locked` and refuses writes. Updates are group-committed: every update
 * queued while a write is in flight is applied in order to one draft, the rows that changed are written
 * in one transaction, and memory changes only after COMMIT. A failed write changes nothing.
 *
 * Deadlines: the connection (`connectTimeoutMs`), every statement (`queryTimeoutMs`, client and server
 * side) and every write transaction as a whole. A lost connection or a passed deadline drops the
 * connection and fails the write with a `PgStoreError` naming the server; the next write reconnects,
 * takes the tenant lock again and re-reads the rows before writing.
 */
import pg from 'pg';
import type { StoreStatus } from '../../../../protocol/server';
import { DomainError } from '../../domain/errors';
import { currentSchemaVersion, emptyStore, parseStore, type StoreData } from '../../domain/storeSchema';
import type { Logger } from '../../ports/logger';
import type { StorePort } from '../../ports/store';
import { DeadlineError, withDeadline } from '../deadline';
import { collectionTables, migrate, type Collection } from './migrations';
import { describeServer, isConnectionFault, PgStoreError } from './pgErrors';
import { checkScope, diffRows, fromRows, toRows, type Rows, type TableChange } from './rows';

export { describeServer, PgStoreError, type PgStoreErrorKind } from './pgErrors';

export interface PgStoreOptions {
  /** `postgres://user:password@host:port/database` */
  connectionString: string;
  tenantId: string;
  /**
   * The tenant id the records themselves carry (default `tenantId`). The team server's per-tenant
   * services still write `local` in their records (their tenant is their data folder); the rows are
   * scoped by `tenantId` all the same.
   */
  recordTenantId?: string;
  /**
   * Records of this tenant's rows whose `tenantId` says this (the team server wrote `local` before records
   * carried the tenant) are read as `recordTenantId`'s; the next write of such a record stores the new id.
   */
  legacyRecordTenantId?: string;
  /** The tenant's display name when its row is created (default: its id). */
  tenantName?: string;
  /** Deadline on opening the connection (default 5 s). */
  connectTimeoutMs?: number;
  /** Deadline on every statement (default 10 s). */
  queryTimeoutMs?: number;
  now?: () => Date;
}

interface Pending {
  mutate: (data: StoreData) => void | boolean;
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface Meta {
  schemaVersion: number;
  createdAt: string;
  tenant: { id: string; name: string };
}

export class PgStore implements StorePort {
  readonly tenantId: string;
  /** What `tenantId` the records in this store's data carry. */
  readonly recordTenantId: string;
  readonly server: string;
  private readonly connectMs: number;
  private readonly queryMs: number;
  private readonly now: () => Date;
  private client: pg.Client | undefined;
  private data: StoreData;
  /** The rows as last read or committed: what a write is diffed against. */
  private rows: Rows;
  private meta: Meta;
  private current: StoreStatus;
  private chain: Promise<void> = Promise.resolve();
  private queue: Pending[] = [];
  private flushScheduled = false;
  /** Why the last connection went away (named in the next failure if reconnecting fails too). */
  private lostReason: string | undefined;
  private readOnly = false;
  /** False when opened for reading only, or when another server holds the tenant's lock. */
  writable = true;

  constructor(
    private readonly opts: PgStoreOptions,
    private readonly logger: Logger,
  ) {
    if (!opts.tenantId) throw new DomainError('bad_input', 'a PostgreSQL store needs a tenant id');
    this.tenantId = opts.tenantId;
    this.recordTenantId = opts.recordTenantId ?? opts.tenantId;
    this.server = describeServer(opts.connectionString);
    this.connectMs = opts.connectTimeoutMs ?? 5_000;
    this.queryMs = opts.queryTimeoutMs ?? 10_000;
    this.now = opts.now ?? (() => new Date());
    this.data = { ...emptyStore(this.now().toISOString()), tenants: [{ id: this.recordTenantId, name: opts.tenantName ?? this.tenantId }] };
    this.rows = toRows(this.data);
    this.meta = { schemaVersion: currentSchemaVersion, createdAt: this.data.createdAt, tenant: this.data.tenants[0] };
    this.current = this.status_('ok');
  }

  private status_(state: StoreStatus['state'], error?: string): StoreStatus {
    return {
      kind: 'postgres',
      path: `${this.server}#tenant=${this.tenantId}`,
      schemaVersion: currentSchemaVersion,
      state,
      ...(error ? { error } : {}),
    };
  }

  /**
   * Connects, applies pending migrations, takes the tenant's lock and reads its rows. `readOnly`: no
   * migration, no lock, no write (a database without our tables reads as an empty store). Rows that fail
   * validation leave the store `corrupt`: nothing is rewritten and writes are refused.
   */
  async load(opts: { readOnly?: boolean; lockedBy?: string } = {}): Promise<StoreStatus> {
    // `lockedBy`: another process owns this tenant's data folder (compose.ts); read, never write.
    this.readOnly = !!opts.readOnly || !!opts.lockedBy;
    this.writable = !this.readOnly;
    if (this.client) {
      // Loaded again: give up the old connection (and its lock) first.
      const old = this.client;
      this.client = undefined;
      await withDeadline(old.end(), this.connectMs, 'closing the PostgreSQL connection').catch(() => undefined);
    }
    const locked = (await this.open()) ?? opts.lockedBy;
    if (locked) {
      this.writable = false;
      this.current = this.status_('locked', locked);
    }
    const { meta, rows } = await this.readAll();
    try {
      const { data, migratedFrom } = parseStore(JSON.stringify(fromRows(meta, rows)), `${this.server} (tenant ${this.tenantId})`);
      this.data = data;
      this.meta = { ...meta, schemaVersion: currentSchemaVersion };
      this.rows = rows;
      if (migratedFrom !== undefined && this.writable) {
        await this.write(this.data, `migrate tenant ${this.tenantId} from schema version ${migratedFrom}`);
        this.logger.info(`store of tenant ${this.tenantId} migrated from schema version ${migratedFrom} to ${currentSchemaVersion}`);
      }
      if (!locked) this.current = this.status_('ok');
    } catch (e) {
      if (!DomainError.is(e, 'store_corrupt')) throw e;
      this.logger.error(`store of tenant ${this.tenantId} at ${this.server} is corrupt and stays read-only: ${e.message}`);
      this.current = this.status_('corrupt', e.message);
    }
    return this.current;
  }

  status(): StoreStatus {
    return this.current;
  }

  read(): Readonly<StoreData> {
    if (this.current.state === 'corrupt')
      throw new DomainError('store_corrupt', `the store of tenant ${this.tenantId} at ${this.server} is corrupt: ${this.current.error}`);
    return this.data;
  }

  update(mutate: (data: StoreData) => void | boolean): Promise<void> {
    const refused = this.refuseWrite();
    if (refused) return Promise.reject(refused);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ mutate, resolve, reject });
      if (this.flushScheduled) return;
      this.flushScheduled = true;
      const run = this.chain.then(() => this.flush());
      this.chain = run.catch(() => undefined);
    });
  }

  /** Releases the tenant lock and closes the connection; later writes are refused. */
  async close(): Promise<void> {
    this.writable = false;
    const c = this.client;
    this.client = undefined;
    if (c) await withDeadline(c.end(), this.connectMs, 'closing the PostgreSQL connection').catch(() => undefined);
  }

  private refuseWrite(): DomainError | undefined {
    if (this.current.state === 'corrupt')
      return new DomainError(
        'store_read_only',
        `the store of tenant ${this.tenantId} is read-only because it failed to load: ${this.current.error}`,
      );
    if (!this.writable)
      return new DomainError(
        'store_read_only',
        `the store of tenant ${this.tenantId} at ${this.server} is read-only here: ${this.current.error ?? 'opened for reading only'}`,
      );
    return undefined;
  }

  /** One group: every queued update applied in order to one draft, one transaction for all of them. */
  private async flush(): Promise<void> {
    this.flushScheduled = false;
    let group = this.queue.splice(0);
    for (;;) {
      const draft = structuredClone(this.data);
      let write = false;
      const failed = group.findIndex((p) => {
        try {
          if (p.mutate(draft) !== false) write = true;
          return false;
        } catch (e) {
          p.reject(e);
          return true;
        }
      });
      if (failed >= 0) {
        group = group.filter((_, i) => i !== failed);
        continue;
      }
      try {
        if (write) await this.write(draft, `write to tenant ${this.tenantId}`);
        for (const p of group) p.resolve();
      } catch (e) {
        for (const p of group) p.reject(e);
      }
      return;
    }
  }

  /** Makes the database hold `draft` (one transaction), then memory. On failure, memory is unchanged. */
  private async write(draft: StoreData, what: string): Promise<void> {
    checkScope(draft, this.recordTenantId);
    if (!this.client) {
      // The connection went away since the last write: reconnect, re-take the lock, write against the rows as they are now.
      const locked = await this.open();
      if (locked) {
        this.writable = false;
        this.current = this.status_('locked', locked);
        throw new DomainError('store_read_only', `the store of tenant ${this.tenantId} is read-only now: ${locked}`);
      }
      this.rows = (await this.readAll()).rows;
    }
    const next = toRows(draft);
    const changes = diffRows(this.rows, next);
    const tenant = draft.tenants[0];
    const metaChanged = tenant.name !== this.meta.tenant.name || draft.createdAt !== this.meta.createdAt;
    if (changes.length || metaChanged) {
      await this.transaction(what, async (c) => {
        if (metaChanged)
          await c.query('update orch_tenants set name = $2, created_at = $3, schema_version = $4 where tenant_id = $1', [
            this.tenantId,
            tenant.name,
            draft.createdAt,
            currentSchemaVersion,
          ]);
        for (const ch of changes) await this.applyChange(c, ch);
      });
    }
    this.rows = next;
    this.meta = { schemaVersion: currentSchemaVersion, createdAt: draft.createdAt, tenant: { ...tenant } };
    this.data = draft;
  }

  private async applyChange(c: pg.Client, ch: TableChange): Promise<void> {
    const table = collectionTables[ch.collection];
    if (ch.remove.length) await c.query(`delete from ${table} where tenant_id = $1 and id = any($2::text[])`, [this.tenantId, ch.remove]);
    if (ch.upsert.length)
      await c.query(
        `insert into ${table} (tenant_id, id, position, doc)
         select $1, r.id, r.position, r.doc from jsonb_to_recordset($2::jsonb) as r(id text, position integer, doc jsonb)
         on conflict (tenant_id, id) do update set position = excluded.position, doc = excluded.doc, updated_at = now()`,
        [this.tenantId, JSON.stringify(ch.upsert)],
      );
  }

  /** `body` inside BEGIN … COMMIT with a deadline on the whole; any failure rolls back (or drops the connection). */
  private async transaction(what: string, body: (c: pg.Client) => Promise<void>): Promise<void> {
    const c = this.client!;
    const run = async () => {
      await c.query('begin');
      try {
        await body(c);
        await c.query('commit');
      } catch (e) {
        if (!isConnectionFault(e) && !DeadlineError.is(e)) await c.query('rollback').catch(() => undefined);
        throw e;
      }
    };
    try {
      await withDeadline(run(), this.queryMs * 3, `${what} at ${this.server}`);
    } catch (e) {
      throw this.fault(e, what);
    }
  }

  /**
   * Turns a driver failure into a `PgStoreError` when the connection is at fault (and drops the
   * connection, whose state is unknown: PostgreSQL rolls back an open transaction when it goes).
   */
  private fault(e: unknown, what: string): unknown {
    const deadline = DeadlineError.is(e) || /timeout/i.test((e as Error)?.message ?? '');
    if (!deadline && !isConnectionFault(e)) return e;
    this.drop(deadline ? 'a deadline passed' : (e as Error).message);
    return deadline
      ? new PgStoreError(
          'deadline',
          this.server,
          `${what}: PostgreSQL at ${this.server} did not answer in time (${(e as Error).message}); nothing was changed`,
          e,
        )
      : new PgStoreError(
          'connection_lost',
          this.server,
          `${what}: lost the connection to PostgreSQL at ${this.server} (${(e as Error).message}); nothing was changed`,
          e,
        );
  }

  private drop(reason: string): void {
    const c = this.client;
    this.client = undefined;
    this.lostReason = reason;
    if (c) void withDeadline(c.end(), 1_000, 'closing a broken PostgreSQL connection').catch(() => undefined);
  }

  /**
   * Opens the connection (deadline), migrates and takes the tenant lock unless read-only. Returns why
   * the store cannot write when another server holds the lock, else undefined.
   */
  private async open(): Promise<string | undefined> {
    const c = new pg.Client({
      connectionString: this.opts.connectionString,
      connectionTimeoutMillis: this.connectMs,
      query_timeout: this.queryMs,
      statement_timeout: this.queryMs,
      application_name: `industrial-orchestrator tenant=${this.tenantId}`,
    });
    // A connection that breaks while idle must not crash the process: note it, fail the next write clearly.
    c.on('error', (e) => {
      if (this.client !== c) return;
      this.logger.warn(`PostgreSQL connection of tenant ${this.tenantId} at ${this.server} failed: ${e.message}`);
      this.drop(e.message);
    });
    try {
      await withDeadline(c.connect(), this.connectMs + 500, `connecting to ${this.server}`);
    } catch (e) {
      void c.end().catch(() => undefined);
      const after = this.lostReason ? ` (the previous connection was lost: ${this.lostReason})` : '';
      throw new PgStoreError(
        'unreachable',
        this.server,
        `cannot connect to PostgreSQL at ${this.server}: ${(e as Error).message}${after}`,
        e,
      );
    }
    this.client = c;
    try {
      if (this.readOnly) return undefined;
      await migrate(c);
      if (!(await this.takeLock(c))) return `another orchestrator server holds the store of tenant ${this.tenantId} at ${this.server}`;
      await c.query(
        'insert into orch_tenants (tenant_id, name, schema_version, created_at) values ($1, $2, $3, $4) on conflict (tenant_id) do nothing',
        [this.tenantId, this.opts.tenantName ?? this.tenantId, currentSchemaVersion, this.now().toISOString()],
      );
      this.lostReason = undefined;
      return undefined;
    } catch (e) {
      throw this.fault(e, `opening the store of tenant ${this.tenantId}`);
    }
  }

  /**
   * The tenant's session advisory lock. Tried until the connect deadline: after a reconnect, the server
   * may not have noticed yet that our previous connection (and the lock it held) is gone.
   */
  private async takeLock(c: pg.Client): Promise<boolean> {
    const until = Date.now() + this.connectMs;
    for (;;) {
      const got = await c.query<{ ok: boolean }>(
        `select pg_try_advisory_lock(hashtextextended('industrial-orchestrator/tenant/' || $1, 0)) as ok`,
        [this.tenantId],
      );
      if (got.rows[0].ok) return true;
      if (this.lostReason === undefined || Date.now() >= until) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The tenant's row and every table's rows of this tenant (an empty store when none exist yet). */
  private async readAll(): Promise<{ meta: Meta; rows: Rows }> {
    const c = this.client!;
    const fresh = { meta: { ...this.meta, tenant: { ...this.meta.tenant } }, rows: toRows(emptyStore(this.meta.createdAt)) };
    try {
      if (this.readOnly) {
        const exists = await c.query<{ t: string | null }>(`select to_regclass('orch_tenants')::text as t`);
        if (!exists.rows[0].t) return fresh;
      }
      const t = await c.query<{ name: string; schema_version: number; created_at: string }>(
        'select name, schema_version, created_at from orch_tenants where tenant_id = $1',
        [this.tenantId],
      );
      if (!t.rows.length) return fresh;
      const meta: Meta = {
        schemaVersion: t.rows[0].schema_version,
        createdAt: t.rows[0].created_at,
        tenant: { id: this.recordTenantId, name: t.rows[0].name },
      };
      const rows = {} as Rows;
      const legacy = this.opts.legacyRecordTenantId;
      for (const [collection, table] of Object.entries(collectionTables) as [Collection, string][]) {
        rows[collection] = (
          await c.query<{ id: string; position: number; doc: unknown }>(`select id, position, doc from ${table} where tenant_id = $1`, [
            this.tenantId,
          ])
        ).rows.map((r) => {
          const doc = r.doc as { tenantId?: unknown } | null;
          if (legacy === undefined || legacy === this.recordTenantId || doc?.tenantId !== legacy) return r;
          // Not diffed as a change: the row keeps the old id until the record is written again.
          return { ...r, doc: { ...doc, tenantId: this.recordTenantId } };
        });
      }
      return { meta, rows };
    } catch (e) {
      throw this.fault(e, `reading the store of tenant ${this.tenantId}`);
    }
  }
}

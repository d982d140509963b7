/**
 * The persisted shape of the embedded store, its schema version and the migrations that bring an
 * older file up to date. Pure: parsing and migrating never touch the disk.
 */
import { z } from 'zod';
import { describeIssues } from '../../../protocol/messages';
import { DomainError } from './errors';
import { fineTuneJobSchema, modelRecordSchema } from './finetune/records';
import {
  agentHealthSchema,
  agentRecordSchema,
  archiveEntrySchema,
  leaseSchema,
  runRecordSchema,
  sessionRecordSchema,
  taskRecordSchema,
  tenantSchema,
} from './storeEntities';
import { migrateToTypedEntities } from './storeEntityMigration';
import { migrateRunsV2ToV3 } from './storeMigrations';

export const currentSchemaVersion = 5;

export const storeDataSchema = z
  .object({
    schemaVersion: z.literal(currentSchemaVersion),
    createdAt: z.string(),
    tenants: z.array(tenantSchema).min(1),
    /** Orchestrated sessions (domain `Session` plus what the services keep beside it). */
    sessions: z.array(sessionRecordSchema),
    /** Tasks of orchestrated sessions (domain `Task`). */
    tasks: z.array(taskRecordSchema),
    /** Runs (agent turns): single runs, session task attempts and planning turns. */
    runs: z.array(runRecordSchema),
    agents: z.array(agentRecordSchema),
    /** Agent health for routing, by agent id. */
    agentHealth: z.record(z.string(), agentHealthSchema),
    leases: z.object({ leases: z.array(leaseSchema) }).strict(),
    /** Fine-tune jobs (`finetune/*`). Added within v4: a file without it loads as empty. */
    fineTuneJobs: z.array(fineTuneJobSchema).default([]),
    /** The model registry (`model/*`). Added within v4: a file without it loads as empty. */
    models: z.array(modelRecordSchema).default([]),
    /** Finished sessions moved out to `store-archive/<id>.json`: what lists need without opening them. */
    archive: z.array(archiveEntrySchema),
  })
  .strict();

export type StoreData = z.infer<typeof storeDataSchema>;

export const localTenantId = 'local';

export function emptyStore(now: string): StoreData {
  return {
    schemaVersion: currentSchemaVersion,
    createdAt: now,
    tenants: [{ id: localTenantId, name: 'Local' }],
    sessions: [],
    tasks: [],
    runs: [],
    agents: [],
    agentHealth: {},
    leases: { leases: [] },
    fineTuneJobs: [],
    models: [],
    archive: [],
  };
}

type Raw = Record<string, unknown>;
interface Migration {
  from: number;
  to: number;
  migrate(raw: Raw): Raw;
}

/** Ordered migrations; each takes the raw object of version `from` and returns version `to`. */
const migrations: Migration[] = [
  {
    // Version 0 was the prototype's file: no version field and no tenants.
    from: 0,
    to: 1,
    migrate: (raw) => ({
      schemaVersion: 1,
      createdAt: typeof raw.createdAt === 'string' ? raw.createdAt : new Date(0).toISOString(),
      tenants: [{ id: localTenantId, name: 'Local' }],
      sessions: withTenant(raw.sessions),
      tasks: withTenant(raw.tasks),
      agents: withTenant(raw.agents),
    }),
  },
  {
    // Version 2 separates agent turns (`runs`) from orchestrated tasks and adds leases and agent health.
    // Version 1 only ever stored agent turns in `tasks`.
    from: 1,
    to: 2,
    migrate: (raw) => ({ ...raw, schemaVersion: 2, runs: raw.tasks ?? [], tasks: [], agentHealth: {}, leases: { leases: [] } }),
  },
  // Version 3: a run says what it belongs to (`sessionId`, `taskId`); see storeMigrations.ts.
  { from: 2, to: 3, migrate: migrateRunsV2ToV3 },
  // Version 4 validates every record against its entity schema; older records get their defaults.
  { from: 3, to: 4, migrate: (raw) => ({ ...migrateToTypedEntities(raw), schemaVersion: 4 }) },
  // Version 5 keeps finished sessions out of the hot file; the archive index starts empty and the server
  // moves finished sessions out after their delay (the migration itself moves nothing).
  { from: 4, to: 5, migrate: (raw) => ({ ...raw, schemaVersion: 5, archive: raw.archive ?? [] }) },
];

function withTenant(list: unknown): unknown {
  if (list === undefined) return [];
  if (!Array.isArray(list)) return list; // left for validation to reject with a clear message
  return list.map((e) => (e && typeof e === 'object' && !('tenantId' in e) ? { ...e, tenantId: localTenantId } : e));
}

/**
 * Parse the text of a store file: JSON → migrate → validate. Throws `DomainError('store_corrupt')`
 * naming what is wrong; returns whether a migration ran (the caller then writes the result).
 */
export function parseStore(text: string, source: string): { data: StoreData; migratedFrom?: number } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new DomainError('store_corrupt', `${source} is not valid JSON (${(e as Error).message})`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new DomainError('store_corrupt', `${source} does not hold a JSON object`);
  }
  let obj = raw as Raw;
  const start = obj.schemaVersion === undefined ? 0 : obj.schemaVersion;
  if (typeof start !== 'number' || !Number.isInteger(start) || start < 0) {
    throw new DomainError('store_corrupt', `${source}: schemaVersion must be a non-negative integer, got ${JSON.stringify(start)}`);
  }
  if (start > currentSchemaVersion) {
    throw new DomainError(
      'store_corrupt',
      `${source}: schema version ${start} is newer than this server supports (${currentSchemaVersion}); upgrade the extension`,
    );
  }
  for (let v = start; v < currentSchemaVersion; v++) {
    const m = migrations.find((x) => x.from === v);
    if (!m) throw new DomainError('store_corrupt', `${source}: no migration from schema version ${v}`);
    obj = m.migrate(obj);
  }
  const parsed = storeDataSchema.safeParse(obj);
  if (!parsed.success) {
    throw new DomainError('store_corrupt', `${source} failed validation: ${describeIssues(parsed.error)}`);
  }
  return start === currentSchemaVersion ? { data: parsed.data } : { data: parsed.data, migratedFrom: start };
}

/**
 * The store's data as table rows and back, and the rows a change touches. No I/O: `pgStore.ts` runs the
 * SQL. Every record that names a tenant must name the store's own; anything else is refused before a
 * query is sent.
 */
import { DomainError } from '../../domain/errors';
import type { StoreData } from '../../domain/storeSchema';
import { collectionTables, type Collection } from './migrations';

export interface Row {
  id: string;
  position: number;
  doc: unknown;
}

export type Rows = Record<Collection, Row[]>;

/** What one write does to one table. */
export interface TableChange {
  collection: Collection;
  upsert: Row[];
  remove: string[];
}

const collections = Object.keys(collectionTables) as Collection[];

/** Collections whose records carry `tenantId`. */
const tenantScoped: readonly Collection[] = ['sessions', 'tasks', 'runs', 'agents', 'fineTuneJobs', 'models', 'archive'];

const listed = (list: readonly { id: string }[]): Row[] => list.map((doc, position) => ({ id: doc.id, position, doc }));
/** Models are keyed by their name (unique per tenant). */
const named = (list: readonly { name: string }[]): Row[] => list.map((doc, position) => ({ id: doc.name, position, doc }));

export function toRows(data: StoreData): Rows {
  return {
    sessions: listed(data.sessions),
    tasks: listed(data.tasks),
    runs: listed(data.runs),
    agents: listed(data.agents),
    agentHealth: Object.entries(data.agentHealth).map(([id, doc], position) => ({ id, position, doc })),
    // Leases have no id of their own: their place in the list is their key.
    leases: data.leases.leases.map((doc, position) => ({ id: String(position), position, doc })),
    fineTuneJobs: listed(data.fineTuneJobs),
    models: named(data.models),
    archive: listed(data.archive),
  };
}

/** The raw store object (before migration and validation) from the rows of each table. */
export function fromRows(meta: { schemaVersion: number; createdAt: string; tenant: { id: string; name: string } }, rows: Rows) {
  const docs = (c: Collection) => [...rows[c]].sort((a, b) => a.position - b.position).map((r) => r.doc);
  return {
    schemaVersion: meta.schemaVersion,
    createdAt: meta.createdAt,
    tenants: [meta.tenant],
    sessions: docs('sessions'),
    tasks: docs('tasks'),
    runs: docs('runs'),
    agents: docs('agents'),
    agentHealth: Object.fromEntries([...rows.agentHealth].sort((a, b) => a.position - b.position).map((r) => [r.id, r.doc])),
    leases: { leases: docs('leases') },
    fineTuneJobs: docs('fineTuneJobs'),
    models: docs('models'),
    archive: docs('archive'),
  };
}

/**
 * Refuses data this tenant's store cannot hold: a record of another tenant, a second tenant, a
 * duplicate id. The message names the collection, the record and the tenant.
 */
export function checkScope(data: StoreData, tenantId: string): void {
  if (data.tenants.length !== 1 || data.tenants[0].id !== tenantId) {
    throw new DomainError(
      'bad_input',
      `the store of tenant ${tenantId} holds only that tenant; got tenants ${JSON.stringify(data.tenants.map((t) => t.id))}`,
    );
  }
  const rows = toRows(data);
  for (const c of collections) {
    const seen = new Set<string>();
    for (const r of rows[c]) {
      if (seen.has(r.id)) throw new DomainError('bad_input', `${c} holds two records with id ${r.id}`);
      seen.add(r.id);
      const owner = tenantScoped.includes(c) ? (r.doc as { tenantId?: unknown }).tenantId : tenantId;
      if (owner !== tenantId) {
        throw new DomainError(
          'bad_input',
          `${c} record ${r.id} belongs to tenant ${String(owner)}; this store serves tenant ${tenantId} only`,
        );
      }
    }
  }
}

const key = (r: Row) => `${r.position}\u0000${JSON.stringify(r.doc)}`;

/** The rows to write and delete to go from `before` to `after`, per table; unchanged tables are left out. */
export function diffRows(before: Rows, after: Rows): TableChange[] {
  const out: TableChange[] = [];
  for (const collection of collections) {
    const old = new Map(before[collection].map((r) => [r.id, key(r)]));
    const upsert = after[collection].filter((r) => old.get(r.id) !== key(r));
    const kept = new Set(after[collection].map((r) => r.id));
    const remove = [...old.keys()].filter((id) => !kept.has(id));
    if (upsert.length || remove.length) out.push({ collection, upsert, remove });
  }
  return out;
}

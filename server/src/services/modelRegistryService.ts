/**
 * `model/*`: the model registry over the store's `models` collection. Versions are added by the fine-tune
 * service (in the same store write that ends the job); this service lists them and moves aliases, with the
 * champion rule and the audit trail of domain/finetune/registry.ts.
 */
import type { ModelAlias, ModelView } from '../../../protocol/model';
import { setAlias, type RegisteredModel } from '../domain/finetune/registry';
import { DomainError } from '../domain/errors';
import { localTenantId } from '../domain/storeSchema';
import type { StorePort } from '../ports/store';

const iso = (ms: number): string => new Date(ms).toISOString();

export function modelView(m: RegisteredModel): ModelView {
  return {
    name: m.name,
    createdAt: iso(m.createdAt),
    versions: m.versions.map((v) => ({
      version: v.version,
      createdAt: iso(v.createdAt),
      lineage: v.lineage,
      metrics: v.metrics,
      artifact: v.artifact,
      aliases: (Object.entries(m.aliases) as [ModelAlias, number][]).filter(([, n]) => n === v.version).map(([a]) => a),
    })),
    aliases: { ...m.aliases },
    audit: m.audit.map((e) => ({ ...e, at: iso(e.at) })),
  };
}

export class ModelRegistryService {
  constructor(private readonly deps: { store: StorePort; now(): Date; tenantId?: string }) {}

  private get tenant(): string {
    return this.deps.tenantId ?? localTenantId;
  }

  list(): ModelView[] {
    return this.deps.store
      .read()
      .models.filter((m) => m.tenantId === this.tenant)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map(modelView);
  }

  get(name: string): ModelView {
    const m = this.find(name);
    if (!m) throw new DomainError('not_found', `name: no model named ${JSON.stringify(name)}`, { field: 'name' });
    return modelView(m);
  }

  /** Moves the alias in one store write; a refusal writes nothing. */
  async setAlias(p: { name: string; alias: ModelAlias; version: number; override?: { reason: string } }): Promise<ModelView> {
    const current = this.find(p.name);
    if (!current) throw new DomainError('not_found', `name: no model named ${JSON.stringify(p.name)}`, { field: 'name' });
    const next = setAlias(current, p.alias, p.version, this.deps.now().getTime(), p.override);
    await this.deps.store.update((d) => {
      const i = d.models.findIndex((m) => m.name === p.name && m.tenantId === this.tenant);
      if (i < 0) throw new DomainError('not_found', `name: no model named ${JSON.stringify(p.name)}`, { field: 'name' });
      // Re-apply on what is stored now, so two moves never lose one another's audit event.
      d.models[i] = setAlias(d.models[i]!, p.alias, p.version, next.audit[next.audit.length - 1]!.at, p.override);
    });
    return this.get(p.name);
  }

  private find(name: string): RegisteredModel | undefined {
    return this.deps.store.read().models.find((m) => m.name === name && m.tenantId === this.tenant);
  }
}

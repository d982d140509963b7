/**
 * The agent marketplace (`marketplace/*`): lists the catalog of every index source, shows exactly what an install
 * runs, installs after consent, and keeps installed agents registered as routable agents. Installed state lives in
 * the store's `agents` collection (`installed`), so it survives a restart (`start` registers them again).
 * Installs, updates and uninstalls run one at a time.
 */
import type { MarketplaceDetails, MarketplaceEntry, MarketplaceProblem } from '../../../protocol/marketplace';
import type { PlatformKey } from '../domain/agentDescriptor';
import { DomainError } from '../domain/errors';
import {
  buildCatalog,
  entryView,
  filterEntries,
  installedDescriptor,
  type Catalog,
  type CatalogEntry,
  type ListFilter,
} from '../domain/marketplace/catalog';
import { consentToken, installPlan, runnableDescriptor, type InstallPlan } from '../domain/marketplace/installPlan';
import { localTenantId } from '../domain/storeSchema';
import type { StoredAgent } from '../domain/storeEntities';
import type { Logger } from '../ports/logger';
import type { AgentInstallerPort, AgentRegistryPort, IndexSourcesPort } from '../ports/marketplace';
import type { StorePort } from '../ports/store';

export interface MarketplaceDeps {
  store: StorePort;
  /** The tenant installed-agent records carry (default `local`). */
  tenantId?: string;
  sources: IndexSourcesPort;
  installer: AgentInstallerPort;
  registry: AgentRegistryPort;
  platform: PlatformKey;
  /** The managed folder for installed agents. */
  installRoot: string;
  now: () => Date;
  logger: Logger;
}

export class MarketplaceService {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: MarketplaceDeps) {}

  private records(): StoredAgent[] {
    return this.d.store.read().agents.filter((a) => a.installed);
  }

  private record(id: string): StoredAgent | undefined {
    return this.records().find((a) => a.id === id);
  }

  /** Registers every installed agent of the store (at server start). A record that no longer validates is skipped and logged. */
  async start(): Promise<void> {
    for (const r of this.records()) {
      const d = installedDescriptor(r);
      if (!d) {
        this.d.logger.error(`marketplace: the installed agent ${r.id} has an invalid descriptor in the store; it is not registered`);
        continue;
      }
      if (this.d.registry.isConfigured(r.id)) {
        this.d.logger.warn(`marketplace: ${r.id} is also configured in agents.acpAgents; the configured agent is used`);
        continue;
      }
      await this.d.registry.register(d, { ...this.where(r), enabled: r.installed!.enabled });
    }
  }

  private where(r: StoredAgent): { commandPath?: string; installDir?: string } {
    const i = r.installed!;
    return {
      ...(i.commandPath ? { commandPath: i.commandPath } : {}),
      ...(i.kind === 'binary' && i.installDir ? { installDir: i.installDir } : {}),
    };
  }

  private async catalog(): Promise<Catalog> {
    return buildCatalog(await this.d.sources.read());
  }

  private view(catalog: Catalog, id: string): MarketplaceEntry | undefined {
    const entry = catalog.entries.get(id);
    const record = this.record(id);
    const descriptor = entry?.descriptor ?? (record && installedDescriptor(record));
    return descriptor ? entryView({ entry, record, descriptor }, this.d.platform) : undefined;
  }

  async list(filter: ListFilter): Promise<{ entries: MarketplaceEntry[]; problems: MarketplaceProblem[] }> {
    const catalog = await this.catalog();
    const ids = new Set([...catalog.entries.keys(), ...this.records().map((r) => r.id)]);
    const all = [...ids].map((id) => this.view(catalog, id)).filter((v): v is MarketplaceEntry => !!v);
    return { entries: filterEntries(all, filter), problems: catalog.problems };
  }

  private plan(entry: CatalogEntry): InstallPlan | { unavailable: string } {
    return installPlan(entry.descriptor, { platform: this.d.platform, installRoot: this.d.installRoot });
  }

  async get(id: string): Promise<MarketplaceDetails> {
    const catalog = await this.catalog();
    const view = this.view(catalog, id);
    if (!view) throw new DomainError('not_found', `marketplace: no entry "${id}" in any index`, { id });
    const entry = catalog.entries.get(id);
    const plan = entry ? this.plan(entry) : undefined;
    const r = this.record(id)?.installed;
    return {
      ...view,
      ...(plan && !('unavailable' in plan) ? { plan: publicPlan(plan), consentToken: consentToken(plan) } : {}),
      ...(r ? { runs: this.runs(r, id) } : {}),
    };
  }

  private runs(i: NonNullable<StoredAgent['installed']>, id: string): { command: string; args: string[] } | undefined {
    const d = installedDescriptor({ id, tenantId: this.d.tenantId ?? localTenantId, installed: i });
    if (!d) return undefined;
    const p = installPlan(d, { platform: this.d.platform, installRoot: this.d.installRoot });
    if ('unavailable' in p) return undefined;
    return { command: i.commandPath ?? p.command, args: p.args };
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  install(p: { id: string; consent?: boolean; consentToken?: string }): Promise<MarketplaceDetails> {
    return this.serial(() => this.doInstall(p));
  }

  private async doInstall(p: { id: string; consent?: boolean; consentToken?: string }): Promise<MarketplaceDetails> {
    const catalog = await this.catalog();
    const entry = catalog.entries.get(p.id);
    if (!entry) throw new DomainError('not_found', `marketplace: no entry "${p.id}" in any index`, { id: p.id });
    if (this.d.registry.isConfigured(p.id))
      throw new DomainError('conflict', `marketplace: "${p.id}" is the id of a configured agent (agents.acpAgents or OpenCode)`, {
        id: p.id,
      });
    const plan = this.plan(entry);
    if ('unavailable' in plan) throw new DomainError('agent_unavailable', `${p.id}: ${plan.unavailable}`, { id: p.id });
    if (p.consent !== true)
      throw new DomainError(
        'bad_input',
        `marketplace/install ${p.id}: consent: must be true, given after the user saw what will run (marketplace/get); nothing was installed`,
        { fields: ['consent'] },
      );
    if (p.consentToken !== consentToken(plan))
      throw new DomainError(
        'bad_input',
        `marketplace/install ${p.id}: consentToken: does not match what will run now (not shown, or the entry changed); show marketplace/get again; nothing was installed`,
        { fields: ['consentToken'] },
      );
    const before = this.record(p.id);
    if (before?.installed && before.version === plan.version && before.installed.kind === plan.kind) return this.get(p.id);
    if (before && this.d.registry.running(p.id) > 0)
      throw new DomainError('conflict', `${p.id}: a task runs on it; update it when its tasks have finished`, { id: p.id });
    if (plan.kind === 'uvx' && !(await this.d.installer.hasUv()))
      throw new DomainError(
        'agent_unavailable',
        `${p.id}: uv is not installed, and this agent is distributed for uvx; install uv (https://docs.astral.sh/uv/) and try again; nothing was installed`,
        { id: p.id },
      );
    const { commandPath } = await this.d.installer.install(plan);
    const descriptor = runnableDescriptor(entry.descriptor, plan, this.d.platform);
    const installed = {
      descriptor: JSON.parse(JSON.stringify(descriptor)) as Record<string, unknown>,
      source: entry.source.label,
      kind: plan.kind,
      enabled: before?.installed?.enabled ?? true,
      installedAt: this.d.now().toISOString(),
      ...(plan.installDir ? { installDir: plan.installDir } : {}),
      ...(commandPath ? { commandPath } : {}),
    };
    const record: StoredAgent = {
      id: p.id,
      tenantId: this.d.tenantId ?? localTenantId,
      name: descriptor.name,
      version: plan.version,
      description: descriptor.description,
      installed,
    };
    try {
      await this.d.store.update((s) => {
        s.agents = [...s.agents.filter((a) => a.id !== p.id), record];
      });
    } catch (e) {
      // The store refused (read-only, write fault): the new folder goes, the old installation stays.
      if (plan.installDir && plan.installDir !== before?.installed?.installDir) await this.d.installer.remove(plan.installDir);
      throw e;
    }
    const oldDir = before?.installed?.installDir;
    if (oldDir && oldDir !== plan.installDir) await this.d.installer.remove(oldDir).catch(() => undefined);
    await this.d.registry.register(descriptor, { ...this.where(record), enabled: installed.enabled });
    this.d.logger.info(`marketplace: installed ${p.id} ${plan.version} (${plan.kind}) from ${entry.source.label}`);
    return this.get(p.id);
  }

  uninstall(id: string): Promise<{ id: string; removed: true }> {
    return this.serial(async () => {
      const r = this.record(id);
      if (!r) throw new DomainError('not_found', `marketplace: "${id}" is not installed`, { id });
      if (this.d.registry.running(id) > 0)
        throw new DomainError('conflict', `${id}: a task runs on it; uninstall it when its tasks have finished`, { id });
      await this.d.store.update((s) => {
        s.agents = s.agents.filter((a) => a.id !== id);
      });
      await this.d.registry.unregister(id);
      if (r.installed?.installDir) await this.d.installer.remove(r.installed.installDir);
      this.d.logger.info(`marketplace: uninstalled ${id}`);
      return { id, removed: true as const };
    });
  }

  setEnabled(id: string, enabled: boolean): Promise<MarketplaceEntry> {
    return this.serial(async () => {
      const r = this.record(id);
      if (!r?.installed) throw new DomainError('not_found', `marketplace: "${id}" is not installed`, { id });
      if (r.installed.enabled !== enabled)
        await this.d.store.update((s) => {
          const a = s.agents.find((x) => x.id === id);
          if (a?.installed) a.installed.enabled = enabled;
        });
      this.d.registry.setEnabled(id, enabled);
      return this.view(await this.catalog(), id)!;
    });
  }
}

function publicPlan(p: InstallPlan): MarketplaceDetails['plan'] {
  return {
    kind: p.kind,
    version: p.version,
    ...(p.installDir ? { installDir: p.installDir } : {}),
    steps: p.steps,
    command: p.command,
    args: p.args,
    env: p.env,
  };
}

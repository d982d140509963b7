/**
 * The marketplace catalog (issue 12): index sources merged into one list of entries, the problems of the bad
 * ones, and the views `marketplace/list` shows. Pure: the adapters read the sources, this decides.
 *
 * Sources, in order (a later one replaces an entry of the same id from an earlier one): the bundled registry
 * snapshot, user-added index files and URLs, local custom entries. `_meta.orchestrator.packageSource` (install an
 * npx package from a tarball or folder instead of the npm registry) is honoured only in a local index file; in
 * any other source it makes the entry a problem.
 */
import { z } from 'zod';
import type { DistributionKind, MarketplaceEntry, MarketplaceProblem, MarketplaceSourceKind } from '../../../../protocol/marketplace';
import {
  metaOf,
  parseAgentDescriptor,
  parseAgentIndex,
  routingProfileOf,
  type AgentDescriptor,
  type PlatformKey,
} from '../agentDescriptor';
import type { StoredAgent } from '../storeEntities';

export interface CatalogSource {
  kind: Exclude<MarketplaceSourceKind, 'installed'>;
  /** A path, a URL, `bundled snapshot`, `custom entries`. */
  label: string;
  /** The parsed JSON (an index `{ agents: [...] }` or an array); absent when reading it failed. */
  raw?: unknown;
  /** Why the source could not be read. */
  error?: string;
}

export interface CatalogEntry {
  descriptor: AgentDescriptor;
  source: { kind: Exclude<MarketplaceSourceKind, 'installed'>; label: string };
}

export interface Catalog {
  entries: Map<string, CatalogEntry>;
  problems: MarketplaceProblem[];
}

export function buildCatalog(sources: readonly CatalogSource[]): Catalog {
  const entries = new Map<string, CatalogEntry>();
  const problems: MarketplaceProblem[] = [];
  for (const s of sources) {
    if (s.error !== undefined || s.raw === undefined) {
      problems.push({ source: s.label, message: `${s.label}: ${s.error ?? 'could not be read'}`, fields: [] });
      continue;
    }
    let parsed: ReturnType<typeof parseAgentIndex>;
    try {
      parsed = parseAgentIndex(s.raw);
    } catch (e) {
      problems.push({ source: s.label, message: `${s.label}: ${(e as Error).message}`, fields: ['agents'] });
      continue;
    }
    for (const err of parsed.errors) problems.push({ source: s.label, ...err, message: `${s.label}: ${err.message}` });
    for (const descriptor of parsed.agents) {
      if (metaOf(descriptor).packageSource !== undefined && s.kind !== 'file') {
        problems.push({
          source: s.label,
          id: descriptor.id,
          message: `${s.label}: "${descriptor.id}": _meta.orchestrator.packageSource: only allowed in a local index file`,
          fields: ['_meta.orchestrator.packageSource'],
        });
        continue;
      }
      entries.set(descriptor.id, { descriptor, source: { kind: s.kind, label: s.label } });
    }
  }
  return { entries, problems };
}

/** A local custom entry from the settings (`agents.marketplace.custom`): a command with its arguments and fixed environment. */
export const customEntrySchema = z
  .object({
    id: z.string().min(1),
    name: z.string().min(1),
    description: z.string().min(1).optional(),
    version: z.string().optional(),
    command: z.string().min(1),
    args: z.array(z.string()).optional(),
    env: z.record(z.string(), z.string()).optional(),
    capabilities: z.array(z.string().min(1)).optional(),
  })
  .strict();
export type CustomEntry = z.infer<typeof customEntrySchema>;

/** The descriptor of a custom entry (validated like any other entry, so a bad field is named). */
export function customDescriptor(c: CustomEntry): unknown {
  return {
    id: c.id,
    name: c.name,
    version: c.version ?? '0.0.0',
    description: c.description ?? `Local agent: ${[c.command, ...(c.args ?? [])].join(' ')}`,
    _meta: {
      orchestrator: {
        command: { path: c.command, args: c.args ?? [] },
        ...(c.env ? { env: { set: c.env } } : {}),
        ...(c.capabilities ? { capabilities: c.capabilities } : {}),
      },
    },
  };
}

/** The distributions an entry offers. */
export function distributionsOf(d: AgentDescriptor): DistributionKind[] {
  const out: DistributionKind[] = [];
  if (metaOf(d).command) out.push('command');
  if (d.distribution?.binary) out.push('binary');
  if (d.distribution?.npx) out.push('npx');
  if (d.distribution?.uvx) out.push('uvx');
  return out;
}

/** The distribution an install uses on this platform (as `launchPlan`: command, binary, npx, uvx), or why none. */
export function chosenDistribution(d: AgentDescriptor, platform: PlatformKey): { kind: DistributionKind } | { unavailable: string } {
  if (metaOf(d).command) return { kind: 'command' };
  if (d.distribution?.binary?.[platform]) return { kind: 'binary' };
  if (d.distribution?.npx) return { kind: 'npx' };
  if (d.distribution?.uvx) return { kind: 'uvx' };
  const offered = Object.keys(d.distribution?.binary ?? {}).join(', ');
  return { unavailable: `no distribution runs on ${platform} (binaries for ${offered || 'no platform'})` };
}

/** Compares two versions by their numeric `major.minor.patch` (pre-release tags ignored). */
export function compareVersions(a: string, b: string): number {
  const num = (v: string) => (/^(\d+)\.(\d+)\.(\d+)/.exec(v) ?? []).slice(1, 4).map(Number);
  const [x, y] = [num(a), num(b)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/** The descriptor an installed record keeps, or undefined when it no longer validates. */
export function installedDescriptor(r: StoredAgent): AgentDescriptor | undefined {
  if (!r.installed) return undefined;
  try {
    return parseAgentDescriptor(r.installed.descriptor);
  } catch {
    return undefined;
  }
}

export function entryView(
  o: { entry?: CatalogEntry; record?: StoredAgent; descriptor: AgentDescriptor },
  platform: PlatformKey,
): MarketplaceEntry {
  const d = o.descriptor;
  const inst = o.record?.installed;
  const chosen = chosenDistribution(d, platform);
  return {
    id: d.id,
    name: d.name,
    version: d.version,
    description: d.description,
    ...(d.license ? { license: d.license } : {}),
    ...(d.authors ? { authors: [...d.authors] } : {}),
    ...(d.repository ? { repository: d.repository } : {}),
    ...(d.website ? { website: d.website } : {}),
    source: o.entry ? { ...o.entry.source } : { kind: 'installed', label: inst?.source ?? 'store' },
    distributions: distributionsOf(d),
    capabilities: routingProfileOf(d).capabilities,
    ...(inst
      ? {
          installed: {
            version: o.record?.version ?? d.version,
            kind: inst.kind,
            enabled: inst.enabled,
            installedAt: inst.installedAt,
            ...(inst.installDir ? { installDir: inst.installDir } : {}),
          },
        }
      : {}),
    updateAvailable: !!inst && !!o.entry && compareVersions(o.entry.descriptor.version, o.record?.version ?? d.version) > 0,
    ...('unavailable' in chosen ? { unavailable: chosen.unavailable } : {}),
  };
}

export interface ListFilter {
  search?: string;
  installed?: boolean;
  capability?: string;
  distribution?: DistributionKind;
}

/** Filters (AND) and orders: installed first, then by name. */
export function filterEntries(list: readonly MarketplaceEntry[], f: ListFilter): MarketplaceEntry[] {
  const q = f.search?.trim().toLowerCase();
  return list
    .filter((e) => !q || [e.id, e.name, e.description].some((t) => t.toLowerCase().includes(q)))
    .filter((e) => f.installed === undefined || !!e.installed === f.installed)
    .filter((e) => !f.capability || e.capabilities.includes(f.capability) || e.capabilities.includes('*'))
    .filter((e) => !f.distribution || e.distributions.includes(f.distribution))
    .sort((a, b) => Number(!!b.installed) - Number(!!a.installed) || a.name.localeCompare(b.name));
}

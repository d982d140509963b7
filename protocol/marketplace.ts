/**
 * `marketplace/*`: the agent marketplace. Entries come from index sources (the bundled snapshot of the ACP
 * registry, user-added index files or URLs, local custom entries from the settings), each validated against the
 * registry's entry format; an invalid entry is reported as a problem naming its id and field and the rest of its
 * index stays usable. Installing an entry makes it an ACP agent exactly like one from `agents.acpAgents`: it
 * appears in `agent/list` and routing chooses it when enabled. Installed state lives in the store.
 */
import { z } from 'zod';
import { defineRequest } from './messages';

/** How an entry is run: the registry's distributions plus a local command. */
export const distributionKinds = ['npx', 'uvx', 'binary', 'command'] as const;
export type DistributionKind = (typeof distributionKinds)[number];

/** Where an entry came from. `installed`: only the store still knows it (its index no longer lists it). */
export type MarketplaceSourceKind = 'bundled' | 'file' | 'url' | 'custom' | 'installed';

export interface MarketplaceInstalled {
  version: string;
  kind: DistributionKind;
  /** Enabled agents take tasks; a disabled one stays listed in `agent/list` with `disabled: true`. */
  enabled: boolean;
  installedAt: string;
  /** The managed folder the agent was installed into (npx, binary). */
  installDir?: string;
}

export interface MarketplaceEntry {
  id: string;
  name: string;
  /** The version the index offers. */
  version: string;
  description: string;
  license?: string;
  authors?: string[];
  repository?: string;
  website?: string;
  source: { kind: MarketplaceSourceKind; label: string };
  /** Every distribution the entry offers (`command` for a local custom entry). */
  distributions: DistributionKind[];
  /** Routing capabilities from `_meta.orchestrator` (`*` = generalist). */
  capabilities: string[];
  installed?: MarketplaceInstalled;
  /** Installed, and the index offers a newer version (install again to update). */
  updateAvailable: boolean;
  /** Why it cannot be installed here (e.g. no binary for this platform); absent when it can. */
  unavailable?: string;
}

/** Exactly what an install does and then runs. Environment values are never shown, only names. */
export interface MarketplacePlan {
  kind: DistributionKind;
  version: string;
  /** The managed folder (npx, binary). */
  installDir?: string;
  /** What the install does, one human line each (the npm command line, the download with its sha256). */
  steps: string[];
  /** The program and its arguments. For npx the program is the package's `bin` inside the managed folder. */
  command: string;
  args: string[];
  env: {
    /** Fixed by the descriptor or set to the agent's isolated home. */
    set: string[];
    /** Copied from the server's environment when present (PATH, locale, temp and the descriptor's `pass`). */
    passed: string[];
    /** Copied from the server's environment; the agent does not start without them. */
    required: string[];
  };
}

export interface MarketplaceDetails extends MarketplaceEntry {
  /** What installing (or updating) would do. Absent when `unavailable`. */
  plan?: MarketplacePlan;
  /** Echo this to `marketplace/install` as `consentToken`: it proves the user saw this very plan. */
  consentToken?: string;
  /** After install: the resolved command line that runs. */
  runs?: { command: string; args: string[] };
}

/** A source or one of its entries that could not be used. The rest stays usable. */
export interface MarketplaceProblem {
  /** The index (`bundled snapshot`, a file path, a URL, `custom entries`). */
  source: string;
  /** Position in the index's `agents` array, when an entry is at fault. */
  index?: number;
  id?: string;
  /** Names the entry and every bad field. */
  message: string;
  fields: string[];
}

const entryId = z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be an agent id (lowercase letters, digits and hyphens)');

/**
 * `marketplace/list` (client → server): entries of every source, installed ones first. `search` matches id, name
 * and description (case-insensitive); `capability` matches entries offering it, generalists (`*`) included;
 * filters combine with AND. `problems`: sources and entries that were refused.
 */
export const marketplaceList = defineRequest<{ entries: MarketplaceEntry[]; problems: MarketplaceProblem[] }>()(
  'marketplace/list',
  'clientToServer',
  z
    .object({
      search: z.string().max(200).optional(),
      installed: z.boolean().optional(),
      capability: z.string().min(1).optional(),
      distribution: z.enum(distributionKinds).optional(),
    })
    .strict(),
);

/** `marketplace/get` (client → server): one entry with its plan and consent token. Errors: notFound. */
export const marketplaceGet = defineRequest<MarketplaceDetails>()('marketplace/get', 'clientToServer', z.object({ id: entryId }).strict());

/**
 * `marketplace/install` (client → server): installs (or updates to the index's version) after consent. Refused
 * with InvalidParams unless `consent` is true and `consentToken` is the one `marketplace/get` returned for the
 * current plan. Errors: notFound; conflict (the id is taken by a configured agent, or a task runs on it);
 * agentUnavailable (uv missing, no binary for this platform, npm or the download failed, sha256 mismatch: the
 * download is removed); timeout. Nothing is installed when it fails.
 */
export const marketplaceInstall = defineRequest<MarketplaceDetails>()(
  'marketplace/install',
  'clientToServer',
  z.object({ id: entryId, consent: z.boolean().optional(), consentToken: z.string().max(200).optional() }).strict(),
);

/** `marketplace/uninstall` (client → server): removes the agent and its managed folder. Errors: notFound, conflict (a task runs on it). */
export const marketplaceUninstall = defineRequest<{ id: string; removed: true }>()(
  'marketplace/uninstall',
  'clientToServer',
  z.object({ id: entryId }).strict(),
);

/** `marketplace/setEnabled` (client → server): enables or disables an installed agent for routing. Errors: notFound. */
export const marketplaceSetEnabled = defineRequest<MarketplaceEntry>()(
  'marketplace/setEnabled',
  'clientToServer',
  z.object({ id: entryId, enabled: z.boolean() }).strict(),
);

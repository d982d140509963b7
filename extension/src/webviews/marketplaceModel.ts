/**
 * What the marketplace host shows and asks, without `vscode` (unit-tested): filtering the entries by the
 * webview's query, the capabilities offered, the complete `marketplace/view` snapshot, and the text of the
 * consent dialog, which names exactly what will be installed, what will run and with which environment.
 */
import type { MarketplaceDetails, MarketplaceEntry, MarketplaceProblem } from '../../../protocol/marketplace';
import { commandLine, envLines } from '../../../protocol/webview/commandLine';
import type {
  MarketplaceAction,
  MarketplaceQuery,
  MarketplaceSelected,
  MarketplaceViewMessage,
} from '../../../protocol/webview/marketplace';

/** Entries matching every filter of the query: search in id, name and description (case-insensitive). */
export function filterEntries(entries: readonly MarketplaceEntry[], q: MarketplaceQuery): MarketplaceEntry[] {
  const words = q.search.toLowerCase().split(/\s+/).filter(Boolean);
  return entries.filter((e) => {
    if (q.installed && !e.installed) return false;
    if (q.capability && !e.capabilities.includes(q.capability) && !e.capabilities.includes('*')) return false;
    if (q.distribution && !e.distributions.includes(q.distribution)) return false;
    const text = `${e.id} ${e.name} ${e.description}`.toLowerCase();
    return words.every((w) => text.includes(w));
  });
}

/** Installed entries first, then by name. */
export function sortEntries(entries: readonly MarketplaceEntry[]): MarketplaceEntry[] {
  return [...entries].sort((a, b) => Number(Boolean(b.installed)) - Number(Boolean(a.installed)) || a.name.localeCompare(b.name));
}

/** Every capability some entry offers, sorted (`*`, the generalist mark, is not a filter of its own). */
export function capabilitiesOf(entries: readonly MarketplaceEntry[]): string[] {
  return [...new Set(entries.flatMap((e) => e.capabilities))].filter((c) => c !== '*').sort();
}

/** The details with what runs rendered once: the installed command line when installed, else the plan's. */
export function selectedView(d: MarketplaceDetails): MarketplaceSelected {
  const run = d.installed && d.runs ? d.runs : d.plan ? { command: d.plan.command, args: d.plan.args } : undefined;
  return { details: d, runs: run ? commandLine(run.command, run.args) : undefined, env: d.plan ? envLines(d.plan.env) : [] };
}

export interface MarketplaceState {
  query: MarketplaceQuery;
  entries: readonly MarketplaceEntry[];
  problems: readonly MarketplaceProblem[];
  selected: MarketplaceDetails | undefined;
  busy: ReadonlyMap<string, MarketplaceAction>;
  errors: ReadonlyMap<string, string>;
  listError?: string;
  loading: boolean;
}

/** `readOnly`: the user may not change agents (not an admin on a team server). */
export function viewSnapshot(s: MarketplaceState, seq: number, readOnly = false): MarketplaceViewMessage {
  return {
    type: 'marketplace/view',
    seq,
    query: s.query,
    entries: sortEntries(filterEntries(s.entries, s.query)),
    total: s.entries.length,
    capabilities: capabilitiesOf(s.entries),
    problems: [...s.problems],
    selected: s.selected ? selectedView(s.selected) : null,
    busy: Object.fromEntries(s.busy),
    errors: Object.fromEntries(s.errors),
    ...(s.listError ? { listError: s.listError } : {}),
    loading: s.loading,
    ...(readOnly ? { readOnly: true } : {}),
  };
}

/** Whether a role may change agents from the marketplace: the bundled server's user, or a team server's admin. */
export function mayManageAgents(role: string): boolean {
  return role === 'local' || role === 'admin';
}

/** The modal consent dialog: its message and its detail (every line of what will happen). */
export interface ConsentText {
  message: string;
  detail: string;
}

/** Localised labels for the consent text (the host passes `vscode.l10n.t` results; tests pass English). */
export interface ConsentLabels {
  title: (name: string, version: string) => string;
  install: string;
  runs: string;
  environment: string;
  noEnvironment: string;
  folder: string;
}

export const englishConsentLabels: ConsentLabels = {
  title: (name, version) => `Install ${name} ${version}? It will run on this machine as an agent.`,
  install: 'The install does:',
  runs: 'Then it runs:',
  environment: 'With the environment (names only; values are not shown):',
  noEnvironment: 'With no environment variables of yours.',
  folder: 'Into:',
};

/** Undefined when the entry has no plan (it cannot be installed here). */
export function consentText(d: MarketplaceDetails, labels: ConsentLabels = englishConsentLabels): ConsentText | undefined {
  const p = d.plan;
  if (!p) return undefined;
  const env = envLines(p.env);
  const lines = [
    ...(p.steps.length ? [labels.install, ...p.steps.map((s) => `  • ${s}`), ''] : []),
    ...(p.installDir ? [`${labels.folder} ${p.installDir}`, ''] : []),
    labels.runs,
    `  ${commandLine(p.command, p.args)}`,
    '',
    ...(env.length ? [labels.environment, ...env.map((l) => `  ${l}`)] : [labels.noEnvironment]),
  ];
  return { message: labels.title(d.name, p.version), detail: lines.join('\n') };
}

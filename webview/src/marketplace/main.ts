/**
 * Marketplace entry: ready handshake, the filter toolbar (built once, so typing is never interrupted), and
 * every `marketplace/view` snapshot drawn (newest seq only). Clicks and Enter on an entry select it; the
 * buttons ask the host for an action (the host asks for consent itself). Persists only the query.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import * as l10n from '@vscode/l10n';
import { distributionKinds } from '../../../protocol/marketplace';
import {
  emptyQuery,
  marketplaceActions,
  type HostToMarketplace,
  type MarketplaceAction,
  type MarketplaceQuery,
  type MarketplaceToHost,
  type MarketplaceViewMessage,
} from '../../../protocol/webview/marketplace';
import { createHostMessenger } from '../shared/hostMessenger';
import { configureL10n } from '../shared/l10n';
import { marketplaceCss } from './marketplaceCss';
import { escapeHtml as e, renderDetails, renderList, renderProblems } from './render';

interface State {
  query?: MarketplaceQuery;
  selected?: string;
}
const host = createHostMessenger<MarketplaceToHost, HostToMarketplace, State>();
const app = document.getElementById('app') as HTMLElement;
configureL10n(app);
let ui: State = host.getState() ?? {};
let query: MarketplaceQuery = { ...emptyQuery, ...ui.query };
let view: MarketplaceViewMessage | undefined;

const style = document.createElement('style');
style.textContent = marketplaceCss;
document.head.appendChild(style);
const option = (value: string, label: string) => `<vscode-option value="${e(value)}">${e(label)}</vscode-option>`;
app.innerHTML = `
<div class="toolbar" role="search">
  <vscode-textfield id="search" placeholder="${e(l10n.t('Search agents by name or description'))}" aria-label="${e(l10n.t('Search agents'))}"></vscode-textfield>
  <label>${e(l10n.t('Capability'))}<vscode-single-select id="capability" aria-label="${e(l10n.t('Capability'))}">${option('', l10n.t('Any'))}</vscode-single-select></label>
  <label>${e(l10n.t('Distribution'))}<vscode-single-select id="distribution" aria-label="${e(l10n.t('Distribution'))}">${option('', l10n.t('Any'))}${distributionKinds
    .map((k) => option(k, k))
    .join('')}</vscode-single-select></label>
  <vscode-checkbox id="installed" label="${e(l10n.t('Installed only'))}"></vscode-checkbox>
  <span id="count" class="count" aria-live="polite"></span>
</div>
<div class="layout">
  <nav id="list" aria-label="${e(l10n.t('Agents'))}"></nav>
  <section id="details" aria-live="polite"></section>
</div>
<div id="problems"></div>`;

const search = document.getElementById('search') as HTMLElement & { value: string };
const capability = document.getElementById('capability') as HTMLElement & { value: string };
const distribution = document.getElementById('distribution') as HTMLElement & { value: string };
const installed = document.getElementById('installed') as HTMLElement & { checked: boolean };
search.value = query.search;
distribution.value = query.distribution;
installed.checked = query.installed;
let shownCaps = '';

function sendQuery(): void {
  const d = distribution.value;
  query = {
    search: search.value.slice(0, 200),
    capability: capability.value,
    distribution: (distributionKinds as readonly string[]).includes(d) ? (d as MarketplaceQuery['distribution']) : '',
    installed: installed.checked,
  };
  ui = { ...ui, query };
  host.setState(ui);
  host.post({ type: 'marketplace/query', query });
}
let typing: ReturnType<typeof setTimeout> | undefined;
search.addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(sendQuery, 150);
});
for (const el of [capability, distribution, installed]) el.addEventListener('change', sendQuery);

const shown = new Map<string, string>();
function patch(id: string, html: string): void {
  if (shown.get(id) === html) return;
  shown.set(id, html);
  const el = document.getElementById(id)!;
  const focusedId = el.contains(document.activeElement) ? (document.activeElement as HTMLElement).dataset.id : undefined;
  el.innerHTML = html;
  if (focusedId) el.querySelector<HTMLElement>(`li[data-id="${CSS.escape(focusedId)}"]`)?.focus();
}

function render(v: MarketplaceViewMessage): void {
  const caps = v.capabilities.join('\n');
  if (caps !== shownCaps) {
    shownCaps = caps;
    const want = query.capability;
    capability.innerHTML = option('', l10n.t('Any')) + v.capabilities.map((c) => option(c, c)).join('');
    capability.value = v.capabilities.includes(want) ? want : '';
  }
  patch('count', v.loading ? '' : e(l10n.t('{0} of {1} agents', v.entries.length, v.total)));
  patch('list', renderList(v));
  patch('details', renderDetails(v));
  patch('problems', renderProblems(v.problems));
  host.post({ type: 'marketplace/didRender', seq: v.seq, entries: v.entries.map((x) => x.id) });
}

function select(id: string): void {
  ui = { ...ui, selected: id };
  host.setState(ui);
  host.post({ type: 'marketplace/select', id });
}

document.getElementById('list')!.addEventListener('click', (ev) => {
  const li = (ev.target as HTMLElement).closest<HTMLElement>('li[data-id]');
  if (li?.dataset.id) select(li.dataset.id);
});
document.getElementById('list')!.addEventListener('keydown', (ev) => {
  const li = (ev.target as HTMLElement).closest<HTMLElement>('li[data-id]');
  if (!li) return;
  if (ev.key === 'Enter' || ev.key === ' ') {
    ev.preventDefault();
    if (li.dataset.id) select(li.dataset.id);
  } else if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
    ev.preventDefault();
    ((ev.key === 'ArrowDown' ? li.nextElementSibling : li.previousElementSibling) as HTMLElement | null)?.focus();
  }
});
document.getElementById('details')!.addEventListener('click', (ev) => {
  const b = (ev.target as HTMLElement).closest<HTMLElement>('vscode-button[data-action]');
  const action = b?.dataset.action as MarketplaceAction | undefined;
  if (!b || !action || !b.dataset.id || b.hasAttribute('disabled') || !marketplaceActions.includes(action)) return;
  host.post({ type: 'marketplace/action', action, id: b.dataset.id });
});

host.onMessage((m) => {
  if (m?.type !== 'marketplace/view' || (view && m.seq <= view.seq)) return;
  view = m;
  render(m);
});
host.post({ type: 'webview/ready', surface: 'marketplace' });
host.post({ type: 'marketplace/query', query });
if (ui.selected) host.post({ type: 'marketplace/select', id: ui.selected });

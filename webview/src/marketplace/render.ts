/**
 * The marketplace's views as pure HTML strings (testable without a browser): the entry list with each entry's
 * state, progress and error in place, the selected entry's details with exactly what will run, and the
 * index problems. Everything from the host is escaped.
 */
import * as l10n from '@vscode/l10n';
import type { MarketplaceEntry, MarketplaceProblem } from '../../../protocol/marketplace';
import type { MarketplaceAction, MarketplaceSelected, MarketplaceViewMessage } from '../../../protocol/webview/marketplace';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
const e = escapeHtml;

/** Capabilities in words: `*` (a generalist) reads "any task". */
export const capabilityText = (caps: readonly string[]): string => caps.map((c) => (c === '*' ? l10n.t('any task') : c)).join(', ');

const busyText = (a: MarketplaceAction): string =>
  ({
    install: l10n.t('Installing…'),
    uninstall: l10n.t('Uninstalling…'),
    enable: l10n.t('Enabling…'),
    disable: l10n.t('Disabling…'),
  })[a];

/** The short state words of an entry: installed (version), disabled, update available, unavailable. */
export function stateBadges(x: MarketplaceEntry): string {
  const b: string[] = [];
  if (x.installed) {
    b.push(`<span class="tag installed">${e(l10n.t('Installed {0}', x.installed.version))}</span>`);
    if (!x.installed.enabled) b.push(`<span class="tag disabled">${e(l10n.t('Disabled'))}</span>`);
  }
  if (x.updateAvailable) b.push(`<span class="tag update">${e(l10n.t('Update to {0}', x.version))}</span>`);
  if (x.unavailable) b.push(`<span class="tag unavailable" title="${e(x.unavailable)}">${e(l10n.t('Not for this machine'))}</span>`);
  return b.join('');
}

function progress(action: MarketplaceAction | undefined): string {
  return action ? `<span class="busy" role="status"><vscode-progress-ring></vscode-progress-ring>${e(busyText(action))}</span>` : '';
}

export function renderList(v: MarketplaceViewMessage): string {
  if (v.loading) return `<p class="empty">${e(l10n.t('Loading the agent index…'))}</p>`;
  if (v.listError) return `<p class="error" role="alert">${e(l10n.t('Could not read the marketplace: {0}', v.listError))}</p>`;
  if (!v.entries.length)
    return `<p class="empty">${e(v.total ? l10n.t('No agent matches these filters.') : l10n.t('The index lists no agents.'))}</p>`;
  const selected = v.selected?.details.id;
  const items = v.entries.map((x) => {
    const sel = x.id === selected;
    const err = v.errors[x.id];
    return `<li role="option" tabindex="0" data-id="${e(x.id)}" aria-selected="${sel}" class="${sel ? 'selected' : ''}">
<div class="row1"><span class="name">${e(x.name)}</span><span class="version">${e(x.version)}</span>${stateBadges(x)}</div>
<div class="desc">${e(x.description)}</div>
<div class="meta">${e(x.distributions.join(' · '))}${x.capabilities.length ? ` — ${e(capabilityText(x.capabilities))}` : ''}</div>
${progress(v.busy[x.id])}${err ? `<div class="error" role="alert">${e(err.split('\n')[0])}</div>` : ''}</li>`;
  });
  return `<ul class="entries" role="listbox" aria-label="${e(l10n.t('Agents'))}">${items.join('')}</ul>`;
}

const button = (action: MarketplaceAction, id: string, label: string, secondary: boolean, disabled: boolean) =>
  `<vscode-button data-action="${action}" data-id="${e(id)}"${secondary ? ' secondary' : ''}${disabled ? ' disabled' : ''}>${e(label)}</vscode-button>`;

/** The buttons an entry offers in its state. */
export function actionButtons(d: MarketplaceSelected['details'], busy: MarketplaceAction | undefined, readOnly = false): string {
  if (readOnly) return `<p class="muted">${e(l10n.t('Only an admin of this team server can install or change agents.'))}</p>`;
  const off = Boolean(busy);
  const b: string[] = [];
  if (!d.installed) {
    if (d.plan) b.push(button('install', d.id, l10n.t('Install'), false, off));
  } else {
    if (d.updateAvailable && d.plan) b.push(button('install', d.id, l10n.t('Update to {0}', d.version), false, off));
    b.push(
      d.installed.enabled ? button('disable', d.id, l10n.t('Disable'), true, off) : button('enable', d.id, l10n.t('Enable'), true, off),
    );
    b.push(button('uninstall', d.id, l10n.t('Uninstall'), true, off));
  }
  return b.length ? `<div class="actions">${b.join('')}</div>` : '';
}

const safeLink = (url: string) => (/^https?:\/\//i.test(url) ? `<a href="${e(url)}">${e(url)}</a>` : e(url));

export function renderDetails(v: MarketplaceViewMessage): string {
  const s = v.selected;
  if (!s) return `<p class="empty">${e(l10n.t('Choose an agent to see what it is and exactly what would run.'))}</p>`;
  const d = s.details;
  const err = v.errors[d.id];
  const rows: [string, string][] = [
    [
      l10n.t('Version'),
      e(d.installed && d.installed.version !== d.version ? l10n.t('{0} (installed {1})', d.version, d.installed.version) : d.version),
    ],
    [l10n.t('License'), e(d.license ?? l10n.t('not stated'))],
    [l10n.t('Authors'), e(d.authors?.length ? d.authors.join(', ') : l10n.t('not stated'))],
    ...(d.repository ? [[l10n.t('Repository'), safeLink(d.repository)] as [string, string]] : []),
    ...(d.website ? [[l10n.t('Website'), safeLink(d.website)] as [string, string]] : []),
    [l10n.t('Source'), e(`${d.source.kind}: ${d.source.label}`)],
    [l10n.t('Distribution'), e(d.plan ? d.plan.kind : d.distributions.join(', '))],
    [l10n.t('Capabilities'), e(d.capabilities.length ? capabilityText(d.capabilities) : l10n.t('none declared'))],
  ];
  const plan = d.plan;
  const runs = s.runs
    ? `<h3>${e(d.installed ? l10n.t('What runs') : l10n.t('What would run'))}</h3>
<pre class="cmd" aria-label="${e(l10n.t('Command line'))}">${e(s.runs)}</pre>
<h4>${e(l10n.t('Environment (names only)'))}</h4>${
        s.env.length
          ? `<ul class="env">${s.env.map((l) => `<li>${e(l)}</li>`).join('')}</ul>`
          : `<p class="muted">${e(l10n.t('None of yours.'))}</p>`
      }${
        plan && !d.installed && plan.steps.length
          ? `<h4>${e(l10n.t('The install does'))}</h4><ul class="steps">${plan.steps.map((x) => `<li>${e(x)}</li>`).join('')}</ul>`
          : ''
      }${plan?.installDir ? `<p class="muted">${e(l10n.t('Installed into {0}', plan.installDir))}</p>` : ''}`
    : '';
  return `<header><h2>${e(d.name)}</h2><span class="id">${e(d.id)}</span>${stateBadges(d)}</header>
<p class="description">${e(d.description)}</p>
${d.unavailable ? `<p class="warning">${e(d.unavailable)}</p>` : ''}
${actionButtons(d, v.busy[d.id], v.readOnly === true)}${progress(v.busy[d.id])}
${err ? `<p class="error" role="alert">${e(err)}</p>` : ''}
<table class="facts">${rows.map(([k, val]) => `<tr><th>${e(k)}</th><td>${val}</td></tr>`).join('')}</table>
${runs}`;
}

export function renderProblems(problems: readonly MarketplaceProblem[]): string {
  if (!problems.length) return '';
  return `<details class="problems"><summary>${e(l10n.t('{0} index problem(s): these entries were skipped', problems.length))}</summary><ul>${problems
    .map((p) => `<li><code>${e(p.source)}</code>${p.id ? ` <b>${e(p.id)}</b>` : ''}: ${e(p.message)}</li>`)
    .join('')}</ul></details>`;
}

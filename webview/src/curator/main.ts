/**
 * Dataset curator entry: ready handshake, the filter toolbar and the export and fine-tune forms (built once,
 * so typing is never interrupted), and every `curator/view` snapshot drawn (newest seq only). A click or
 * Enter on a row selects it; Exclude / Include, Edit / Save edit / Undo edit, Export and Create fine-tune
 * job ask the host. Persists only the query and the selected run.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import * as l10n from '@vscode/l10n';
import { datasetFormats, type DatasetFormat } from '../../../protocol/dataset';
import {
  emptyCuratorQuery,
  type CuratorQuery,
  type CuratorToHost,
  type CuratorViewMessage,
  type HostToCurator,
} from '../../../protocol/webview/curator';
import { createHostMessenger } from '../shared/hostMessenger';
import { configureL10n } from '../shared/l10n';
import { curatorCss } from './curatorCss';
import {
  escapeHtml as e,
  renderDetail,
  renderExported,
  renderJob,
  renderReadOnlyNote,
  renderRows,
  renderStats,
  type Editing,
} from './render';

interface State {
  query?: CuratorQuery;
  selected?: string;
}
type Field = HTMLElement & { value: string };
const host = createHostMessenger<CuratorToHost, HostToCurator, State>();
const app = document.getElementById('app') as HTMLElement;
configureL10n(app);
let ui: State = host.getState() ?? {};
let query: CuratorQuery = { ...emptyCuratorQuery, ...ui.query };
let view: CuratorViewMessage | undefined;
let editing: Editing | undefined;

const style = document.createElement('style');
style.textContent = curatorCss;
document.head.appendChild(style);
const option = (value: string, label: string) => `<vscode-option value="${e(value)}">${e(label)}</vscode-option>`;
const formatLabel: Record<DatasetFormat, string> = {
  openai: l10n.t('OpenAI chat JSONL'),
  sharegpt: l10n.t('ShareGPT / axolotl'),
  mlx: l10n.t('mlx-lm'),
};
app.innerHTML = `
<div class="toolbar" role="search">
  <label>${e(l10n.t('Outcome'))}<vscode-single-select id="outcome" aria-label="${e(l10n.t('Outcome'))}">${option('succeeded', l10n.t('Succeeded'))}${option(
    'failed',
    l10n.t('Failed'),
  )}${option('cancelled', l10n.t('Cancelled'))}${option('any', l10n.t('Any'))}</vscode-single-select></label>
  <label>${e(l10n.t('Agent'))}<vscode-single-select id="agent" aria-label="${e(l10n.t('Agent'))}">${option('', l10n.t('Any'))}</vscode-single-select></label>
  <label>${e(l10n.t('Model'))}<vscode-single-select id="model" aria-label="${e(l10n.t('Model'))}">${option('', l10n.t('Any'))}</vscode-single-select></label>
  <label>${e(l10n.t('From'))}<vscode-textfield id="since" type="date" aria-label="${e(l10n.t('From day'))}"></vscode-textfield></label>
  <label>${e(l10n.t('To'))}<vscode-textfield id="until" type="date" aria-label="${e(l10n.t('To day'))}"></vscode-textfield></label>
  <span id="busy" class="busy" aria-live="polite"></span>
  <span id="count" class="count" aria-live="polite"></span>
</div>
<div id="error"></div>
<div class="layout">
  <nav id="rows" aria-label="${e(l10n.t('Candidate runs'))}"></nav>
  <section id="detail" aria-live="polite"></section>
  <aside>
    <h3>${e(l10n.t('Statistics'))}</h3><div id="stats"></div>
    <div id="readonly-note"></div>
    <h3>${e(l10n.t('Export'))}</h3>
    <form id="export-form" class="form">
      <label>${e(l10n.t('Dataset name'))}<vscode-textfield id="ds-name" value="curated" aria-label="${e(l10n.t('Dataset name'))}"></vscode-textfield></label>
      <div class="formats">${datasetFormats
        .map(
          (f) => `<vscode-checkbox data-format="${f}" label="${e(formatLabel[f])}"${f === 'openai' ? ' checked' : ''}></vscode-checkbox>`,
        )
        .join('')}</div>
      <vscode-button id="export">${e(l10n.t('Export'))}</vscode-button>
    </form>
    <div id="export-error"></div>
    <div id="exported"></div>
    <h3>${e(l10n.t('Fine-tune'))}</h3>
    <form id="ft-form" class="form">
      <label>${e(l10n.t('Model name'))}<vscode-textfield id="ft-model" value="curated-model"></vscode-textfield></label>
      <label>${e(l10n.t('Steps'))}<vscode-textfield id="ft-steps" type="number" value="20"></vscode-textfield></label>
      <label>${e(l10n.t('LoRA rank'))}<vscode-textfield id="ft-rank" type="number" value="8"></vscode-textfield></label>
      <label>${e(l10n.t('Learning rate'))}<vscode-textfield id="ft-lr" value="0.001"></vscode-textfield></label>
      <vscode-button id="finetune" secondary>${e(l10n.t('Create fine-tune job'))}</vscode-button>
    </form>
    <div id="ft-error"></div>
    <div id="job"></div>
  </aside>
</div>`;

const el = <T extends HTMLElement = Field>(id: string) => document.getElementById(id) as T;
const outcome = el('outcome');
const agent = el('agent');
const model = el('model');
const since = el('since');
const until = el('until');
outcome.value = query.outcome;
since.value = query.since;
until.value = query.until;
let shownChoices = '';

function sendQuery(): void {
  const o = outcome.value;
  const d = (x: string) => (/^\d{4}-\d{2}-\d{2}$/.test(x) ? x : '');
  query = {
    outcome: o === 'failed' || o === 'cancelled' || o === 'any' ? o : 'succeeded',
    agent: agent.value,
    model: model.value,
    since: d(since.value),
    until: d(until.value),
  };
  ui = { ...ui, query };
  host.setState(ui);
  host.post({ type: 'curator/query', query });
}
for (const x of [outcome, agent, model, since, until]) x.addEventListener('change', sendQuery);

const shown = new Map<string, string>();
function patch(id: string, html: string): void {
  if (shown.get(id) === html) return;
  shown.set(id, html);
  const target = el<HTMLElement>(id);
  const focusedId = target.contains(document.activeElement) ? (document.activeElement as HTMLElement).dataset.id : undefined;
  target.innerHTML = html;
  if (focusedId) target.querySelector<HTMLElement>(`li[data-id="${CSS.escape(focusedId)}"]`)?.focus();
}

function fillSelect(select: Field, values: readonly string[], want: string): void {
  select.innerHTML = option('', l10n.t('Any')) + values.map((x) => option(x, x)).join('');
  select.value = values.includes(want) ? want : '';
}

function render(v: CuratorViewMessage): void {
  const choices = `${v.agents.join('\n')}\u0000${v.models.join('\n')}`;
  if (choices !== shownChoices) {
    shownChoices = choices;
    fillSelect(agent, v.agents, query.agent);
    fillSelect(model, v.models, query.model);
  }
  if (editing && v.selected?.row.runId !== editing.runId) editing = undefined;
  const kept = v.rows.filter((r) => r.status === 'kept').length;
  patch('count', e(l10n.t('{0} of {1} runs kept', kept, v.rows.length)));
  patch(
    'busy',
    v.busy
      ? `<vscode-progress-ring></vscode-progress-ring>${e({ loading: l10n.t('Curating…'), exporting: l10n.t('Exporting…'), submitting: l10n.t('Submitting…') }[v.busy])}`
      : '',
  );
  const errorOf = (at: CuratorViewMessage['errorAt']) =>
    v.error && v.errorAt === at ? `<p class="error" role="alert">${e(v.error)}</p>` : '';
  patch('error', errorOf('list'));
  patch('export-error', errorOf('export'));
  patch('ft-error', errorOf('finetune'));
  // A viewer on a team server may not export or submit: the forms are not offered (the server refuses them too).
  el('export-form').hidden = v.readOnly === true;
  el('ft-form').hidden = v.readOnly === true;
  patch('readonly-note', renderReadOnlyNote(v));
  patch('rows', renderRows(v));
  patch('detail', renderDetail(v, editing));
  patch('stats', renderStats(v.stats, v.warnings));
  patch('exported', renderExported(v));
  patch('job', renderJob(v.job));
  for (const b of [el('export'), el('finetune')]) b.toggleAttribute('disabled', Boolean(v.busy && v.busy !== 'loading'));
  host.post({ type: 'curator/didRender', seq: v.seq, rows: v.rows.map((r) => r.runId) });
}

function select(runId: string): void {
  ui = { ...ui, selected: runId };
  host.setState(ui);
  editing = undefined;
  host.post({ type: 'curator/select', runId });
}

const rows = el<HTMLElement>('rows');
rows.addEventListener('click', (ev) => {
  const li = (ev.target as HTMLElement).closest<HTMLElement>('li[data-id]');
  if (li?.dataset.id) select(li.dataset.id);
});
rows.addEventListener('keydown', (ev) => {
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

el<HTMLElement>('detail').addEventListener('click', (ev) => {
  const b = (ev.target as HTMLElement).closest<HTMLElement>('vscode-button');
  const runId = view?.selected?.row.runId;
  if (!b || !runId || b.hasAttribute('disabled')) return;
  if (b.dataset.exclude) host.post({ type: 'curator/exclude', runId, excluded: b.dataset.exclude === 'true' });
  const message = Number(b.dataset.message);
  const redraw = () => view && (shown.delete('detail'), patch('detail', renderDetail(view, editing)));
  if (b.dataset.edit === 'open') {
    editing = { runId, message };
    redraw();
    el<HTMLElement>('edit-text')?.focus();
  } else if (b.dataset.edit === 'cancel') {
    editing = undefined;
    redraw();
  } else if (b.dataset.edit === 'save') {
    const content = (el('edit-text').value ?? '').slice(0, 1_000_000);
    editing = undefined;
    host.post({ type: 'curator/edit', runId, message, content });
  } else if (b.dataset.edit === 'undo') host.post({ type: 'curator/edit', runId, message, content: null });
});

el<HTMLElement>('export').addEventListener('click', () => {
  const formats = [...document.querySelectorAll<HTMLElement & { checked: boolean }>('vscode-checkbox[data-format]')]
    .filter((c) => c.checked)
    .map((c) => c.dataset.format as DatasetFormat);
  host.post({ type: 'curator/export', name: el('ds-name').value.trim(), formats });
});
el<HTMLElement>('finetune').addEventListener('click', () => {
  host.post({
    type: 'curator/finetune',
    modelName: el('ft-model').value.trim(),
    steps: Number(el('ft-steps').value),
    rank: Number(el('ft-rank').value),
    learningRate: Number(el('ft-lr').value),
  });
});
for (const f of ['export-form', 'ft-form']) el<HTMLFormElement>(f).addEventListener('submit', (ev) => ev.preventDefault());

host.onMessage((m) => {
  if (m?.type !== 'curator/view' || (view && m.seq <= view.seq)) return;
  view = m;
  render(m);
});
host.post({ type: 'webview/ready', surface: 'curator' });
host.post({ type: 'curator/query', query });
if (ui.selected) host.post({ type: 'curator/select', runId: ui.selected });

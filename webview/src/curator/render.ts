/**
 * The curator's views as pure HTML strings (testable without a browser): the candidate list with each
 * run's fate, the selected example as a conversation with its tool calls and highlighted redactions, the
 * stats (counts, split sizes, redactions, token histogram), the exported files and the fine-tune job.
 * Everything from the host is escaped.
 */
import * as l10n from '@vscode/l10n';
import type { DatasetMessage, DatasetStats } from '../../../protocol/dataset';
import type { FineTuneJobView } from '../../../protocol/finetune';
import type { CuratorRow, CuratorViewMessage } from '../../../protocol/webview/curator';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
const e = escapeHtml;

/**
 * Escaped text with every redaction marked: the curation's `[REDACTED:<kind>]` placeholders and the plain
 * `[REDACTED]` the server already writes into transcripts.
 */
export function highlightRedactions(text: string): string {
  return e(text).replace(
    /\[REDACTED(?::([A-Za-z0-9_.@/-]+))?\]/g,
    (all, kind: string | undefined) =>
      `<mark class="redaction" title="${e(kind ? l10n.t('Redacted: {0}', kind) : l10n.t('Redacted in the transcript'))}">${all}</mark>`,
  );
}

/** Where the message editor is open (the webview's own state). */
export interface Editing {
  runId: string;
  message: number;
}

/** What a dropped row's stage says in words. */
export const stageText = (stage: string): string =>
  ({
    curator: l10n.t('excluded'),
    build: l10n.t('no example'),
    validate: l10n.t('invalid'),
    exact_dedup: l10n.t('duplicate'),
    near_dedup: l10n.t('near duplicate'),
    redact: l10n.t('redaction'),
    quality: l10n.t('too long'),
    split: l10n.t('split'),
  })[stage] ?? stage;

export function fateBadges(r: CuratorRow): string {
  const b: string[] = [];
  if (r.status === 'kept')
    b.push(`<span class="tag kept">${e(r.split === 'validation' ? l10n.t('kept · validation') : l10n.t('kept · train'))}</span>`);
  else b.push(`<span class="tag dropped" title="${e(r.reason ?? '')}">${e(l10n.t('dropped: {0}', stageText(r.stage ?? '')))}</span>`);
  if (r.edited.length) b.push(`<span class="tag edited">${e(l10n.t('edited'))}</span>`);
  if (r.redactions) b.push(`<span class="tag redacted">${e(l10n.t('{0} redacted', r.redactions))}</span>`);
  return b.join('');
}

const day = (iso?: string) => (iso ? iso.slice(0, 16).replace('T', ' ') : '');

export function renderRows(v: CuratorViewMessage): string {
  if (!v.rows.length)
    return `<p class="empty">${e(v.busy === 'loading' ? l10n.t('Reading the agent runs…') : l10n.t('No agent run matches these filters.'))}</p>`;
  const sel = v.selected?.row.runId;
  const items = v.rows.map((r) => {
    const s = r.runId === sel;
    return `<li role="option" tabindex="0" data-id="${e(r.runId)}" aria-selected="${s}" class="${[s ? 'selected' : '', r.status].join(' ')}">
<div class="row1"><span class="title">${highlightRedactions(r.title || r.runId)}</span></div>
<div class="row2">${fateBadges(r)}</div>
<div class="meta">${e([r.agent, r.model ?? '', r.outcome, day(r.createdAt), r.tokens !== undefined ? l10n.t('{0} tokens', r.tokens) : ''].filter(Boolean).join(' · '))}</div>
${r.status === 'dropped' && r.reason ? `<div class="why">${e(r.reason)}</div>` : ''}</li>`;
  });
  return `<ul class="rows" role="listbox" aria-label="${e(l10n.t('Candidate runs'))}">${items.join('')}</ul>`;
}

function toolCalls(m: DatasetMessage): string {
  if (!m.tool_calls?.length) return '';
  return m.tool_calls
    .map((c) => {
      let args = c.function.arguments;
      try {
        args = JSON.stringify(JSON.parse(args), null, 2);
      } catch {
        // Shown as it is.
      }
      return `<div class="toolcall"><div class="toolname">${e(l10n.t('calls {0}', c.function.name))} <span class="muted">${e(c.id)}</span></div><pre>${highlightRedactions(args)}</pre></div>`;
    })
    .join('');
}

const roleText = (m: DatasetMessage) =>
  ({ system: l10n.t('System'), user: l10n.t('User'), assistant: l10n.t('Assistant'), tool: l10n.t('Tool result') })[m.role];

export function renderMessage(m: DatasetMessage, i: number, runId: string, edited: boolean, editing: Editing | undefined): string {
  const open = editing?.runId === runId && editing.message === i;
  const body = open
    ? `<vscode-textarea id="edit-text" rows="6" resize="vertical" aria-label="${e(l10n.t('Message text'))}" value="${e(m.content ?? '')}"></vscode-textarea>
<div class="actions"><vscode-button data-edit="save" data-message="${i}">${e(l10n.t('Save edit'))}</vscode-button><vscode-button data-edit="cancel" secondary>${e(l10n.t('Cancel'))}</vscode-button></div>`
    : m.content
      ? `<div class="content">${highlightRedactions(m.content)}</div>`
      : '';
  const buttons = open
    ? ''
    : `<span class="msg-actions"><vscode-button data-edit="open" data-message="${i}" secondary title="${e(l10n.t('Edit this message'))}">${e(l10n.t('Edit'))}</vscode-button>${
        edited ? `<vscode-button data-edit="undo" data-message="${i}" secondary>${e(l10n.t('Undo edit'))}</vscode-button>` : ''
      }</span>`;
  return `<li class="msg ${m.role}${edited ? ' edited' : ''}" data-message="${i}"><div class="who">${e(roleText(m))}${
    m.role === 'tool' && m.tool_call_id ? ` <span class="muted">${e(m.tool_call_id)}</span>` : ''
  }${edited ? ` <span class="tag edited">${e(l10n.t('edited'))}</span>` : ''}${buttons}</div>${body}${toolCalls(m)}</li>`;
}

export function renderDetail(v: CuratorViewMessage, editing?: Editing): string {
  const s = v.selected;
  if (!s) return `<p class="empty">${e(l10n.t('Choose a run to see its example, why it is kept or dropped, and what was redacted.'))}</p>`;
  const r = s.row;
  const facts: [string, string][] = [
    [l10n.t('Run'), r.runId],
    [l10n.t('Session'), r.sessionId],
    [l10n.t('Agent'), r.agent],
    [l10n.t('Model'), r.model ?? l10n.t('not recorded')],
    [l10n.t('Outcome'), r.outcome],
    [l10n.t('Created'), day(r.createdAt)],
    [l10n.t('Tokens'), r.tokens !== undefined ? String(r.tokens) : '—'],
  ];
  const fate =
    r.status === 'kept'
      ? l10n.t('Kept in {0}.', r.split === 'validation' ? l10n.t('validation') : l10n.t('train'))
      : l10n.t('Dropped at {0}: {1}', r.stage ?? '?', r.reason ?? '');
  const toggle = r.excluded
    ? `<vscode-button data-exclude="false" data-id="${e(r.runId)}">${e(l10n.t('Include'))}</vscode-button>`
    : `<vscode-button data-exclude="true" data-id="${e(r.runId)}" secondary>${e(l10n.t('Exclude'))}</vscode-button>`;
  const redactions = s.redactions.length
    ? `<p class="redactions">${e(l10n.t('Redacted:'))} ${s.redactions.map((x) => `<code>${e(x.kind)}</code> <span class="muted">${e(x.field)}</span>`).join(', ')}</p>`
    : '';
  const convo = s.example
    ? `<h3>${e(l10n.t('Conversation'))}</h3>${redactions}<ol class="conversation">${s.example.messages
        .map((m, i) => renderMessage(m, i, r.runId, r.edited.includes(i), editing))
        .join('')}</ol>`
    : `<p class="muted">${e(r.excluded ? l10n.t('Include the run to see and edit its example.') : l10n.t('No example is shown for a dropped run.'))}</p>`;
  return `<header><h2>${highlightRedactions(r.title || r.runId)}</h2>${fateBadges(r)}</header>
<p class="fate ${r.status}">${e(fate)}</p>
<div class="actions">${toggle}</div>
<details class="reasons"><summary>${e(l10n.t('Why the filter took it'))}</summary><ul>${r.reasons.map((x) => `<li>${e(x)}</li>`).join('')}</ul></details>
<table class="facts">${facts.map(([k, val]) => `<tr><th>${e(k)}</th><td>${e(val)}</td></tr>`).join('')}</table>
${convo}`;
}

/** Buckets in numeric order, each bar as wide as its share of the largest. */
export function renderHistogram(h: Record<string, number>): string {
  const keys = Object.keys(h).sort((a, b) => Number(a) - Number(b));
  if (!keys.length) return `<p class="muted">${e(l10n.t('No kept examples.'))}</p>`;
  const max = Math.max(...keys.map((k) => h[k]!));
  return `<table class="histogram" aria-label="${e(l10n.t('Token histogram'))}">${keys
    .map(
      (k) =>
        `<tr><th>≤ ${e(k)}</th><td><span class="bar" style="width:${Math.max(4, Math.round((100 * h[k]!) / max))}%"></span></td><td class="n">${h[k]}</td></tr>`,
    )
    .join('')}</table>`;
}

export function renderStats(stats: DatasetStats | null, warnings: readonly string[]): string {
  if (!stats) return `<p class="muted">${e(l10n.t('No statistics yet.'))}</p>`;
  const dropped = Object.entries(stats.dropped)
    .map(([k, n]) => `<li>${e(stageText(k))} <span class="n">${n}</span></li>`)
    .join('');
  const redactions = Object.entries(stats.redactions)
    .map(([k, n]) => `<li><code>${e(k)}</code> <span class="n">${n}</span></li>`)
    .join('');
  return `<table class="facts counts">
<tr><th>${e(l10n.t('Candidates'))}</th><td class="n" data-stat="candidates">${stats.candidates}</td></tr>
<tr><th>${e(l10n.t('Kept'))}</th><td class="n" data-stat="kept">${stats.kept}</td></tr>
<tr><th>${e(l10n.t('Train'))}</th><td class="n" data-stat="train">${e(l10n.t('{0} examples, {1} tokens', stats.train.examples, stats.train.tokens))}</td></tr>
<tr><th>${e(l10n.t('Validation'))}</th><td class="n" data-stat="validation">${e(l10n.t('{0} examples, {1} tokens', stats.validation.examples, stats.validation.tokens))}</td></tr>
</table>
${dropped ? `<h4>${e(l10n.t('Dropped'))}</h4><ul class="plain">${dropped}</ul>` : ''}
${redactions ? `<h4>${e(l10n.t('Redactions'))}</h4><ul class="plain">${redactions}</ul>` : ''}
<h4>${e(l10n.t('Tokens per example'))}</h4>${renderHistogram(stats.tokenHistogram)}
${warnings.map((w) => `<p class="warning">${e(w)}</p>`).join('')}`;
}

export function renderExported(v: CuratorViewMessage): string {
  const x = v.exported;
  if (!x) return '';
  return `<div class="exported" role="status"><p>${e(l10n.t('Exported {0} ({1})', x.name, x.id.slice(0, 19)))}</p><ul class="files">${x.files
    .map((f) => `<li><span class="tag">${e(f.format)}</span> <code class="path">${e(f.path)}</code></li>`)
    .join('')}</ul></div>`;
}

export function renderJob(job: FineTuneJobView | null): string {
  if (!job) return '';
  const p = job.progress;
  const loss = p.loss !== undefined ? ` · ${l10n.t('loss {0}', p.loss.toFixed(3))}` : '';
  return `<div class="job" role="status"><p><span class="tag job-state ${e(job.state)}">${e(job.state)}</span> <code>${e(job.id)}</code></p>
<p class="muted">${e(`${job.modelName} ← ${job.dataset.name} · ${l10n.t('step {0} of {1}', p.step, p.totalSteps)}`)}${e(loss)}</p>
${job.modelVersion !== undefined ? `<p>${e(l10n.t('Registered {0} version {1}', job.modelName, job.modelVersion))}</p>` : ''}
${job.error ? `<p class="error">${e(`${job.error.reason}: ${job.error.message}`)}</p>` : ''}</div>`;
}

/** What a viewer reads where the export and fine-tune forms would be. */
export function renderReadOnlyNote(v: Pick<CuratorViewMessage, 'readOnly'>): string {
  return v.readOnly
    ? `<p class="muted">${e(l10n.t('Your key on this team server has the viewer role: exporting datasets and fine-tuning need a developer.'))}</p>`
    : '';
}

/**
 * Dashboard entry: ready handshake, renders every snapshot (server status; sessions, newest seq only),
 * fetches the selected task's transcript through the host, persists only UI state (details toggle,
 * selected session and task). Regions are replaced only when their HTML changed, and focus on a graph
 * node or list row survives a re-render, so keyboard users keep their place.
 */
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import type { AgentEvent } from '../../../protocol/agentEvent';
import type { RunView } from '../../../protocol/run';
import type {
  DashboardCommand,
  DashboardSessionsMessage,
  DashboardStatusMessage,
  DashboardToHost,
  HostToDashboard,
} from '../../../protocol/webview/dashboard';
import type { UiState } from '../../../protocol/webview/host';
import * as l10n from '@vscode/l10n';
import { createHostMessenger } from '../shared/hostMessenger';
import { configureL10n } from '../shared/l10n';
import { dashboardCss } from './dashboardCss';
import { escapeHtml, formatUptime, healthLabel, renderStatus } from './render';
import { renderDagSvg, renderTimelineSvg } from './sessionGraph';
import {
  mergeTranscript,
  renderSessionHead,
  renderTaskActions,
  renderSessionList,
  renderSpend,
  renderTaskDetail,
  renderTranscript,
  toGraphTasks,
} from './sessionView';

const host = createHostMessenger<DashboardToHost, HostToDashboard, UiState>();
const app = document.getElementById('app') as HTMLElement;
configureL10n(app);
let ui: UiState = host.getState() ?? {};
let status: DashboardStatusMessage | undefined;
let snap: DashboardSessionsMessage | undefined;
let transcript: { runId: string; events: AgentEvent[]; run?: RunView; error?: string; pendingSince?: number } | undefined;
let notice: { text: string; error: boolean } | undefined;

const escapeText = (s: string) => s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c] ?? c);

const style = document.createElement('style');
style.textContent = dashboardCss;
document.head.appendChild(style);
app.innerHTML = `
<div id="status"></div>
<div class="layout">
  <nav id="sessions" aria-label="${escapeHtml(l10n.t('Sessions'))}"></nav>
  <section id="session" aria-live="off">
    <header id="head"></header>
    <div id="notice" role="alert"></div>
    <div id="spend" class="spend"></div>
    <h3>${escapeText(l10n.t('Tasks'))}</h3><div id="graph" class="scroll"></div>
    <h3>${escapeText(l10n.t('Timeline'))}</h3><div id="timeline" class="scroll"></div>
    <div id="task"></div>
    <div id="task-actions"></div>
    <div id="transcript" class="transcript" aria-label="${escapeHtml(l10n.t('Transcript'))}"></div>
  </section>
</div>`;

const shown = new Map<string, string>();
/** Replace a region only when its HTML changed; give focus back to the same node or row. */
function patch(id: string, html: string): void {
  if (shown.get(id) === html) return;
  shown.set(id, html);
  const el = document.getElementById(id)!;
  const active = document.activeElement as HTMLElement | null;
  const key = el.contains(active) ? (active?.dataset.task ?? active?.dataset.session) : undefined;
  el.innerHTML = html;
  if (key) el.querySelector<HTMLElement>(`[data-task="${CSS.escape(key)}"],[data-session="${CSS.escape(key)}"]`)?.focus();
}

const saveUi = (next: UiState) => {
  ui = next;
  host.setState(ui);
};
const selectedTask = () => snap?.selected?.tasks.find((t) => t.id === ui.selectedTask) ?? snap?.selected?.tasks[0];

function renderStatusCard(): void {
  patch('status', renderStatus(status, Date.now(), ui.detailsOpen ?? false));
  const details = document.getElementById('details');
  if (details && !details.dataset.wired) {
    details.dataset.wired = '1';
    details.addEventListener('vsc-collapsible-toggle', (ev) =>
      saveUi({ ...ui, detailsOpen: Boolean((ev as CustomEvent<{ open: boolean }>).detail?.open) }),
    );
  }
}

function renderSession(): void {
  const s = snap?.selected ?? undefined;
  patch('sessions', snap ? renderSessionList(snap.sessions, s?.id) : `<p class="empty">${escapeText(l10n.t('Loading sessions…'))}</p>`);
  patch('notice', notice ? `<p class="${notice.error ? 'error' : 'muted'}">${notice.text}</p>` : '');
  if (!s) {
    for (const id of ['head', 'spend', 'graph', 'timeline', 'task', 'task-actions', 'transcript']) patch(id, '');
    return;
  }
  const now = Date.now();
  const tasks = toGraphTasks(s.tasks);
  const task = selectedTask();
  patch('head', renderSessionHead(s, snap?.readOnly === true));
  patch('spend', renderSpend(s, now));
  patch('graph', renderDagSvg(tasks, task?.id));
  const width = Math.max(320, (document.getElementById('timeline')?.clientWidth ?? 640) - 8);
  patch('timeline', renderTimelineSvg(tasks, now, width));
  const run = transcript && transcript.runId === task?.runId ? transcript : undefined;
  patch('task', task ? renderTaskDetail(task, run?.run, now) : '');
  patch('task-actions', task ? renderTaskActions(task, snap?.readOnly === true) : '');
  patch(
    'transcript',
    !task?.runId
      ? ''
      : `<h3>${escapeText(l10n.t('Transcript'))}</h3>${run?.error ? `<p class="error">${escapeText(run.error)}</p>` : ''}${run ? renderTranscript(run.events, run.run?.cwd) : `<p class="empty">${escapeText(l10n.t('Loading…'))}</p>`}`,
  );
}

/** Ask for the transcript's tail when the selected task has a run that is new or still running. */
function pollTranscript(force = false): void {
  const task = selectedTask();
  if (!task?.runId) return;
  const same = transcript?.runId === task.runId;
  if (same && transcript?.pendingSince && Date.now() - transcript.pendingSince < 10_000) return;
  if (same && !force && task.state !== 'running' && transcript?.run?.state !== 'running' && transcript?.run) return;
  if (!same) transcript = { runId: task.runId, events: [] };
  const afterSeq = same ? (transcript!.events.at(-1)?.seq ?? 0) : 0;
  transcript!.pendingSince = Date.now();
  host.post({ type: 'dashboard/transcript', runId: task.runId, afterSeq });
}

function selectTask(id: string): void {
  saveUi({ ...ui, selectedTask: id });
  renderSession();
  pollTranscript();
}

function selectSession(id: string): void {
  saveUi({ ...ui, selectedSession: id, selectedTask: undefined });
  notice = undefined;
  host.post({ type: 'dashboard/select', sessionId: id });
}

function command(name: string): void {
  if (name === 'restartServer' || name === 'showLogs') return host.post({ type: 'dashboard/command', command: name });
  const s = snap?.selected;
  const t = selectedTask();
  if (!s) return;
  let msg: DashboardCommand | undefined;
  if (name === 'retryTask' || name === 'cancelTask' || name === 'setTaskPriority')
    msg = t ? { type: 'dashboard/command', command: name, sessionId: s.id, taskId: t.id } : undefined;
  else if (['approveSession', 'cancelSession', 'retrySession', 'applySession'].includes(name))
    msg = { type: 'dashboard/command', command: name as 'approveSession', sessionId: s.id };
  if (!msg) return;
  notice = { text: l10n.t('Working…'), error: false };
  renderSession();
  host.post(msg);
}

function activate(target: HTMLElement): boolean {
  const el = target.closest<HTMLElement>('[data-task],[data-session],[data-command],#restart,#logs');
  if (!el) return false;
  if (el.id === 'restart') command('restartServer');
  else if (el.id === 'logs') command('showLogs');
  else if (el.dataset.command) command(el.dataset.command);
  else if (el.dataset.session) selectSession(el.dataset.session);
  else if (el.dataset.task) selectTask(el.dataset.task);
  return true;
}
app.addEventListener('click', (ev) => activate(ev.target as HTMLElement));
app.addEventListener('keydown', (ev) => {
  const t = ev.target as HTMLElement;
  if ((ev.key === 'Enter' || ev.key === ' ') && (t.dataset.task || t.dataset.session) && activate(t)) ev.preventDefault();
});

host.onMessage((m) => {
  if (m?.type === 'dashboard/status') {
    status = m;
    renderStatusCard();
    host.post({ type: 'dashboard/didRender', health: healthLabel(m), pid: m.status?.pid ?? null });
  } else if (m?.type === 'dashboard/sessions') {
    if (snap && m.seq <= snap.seq) return;
    snap = m;
    if (m.selected && ui.selectedSession !== m.selected.id && ui.selectedSession && !m.sessions.some((s) => s.id === ui.selectedSession))
      saveUi({ ...ui, selectedSession: undefined, selectedTask: undefined });
    renderSession();
    pollTranscript();
    const taskNodes = [...document.querySelectorAll<HTMLElement>('#graph [data-task]')].map((n) => n.dataset.task!);
    host.post({
      type: 'dashboard/didRender',
      health: healthLabel(status),
      pid: status?.status?.pid ?? null,
      seq: m.seq,
      sessionId: m.selected?.id ?? null,
      taskNodes,
    });
  } else if (m?.type === 'dashboard/transcript') {
    if (transcript?.runId !== m.runId) return;
    const merged = mergeTranscript(transcript.events, m.afterSeq, m.events);
    transcript = { runId: m.runId, events: merged ?? transcript.events, run: m.run ?? transcript.run, error: m.error };
    renderSession();
  } else if (m?.type === 'dashboard/commandResult') {
    notice = m.ok
      ? undefined
      : {
          text: escapeText(
            l10n.t('Could not {0}: {1}', m.command.replace(/([A-Z])/g, ' $1').toLowerCase(), m.error ?? l10n.t('unknown error')),
          ),
          error: true,
        };
    renderSession();
  }
});

renderStatusCard();
renderSession();
// The timeline fills the width it has: redraw it when the panel is resized (at most once a frame).
let resizing = 0;
window.addEventListener('resize', () => {
  cancelAnimationFrame(resizing);
  resizing = requestAnimationFrame(renderSession);
});
// Live clocks without chatter: uptime, elapsed and open timeline bars are redrawn locally from the last snapshot.
setInterval(() => {
  const cell = document.getElementById('uptime');
  if (cell && status?.status) cell.textContent = formatUptime(Math.max(0, Date.now() - Date.parse(status.status.startedAt)));
  if (snap?.selected?.tasks.some((t) => t.state === 'running' || t.state === 'blocked')) {
    renderSession();
    pollTranscript();
  }
}, 1000);
host.post({ type: 'webview/ready', surface: 'dashboard', uiState: ui });

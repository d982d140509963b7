/**
 * The dashboard's session views as pure HTML strings (testable without a browser): the session list, the
 * selected session's header with its actions and spend against budget, the selected task's details with its
 * actions, and its run's transcript (tool calls collapsed). Protocol times are ISO strings; the graph and
 * timeline modules take epoch ms, so `toGraphTasks` converts at this edge.
 */
import * as l10n from '@vscode/l10n';
import type { AgentEvent } from '../../../protocol/agentEvent';
import type { RunView } from '../../../protocol/run';
import type { SessionView, TaskView } from '../../../protocol/session';
import type { SessionSummary } from '../../../protocol/webview/dashboard';
import { blockedText, errorText, routeText, sessionStateText, taskStateText } from '../../../protocol/wording';
import { escapeHtml as e, formatUptime } from './render';
import type { GraphTask } from './sessionGraph';

const ms = (iso: string | undefined): number | undefined => {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
};

export function toGraphTasks(tasks: readonly TaskView[]): GraphTask[] {
  return tasks.map((t) => {
    const since = ms(t.blocked?.since);
    return {
      id: t.id,
      planId: t.planId,
      title: t.title,
      state: t.state,
      dependsOn: t.dependsOn,
      startedAt: ms(t.startedAt),
      finishedAt: ms(t.finishedAt),
      ...(t.blocked && since !== undefined ? { blocked: { since, reason: blockedText(t) ?? t.blocked.reason } } : {}),
      agentId: t.agentId,
      attempts: t.attempts,
      ...(t.earlierAttempts?.length
        ? {
            earlier: t.earlierAttempts.flatMap((a) => {
              const start = ms(a.startedAt);
              const end = ms(a.finishedAt);
              return start === undefined || end === undefined ? [] : [{ start, end, outcome: a.outcome, error: a.error }];
            }),
          }
        : {}),
    };
  });
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
/** A goal's first non-empty line (a task list's first item): the rest is in the tooltip. */
const firstLine = (goal: string) => goal.split('\n').find((l) => l.trim()) ?? goal;
const num = (n: number) => n.toLocaleString('en-US');
export const money = (n: number): string => `$${n < 1 ? n.toFixed(4) : n.toFixed(2)}`;
const button = (command: string, label: string, secondary = true) =>
  `<vscode-button data-command="${command}"${secondary ? ' secondary' : ''}>${e(label)}</vscode-button>`;

export function renderSessionList(sessions: readonly SessionSummary[], selectedId: string | undefined): string {
  if (!sessions.length) return `<p class="empty">${e(l10n.t('No sessions yet. Run "Orchestrator: Start Session" to plan a goal.'))}</p>`;
  const items = sessions.map((s) => {
    const state = s.appliedAt ? `${sessionStateText(s.state)}, applied` : sessionStateText(s.state);
    const progress = `${s.done}/${s.tasks} done${s.running ? ` · ${s.running} running` : ''}`;
    const sel = s.id === selectedId;
    return (
      `<li role="option" tabindex="0" data-session="${e(s.id)}" aria-selected="${sel}" class="session state-${s.state}${sel ? ' selected' : ''}">` +
      `<span class="goal" title="${e(s.goal)}">${e(clip(firstLine(s.goal), 120))}</span><span class="meta">${e(state)} · ${e(progress)}</span></li>`
    );
  });
  return `<ul class="sessions" role="listbox" aria-label="Sessions">${items.join('')}</ul>`;
}

/** The actions that make sense in the session's state. */
export function sessionActions(s: SessionView): string[] {
  const a: string[] = [];
  if (s.state === 'draft' || s.state === 'awaiting_approval') a.push('approveSession');
  if (['draft', 'running', 'paused', 'awaiting_approval'].includes(s.state)) a.push('cancelSession');
  if (['failed', 'partially_completed', 'cancelled', 'timed_out'].includes(s.state) && !s.appliedAt) a.push('retrySession');
  if (['completed', 'partially_completed'].includes(s.state) && !s.appliedAt) a.push('applySession');
  return a;
}

/** Button labels (a function: the localised bundle is configured after the modules load). */
const actionLabels = (): Record<string, string> => ({
  approveSession: l10n.t('Approve Plan'),
  cancelSession: l10n.t('Cancel Session'),
  retrySession: l10n.t('Retry Session'),
  applySession: l10n.t('Apply Changes'),
  retryTask: l10n.t('Retry Task'),
  cancelTask: l10n.t('Cancel Task'),
  setTaskPriority: l10n.t('Set Priority…'),
});

/** `readOnly`: the user may only read (a viewer on a team server), so no action is drawn. */
export function renderSessionHead(s: SessionView, readOnly = false): string {
  const state = s.appliedAt ? `${sessionStateText(s.state)}, applied` : sessionStateText(s.state);
  const labels = actionLabels();
  const actions = (readOnly ? [] : sessionActions(s)).map((c, i) => button(c, labels[c], i > 0 || c !== 'approveSession'));
  return (
    `<h2 class="goal" title="${e(s.goal)}">${e(clip(firstLine(s.goal), 200))}</h2>` +
    (s.goal.trim().includes('\n')
      ? `<details class="goal-full"><summary>${e(l10n.t('Whole goal'))}</summary><pre>${e(s.goal)}</pre></details>`
      : '') +
    `<p><vscode-badge data-state="${e(s.state)}">${e(state)}</vscode-badge> <span class="muted">${e(s.id)}${s.planner ? ` · planned by ${e(s.planner)}` : ''}</span></p>` +
    (s.approval ? `<p class="approval">${e(l10n.t('Waiting for you: {0}', s.approval.message))}</p>` : '') +
    (s.error && s.state !== 'completed' ? `<p class="error">${e(errorText(s.error) ?? s.error)}</p>` : '') +
    (actions.length ? `<div class="actions">${actions.join('')}</div>` : '')
  );
}

/** One meter: spent against the limit (or just spent when there is none). */
function meter(label: string, spent: number, limit: number | undefined, show: (n: number) => string): string {
  if (!limit) return `<div class="meter"><span>${label}</span><span>${show(spent)} (no limit)</span></div>`;
  const pct = Math.min(100, (spent / limit) * 100);
  const level = pct >= 100 ? 'over' : pct >= 80 ? 'high' : 'ok';
  return (
    `<div class="meter ${level}"><span>${label}</span><span>${show(spent)} of ${show(limit)}</span>` +
    `<div class="bar" role="meter" aria-label="${label}" aria-valuemin="0" aria-valuemax="${limit}" aria-valuenow="${spent}"><div style="width:${pct.toFixed(1)}%"></div></div></div>`
  );
}

export function renderSpend(s: SessionView, nowMs: number): string {
  const b = s.budget;
  const started = ms(b.startedAt);
  const end = ms(s.finishedAt) ?? nowMs;
  const wall = started === undefined ? 0 : Math.max(0, end - started);
  return [
    meter(l10n.t('Tokens'), b.spent.tokens, b.limits.tokens, num),
    meter(l10n.t('Cost'), b.spent.money, b.limits.money, money),
    meter(l10n.t('Time'), wall, b.limits.wallMs, formatUptime),
  ].join('');
}

export function taskActions(t: TaskView): string[] {
  const a: string[] = [];
  if (['failed', 'cancelled', 'skipped'].includes(t.state)) a.push('retryTask');
  if (['pending', 'ready', 'running', 'blocked'].includes(t.state)) a.push('cancelTask');
  if (t.state !== 'running' && t.state !== 'succeeded') a.push('setTaskPriority');
  return a;
}

export function renderTaskDetail(t: TaskView, run: RunView | undefined, nowMs: number): string {
  if (run && run.id !== t.runId) run = undefined;
  const started = ms(t.startedAt);
  const elapsed = started === undefined ? undefined : Math.max(0, (ms(t.finishedAt) ?? nowMs) - started);
  const usage = t.result?.usage ?? t.usage ?? run?.usage;
  const why = t.state === 'blocked' ? blockedText(t) : undefined;
  // While a re-opened task runs again, its error is the previous attempt's, and says so.
  const lastError = ['failed', 'cancelled', 'skipped'].includes(t.state) ? l10n.t('Last error') : l10n.t('Previous attempt');
  const rows: [string, string | undefined][] = [
    [l10n.t('State'), `${taskStateText(t.state)}${why ? ` — ${why}` : ''}`],
    [l10n.t('Agent'), t.agentId === 'opencode' ? 'OpenCode' : t.agentId],
    [l10n.t('Model'), run?.model],
    [l10n.t('Attempt'), l10n.t('{0} of {1}', t.attempts, t.maxAttempts)],
    [l10n.t('Priority'), t.priority === undefined ? undefined : l10n.t('{0} (0 = highest)', t.priority)],
    [l10n.t('Elapsed'), elapsed === undefined ? undefined : formatUptime(elapsed)],
    [l10n.t('Tokens'), usage ? num(usage.inputTokens + usage.outputTokens) : undefined],
    [l10n.t('Cost'), usage ? money(usage.cost) : undefined],
    [l10n.t('Current tool'), t.currentTool],
    [l10n.t('Route'), routeText(t.routeReason)],
    [lastError, errorText(t.lastError)],
    [
      l10n.t('Result'),
      t.result ? `${t.result.summary}${t.result.changedFiles.length ? ` (changed ${t.result.changedFiles.join(', ')})` : ''}` : undefined,
    ],
    [l10n.t('Warning'), t.result?.warnings?.join('; ')],
  ];
  return (
    `<h3>${e(t.planId)}: ${e(t.title)}</h3>` +
    `<table class="facts">${rows
      .filter((r): r is [string, string] => !!r[1])
      .map(([k, v]) => `<tr><th>${e(k)}</th><td${k === lastError ? ' class="error"' : ''}>${e(v)}</td></tr>`)
      .join('')}</table>`
  );
}

/**
 * The task's buttons, drawn in their own region: the details above change every second while the task runs
 * (elapsed, tokens), and a button replaced between a press and its release would lose the click.
 */
export function renderTaskActions(t: TaskView, readOnly = false): string {
  const labels = actionLabels();
  const actions = (readOnly ? [] : taskActions(t)).map((c) => button(c, labels[c]));
  return actions.length ? `<div class="actions">${actions.join('')}</div>` : '';
}

/** Adds a transcript page to what is shown: a page from 0 replaces it; a page that does not follow the last seq is dropped. */
export function mergeTranscript(shown: readonly AgentEvent[], afterSeq: number, page: readonly AgentEvent[]): AgentEvent[] | undefined {
  if (afterSeq === 0) return [...page];
  const last = shown.length ? shown[shown.length - 1].seq : 0;
  if (afterSeq !== last) return undefined;
  return [...shown, ...page.filter((ev) => ev.seq > last)];
}

const pretty = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v, null, 2));

/** A path inside the run's worktree as the user wrote it (relative); others unchanged. */
export function relativeTo(cwd: string | undefined, p: string): string {
  if (!cwd) return p;
  const root = cwd.replace(/[\\/]+$/, '');
  return p.startsWith(`${root}/`) || p.startsWith(`${root}\\`) ? p.slice(root.length + 1) : p;
}

const roleLabel = (role: string): string | undefined =>
  role === 'user' ? l10n.t('Prompt') : role === 'thought' ? l10n.t('Thinking') : undefined;

/**
 * The transcript: message chunks joined per turn (the prompt and the model's thinking labelled), each tool
 * call once (latest status) with input and output collapsed; paths inside the run's worktree `cwd` are
 * shown relative to it.
 */
export function renderTranscript(events: readonly AgentEvent[], cwd?: string): string {
  if (!events.length) return `<p class="empty">${e(l10n.t('No transcript yet.'))}</p>`;
  const parts: string[] = [];
  let text: { role: string; s: string } | undefined;
  const flush = () => {
    const label = text ? roleLabel(text.role) : undefined;
    if (text) parts.push(`<p class="msg ${text.role}">${label ? `<span class="role">${label}</span>` : ''}${e(text.s)}</p>`);
    text = undefined;
  };
  const tools = new Map<string, Extract<AgentEvent, { kind: 'tool_call' }>>();
  for (const ev of events) if (ev.kind === 'tool_call') tools.set(ev.id, ev);
  const drawn = new Set<string>();
  for (const ev of events) {
    if (ev.kind === 'message_chunk') {
      if (text?.role !== ev.role) flush();
      text = { role: ev.role, s: (text?.s ?? '') + ev.text };
      continue;
    }
    if (ev.kind === 'usage') continue;
    if (ev.kind === 'tool_call' && drawn.has(ev.id)) continue;
    flush();
    if (ev.kind === 'tool_call') {
      drawn.add(ev.id);
      const t = tools.get(ev.id)!;
      const title = relativeTo(cwd, t.title || t.toolName);
      const where = [...new Set(t.locations?.map((l) => relativeTo(cwd, l.path)))].filter((w) => w !== title).join(', ');
      parts.push(
        `<details class="tool ${t.status}"><summary>${e(t.toolName)}: ${e(title)} · ${e(t.status)}${where ? ` · ${e(where)}` : ''}</summary>` +
          (t.input !== undefined ? `<pre>${e(clip(pretty(t.input), 4000))}</pre>` : '') +
          (t.output ? `<pre>${e(clip(t.output, 4000))}</pre>` : '') +
          `</details>`,
      );
    } else if (ev.kind === 'permission_request')
      parts.push(`<p class="perm">${e(l10n.t('Asked for permission: {0} {1}', ev.permission, (ev.patterns ?? []).join(', ')))}</p>`);
    else if (ev.kind === 'permission_decision')
      parts.push(
        `<p class="perm">${e(ev.decision === 'allow' ? l10n.t('Permission allowed ({0})', ev.note ?? ev.by) : l10n.t('Permission denied ({0})', ev.note ?? ev.by))}</p>`,
      );
    else if (ev.kind === 'progress')
      parts.push(
        `<p class="muted">${e(ev.percent === undefined ? l10n.t('Progress: {0}', ev.message) : l10n.t('Progress ({0}%): {1}', ev.percent, ev.message))}</p>`,
      );
    else if (ev.kind === 'retry') parts.push(`<p class="muted">${e(l10n.t('Retry {0}: {1}', ev.attempt, ev.message))}</p>`);
    else if (ev.kind === 'error') parts.push(`<p class="error">${e(ev.message)}</p>`);
    else if (ev.kind === 'finished') parts.push(`<p class="muted">${e(l10n.t('Finished: {0}', ev.stopReason.replace('_', ' ')))}</p>`);
  }
  flush();
  return parts.join('');
}

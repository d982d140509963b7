/**
 * The Sessions view: sessions (expandable into their tasks, each showing its running attempt's tool and
 * tokens) and single agent runs, newest first, updated live from `session/didChange` and `run/didUpdate`.
 */
import * as vscode from 'vscode';
import type { RunView } from '../../../protocol/run';
import type { SessionView, TaskView } from '../../../protocol/session';
import type { TreeRow } from '../api';
import { runDescription, sessionDescription, sessionTooltip, taskDescription, taskTooltip } from '../../../protocol/wording';

const icons: Record<string, string> = {
  pending: 'circle-outline',
  ready: 'circle-outline',
  running: 'sync~spin',
  blocked: 'debug-pause',
  succeeded: 'pass',
  failed: 'error',
  cancelled: 'circle-slash',
  skipped: 'debug-step-over',
  draft: 'edit',
  paused: 'debug-pause',
  awaiting_approval: 'bell',
  completed: 'pass-filled',
  partially_completed: 'warning',
  timed_out: 'watch',
};
const icon = (state: string) => new vscode.ThemeIcon(icons[state] ?? 'circle-outline');
const short = (s: string, n = 60) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** A single agent run (not part of a session). */
export class RunItem extends vscode.TreeItem {
  constructor(readonly run: RunView) {
    super(short(run.prompt), vscode.TreeItemCollapsibleState.None);
    this.id = run.id;
    this.description = runDescription(run);
    this.iconPath = icon(run.state);
    this.contextValue = `run.${run.state}`;
    this.tooltip = new vscode.MarkdownString(
      [
        `**${run.state}** · ${run.agent}${run.model ? ` · ${run.model}` : ''}\n\n${run.prompt}`,
        run.summary ? `\n\n${run.summary}` : '',
        run.error ? `\n\n**${run.error.reason}**: ${run.error.message}` : '',
        run.diff?.length ? `\n\nChanged: ${run.diff.map((f) => f.path).join(', ')}` : '',
        run.warnings?.length ? `\n\n**Warning**: ${run.warnings.join('; ')}` : '',
      ].join(''),
    );
  }
}

/** Drafts (the plan to review) and live sessions show their tasks; finished ones fold away. */
const openStates = new Set(['draft', 'running', 'paused', 'awaiting_approval']);

export class SessionItem extends vscode.TreeItem {
  readonly sessionId: string;
  constructor(readonly session: SessionView) {
    super(
      short(session.goal.split('\n').find((l) => l.trim()) ?? session.goal),
      openStates.has(session.state) ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed,
    );
    this.id = session.id;
    this.sessionId = session.id;
    this.description = sessionDescription(session);
    this.iconPath = icon(session.state);
    // `.applied` hides Apply (and Retry) once the changes are in the working tree; Delete stays.
    this.contextValue = `session.${session.state}${session.appliedAt ? '.applied' : ''}`;
    this.tooltip = new vscode.MarkdownString(sessionTooltip(session));
  }
}

/**
 * A task of a session's plan. Task commands (`orchestrator.retryTask`, `orchestrator.cancelTask`) get
 * this row: `sessionId` and `taskId`. `contextValue` `sessionTask.<state>` picks the inline actions
 * (retry on failed or cancelled rows, cancel on ready, blocked or running rows).
 */
export class TaskItem extends vscode.TreeItem {
  readonly taskId: string;
  constructor(
    readonly sessionId: string,
    readonly task: TaskView,
  ) {
    super(`[${task.planId}] ${short(task.title, 50)}`, vscode.TreeItemCollapsibleState.None);
    this.id = `${sessionId}/${task.id}`;
    this.taskId = task.id;
    this.description = taskDescription(task);
    this.iconPath = icon(task.state);
    this.contextValue = `sessionTask.${task.state}`;
    this.tooltip = new vscode.MarkdownString(taskTooltip(task));
  }
}

type Node = RunItem | SessionItem | TaskItem;

export class SessionsProvider implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly runs = new Map<string, RunView>();
  private readonly sessions = new Map<string, SessionView>();

  replaceAll(runs: RunView[], sessions: SessionView[] = []): void {
    this.runs.clear();
    this.sessions.clear();
    for (const r of runs) this.runs.set(r.id, r);
    for (const s of sessions) this.sessions.set(s.id, s);
    this.changed.fire();
  }

  /** A run update; a session's runs are shown through their tasks (`session/didChange`), not as rows. */
  upsertRun(r: RunView): void {
    this.runs.set(r.id, r);
    if (!r.sessionId) this.changed.fire();
  }

  upsertSession(s: SessionView): void {
    this.sessions.set(s.id, s);
    this.changed.fire();
  }

  removeSession(sessionId: string): void {
    if (this.sessions.delete(sessionId)) this.changed.fire();
  }

  /** Every run the view knows, newest first (single runs are shown as rows; session runs through their tasks). */
  allRuns(): RunView[] {
    return [...this.runs.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  allSessions(): SessionView[] {
    return [...this.sessions.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  getTreeItem(e: Node): vscode.TreeItem {
    return e;
  }

  getChildren(e?: Node): Node[] {
    if (e instanceof SessionItem) return e.session.tasks.map((t) => new TaskItem(e.session.id, t));
    if (e) return [];
    return [
      ...this.allSessions().map((s) => new SessionItem(s)),
      ...this.allRuns()
        .filter((r) => !r.sessionId)
        .map((r) => new RunItem(r)),
    ];
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** The task row of a session as the view renders it (the very object a row's inline action receives). */
export function taskRow(p: SessionsProvider, sessionId: string, planId: string): TaskItem | undefined {
  const session = p.getChildren().find((n): n is SessionItem => n instanceof SessionItem && n.sessionId === sessionId);
  return session && p.getChildren(session).find((n): n is TaskItem => n instanceof TaskItem && n.task.planId === planId);
}

/** The rows the view renders (sessions with their task rows, then single runs), as label and description. */
export function sessionRows(p: SessionsProvider): TreeRow[] {
  const row = (n: Node): TreeRow => {
    const children = p.getChildren(n);
    return {
      label: typeof n.label === 'string' ? n.label : (n.label?.label ?? ''),
      description: typeof n.description === 'string' ? n.description : '',
      ...(children.length ? { children: children.map(row) } : {}),
    };
  };
  return p.getChildren().map(row);
}

/**
 * The Sessions view: sessions (expandable into their tasks) and single agent runs, newest first,
 * updated live from `session/didChange` and `task/didUpdate`.
 */
import * as vscode from 'vscode';
import type { SessionTaskView, SessionView } from '../../../protocol/session';
import type { TaskView } from '../../../protocol/task';
import { sessionDescription, sessionTooltip, taskDescription, taskTooltip } from './wording';

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
const tokens = (u: { inputTokens: number; outputTokens: number }) => u.inputTokens + u.outputTokens;

export class TaskItem extends vscode.TreeItem {
  constructor(readonly task: TaskView) {
    super(short(task.prompt), vscode.TreeItemCollapsibleState.None);
    this.id = task.id;
    this.description = `${task.state}${task.currentTool ? ` · ${task.currentTool}` : ''} · ${tokens(task.usage)} tokens`;
    if (task.warnings?.length) this.description += ` · ⚠ ${short(task.warnings[0], 50)}`;
    this.iconPath = icon(task.state);
    this.contextValue = `task.${task.state}`;
    this.tooltip = new vscode.MarkdownString(
      [
        `**${task.state}** · ${task.agent}${task.model ? ` · ${task.model}` : ''}\n\n${task.prompt}`,
        task.summary ? `\n\n${task.summary}` : '',
        task.error ? `\n\n**${task.error.reason}**: ${task.error.message}` : '',
        task.diff?.length ? `\n\nChanged: ${task.diff.map((f) => f.path).join(', ')}` : '',
        task.warnings?.length ? `\n\n**Warning**: ${task.warnings.join('; ')}` : '',
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

export class SessionTaskItem extends vscode.TreeItem {
  constructor(
    sessionId: string,
    readonly task: SessionTaskView,
  ) {
    super(`[${task.planId}] ${short(task.title, 50)}`, vscode.TreeItemCollapsibleState.None);
    this.id = `${sessionId}/${task.id}`;
    this.description = taskDescription(task);
    this.iconPath = icon(task.state);
    this.contextValue = `sessionTask.${task.state}`;
    this.tooltip = new vscode.MarkdownString(taskTooltip(task));
  }
}

type Node = TaskItem | SessionItem | SessionTaskItem;

export class TasksProvider implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly tasks = new Map<string, TaskView>();
  private readonly sessions = new Map<string, SessionView>();

  replaceAll(list: TaskView[], sessions: SessionView[] = []): void {
    this.tasks.clear();
    this.sessions.clear();
    for (const t of list) this.tasks.set(t.id, t);
    for (const s of sessions) this.sessions.set(s.id, s);
    this.changed.fire();
  }

  upsert(t: TaskView): void {
    this.tasks.set(t.id, t);
    this.changed.fire();
  }

  upsertSession(s: SessionView): void {
    this.sessions.set(s.id, s);
    this.changed.fire();
  }

  removeSession(sessionId: string): void {
    if (this.sessions.delete(sessionId)) this.changed.fire();
  }

  /** Single runs (not attempts of a session's tasks), newest first. */
  all(): TaskView[] {
    return [...this.tasks.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  allSessions(): SessionView[] {
    return [...this.sessions.values()].sort((a, b) => b.createdAt - a.createdAt);
  }

  getTreeItem(e: Node): vscode.TreeItem {
    return e;
  }

  getChildren(e?: Node): Node[] {
    if (e instanceof SessionItem) return e.session.tasks.map((t) => new SessionTaskItem(e.session.id, t));
    if (e) return [];
    return [
      ...this.allSessions().map((s) => new SessionItem(s)),
      ...this.all()
        .filter((t) => t.sessionId.startsWith('run-'))
        .map((t) => new TaskItem(t)),
    ];
  }

  dispose(): void {
    this.changed.dispose();
  }
}

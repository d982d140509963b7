/** The Sessions view: the server's tasks, newest first, updated live from `task/didUpdate`. */
import * as vscode from 'vscode';
import type { TaskView } from '../../../protocol/task';

const icons: Record<TaskView['state'], string> = {
  pending: 'circle-outline', ready: 'circle-outline', running: 'sync~spin', blocked: 'debug-pause',
  succeeded: 'pass', failed: 'error', cancelled: 'circle-slash', skipped: 'debug-step-over',
};

export class TaskItem extends vscode.TreeItem {
  constructor(readonly task: TaskView) {
    super(task.prompt.length > 60 ? `${task.prompt.slice(0, 59)}…` : task.prompt, vscode.TreeItemCollapsibleState.None);
    this.id = task.id;
    const tokens = task.usage.inputTokens + task.usage.outputTokens;
    this.description = `${task.state}${task.currentTool ? ` · ${task.currentTool}` : ''} · ${tokens} tokens`;
    this.iconPath = new vscode.ThemeIcon(icons[task.state]);
    this.contextValue = `task.${task.state}`;
    this.tooltip = new vscode.MarkdownString([
      `**${task.state}** · ${task.agent}${task.model ? ` · ${task.model}` : ''}`,
      `\n\n${task.prompt}`,
      task.summary ? `\n\n${task.summary}` : '',
      task.error ? `\n\n**${task.error.reason}**: ${task.error.message}` : '',
      task.diff?.length ? `\n\nChanged: ${task.diff.map((f) => f.path).join(', ')}` : '',
    ].join(''));
  }
}

export class TasksProvider implements vscode.TreeDataProvider<TaskItem> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly tasks = new Map<string, TaskView>();

  replaceAll(list: TaskView[]): void {
    this.tasks.clear();
    for (const t of list) this.tasks.set(t.id, t);
    this.changed.fire();
  }

  upsert(t: TaskView): void {
    this.tasks.set(t.id, t);
    this.changed.fire();
  }

  all(): TaskView[] {
    return [...this.tasks.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  getTreeItem(e: TaskItem): vscode.TreeItem {
    return e;
  }

  getChildren(): TaskItem[] {
    return this.all().map((t) => new TaskItem(t));
  }

  dispose(): void {
    this.changed.dispose();
  }
}

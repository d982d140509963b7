/**
 * Agents and Sessions views. Both render server state; until the server reports agents or sessions
 * they are empty and VS Code shows the welcome content declared in package.json.
 */
import * as vscode from 'vscode';
import { TasksProvider } from './tasksTree';

export class ServerListProvider implements vscode.TreeDataProvider<vscode.TreeItem> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private items: vscode.TreeItem[] = [];

  set(items: vscode.TreeItem[]): void {
    this.items = items;
    this.changed.fire();
  }

  getTreeItem(e: vscode.TreeItem): vscode.TreeItem {
    return e;
  }

  getChildren(): vscode.TreeItem[] {
    return this.items;
  }
}

export function registerTrees(): { agents: ServerListProvider; sessions: TasksProvider; disposables: vscode.Disposable[] } {
  const agents = new ServerListProvider();
  const sessions = new TasksProvider();
  return {
    agents,
    sessions,
    disposables: [
      vscode.window.registerTreeDataProvider('orchestrator.agents', agents),
      vscode.window.registerTreeDataProvider('orchestrator.sessions', sessions),
      sessions,
    ],
  };
}

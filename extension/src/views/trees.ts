/**
 * Agents and Sessions views. Both render server state; until the server reports agents or sessions
 * they are empty and VS Code shows the welcome content declared in package.json.
 */
import * as vscode from 'vscode';
import type { AgentView } from '../../../protocol/agent';
import { agentRowText } from '../agentAvailability';
import { summarizeActivity } from './activity';
import { SessionsProvider } from './sessionsTree';

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

export function agentItems(agents: AgentView[]): vscode.TreeItem[] {
  return agents.map((a) => {
    const item = new vscode.TreeItem(a.name, vscode.TreeItemCollapsibleState.None);
    item.id = a.id;
    const down = a.availability.state === 'unavailable';
    item.description = agentRowText(a);
    item.iconPath = new vscode.ThemeIcon(
      a.disabled
        ? 'circle-slash'
        : down
          ? 'error'
          : a.availability.state === 'checking'
            ? 'sync~spin'
            : a.health.circuit === 'open'
              ? 'warning'
              : 'hubot',
    );
    const off = a.disabled ? '\n\n**Disabled:** takes no new task (Enable Agent, or `orchestrator.agents.disabled`)' : '';
    const why = down ? `\n\n**Unavailable:** ${a.availability.message ?? a.availability.reason}` : '';
    item.tooltip = new vscode.MarkdownString(
      `**${a.name}** (${a.id})${off}${why}\n\n${a.description}${a.model ? `\n\nModel: \`${a.model}\`` : ''}\n\nRunning now: ${a.health.running} of up to ${a.maxConcurrency} tasks at once\n\nSandboxed: ${a.sandbox.enabled ? 'yes' : 'no'}. ${a.sandbox.reason}${a.health.lastError ? `\n\nLast error: ${a.health.lastError}` : ''}`,
    );
    // `agent.enabled` offers Disable Agent inline, `agent.disabled` Enable Agent.
    item.contextValue = a.disabled ? 'agent.disabled' : 'agent.enabled';
    return item;
  });
}

export function registerTrees(): { agents: ServerListProvider; sessions: SessionsProvider; disposables: vscode.Disposable[] } {
  const agents = new ServerListProvider();
  const sessions = new SessionsProvider();
  const sessionsView = vscode.window.createTreeView('orchestrator.sessions', { treeDataProvider: sessions });
  // The badge counts what waits on the user: plans to approve, sessions paused for a budget or a conflict.
  const badge = sessions.onDidChangeTreeData(() => {
    const waiting = summarizeActivity(sessions.allSessions(), []).waiting;
    sessionsView.badge = waiting ? { value: waiting, tooltip: `${waiting} session(s) wait for you` } : undefined;
  });
  return {
    agents,
    sessions,
    disposables: [vscode.window.registerTreeDataProvider('orchestrator.agents', agents), sessionsView, badge, sessions],
  };
}

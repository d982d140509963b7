/**
 * Agents and Sessions views. Both render server state; until the server reports agents or sessions
 * they are empty and VS Code shows the welcome content declared in package.json.
 */
import * as vscode from 'vscode';
import type { AgentView } from '../../../protocol/agent';
import { agentRowText } from '../agentAvailability';
import type { UserWaitsTracker } from '../userWaits';
import { summarizeActivity, type WaitingOn } from './activity';
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
    const parts = [
      `**${a.name}** (${a.id})`,
      a.disabled ? vscode.l10n.t('**Disabled:** takes no new task (Enable Agent, or `orchestrator.agents.disabled`)') : '',
      down ? vscode.l10n.t('**Unavailable:** {0}', a.availability.message ?? a.availability.reason ?? '') : '',
      a.description,
      a.model ? vscode.l10n.t('Model: `{0}`', a.model) : '',
      vscode.l10n.t('Running now: {0} of up to {1} tasks at once', a.health.running, a.maxConcurrency),
      `${a.sandbox.enabled ? vscode.l10n.t('Sandboxed: yes.') : vscode.l10n.t('Sandboxed: no.')} ${a.sandbox.reason}`,
      a.health.lastError ? vscode.l10n.t('Last error: {0}', a.health.lastError) : '',
    ];
    item.tooltip = new vscode.MarkdownString(parts.filter(Boolean).join('\n\n'));
    // `agent.enabled` offers Disable Agent inline, `agent.disabled` Enable Agent.
    item.contextValue = a.disabled ? 'agent.disabled' : 'agent.enabled';
    return item;
  });
}

/** What waits on the user, by kind, in words (the badge's and the status bar's tooltip); empty when nothing does. */
export function waitingText(w: WaitingOn): string {
  return [
    w.approvals ? vscode.l10n.t('{0} session(s) to approve or decide on', w.approvals) : '',
    w.permissionAsks ? vscode.l10n.t('{0} permission ask(s) to answer', w.permissionAsks) : '',
    w.applyConflicts ? vscode.l10n.t('{0} apply refused over your uncommitted edits', w.applyConflicts) : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

export function registerTrees(waits: UserWaitsTracker): {
  agents: ServerListProvider;
  sessions: SessionsProvider;
  badge(): vscode.ViewBadge | undefined;
  disposables: vscode.Disposable[];
} {
  const agents = new ServerListProvider();
  const sessions = new SessionsProvider();
  const sessionsView = vscode.window.createTreeView('orchestrator.sessions', { treeDataProvider: sessions });
  // The badge counts what waits on the user: plans to approve, sessions paused for a budget or a merge
  // conflict, open permission asks, applies refused over uncommitted edits.
  const render = () => {
    const a = summarizeActivity(sessions.allSessions(), [], waits.current());
    sessionsView.badge = a.waiting ? { value: a.waiting, tooltip: waitingText(a.waitingOn) } : undefined;
  };
  return {
    agents,
    sessions,
    badge: () => sessionsView.badge,
    disposables: [
      vscode.window.registerTreeDataProvider('orchestrator.agents', agents),
      sessionsView,
      sessions.onDidChangeTreeData(render),
      waits.onDidChange(render),
      sessions,
    ],
  };
}

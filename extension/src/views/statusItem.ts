/** The status bar item: the server's health, tasks running, what waits on the user and the spend; click opens the dashboard. */
import * as vscode from 'vscode';
import { unavailableNote } from '../agentAvailability';
import { commandIds } from '../commands/ids';
import type { Ctx, StatusSnapshot } from '../ctx';
import { activitySuffix, type Activity } from './activity';

/** The status text with the team server's tenant and role when connected to one (` · acme (viewer)`). */
export function renderStatusText(s: StatusSnapshot): { text: string; tooltip: string; warn: boolean } {
  const r = renderServerText(s);
  if (!s.team) return r;
  const { url, who } = s.team;
  return {
    ...r,
    text: `${r.text} · ${who.tenantId} (${who.role})`,
    tooltip: `${vscode.l10n.t('Team server {0}: tenant {1}, signed in as {2} ({3}).', url, who.tenantId, who.userName, who.role)}\n\n${r.tooltip}`,
  };
}

function renderServerText(s: StatusSnapshot): { text: string; tooltip: string; warn: boolean } {
  if (s.clientState === 'stopped')
    return {
      text: `$(error) ${vscode.l10n.t('Orchestrator: stopped')}`,
      tooltip: s.stoppedReason ?? vscode.l10n.t('The server is stopped.'),
      warn: true,
    };
  if (s.clientState === 'starting' || !s.status)
    return {
      text: `$(sync~spin) ${vscode.l10n.t('Orchestrator: starting')}`,
      tooltip: vscode.l10n.t('The orchestrator server is starting.'),
      warn: false,
    };
  const down = unavailableNote(s.status);
  if (down) return { text: `$(error) ${vscode.l10n.t('Orchestrator: {0}', down)}`, tooltip: s.status.message, warn: true };
  const icon = s.status.health === 'ok' ? '$(pulse)' : '$(warning)';
  return {
    text: `${icon} ${vscode.l10n.t('Orchestrator: {0}', s.status.health)}`,
    tooltip: s.status.message,
    warn: s.status.health !== 'ok',
  };
}

/** What the Sessions view and the extension know, for the running count, what waits on the user and the spend. */
export interface ActivitySource {
  current(): Activity;
  onDidChange: vscode.Event<unknown>[];
  /** The waits in words for the tooltip. */
  waitingText(a: Activity): string;
}

export function createStatusItem(
  ctx: Ctx,
  activity?: ActivitySource,
): vscode.Disposable & { current(): { text: string; tooltip: string } } {
  const item = vscode.window.createStatusBarItem('orchestrator.status', vscode.StatusBarAlignment.Left, 10);
  item.name = 'Orchestrator Status';
  item.command = commandIds.openDashboard;
  const render = () => {
    const r = renderStatusText(ctx.status);
    const a = ctx.status.status && activity ? activity.current() : undefined;
    item.text = `${r.text}${a ? activitySuffix(a) : ''}`;
    const waiting = a && activity ? activity.waitingText(a) : '';
    item.tooltip = `${r.tooltip}${waiting ? `\n\n${vscode.l10n.t('Waiting for you: {0}', waiting)}` : ''}\n\n${vscode.l10n.t('Click to open the dashboard.')}`;
    item.backgroundColor = r.warn ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  };
  render();
  item.show();
  const subs = [ctx.onDidChangeStatus(render), ...(activity?.onDidChange.map((e) => e(render)) ?? [])];
  const disposable = vscode.Disposable.from(item, ...subs);
  return {
    dispose: () => disposable.dispose(),
    current: () => ({ text: item.text, tooltip: typeof item.tooltip === 'string' ? item.tooltip : (item.tooltip?.value ?? '') }),
  };
}

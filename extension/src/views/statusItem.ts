/** The status bar item: renders the server's health; click shows the full status. */
import * as vscode from 'vscode';
import { unavailableNote } from '../agentAvailability';
import { commandIds } from '../commands/ids';
import type { Ctx, StatusSnapshot } from '../ctx';

export function renderStatusText(s: StatusSnapshot): { text: string; tooltip: string; warn: boolean } {
  if (s.clientState === 'stopped')
    return { text: '$(error) Orchestrator: stopped', tooltip: s.stoppedReason ?? 'The server is stopped.', warn: true };
  if (s.clientState === 'starting' || !s.status)
    return { text: '$(sync~spin) Orchestrator: starting', tooltip: 'The orchestrator server is starting.', warn: false };
  const down = unavailableNote(s.status);
  if (down) return { text: `$(error) Orchestrator: ${down}`, tooltip: s.status.message, warn: true };
  const icon = s.status.health === 'ok' ? '$(pulse)' : '$(warning)';
  return { text: `${icon} Orchestrator: ${s.status.health}`, tooltip: s.status.message, warn: s.status.health !== 'ok' };
}

export function createStatusItem(ctx: Ctx): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('orchestrator.status', vscode.StatusBarAlignment.Left, 10);
  item.name = 'Orchestrator Status';
  item.command = commandIds.showStatus;
  const render = (s: StatusSnapshot) => {
    const r = renderStatusText(s);
    item.text = r.text;
    item.tooltip = r.tooltip;
    item.backgroundColor = r.warn ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  };
  render(ctx.status);
  item.show();
  const sub = ctx.onDidChangeStatus(render);
  return vscode.Disposable.from(item, sub);
}

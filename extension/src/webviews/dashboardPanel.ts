/**
 * The dashboard panel: one at a time, restored after a window reload by a serializer, fed with full
 * status snapshots from Ctx.
 */
import * as vscode from 'vscode';
import { dashboardToHost, type DashboardToHost, type HostToDashboard } from '../../../protocol/webview/dashboard';
import { commandIds } from '../commands/ids';
import type { Ctx, StatusSnapshot } from '../ctx';
import { parseWebviewMessage, webviewHtml, webviewOptions } from './panelHost';

export const dashboardViewType = 'orchestrator.dashboard';

export class DashboardPanels implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private readonly received = new vscode.EventEmitter<DashboardToHost>();
  /** Every valid message from the dashboard webview (tests wait on `webview/ready` and `dashboard/didRender`). */
  readonly onDidReceive = this.received.event;
  private readonly disposables: vscode.Disposable[] = [this.received];

  constructor(private readonly ctx: Ctx) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(dashboardViewType, {
        deserializeWebviewPanel: async (panel) => this.attach(panel),
      }),
      ctx.onDidChangeStatus((s) => this.post(s)),
    );
  }

  open(): vscode.WebviewPanel {
    if (this.panel) {
      this.panel.reveal();
      return this.panel;
    }
    const panel = vscode.window.createWebviewPanel(
      dashboardViewType,
      'Orchestrator Dashboard',
      vscode.ViewColumn.Active,
      webviewOptions(this.ctx.extension.extensionUri),
    );
    this.attach(panel);
    return panel;
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    panel.webview.options = webviewOptions(this.ctx.extension.extensionUri);
    panel.iconPath = vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'media', 'orchestrator.svg');
    const subs = [
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const msg = parseWebviewMessage(dashboardToHost, raw, this.ctx.log);
        if (!msg) return;
        if (msg.type === 'webview/ready') this.post(this.ctx.status);
        if (msg.type === 'dashboard/command') {
          void vscode.commands.executeCommand(msg.command === 'restartServer' ? commandIds.restartServer : commandIds.showLogs);
        }
        this.received.fire(msg);
      }),
      panel.onDidDispose(() => {
        if (this.panel === panel) this.panel = undefined;
        subs.forEach((d) => d.dispose());
      }),
    ];
    panel.webview.html = webviewHtml(panel.webview, this.ctx.extension.extensionUri, 'dashboard', 'Orchestrator Dashboard');
  }

  private post(s: StatusSnapshot): void {
    const msg: HostToDashboard = { type: 'dashboard/status', clientState: s.clientState, status: s.status, stoppedReason: s.stoppedReason };
    void this.panel?.webview.postMessage(msg);
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

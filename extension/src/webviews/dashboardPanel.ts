/**
 * The dashboard panel: one at a time, restored after a window reload by a serializer, fed with full
 * snapshots from Ctx: the server status, and the sessions (list + the selected one in full, numbered,
 * throttled to one per 100 ms). It answers the webview's transcript requests and maps its validated
 * commands to the extension's commands, reporting failures back in place.
 */
import * as vscode from 'vscode';
import { runGet, runTranscript, sessionList } from '../../../protocol/methodRefs';
import type { SessionView } from '../../../protocol/session';
import type { DashboardCommand, DashboardToHost, HostToDashboard } from '../../../protocol/webview/dashboard';
import type { Ctx, StatusSnapshot } from '../ctx';
import { commandFor, sessionsSnapshot, Throttle } from './dashboardModel';
import { parseWebviewMessage, webviewHtml, webviewOptions } from './panelHost';

/** Snapshots are sent at most this often. */
const snapshotIntervalMs = 100;

export const dashboardViewType = 'orchestrator.dashboard';

export class DashboardPanels implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private readonly received = new vscode.EventEmitter<DashboardToHost>();
  /** Every valid message from the dashboard webview (tests wait on `webview/ready` and `dashboard/didRender`). */
  readonly onDidReceive = this.received.event;
  private readonly disposables: vscode.Disposable[] = [this.received];
  private readonly sessions = new Map<string, SessionView>();
  private selected: string | undefined;
  private seq = 0;
  /**
   * Whether the whole list was read from the server since this window started. Before that the map holds
   * only the sessions that happened to change, and a snapshot of them would tell the webview that its
   * chosen session is gone (it then forgets the choice); so no snapshot is sent until the list is known.
   */
  private listed = false;
  private serverPid: number | undefined;
  private readonly throttle = new Throttle(snapshotIntervalMs, () => this.postSessions());

  constructor(private readonly ctx: Ctx) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(dashboardViewType, {
        deserializeWebviewPanel: async (panel) => this.attach(panel),
      }),
      ctx.onDidChangeStatus((s) => {
        this.post(s);
        // A new server process: reload the list (sessions may have been deleted or changed meanwhile).
        if (s.status && s.status.pid !== this.serverPid) {
          this.serverPid = s.status.pid;
          if (this.panel) void this.refresh();
        }
      }),
      ctx.onDidChangeSession((v) => {
        this.sessions.set(v.id, v);
        if (this.panel) this.throttle.request();
      }),
      // A run of the shown session moved on: a new snapshot lets the webview fetch the transcript's tail.
      ctx.onDidUpdateRun((r) => {
        if (this.panel && r.sessionId && r.sessionId === this.shownId()) this.throttle.request();
      }),
      { dispose: () => this.throttle.dispose() },
    );
  }

  /** A session was deleted: drop it from the list. */
  forget(sessionId: string): void {
    this.sessions.delete(sessionId);
    if (this.panel) this.throttle.request();
  }

  open(): vscode.WebviewPanel {
    if (this.panel) {
      this.panel.reveal();
      return this.panel;
    }
    const panel = vscode.window.createWebviewPanel(
      dashboardViewType,
      vscode.l10n.t('Orchestrator Dashboard'),
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
        const msg = parseWebviewMessage((s) => s.dashboardToHost, raw, this.ctx.log);
        if (!msg) return;
        if (msg.type === 'webview/ready') {
          this.selected = msg.uiState?.selectedSession ?? this.selected;
          this.post(this.ctx.status);
          void this.refresh();
        }
        if (msg.type === 'dashboard/select') {
          this.selected = msg.sessionId ?? undefined;
          this.throttle.request();
        }
        if (msg.type === 'dashboard/command') void this.runCommand(msg);
        if (msg.type === 'dashboard/transcript') void this.sendTranscript(msg.runId, msg.afterSeq);
        this.received.fire(msg);
      }),
      panel.onDidDispose(() => {
        if (this.panel === panel) this.panel = undefined;
        subs.forEach((d) => d.dispose());
      }),
    ];
    panel.webview.html = webviewHtml(panel.webview, this.ctx.extension.extensionUri, 'dashboard', vscode.l10n.t('Orchestrator Dashboard'));
  }

  private post(s: StatusSnapshot): void {
    this.send({ type: 'dashboard/status', clientState: s.clientState, status: s.status, stoppedReason: s.stoppedReason });
  }

  private send(msg: HostToDashboard): void {
    void this.panel?.webview.postMessage(msg);
  }

  private shownId(): string | undefined {
    return this.selected && this.sessions.has(this.selected)
      ? this.selected
      : sessionsSnapshot(this.sessions.values(), undefined, 0).selected?.id;
  }

  private postSessions(): void {
    if (!this.listed) return;
    // A viewer on a team server sees no action buttons (the commands refuse them anyway: roleGate.ts).
    this.send(sessionsSnapshot(this.sessions.values(), this.selected, ++this.seq, this.ctx.role === 'viewer'));
  }

  /** Reload every session from the server (on open and after a server restart); a failure keeps what is known. */
  private async refresh(): Promise<void> {
    try {
      const list = await this.ctx.request(sessionList, { limit: 200 });
      this.sessions.clear();
      for (const s of list) this.sessions.set(s.id, s);
      this.listed = true;
    } catch (e) {
      this.ctx.log.warn(`dashboard: could not list sessions: ${(e as Error).message}`);
    }
    this.throttle.request();
  }

  private async sendTranscript(runId: string, afterSeq: number): Promise<void> {
    try {
      const [run, t] = await Promise.all([this.ctx.request(runGet, { runId }), this.ctx.request(runTranscript, { runId, afterSeq })]);
      this.send({ type: 'dashboard/transcript', runId, afterSeq, run, events: t.events });
    } catch (e) {
      this.send({ type: 'dashboard/transcript', runId, afterSeq, run: null, events: [], error: (e as Error).message });
    }
  }

  private async runCommand(c: DashboardCommand): Promise<void> {
    const { id, args } = commandFor(c);
    try {
      await vscode.commands.executeCommand(id, ...args);
      this.send({ type: 'dashboard/commandResult', command: c.command, ok: true });
    } catch (e) {
      this.ctx.log.warn(`dashboard: ${id} failed: ${(e as Error).message}`);
      this.send({ type: 'dashboard/commandResult', command: c.command, ok: false, error: (e as Error).message });
    }
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/**
 * The agent marketplace panel: one at a time. It keeps the whole list from `marketplace/list`, filters it by
 * the webview's query (`marketplaceModel.ts`) and sends complete snapshots. Installing asks for consent in a
 * modal dialog of the extension host that shows exactly what will be installed, what will run and with which
 * environment names, then echoes the server's consent token for that very plan; uninstalling asks too. Each
 * action shows progress on its entry, and its error stays in place on the entry until the next action.
 * After a change the Agents view is refreshed through `onAgentsChanged`.
 */
import * as vscode from 'vscode';
import type { MarketplaceDetails, MarketplaceEntry, MarketplaceProblem } from '../../../protocol/marketplace';
import {
  marketplaceGet,
  marketplaceInstall,
  marketplaceList,
  marketplaceSetEnabled,
  marketplaceUninstall,
} from '../../../protocol/methodRefs';
import type { MarketplaceAction, MarketplaceQuery, MarketplaceToHost } from '../../../protocol/webview/marketplace';
import { emptyQuery } from '../../../protocol/constants';
import type { Ctx } from '../ctx';
import { consentText, type ConsentLabels, mayManageAgents } from './marketplaceModel';
import { viewSnapshot } from './marketplaceModel';
import { parseWebviewMessage, webviewHtml, webviewOptions } from './panelHost';

export const marketplaceViewType = 'orchestrator.marketplace';

const labels = (): ConsentLabels => ({
  title: (name, version) => vscode.l10n.t('Install {0} {1}? It will run on this machine as an agent.', name, version),
  install: vscode.l10n.t('The install does:'),
  runs: vscode.l10n.t('Then it runs:'),
  environment: vscode.l10n.t('With the environment (names only; values are not shown):'),
  noEnvironment: vscode.l10n.t('With no environment variables of yours.'),
  folder: vscode.l10n.t('Into:'),
});

export class MarketplacePanels implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private readonly received = new vscode.EventEmitter<MarketplaceToHost>();
  /** Every valid message from the marketplace webview. */
  readonly onDidReceive = this.received.event;
  private readonly disposables: vscode.Disposable[] = [this.received];
  private query: MarketplaceQuery = emptyQuery;
  private entries: MarketplaceEntry[] = [];
  private problems: MarketplaceProblem[] = [];
  private selectedId: string | undefined;
  private selected: MarketplaceDetails | undefined;
  private readonly busy = new Map<string, MarketplaceAction>();
  private readonly errors = new Map<string, string>();
  private listError: string | undefined;
  private loading = true;
  private seq = 0;
  private serverPid: number | undefined;

  constructor(
    private readonly ctx: Ctx,
    private readonly onAgentsChanged: () => void,
  ) {
    this.disposables.push(
      ctx.onDidChangeStatus((s) => {
        // A new server process (settings changed, restart): its indexes may differ; read the list again.
        if (s.status && s.status.pid !== this.serverPid) {
          this.serverPid = s.status.pid;
          if (this.panel) void this.refresh();
        }
      }),
    );
  }

  open(): vscode.WebviewPanel {
    if (this.panel) {
      this.panel.reveal();
      return this.panel;
    }
    const title = vscode.l10n.t('Agent Marketplace');
    const panel = vscode.window.createWebviewPanel(
      marketplaceViewType,
      title,
      vscode.ViewColumn.Active,
      webviewOptions(this.ctx.extension.extensionUri),
    );
    this.panel = panel;
    panel.iconPath = vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'media', 'orchestrator.svg');
    const subs = [
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const msg = parseWebviewMessage((s) => s.marketplaceToHost, raw, this.ctx.log);
        if (!msg) return;
        if (msg.type === 'webview/ready') void this.refresh();
        if (msg.type === 'marketplace/query') {
          this.query = msg.query;
          this.post();
        }
        if (msg.type === 'marketplace/select') void this.select(msg.id ?? undefined);
        if (msg.type === 'marketplace/action') void this.act(msg.action, msg.id);
        this.received.fire(msg);
      }),
      panel.onDidDispose(() => {
        if (this.panel === panel) this.panel = undefined;
        subs.forEach((d) => d.dispose());
      }),
    ];
    panel.webview.html = webviewHtml(panel.webview, this.ctx.extension.extensionUri, 'marketplace', title);
    return panel;
  }

  private post(): void {
    if (!this.panel) return;
    const msg = viewSnapshot(
      {
        query: this.query,
        entries: this.entries,
        problems: this.problems,
        selected: this.selected,
        busy: this.busy,
        errors: this.errors,
        listError: this.listError,
        loading: this.loading,
      },
      ++this.seq,
      // The server refuses the changes anyway (admin only); the buttons are not drawn.
      !mayManageAgents(this.ctx.role),
    );
    void this.panel.webview.postMessage(msg);
  }

  /** Reads the whole list (filters apply in the host) and the selected entry again. */
  private async refresh(): Promise<void> {
    try {
      const r = await this.ctx.request(marketplaceList, {});
      this.entries = r.entries;
      this.problems = r.problems;
      this.listError = undefined;
    } catch (e) {
      this.listError = (e as Error).message;
      this.ctx.log.warn(`marketplace: could not list the entries: ${this.listError}`);
    }
    this.loading = false;
    if (this.selectedId) await this.loadSelected();
    this.post();
  }

  private async select(id: string | undefined): Promise<void> {
    this.selectedId = id;
    if (!id) this.selected = undefined;
    else await this.loadSelected();
    this.post();
  }

  private async loadSelected(): Promise<void> {
    const id = this.selectedId;
    if (!id) return;
    try {
      const d = await this.ctx.request(marketplaceGet, { id });
      if (this.selectedId === id) this.selected = d;
    } catch (e) {
      if (this.selectedId !== id) return;
      this.selected = undefined;
      this.errors.set(id, (e as Error).message);
    }
  }

  private async act(action: MarketplaceAction, id: string): Promise<void> {
    if (this.busy.has(id)) return;
    this.errors.delete(id);
    try {
      if (action === 'install') await this.install(id);
      else if (action === 'uninstall') await this.uninstall(id);
      else await this.withBusy(id, action, () => this.ctx.request(marketplaceSetEnabled, { id, enabled: action === 'enable' }));
    } catch (e) {
      const message = (e as Error).message;
      this.errors.set(id, message);
      this.ctx.log.warn(`marketplace: ${action} ${id} failed: ${message}`);
    }
    await this.refresh();
    this.onAgentsChanged();
  }

  private async withBusy<T>(id: string, action: MarketplaceAction, fn: () => PromiseLike<T>): Promise<T> {
    this.busy.set(id, action);
    this.post();
    try {
      return await fn();
    } finally {
      this.busy.delete(id);
    }
  }

  /** The plan is read again right before the dialog, so the consent token matches what the dialog shows. */
  private async install(id: string): Promise<void> {
    const d = await this.ctx.request(marketplaceGet, { id });
    const text = consentText(d, labels());
    if (!text || !d.consentToken) throw new Error(d.unavailable ?? vscode.l10n.t('{0} cannot be installed here.', d.name));
    const yes = d.installed ? vscode.l10n.t('Update') : vscode.l10n.t('Install');
    const pick = await vscode.window.showWarningMessage(text.message, { modal: true, detail: text.detail }, yes);
    if (pick !== yes) return;
    this.ctx.log.info(`marketplace: the user consented to install ${id} ${d.plan?.version ?? ''}`);
    await this.withBusy(id, 'install', () =>
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Installing {0}…', d.name) }, () =>
        this.ctx.request(marketplaceInstall, { id, consent: true, consentToken: d.consentToken }),
      ),
    );
    void vscode.window.showInformationMessage(vscode.l10n.t('{0} is installed; it appears in the Agents view.', d.name));
  }

  private async uninstall(id: string): Promise<void> {
    const name = this.entries.find((e) => e.id === id)?.name ?? id;
    const yes = vscode.l10n.t('Uninstall');
    const pick = await vscode.window.showWarningMessage(
      vscode.l10n.t('Uninstall {0}?', name),
      { modal: true, detail: vscode.l10n.t('Its installed files are removed and it takes no more tasks.') },
      yes,
    );
    if (pick !== yes) return;
    await this.withBusy(id, 'uninstall', () => this.ctx.request(marketplaceUninstall, { id }));
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/**
 * Owns the LanguageClient lifecycle, the latest server status and the output channel. Everything else
 * in the extension reaches the server through `Ctx.request`.
 */
import * as vscode from 'vscode';
import { State, type LanguageClient } from 'vscode-languageclient/node';
import { agentDidChange, type AgentView } from '../../protocol/agent';
import { onNotification, onRequest, sendRequest, type ParamsOf, type RequestDef, type ResultOf } from '../../protocol/messages';
import { permissionRequest, runDidUpdate, type RunView } from '../../protocol/run';
import { serverDidChangeStatus, type ServerStatus } from '../../protocol/server';
import { sessionDidChange, type SessionView } from '../../protocol/session';
import type { ClientState } from '../../protocol/webview/dashboard';
import { createClient } from './client';
import { PermissionPrompt } from './permissions';
import { openSetting, readConfig, type OrchestratorConfig } from './config';
import { UserWaitsTracker } from './userWaits';
import { providerKeyEnv } from './modelKeys';
import { teeLog } from './logTee';
import { RestartPolicy } from './restartPolicy';

export interface StatusSnapshot {
  clientState: ClientState;
  status: ServerStatus | null;
  stoppedReason?: string;
}

export class Ctx implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  /** The last lines written to `log` (for the API; the server redacts its lines before sending them). */
  readonly logLines: () => string[];
  private client: LanguageClient | undefined;
  private readonly policy: RestartPolicy;
  private snapshot: StatusSnapshot = { clientState: 'starting', status: null };
  private started: OrchestratorConfig | undefined;
  private readonly changed = new vscode.EventEmitter<StatusSnapshot>();
  readonly onDidChangeStatus = this.changed.event;
  private readonly runChanged = new vscode.EventEmitter<RunView>();
  /** Every `run/didUpdate` from the server. */
  readonly onDidUpdateRun = this.runChanged.event;
  private readonly sessionChanged = new vscode.EventEmitter<SessionView>();
  /** Every `session/didChange` from the server. */
  readonly onDidChangeSession = this.sessionChanged.event;
  private readonly agentsChanged = new vscode.EventEmitter<AgentView[]>();
  /** Every `agent/didChange` from the server (an agent's health or availability changed). */
  readonly onDidChangeAgents = this.agentsChanged.event;
  private readonly disposables: vscode.Disposable[] = [];
  /** What waits on the user that only the extension knows (open permission asks, refused applies). */
  readonly waits: UserWaitsTracker;
  /** Answers the server's permission asks (and shows their details). */
  private readonly permissions: PermissionPrompt;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.waits = new UserWaitsTracker(extension.workspaceState);
    this.permissions = new PermissionPrompt(this.waits);
    const teed = teeLog(vscode.window.createOutputChannel('Industrial Orchestrator', { log: true }));
    this.log = teed.channel;
    this.logLines = teed.lines;
    this.policy = RestartPolicy.fromSetting(readConfig().maxRestarts);
    this.disposables.push(this.log, this.changed, this.runChanged, this.sessionChanged, this.agentsChanged, this.permissions, this.waits);
  }

  /** The settings the server was last started with (providers after `screenProviders`); no keys. */
  get startedWith(): OrchestratorConfig | undefined {
    return this.started;
  }

  get status(): StatusSnapshot {
    return this.snapshot;
  }

  async start(): Promise<void> {
    if (this.client) return;
    const config = readConfig();
    const keys = await providerKeyEnv(this.extension.secrets, config.agents.providers ?? []);
    if (keys.missing.length)
      this.log.warn(`no API key stored for provider(s) ${keys.missing.join(', ')}: run "Orchestrator: Configure Model Provider…"`);
    for (const r of keys.refused) {
      this.log.error(r.reason);
      void vscode.window.showErrorMessage(`Orchestrator: model ${r.reason}.`, 'Open Setting').then((pick) => {
        if (pick) void openSetting('orchestrator.opencode.providers');
      });
    }
    if (this.client) return;
    const effective = { ...config, agents: { ...config.agents, providers: keys.providers.length ? keys.providers : undefined } };
    this.started = effective;
    const client = createClient(
      this.extension,
      effective,
      this.log,
      this.policy,
      {
        onCrash: (n) => this.log.warn(`orchestrator server exited unexpectedly (${n} crash(es) in 3 minutes); restarting`),
        onGiveUp: (n) => this.giveUp(n),
      },
      keys.env,
    );
    this.client = client;
    onNotification(client, serverDidChangeStatus, (s) => this.update({ clientState: 'running', status: s }));
    onNotification(client, runDidUpdate, (u) => this.runChanged.fire(u.run));
    onNotification(client, sessionDidChange, (v) => this.sessionChanged.fire(v));
    onNotification(client, agentDidChange, (p) => this.agentsChanged.fire(p.agents));
    onRequest(client, permissionRequest, (ask) => this.permissions.ask(ask));
    client.onDidChangeState((e) => {
      if (e.newState === State.Running) this.update({ ...this.snapshot, clientState: 'running', stoppedReason: undefined });
      else if (e.newState === State.Starting) this.update({ ...this.snapshot, clientState: 'starting' });
      else if (e.newState === State.Stopped && this.snapshot.clientState !== 'stopped')
        this.update({ ...this.snapshot, clientState: 'starting' });
    });
    this.update({ clientState: 'starting', status: this.snapshot.status });
    await client.start();
  }

  /** Typed request to the server. Rejects when the client is not running. */
  async request<D extends RequestDef<string, unknown, unknown>>(def: D, params: ParamsOf<D>): Promise<ResultOf<D>> {
    if (!this.client) throw new Error(vscode.l10n.t('The orchestrator server is not running. Run "Orchestrator: Restart Server".'));
    return sendRequest(this.client, def, params);
  }

  async restart(): Promise<void> {
    this.policy.reset();
    const old = this.client;
    this.client = undefined;
    this.update({ clientState: 'starting', status: null });
    if (old) await old.dispose(5_000).catch((e: unknown) => this.log.warn(`stopping the old server failed: ${String(e)}`));
    await this.start();
  }

  private giveUp(crashes: number): void {
    const reason = vscode.l10n.t(
      'The orchestrator server crashed {0} times in 3 minutes and will not be restarted automatically.',
      crashes,
    );
    this.log.error(reason);
    this.update({ clientState: 'stopped', status: this.snapshot.status, stoppedReason: reason });
    const [showLogs, restart] = [vscode.l10n.t('Show Logs'), vscode.l10n.t('Restart Server')];
    void vscode.window.showErrorMessage(reason, showLogs, restart).then((pick) => {
      if (pick === showLogs) this.log.show();
      if (pick === restart) void this.restart();
    });
  }

  private update(s: StatusSnapshot): void {
    this.snapshot = s;
    this.changed.fire(s);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.dispose(5_000);
  }
}

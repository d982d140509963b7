/**
 * Owns the LanguageClient lifecycle, the latest server status and the output channel. Everything else
 * in the extension reaches the server through `Ctx.request`.
 */
import * as vscode from 'vscode';
import type { AgentView } from '../../protocol/agent';
import {
  agentDidChange,
  permissionRequest,
  runDidUpdate,
  serverDidChangeStatus,
  serverStatus,
  serverWhoami,
  sessionDidChange,
} from '../../protocol/methodRefs';
import {
  onNotification,
  onRequest,
  sendRequest,
  type ParamsOf,
  type AnyRequestRef,
  type ResultOf,
  type RpcEndpoint,
} from '../../protocol/messages';
import type { RunView } from '../../protocol/run';
import type { ServerStatus, WhoAmI } from '../../protocol/server';
import type { SessionView } from '../../protocol/session';
import type { ClientState } from '../../protocol/webview/dashboard';
import { PermissionPrompt } from './permissions';
import { openSetting, readConfig, type OrchestratorConfig } from './config';
import { UserWaitsTracker } from './userWaits';
import { providerKeyEnv } from './modelKeys';
import { teeLog } from './logTee';
import { RestartPolicy } from './restartPolicy';
import { roleContextKey } from './commands/roleGate';
import { teamKeySecretId } from './teamReconnect';
// The client library and `ws` are imported when a server is started, not when the extension activates (issue 13).
import { clientState } from './clientStates';

/** The server the extension talks to: the bundled one over stdio (LanguageClient) or a team server. */
type ServerLink = RpcEndpoint & { start(): Promise<void>; dispose(timeoutMs?: number): Promise<void> };

/** The team server the extension is connected to and who its key belongs to. */
export interface TeamInfo {
  url: string;
  who: WhoAmI;
}

export interface StatusSnapshot {
  clientState: ClientState;
  status: ServerStatus | null;
  stoppedReason?: string;
  /** Set when connected to a team server (`orchestrator.server.url`). */
  team?: TeamInfo;
}

export class Ctx implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  /** The last lines written to `log` (for the API; the server redacts its lines before sending them). */
  readonly logLines: () => string[];
  private client: ServerLink | undefined;
  /** `JSON.stringify(readConfig())` at the last start: a settings change that leaves it equal needs no restart. */
  private startedFrom = '';
  /** The restart in flight, if any (see `restart`). */
  private restarting: Promise<void> | undefined;
  /** The role of the connected team key (`local` for the bundled server), also the `orchestrator.role` context. */
  private currentRole = 'local';
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

  /** `local`, or the team role (`viewer`, `developer`, `admin`) of the connected key. */
  get role(): string {
    return this.currentRole;
  }

  /** Whether the server in use was started or connected with exactly these settings. */
  runsWith(config: OrchestratorConfig): boolean {
    return (!!this.client || !!this.restarting) && this.startedFrom === JSON.stringify(config);
  }

  private setRole(role: string): void {
    this.currentRole = role;
    void vscode.commands.executeCommand('setContext', roleContextKey, role);
  }

  async start(): Promise<void> {
    if (this.client) return;
    const config = readConfig();
    if (config.serverUrl) return this.startTeam(config);
    this.setRole('local');
    const keys = await providerKeyEnv(this.extension.secrets, config.agents.providers ?? []);
    if (keys.missing.length)
      this.log.warn(`no API key stored for provider(s) ${keys.missing.join(', ')}: run "Orchestrator: Configure Model Provider…"`);
    for (const r of keys.refused) {
      this.log.error(r.reason);
      void vscode.window.showErrorMessage(`Orchestrator: model ${r.reason}.`, 'Open Setting').then((pick) => {
        if (pick) void openSetting('orchestrator.opencode.providers');
      });
    }
    const { createClient } = await import('./client');
    if (this.client) return;
    const effective = { ...config, agents: { ...config.agents, providers: keys.providers.length ? keys.providers : undefined } };
    this.started = effective;
    this.startedFrom = JSON.stringify(config);
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
    this.wire(client);
    client.onDidChangeState((e) => {
      if (e.newState === clientState.running) this.update({ ...this.snapshot, clientState: 'running', stoppedReason: undefined });
      else if (e.newState === clientState.starting) this.update({ ...this.snapshot, clientState: 'starting' });
      else if (e.newState === clientState.stopped && this.snapshot.clientState !== 'stopped')
        this.update({ ...this.snapshot, clientState: 'starting' });
    });
    this.update({ clientState: 'starting', status: this.snapshot.status });
    await client.start();
  }

  /** The server's notifications and its permission asks, for either kind of link. */
  private wire(link: RpcEndpoint): void {
    onNotification(link, serverDidChangeStatus, (s) => this.update({ clientState: 'running', status: s, team: this.snapshot.team }));
    onNotification(link, runDidUpdate, (u) => this.runChanged.fire(u.run));
    onNotification(link, sessionDidChange, (v) => this.sessionChanged.fire(v));
    onNotification(link, agentDidChange, (p) => this.agentsChanged.fire(p.agents));
    onRequest(link, permissionRequest, (ask) => this.permissions.ask(ask));
  }

  /**
   * Team mode: connect to `orchestrator.server.url` with the key from SecretStorage (never from settings,
   * never logged). After every (re)connection the status and the key's tenant and role are read
   * (`server/whoami`) and the `orchestrator.role` context follows the role.
   */
  private async startTeam(config: OrchestratorConfig): Promise<void> {
    const url = config.serverUrl;
    this.started = config;
    this.startedFrom = JSON.stringify(config);
    this.setRole('unknown');
    const [key, { TeamConnection }] = await Promise.all([this.extension.secrets.get(teamKeySecretId(url)), import('./teamConnection')]);
    const fail = (reason: string) => {
      this.log.error(reason);
      this.update({ clientState: 'stopped', status: null, stoppedReason: reason });
      const [connect, showLogs] = [vscode.l10n.t('Connect to Team Server…'), vscode.l10n.t('Show Logs')];
      void vscode.window.showErrorMessage(reason, connect, showLogs).then((pick) => {
        if (pick === connect) void vscode.commands.executeCommand('orchestrator.connectTeamServer');
        if (pick === showLogs) this.log.show();
      });
    };
    if (!key) {
      // Still a link, so that Restart and Disconnect behave as usual.
      this.client = { ...unconnected(url), start: async () => undefined, dispose: async () => undefined };
      return fail(vscode.l10n.t('No API key is stored for the team server at {0}: run "Orchestrator: Connect to Team Server…".', url));
    }
    const link = new TeamConnection(
      { url, key },
      {
        log: (level, line) => this.log[level](line),
        onState: (state, reason) => {
          if (this.client !== link) return;
          if (state === 'stopped' && reason) fail(reason);
          else if (state === 'connecting') this.update({ ...this.snapshot, clientState: 'starting' });
        },
        onWarn: (text) => void vscode.window.showWarningMessage(text),
      },
    );
    this.client = link;
    this.wire(link);
    const ready = new Promise<void>((resolve) =>
      link.onConnected(() => {
        void Promise.all([sendRequest(link, serverStatus, {}), sendRequest(link, serverWhoami, {})]).then(
          ([status, who]) => {
            if (this.client !== link) return resolve();
            if (who) this.setRole(who.role);
            this.log.info(
              who
                ? `team server ${url}: tenant ${who.tenantId}, signed in as ${who.userName} (${who.role})`
                : `${url} answered as a single-user server (no accounts)`,
            );
            this.update({ clientState: 'running', status, team: who ? { url, who } : undefined });
            resolve();
          },
          (e: unknown) => {
            this.log.error(`team server ${url}: reading the status failed: ${(e as Error).message}`);
            resolve();
          },
        );
      }),
    );
    this.update({ clientState: 'starting', status: null });
    // A connection that cannot be made was already reported (the status bar and a notification say why).
    if (
      await link.start().then(
        () => true,
        () => false,
      )
    )
      await ready;
  }

  /** Typed request to the server. Rejects when the client is not running. */
  async request<D extends AnyRequestRef>(def: D, params: ParamsOf<D>): Promise<ResultOf<D>> {
    if (!this.client) throw new Error(vscode.l10n.t('The orchestrator server is not running. Run "Orchestrator: Restart Server".'));
    return sendRequest(this.client, def, params);
  }

  /**
   * One restart at a time: Connect to Team Server… restarts by itself while the settings listener may ask for
   * one too (its debounce can fire while the old server is still stopping). A restart asked for meanwhile runs
   * after the one in flight, and `runsWith` already answers for the settings the one in flight started from,
   * so the listener does not restart a connection that is just being made.
   */
  async restart(): Promise<void> {
    const previous = this.restarting ?? Promise.resolve();
    const mine = previous.then(
      () => this.restartNow(),
      () => this.restartNow(),
    );
    this.restarting = mine;
    try {
      await mine;
    } finally {
      if (this.restarting === mine) this.restarting = undefined;
    }
  }

  private async restartNow(): Promise<void> {
    this.startedFrom = JSON.stringify(readConfig());
    this.policy.reset();
    const old = this.client;
    this.client = undefined;
    this.update({ clientState: 'starting', status: null });
    this.setRole('unknown');
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

/** A link that refuses every request with what to do (team mode without a stored key). */
function unconnected(url: string): RpcEndpoint {
  const no = () =>
    Promise.reject(new Error(vscode.l10n.t('Not connected to the team server at {0}: run "Orchestrator: Connect to Team Server…".', url)));
  return { sendRequest: no, sendNotification: () => undefined, onNotification: () => undefined, onRequest: () => undefined };
}

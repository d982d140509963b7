/**
 * Owns the server's identity and health; publishes a full snapshot whenever it changes.
 */
import type { PluginStatus, SandboxStatus, ServerMode, ServerStatus } from '../../../protocol/server';
import { buildStatus, type AgentStatus } from '../domain/status';
import type { StorePort } from '../ports/store';

export interface StatusServiceDeps {
  version: string;
  mode: ServerMode;
  dataDir: string;
  store: StorePort;
  now?: () => number;
  pid?: number;
  node?: string;
}

export class StatusService {
  private readonly startedAtMs: number;
  private readonly listeners = new Set<(s: ServerStatus) => void>();
  private loaded = false;
  private fault?: string;
  private agents: AgentStatus[] = [];
  private sandbox?: SandboxStatus;
  private plugins: PluginStatus[] = [];
  private readonly now: () => number;

  constructor(private readonly deps: StatusServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.startedAtMs = this.now();
  }

  /** Called once the store has loaded; publishes the first real snapshot. */
  markLoaded(): void {
    this.loaded = true;
    this.publish();
  }

  /**
   * A write fault stopped the work (the first one is kept: it is the cause). The health turns degraded
   * with this message until the process restarts; listeners get a new snapshot.
   */
  reportWriteFault(message: string): void {
    if (this.fault) return;
    this.fault = message;
    this.publish();
  }

  writeFault(): string | undefined {
    return this.fault;
  }

  /** Agents' availability changed (the start-up probe, a fatal start failure, a real start): publishes. */
  setAgents(agents: AgentStatus[]): void {
    this.agents = agents;
    if (this.loaded) this.publish();
  }

  /** Records the agents' command sandbox state (known once the agents are composed) and publishes. */
  setSandbox(sandbox: SandboxStatus): void {
    this.sandbox = sandbox;
    this.publish();
  }

  /** Plugin adapters loaded, untrusted or failed (a new problem publishes again). */
  setPlugins(plugins: PluginStatus[]): void {
    this.plugins = plugins;
    if (this.loaded) this.publish();
  }

  get(): ServerStatus {
    return buildStatus({
      sandbox: this.sandbox,
      version: this.deps.version,
      pid: this.deps.pid ?? 0,
      node: this.deps.node ?? '',
      mode: this.deps.mode,
      startedAtMs: this.startedAtMs,
      nowMs: this.now(),
      dataDir: this.deps.dataDir,
      store: this.loaded ? this.deps.store.status() : null,
      writeFault: this.fault,
      agents: this.agents,
      plugins: this.plugins,
    });
  }

  onDidChange(listener: (s: ServerStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(): void {
    const s = this.get();
    for (const l of this.listeners) l(s);
  }
}

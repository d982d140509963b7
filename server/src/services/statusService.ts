/**
 * Owns the server's identity and health; publishes a full snapshot whenever it changes.
 */
import type { SandboxStatus, ServerMode, ServerStatus } from '../../../protocol/server';
import { buildStatus } from '../domain/status';
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
  private sandbox?: SandboxStatus;
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

  /** Records the agents' command sandbox state (known once the agents are composed) and publishes. */
  setSandbox(sandbox: SandboxStatus): void {
    this.sandbox = sandbox;
    this.publish();
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

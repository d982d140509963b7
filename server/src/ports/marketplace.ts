/**
 * Ports of the agent marketplace: where index sources come from, how an agent is installed, and how an installed
 * agent becomes (or stops being) a routable agent.
 */
import type { AgentDescriptor } from '../domain/agentDescriptor';
import type { CatalogSource } from '../domain/marketplace/catalog';
import type { InstallPlan } from '../domain/marketplace/installPlan';

export interface IndexSourcesPort {
  /** Every source, read now: the bundled snapshot, index files and URLs, custom entries. A failed read is `error`. */
  read(): Promise<CatalogSource[]>;
}

export interface AgentInstallerPort {
  /**
   * Installs into `plan.installDir` (replacing what is there). npx: returns the absolute path of the package's bin.
   * binary: download, sha256 check, unpack. On any failure the folder is removed and a typed `DomainError` says why.
   */
  install(plan: InstallPlan): Promise<{ commandPath?: string }>;
  /** Whether uv (uvx) can be run. */
  hasUv(): Promise<boolean>;
  /** Removes an installed agent's folder (missing is fine). */
  remove(dir: string): Promise<void>;
}

export interface AgentRegistryPort {
  /** Whether the id belongs to an agent not installed from the marketplace (OpenCode, `agents.acpAgents`). */
  isConfigured(id: string): boolean;
  /** Makes the agent routable (enabled) or listed as disabled, replacing an earlier registration of the id. */
  register(descriptor: AgentDescriptor, o: { commandPath?: string; installDir?: string; enabled: boolean }): Promise<void>;
  unregister(id: string): Promise<void>;
  /** Enabled agents take new tasks; a disabled one finishes what runs on it. */
  setEnabled(id: string, enabled: boolean): void;
  /** Tasks running on the agent now. */
  running(id: string): number;
}

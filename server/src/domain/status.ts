/**
 * Health derivation: one rule, used by the server, the CLI and the team server alike.
 */
import type { Health, PluginStatus, SandboxStatus, ServerMode, ServerStatus, StoreStatus } from '../../../protocol/server';

export type AgentStatus = ServerStatus['agents'][number];

export interface StatusInputs {
  version: string;
  pid: number;
  node: string;
  mode: ServerMode;
  startedAtMs: number;
  nowMs: number;
  dataDir: string;
  store: StoreStatus | null;
  /** A write fault (ENOSPC, EIO, EACCES, …) that stopped dispatching, as `describeWriteFault` words it. */
  writeFault?: string;
  /** Agents' availability; default none. */
  agents?: readonly AgentStatus[];
  /** The agents' command sandbox, once known. */
  sandbox?: SandboxStatus;
  /** Plugin adapters, when any is configured. */
  plugins?: readonly PluginStatus[];
}

/** Store problems first (they stop all writes), then agents that cannot start (they stop all work). */
export function deriveHealth(
  store: StoreStatus | null,
  agents: readonly AgentStatus[] = [],
  writeFault?: string,
): { health: Health; message: string } {
  if (!store) return { health: 'starting', message: 'The server is starting.' };
  if (writeFault) return { health: 'degraded', message: writeFault };
  if (store.state === 'locked') {
    return {
      health: 'degraded',
      message: `${store.error ?? 'Another orchestrator server owns the data folder.'} This server only reads: close the other window or set orchestrator.server.dataDir.`,
    };
  }
  if (store.state === 'corrupt') {
    const kept = store.backupPath ? ` A backup is at ${store.backupPath}.` : '';
    return {
      health: 'degraded',
      message: `The store could not be loaded and is read-only: ${store.error ?? 'unknown error'}.${kept} The original file was left untouched.`,
    };
  }
  const down = agents.filter((a) => a.availability.state === 'unavailable');
  if (down.length)
    return {
      health: 'degraded',
      message: down
        .map((a) => `${a.name} is unavailable: ${a.availability.message ?? a.availability.reason ?? 'unknown reason'}`)
        .join(' '),
    };
  const checking = agents.filter((a) => a.availability.state === 'checking').map((a) => a.name);
  const agentsNote = checking.length ? ` Checking ${checking.join(', ')}…` : '';
  return { health: 'ok', message: `The server is running and the store is healthy.${agentsNote}` };
}

export function buildStatus(i: StatusInputs): ServerStatus {
  const derived = deriveHealth(i.store, i.agents, i.writeFault);
  const { health } = derived;
  // A plugin that failed is reported and skipped: the rest of the server works, so the health is unchanged.
  const failed = (i.plugins ?? []).filter((p) => p.state === 'failed');
  const message = failed.length
    ? `${derived.message} Plugin problems: ${failed.map((p) => `${p.source}: ${p.message ?? 'failed'}`).join('; ')}`
    : derived.message;
  return {
    health,
    message,
    version: i.version,
    pid: i.pid,
    node: i.node,
    mode: i.mode,
    startedAt: new Date(i.startedAtMs).toISOString(),
    uptimeMs: Math.max(0, i.nowMs - i.startedAtMs),
    dataDir: i.dataDir,
    store: i.store ?? { kind: 'lowdb', path: '', schemaVersion: 0, state: 'ok' },
    agents: [...(i.agents ?? [])],
    ...(i.sandbox ? { sandbox: i.sandbox } : {}),
    ...(i.plugins?.length ? { plugins: [...i.plugins] } : {}),
  };
}

/**
 * Health derivation: one rule, used by the server, the CLI and the team server alike.
 */
import type { Health, SandboxStatus, ServerMode, ServerStatus, StoreStatus } from '../../../protocol/server';

export interface StatusInputs {
  version: string;
  pid: number;
  node: string;
  mode: ServerMode;
  startedAtMs: number;
  nowMs: number;
  dataDir: string;
  store: StoreStatus | null;
  /** The agents' command sandbox, once known. */
  sandbox?: SandboxStatus;
}

export function deriveHealth(store: StoreStatus | null): { health: Health; message: string } {
  if (!store) return { health: 'starting', message: 'The server is starting.' };
  if (store.state === 'locked') {
    return { health: 'degraded', message: `${store.error ?? 'Another orchestrator server owns the data folder.'} This server only reads: close the other window or set orchestrator.server.dataDir.` };
  }
  if (store.state === 'corrupt') {
    const kept = store.backupPath ? ` A backup is at ${store.backupPath}.` : '';
    return { health: 'degraded', message: `The store could not be loaded and is read-only: ${store.error ?? 'unknown error'}.${kept} The original file was left untouched.` };
  }
  return { health: 'ok', message: 'The server is running and the store is healthy.' };
}

export function buildStatus(i: StatusInputs): ServerStatus {
  const { health, message } = deriveHealth(i.store);
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
    ...(i.sandbox ? { sandbox: i.sandbox } : {}),
  };
}

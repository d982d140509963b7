/**
 * `server/*`: health and identity of the orchestrator server process.
 */
import { z } from 'zod';
import type { AgentAvailability } from './agent';
import { defineNotification, defineRequest } from './messages';

export type Health = 'starting' | 'ok' | 'degraded' | 'error';
export type ServerMode = 'stdio' | 'cli' | 'listen';

/** State of the embedded store as seen by the server. */
export interface StoreStatus {
  /** `lowdb`: the embedded JSON file (`path`); `postgres`: a team store (`path`: the server without credentials and the tenant). */
  kind: 'lowdb' | 'postgres';
  path: string;
  schemaVersion: number;
  /**
   * `corrupt`: the file failed to parse or validate; it was kept, a backup was written and writes are refused.
   * `locked`: another live server owns the data folder; this one only reads.
   */
  state: 'ok' | 'corrupt' | 'locked';
  error?: string;
  backupPath?: string;
}

/**
 * Whether agents' shell commands run inside an OS sandbox (bubblewrap on Linux) in which only the task's
 * folder and a private temp folder are writable. Detected once when the agents are composed.
 */
export interface SandboxStatus {
  enabled: boolean;
  /** One human sentence: the mechanism when enabled, otherwise why not and what would enable it. */
  reason: string;
}

export const sandboxStatusSchema = z.object({ enabled: z.boolean(), reason: z.string().min(1) }).strict();

/** `auto` (default): sandbox when the machine has a working bubblewrap; `off`: never. */
export const sandboxModeSchema = z.enum(['auto', 'off']);
export type SandboxMode = z.infer<typeof sandboxModeSchema>;

/**
 * A plugin adapter (issue 12) and what became of it. `loaded`: its agent is registered; `untrusted`: not loaded
 * until the user trusts this source with this sha256; `failed`: it could not be loaded (the message says why)
 * or it misbehaved (threw outside a turn, an unhandled rejection, a call that never returned) and was skipped.
 */
export interface PluginStatus {
  /** The folder or npm package name, as configured. */
  source: string;
  kind: 'path' | 'package';
  state: 'loaded' | 'untrusted' | 'failed';
  /** The agent id the plugin registers, once known. */
  agentId?: string;
  /** The entry file and its sha256 (what `orchestrator.plugins.trusted` names), once found. */
  entry?: string;
  sha256?: string;
  /** One human sentence: why it was not loaded, or the latest problem it caused. */
  message?: string;
  /** Problems seen after it loaded (most recent last, at most 20). */
  problems?: string[];
}

export interface ServerStatus {
  health: Health;
  /** One human sentence summarising the health. */
  message: string;
  version: string;
  pid: number;
  node: string;
  mode: ServerMode;
  startedAt: string;
  uptimeMs: number;
  dataDir: string;
  store: StoreStatus;
  /** Whether each agent can start; an `unavailable` one makes the health `degraded` and the message say why. */
  agents: { id: string; name: string; availability: AgentAvailability }[];
  /** The agents' command sandbox; absent until the agents are composed (read-only CLI commands never are). */
  sandbox?: SandboxStatus;
  /** Plugin adapters from `orchestrator.plugins.*`; absent when none is configured. */
  plugins?: PluginStatus[];
}

export const serverStatusParams = z
  .object({
    /** Include the transcript folder and the schema version history in the message. */
    verbose: z.boolean().optional(),
  })
  .strict();

/**
 * `server/status` (client → server): the current status.
 * Errors: InvalidParams (naming the field) for malformed params.
 */
export const serverStatus = defineRequest<ServerStatus>()('server/status', 'clientToServer', serverStatusParams);

/**
 * `server/didChangeStatus` (server → client): pushed after `initialized` and whenever the health, the
 * store state or an agent's availability changes. Params are the full status snapshot (never a delta).
 */
export const serverDidChangeStatus = defineNotification('server/didChangeStatus', 'serverToClient', z.custom<ServerStatus>());

/** Roles on a team server, weakest first (the server's table is `server/src/domain/auth/permissions.ts`). */
export const teamRoles = ['viewer', 'developer', 'admin'] as const;
export type TeamRole = (typeof teamRoles)[number];

/** Who the connection's API key belongs to on a team server. */
export interface WhoAmI {
  tenantId: string;
  userId: string;
  userName: string;
  role: TeamRole;
  keyId: string;
}

/**
 * `server/whoami` (client → server): the tenant, user and role of this connection's API key on a team
 * server (`orchestrator serve`); `null` from the single-user stdio server, which has no accounts. Every
 * role may call it. Errors: InvalidParams for any params but `{}`.
 */
export const serverWhoami = defineRequest<WhoAmI | null>()('server/whoami', 'clientToServer', z.object({}).strict());

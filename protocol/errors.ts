/**
 * JSON-RPC error codes. Standard codes keep their JSON-RPC values; ours live in the range
 * 43000–43999 so they never collide with JSON-RPC (-32768..-32000) or LSP codes.
 */
export const errorCodes = {
  /** Standard JSON-RPC: the params do not match the method's schema. `data.fields` names them. */
  invalidParams: -32602,
  /** Standard JSON-RPC: the method is unknown. */
  methodNotFound: -32601,
  /** Standard JSON-RPC: an unexpected server fault; the message says what failed. */
  internalError: -32603,
  /** The store file could not be read or validated; it was kept and backed up, writes are refused. */
  storeCorrupt: 43001,
  /** A write was attempted while the store is read-only (after a corrupt load). */
  storeReadOnly: 43002,
  /** The entity named in the params does not exist (in the caller's tenant). */
  notFound: 43003,
  /** The request conflicts with the entity's current state (e.g. an invalid transition). */
  conflict: 43004,
  /** An agent could not be started or reached. */
  agentUnavailable: 43005,
  /** A deadline expired. */
  timeout: 43006,
  /**
   * The agent is turned off by the `orchestrator.agents.disabled` setting (`run/start`); `data.agent` names it,
   * `data.setting` the setting. Nothing was started.
   */
  agentDisabled: 43007,
  /**
   * Team server: the caller's role may not call this method (or the method has no declared permission,
   * which fails closed); `data.method`, `data.role`, `data.required`. Nothing ran.
   */
  forbidden: 43008,
  /** Team server: too many requests (or failed sign-ins) in the window; `data.retryAfterMs`. Nothing ran. */
  tooManyRequests: 43009,
  /** Team server: the connection's API key was revoked or expired since it connected. Nothing ran. */
  unauthorized: 43010,
  /**
   * Team server: a tenant quota would be crossed (concurrent sessions, concurrent tasks, tokens per window);
   * `data.quota`, `data.limit`, `data.inUse`, `data.requested`. Nothing ran.
   */
  quotaExceeded: 43011,
} as const;

export type ErrorCode = (typeof errorCodes)[keyof typeof errorCodes];

/**
 * One problem with a request's params: where (the path inside the params, array indexes as numbers;
 * an unknown key is named by its own path) and what. Editors map it to a line (the plan review).
 */
export interface ParamsIssue {
  path: (string | number)[];
  message: string;
}

/** `data` attached to an InvalidParams error. `issues`: every problem with its path (decoding and plan rules). */
export interface InvalidParamsData {
  method: string;
  fields: string[];
  issues?: ParamsIssue[];
}

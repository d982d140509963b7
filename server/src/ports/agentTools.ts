/**
 * Agent tools: what our MCP server offers the agents we run (task context, progress, file leases,
 * budget). The service (`services/agentToolService.ts`) owns the rules and the per-run grants; the MCP
 * adapter (`adapters/mcp/mcpHttpServer.ts`) is only the transport: it checks the bearer token, finds the
 * grant and passes the call on. Nothing an agent sends decides which session, task or folder a call is about.
 */
import type { AgentToolName } from '../domain/orchestration/agentTools';

export type { AgentToolName } from '../domain/orchestration/agentTools';

/** How an agent reaches our MCP server for one run: handed to the agent runtime with the prompt. */
export interface McpAttachment {
  /** The server's name as the agent shows it (tools appear as e.g. `orchestrator_claim_lease` in OpenCode). */
  name: string;
  /** `http://127.0.0.1:<port>/mcp`. */
  url: string;
  /** Sent with every request (the run's `Authorization: Bearer …`). Secret: never logged. */
  headers: Record<string, string>;
}

/** What a tool call answers: JSON for the agent, or a refusal with the reason in words. */
export type ToolOutcome = { ok: true; data: unknown } | { ok: false; reason: string };

/** The run a bearer token was issued for (never taken from the agent). */
export interface ToolGrant {
  runId: string;
  sessionId?: string;
  taskId?: string;
  cwd: string;
}

/** What the MCP transport calls: resolve a token to its grant, then run a tool for it. */
export interface AgentToolBackend {
  /** The grant of a token, or undefined (the transport answers 401). */
  authenticate(token: string): ToolGrant | undefined;
  call(grant: ToolGrant, tool: AgentToolName, args: Record<string, unknown>): Promise<ToolOutcome>;
}

/** The transport that serves the tools (the MCP Streamable HTTP server on 127.0.0.1). */
export interface AgentToolServerPort {
  /** Starts listening (once); resolves with the endpoint URL. */
  start(backend: AgentToolBackend): Promise<string>;
  close(): Promise<void>;
}

/** What `report_progress` hands the run: recorded in the transcript as a `progress` event. */
export interface ProgressReport {
  message: string;
  percent?: number;
}

/** An open grant: the attachment for the agent and how to revoke it when the run ends. */
export interface OpenGrant {
  attachment: McpAttachment;
  /** Revokes the token: later requests with it get 401. Idempotent. */
  close(): void;
}

/** What the run service needs: a grant per run, or undefined when the tools cannot be served (logged). */
export interface AgentToolGrants {
  /** `onProgress` returns false when the run no longer takes progress (its turn ended). */
  open(grant: ToolGrant, onProgress: (p: ProgressReport) => boolean): Promise<OpenGrant | undefined>;
}

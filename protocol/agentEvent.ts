/**
 * The normalised agent activity stream shared by every agent adapter, the transcripts, the extension
 * and the dashboard; modelled on ACP `session/update`. Each event carries `seq` (monotonic per task),
 * `at` (ISO time) and `key` (a stable source id: equal keys mean the same fact).
 */
export type MessageRole = 'assistant' | 'user' | 'thought';
export type ToolCallStatus = 'pending' | 'in_progress' | 'completed' | 'failed';
export type StopReason = 'end_turn' | 'cancelled' | 'error';
export type PermissionDecision = 'allow' | 'deny';

export interface UsageTotals {
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  cacheReadTokens: number;
  /** Money in the provider's currency unit (USD for most); 0 when unknown. */
  cost: number;
}

export type AgentEventBody =
  | { kind: 'message_chunk'; role: MessageRole; text: string }
  | {
      kind: 'tool_call';
      id: string;
      title: string;
      toolName: string;
      status: ToolCallStatus;
      locations?: { path: string }[];
      input?: unknown;
      output?: string;
    }
  | { kind: 'permission_request'; id: string; permission: string; patterns?: string[]; toolCallId?: string }
  /**
   * How a permission request was answered: by the caller's policy, or denied because it timed out / had no policy.
   * `note` says who decided in words when it was not the policy alone: "allowed by the user", "remembered for
   * this session", "no answer within 120 s: denied".
   */
  | {
      kind: 'permission_decision';
      id: string;
      decision: PermissionDecision;
      by: 'policy' | 'timeout' | 'no_policy' | 'policy_error';
      note?: string;
    }
  | { kind: 'usage'; inputTokens: number; outputTokens: number; reasoningTokens?: number; cacheReadTokens?: number; cost: number }
  | { kind: 'retry'; attempt: number; message: string; nextAt?: string }
  /** What the agent says it is doing, reported through our MCP server's `report_progress` tool (percent 0–100). */
  | { kind: 'progress'; message: string; percent?: number }
  | { kind: 'error'; message: string; reason: string }
  | { kind: 'finished'; stopReason: StopReason };

export interface AgentEventMeta {
  /** Monotonic per task, starting at 1. */
  seq: number;
  /** ISO 8601 time the adapter observed the event. */
  at: string;
  /** Stable source id; equal keys mean the same fact. */
  key: string;
}

export type AgentEvent = AgentEventBody & AgentEventMeta;
export type AgentEventKind = AgentEventBody['kind'];

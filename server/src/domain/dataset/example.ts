/**
 * The canonical training example: OpenAI chat-with-tools (one conversation, the tools it may call) plus
 * where it came from. Every exporter starts from this shape. Pure types and small helpers, no I/O.
 */

export interface ToolCall {
  id: string;
  type: 'function';
  /** `arguments` is a JSON string (OpenAI shape), validated to parse to an object. */
  function: { name: string; arguments: string };
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: ToolCall[]; weight?: 0 | 1 }
  | { role: 'tool'; tool_call_id: string; content: string };

export type ChatRole = ChatMessage['role'];

export interface ToolDef {
  type: 'function';
  function: { name: string; description?: string; parameters: Record<string, unknown> };
}

/** Where an example came from (one agent run = one example). */
export interface Provenance {
  sessionId: string;
  /** The orchestrated task the run belongs to; absent for single runs. */
  taskId?: string;
  runId: string;
  /** The repository the run worked on (absolute path or a name). */
  repo: string;
  agent: string;
  model?: string;
  /** The run's final state (succeeded, failed, cancelled, …). */
  outcome: string;
  /** Whether the session's diff was applied to the user's working tree. */
  applied: boolean;
  /** ISO time the run started, when known. */
  createdAt?: string;
}

export interface Example {
  messages: ChatMessage[];
  tools: ToolDef[];
}

/** A redaction, recorded without the text it removed. */
export interface Redaction {
  /** Rule or category: a secretlint rule id (`@secretlint/secretlint-rule-github`), `email`, `phone`, `ip`. */
  kind: string;
  /** `messages[3].content`, `messages[2].tool_calls[0].function.arguments.command`, … */
  field: string;
  /** Offsets of the placeholder in the redacted text of that field. */
  start: number;
  end: number;
}

/** `curator`: a person excluded the candidate. */
export type CurationStage = 'curator' | 'build' | 'validate' | 'exact_dedup' | 'near_dedup' | 'redact' | 'quality' | 'split';

/** The fate of one candidate: kept (with its split) or dropped (with the stage and the reason). */
export interface ExampleRecord {
  source: string;
  provenance: Provenance;
  status: 'kept' | 'dropped';
  /** The stage that dropped it (absent when kept). */
  stage?: CurationStage;
  reason?: string;
  /** For duplicates: the source of the example that was kept instead. */
  duplicateOf?: string;
  /** SHA-256 of the canonical JSON of the normalised messages (before redaction). */
  contentHash?: string;
  redactions: Redaction[];
  tokens?: number;
  split?: 'train' | 'validation';
  /** Indexes of the messages a person edited (the curation webview). */
  edited?: number[];
}

/** A kept example as exported: the conversation, its split and its provenance. */
export interface CuratedExample extends Example {
  source: string;
  split: 'train' | 'validation';
  tokens: number;
  provenance: Provenance;
}

export const roles: readonly ChatRole[] = ['system', 'user', 'assistant', 'tool'];

/** OpenAI function names: letters, digits, `_` and `-`, at most 64. */
export const toolNamePattern = /^[A-Za-z0-9_-]{1,64}$/;

/** Every text of a conversation, for token counts and near-duplicate shingles. */
export function conversationText(messages: readonly ChatMessage[]): string {
  const parts: string[] = [];
  for (const m of messages) {
    parts.push(m.role);
    if (m.content) parts.push(m.content);
    if (m.role === 'assistant') for (const c of m.tool_calls ?? []) parts.push(c.function.name, c.function.arguments);
  }
  return parts.join('\n');
}

/**
 * ACP `session/update` → normalised `AgentEvent`s, through the task's `AgentEventLog` (stable keys, seq order,
 * text by offset, tool statuses only forward). Updates are read defensively: the agent is a separate program,
 * so a malformed update is reported (not thrown) and skipped, and huge text is capped before it reaches the
 * transcript.
 */
import type { AgentEvent, AgentEventBody, AgentEventLog, MessageRole, ToolCallStatus } from '../../domain/agentEvent';

/** What we remember of a tool call across its updates (a `tool_call_update` may carry only what changed). */
export interface ToolState {
  id: string;
  title: string;
  kind?: string;
  status: ToolCallStatus;
  locations: string[];
  rawInput?: unknown;
  output?: string;
}

export interface NormalizeLimits {
  /** Longest text of one chunk kept in the transcript; the rest is replaced by a note. */
  maxChunkChars: number;
  /** Longest tool output kept. */
  maxToolOutputChars: number;
}

export const defaultLimits: NormalizeLimits = { maxChunkChars: 256 * 1024, maxToolOutputChars: 64 * 1024 };

const statuses = new Set<ToolCallStatus>(['pending', 'in_progress', 'completed', 'failed']);
const chunkRoles: Record<string, MessageRole> = {
  agent_message_chunk: 'assistant',
  user_message_chunk: 'user',
  agent_thought_chunk: 'thought',
};

const isObj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);

export function cap(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}\n[… ${text.length - max} more characters not kept]`;
}

/** Text of an ACP content block (text, a resource's text, or a short placeholder). */
function blockText(b: unknown): string | undefined {
  if (!isObj(b) || typeof b.type !== 'string') return undefined;
  if (b.type === 'text') return typeof b.text === 'string' ? b.text : undefined;
  if (b.type === 'resource' && isObj(b.resource) && typeof b.resource.text === 'string') return b.resource.text;
  if (b.type === 'resource_link') return `[${String(b.name ?? b.uri ?? 'resource')}]`;
  return `[${b.type}]`;
}

/** Text of a tool call's `content` list: text blocks, diffs (by path) and terminals. */
function toolContentText(content: unknown): string | undefined {
  if (!Array.isArray(content)) return undefined;
  const parts: string[] = [];
  for (const c of content) {
    if (!isObj(c)) continue;
    if (c.type === 'content') {
      const t = blockText(c.content);
      if (t) parts.push(t);
    } else if (c.type === 'diff' && typeof c.path === 'string') parts.push(`diff ${c.path}`);
    else if (c.type === 'terminal' && typeof c.terminalId === 'string') parts.push(`terminal ${c.terminalId}`);
  }
  return parts.length ? parts.join('\n') : undefined;
}

function locationPaths(x: unknown): string[] | undefined {
  if (!Array.isArray(x)) return undefined;
  return x.filter((l): l is { path: string } => isObj(l) && typeof l.path === 'string').map((l) => l.path);
}

export type Normalized = { events: AgentEvent[] } | { malformed: string };

/**
 * Normalises the updates of one turn. `turnTag` makes keys unique per turn (ACP sends no ids for text
 * chunks except an optional `messageId`).
 */
export class UpdateNormalizer {
  readonly tools = new Map<string, ToolState>();
  private plans = 0;
  /** Session cost reported by `usage_update` (cumulative), for the turn's usage event. */
  lastCost?: number;

  constructor(
    private readonly log: AgentEventLog,
    private readonly turnTag: string,
    private readonly limits: NormalizeLimits = defaultLimits,
  ) {}

  apply(update: unknown): Normalized {
    if (!isObj(update)) return { malformed: 'update is not an object' };
    const kind = update.sessionUpdate;
    if (typeof kind !== 'string') return { malformed: 'sessionUpdate is missing' };
    const role = chunkRoles[kind];
    if (role) {
      if (!isObj(update.content)) return { malformed: `${kind}: content is missing` };
      const text = blockText(update.content);
      if (text === undefined) return { malformed: `${kind}: content is not a valid content block` };
      const messageId = typeof update.messageId === 'string' ? update.messageId : '';
      const e = this.log.textDelta(`${this.turnTag}:${role}:${messageId}`, role, cap(text, this.limits.maxChunkChars));
      return { events: e ? [e] : [] };
    }
    if (kind === 'tool_call' || kind === 'tool_call_update') return this.tool(kind, update);
    if (kind === 'plan') {
      if (!Array.isArray(update.entries)) return { malformed: 'plan: entries is not a list' };
      const lines = update.entries.filter(isObj).map((e) => `- [${String(e.status ?? 'pending')}] ${String(e.content ?? '')}`);
      const e = this.log.push(`plan:${this.turnTag}:${++this.plans}`, {
        kind: 'message_chunk',
        role: 'thought',
        text: cap(`Plan:\n${lines.join('\n')}\n`, this.limits.maxChunkChars),
      });
      return { events: e ? [e] : [] };
    }
    if (kind === 'usage_update') {
      const cost = isObj(update.cost) && typeof update.cost.amount === 'number' ? update.cost.amount : undefined;
      if (cost !== undefined) this.lastCost = cost;
      return { events: [] };
    }
    // available_commands_update, current_mode_update, config_option_update, session_info_update, notices, and
    // kinds newer than this client: nothing to normalise.
    return { events: [] };
  }

  private tool(kind: string, u: Record<string, unknown>): Normalized {
    if (typeof u.toolCallId !== 'string' || !u.toolCallId) return { malformed: `${kind}: toolCallId is missing` };
    if (u.status !== undefined && u.status !== null && !statuses.has(u.status as ToolCallStatus))
      return { malformed: `${kind}: status ${JSON.stringify(u.status)} is not one of pending, in_progress, completed, failed` };
    const prev = this.tools.get(u.toolCallId);
    const t: ToolState = prev ?? { id: u.toolCallId, title: '', status: 'pending', locations: [] };
    if (typeof u.title === 'string') t.title = u.title;
    if (typeof u.kind === 'string') t.kind = u.kind;
    if (typeof u.status === 'string') t.status = u.status as ToolCallStatus;
    const locs = locationPaths(u.locations);
    if (locs?.length) t.locations = locs;
    if (u.rawInput !== undefined && u.rawInput !== null) t.rawInput = u.rawInput;
    const out = toolContentText(u.content) ?? (typeof u.rawOutput === 'string' ? u.rawOutput : undefined);
    if (out !== undefined) t.output = cap(out, this.limits.maxToolOutputChars);
    this.tools.set(t.id, t);
    const body: Extract<AgentEventBody, { kind: 'tool_call' }> = {
      kind: 'tool_call',
      id: t.id,
      title: t.title || t.kind || 'tool',
      toolName: t.kind ?? 'other',
      status: t.status,
      ...(t.locations.length ? { locations: t.locations.map((p) => ({ path: p })) } : {}),
      ...(t.rawInput !== undefined ? { input: t.rawInput } : {}),
      ...(t.output !== undefined && (t.status === 'completed' || t.status === 'failed') ? { output: t.output } : {}),
    };
    const e = this.log.tool(body);
    return { events: e ? [e] : [] };
  }

  /** Records what a permission request says about its tool call (it may be the first we hear of it). */
  noteToolCall(toolCall: unknown): ToolState | undefined {
    if (!isObj(toolCall) || typeof toolCall.toolCallId !== 'string') return undefined;
    const prev = this.tools.get(toolCall.toolCallId);
    const t: ToolState = prev
      ? { ...prev, locations: [...prev.locations] }
      : { id: toolCall.toolCallId, title: '', status: 'pending', locations: [] };
    if (typeof toolCall.title === 'string') t.title = toolCall.title;
    if (typeof toolCall.kind === 'string') t.kind = toolCall.kind;
    const locs = locationPaths(toolCall.locations);
    if (locs?.length) t.locations = locs;
    if (toolCall.rawInput !== undefined && toolCall.rawInput !== null) t.rawInput = toolCall.rawInput;
    if (Array.isArray(toolCall.content))
      for (const c of toolCall.content)
        if (isObj(c) && c.type === 'diff' && typeof c.path === 'string' && !t.locations.includes(c.path)) t.locations.push(c.path);
    return t;
  }
}

/**
 * The normalised agent activity stream, modelled on ACP `session/update`: every agent adapter (OpenCode,
 * ACP agents) turns what its agent reports into these events, so transcripts and the dashboard treat all
 * agents alike.
 *
 * Every event carries `seq` (monotonic per task), `at` (ISO time) and `key`: a stable id derived from the
 * agent's own ids (part id + text offset, tool call id + status, …). When a stream drops and the adapter
 * resyncs from the agent's source of truth, the same facts produce the same keys, so nothing is emitted
 * twice and gaps are filled exactly once. Pure: no I/O, no node:*.
 */

// The event shapes are the contract shared with clients: defined once in protocol/agentEvent.ts.
import type { AgentEvent, AgentEventBody, MessageRole, ToolCallStatus, UsageTotals } from '../../../protocol/agentEvent';

export type {
  AgentEvent,
  AgentEventBody,
  AgentEventKind,
  AgentEventMeta,
  MessageRole,
  PermissionDecision,
  StopReason,
  ToolCallStatus,
  UsageTotals,
} from '../../../protocol/agentEvent';

export const emptyUsage = (): UsageTotals => ({ inputTokens: 0, outputTokens: 0, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 });

export function addUsage(total: UsageTotals, e: Extract<AgentEventBody, { kind: 'usage' }>): UsageTotals {
  return {
    inputTokens: total.inputTokens + e.inputTokens,
    outputTokens: total.outputTokens + e.outputTokens,
    reasoningTokens: total.reasoningTokens + (e.reasoningTokens ?? 0),
    cacheReadTokens: total.cacheReadTokens + (e.cacheReadTokens ?? 0),
    cost: total.cost + e.cost,
  };
}

const toolRank: Record<ToolCallStatus, number> = { pending: 0, in_progress: 1, completed: 2, failed: 2 };

/** Whether `next` moves a tool call forward (statuses never go back; completed and failed are final). */
export function isToolAdvance(prev: ToolCallStatus | undefined, next: ToolCallStatus): boolean {
  return prev === undefined || toolRank[next] > toolRank[prev];
}

/** The part of `full` not yet emitted, given that `emitted` characters of it were. */
export function textRemainder(emitted: number, full: string): { offset: number; text: string } | undefined {
  if (full.length <= emitted) return undefined;
  return { offset: emitted, text: full.slice(emitted) };
}

/** Key of a text chunk: the source part and the offset of the chunk within it. */
export const chunkKey = (partId: string, offset: number): string => `text:${partId}@${offset}`;
export const toolKey = (callId: string, status: ToolCallStatus): string => `tool:${callId}:${status}`;

/**
 * Union of two event lists by key, ordered by seq (first occurrence of a key wins). For consumers that hold
 * a transcript and receive a replay that overlaps it.
 */
export function mergeEvents(existing: readonly AgentEvent[], incoming: readonly AgentEvent[]): AgentEvent[] {
  const byKey = new Map<string, AgentEvent>();
  for (const e of existing) if (!byKey.has(e.key)) byKey.set(e.key, e);
  for (const e of incoming) if (!byKey.has(e.key)) byKey.set(e.key, e);
  return [...byKey.values()].sort((a, b) => a.seq - b.seq);
}

/**
 * Assigns seq/at/key to events of one task and drops repeats. Adapters feed it both live stream updates and
 * resync snapshots; the rules (dedupe by key, text by offset, tool status only forward) make the output the
 * same whichever way a fact arrived.
 */
export class AgentEventLog {
  private seq: number;
  private readonly seen = new Set<string>();
  private readonly textLength = new Map<string, number>();
  private readonly toolStatus = new Map<string, ToolCallStatus>();
  private readonly frozen = new Set<string>();
  private gapToken = 0;
  private inGap = false;

  constructor(
    private readonly now: () => string = () => new Date().toISOString(),
    startSeq = 0,
  ) {
    this.seq = startSeq;
  }

  get lastSeq(): number {
    return this.seq;
  }

  has(key: string): boolean {
    return this.seen.has(key);
  }

  /** Emits `body` under `key` unless that key was already emitted. */
  push(key: string, body: AgentEventBody): AgentEvent | undefined {
    if (this.seen.has(key)) return undefined;
    this.seen.add(key);
    return { ...body, seq: ++this.seq, at: this.now(), key } as AgentEvent;
  }

  /**
   * The live stream lost events (it was cut and reconnected): until `endGap(token)`, a delta cannot be placed,
   * because a delta carries no offset and text before it may have been missed. Such a delta freezes its part,
   * which then advances only through snapshots. Returns the token for `endGap`.
   */
  beginGap(): number {
    this.inGap = true;
    return ++this.gapToken;
  }

  /** The snapshot taken after gap `token` was applied; a newer gap (another cut) stays open. */
  endGap(token: number): void {
    if (token === this.gapToken) this.inGap = false;
  }

  /** A streamed text delta of part `partId` (ignored once the part was frozen by a resync snapshot or a gap). */
  textDelta(partId: string, role: MessageRole, delta: string): AgentEvent | undefined {
    if (this.inGap) this.frozen.add(partId);
    if (!delta || this.frozen.has(partId)) return undefined;
    const offset = this.textLength.get(partId) ?? 0;
    this.textLength.set(partId, offset + delta.length);
    return this.push(chunkKey(partId, offset), { kind: 'message_chunk', role, text: delta });
  }

  /**
   * The full text of part `partId` as the source of truth has it now: emits only what is missing.
   * `freeze` (use it for resync snapshots of parts still streaming): later deltas of the part are ignored,
   * because a delta carries no offset and may already be inside the snapshot; the part then advances only
   * through further snapshots (its final `updated` event, or the end-of-turn resync).
   */
  textSnapshot(partId: string, role: MessageRole, full: string, freeze = false): AgentEvent | undefined {
    if (freeze) this.frozen.add(partId);
    const rest = textRemainder(this.textLength.get(partId) ?? 0, full);
    if (!rest) return undefined;
    this.textLength.set(partId, full.length);
    return this.push(chunkKey(partId, rest.offset), { kind: 'message_chunk', role, text: rest.text });
  }

  /** A tool call update; emitted only when its status moves forward. */
  tool(body: Extract<AgentEventBody, { kind: 'tool_call' }>): AgentEvent | undefined {
    if (!isToolAdvance(this.toolStatus.get(body.id), body.status)) return undefined;
    this.toolStatus.set(body.id, body.status);
    return this.push(toolKey(body.id, body.status), body);
  }

  toolStatusOf(callId: string): ToolCallStatus | undefined {
    return this.toolStatus.get(callId);
  }
}

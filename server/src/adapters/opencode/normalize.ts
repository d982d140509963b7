/**
 * OpenCode parts/messages → normalised AgentEvents. Live SSE updates and resync snapshots both go through
 * `applyPart`, so a fact produces the same event key whichever way it arrived. No I/O here.
 */
import type { AssistantMessage, Message, Part, ToolPart } from '@opencode-ai/sdk/v2';
import type { AgentEvent, AgentEventBody, AgentEventLog, ToolCallStatus, UsageTotals } from '../../domain/agentEvent';
import { emptyUsage } from '../../domain/agentEvent';
import type { AgentErrorReason, FileChange } from '../../ports/agentRuntime';

export interface MessageWithParts {
  info: Message;
  parts: Part[];
}

const toolStatus: Record<ToolPart['state']['status'], ToolCallStatus> = {
  pending: 'pending',
  running: 'in_progress',
  completed: 'completed',
  error: 'failed',
};

function locationsOf(input: Record<string, unknown> | undefined): { path: string }[] | undefined {
  if (!input) return undefined;
  const p = input.filePath ?? input.filepath ?? input.path;
  return typeof p === 'string' && p ? [{ path: p }] : undefined;
}

export function toolEvent(part: ToolPart): Extract<AgentEventBody, { kind: 'tool_call' }> {
  const st = part.state;
  const input = st.status === 'pending' ? undefined : st.input;
  const title = ('title' in st && st.title) || part.tool;
  const body: Extract<AgentEventBody, { kind: 'tool_call' }> = {
    kind: 'tool_call',
    id: part.callID,
    title,
    toolName: part.tool,
    status: toolStatus[st.status],
  };
  const locations = locationsOf(input);
  if (locations) body.locations = locations;
  if (input && Object.keys(input).length) body.input = input;
  if (st.status === 'completed') body.output = st.output;
  if (st.status === 'error') body.output = st.error;
  return body;
}

/**
 * Applies one part (from an SSE `message.part.updated` or a messages snapshot). `fromResync` freezes text
 * parts that are still streaming (see `AgentEventLog.textSnapshot`).
 */
export function applyPart(log: AgentEventLog, part: Part, role: 'user' | 'assistant', fromResync: boolean): AgentEvent[] {
  const out: (AgentEvent | undefined)[] = [];
  switch (part.type) {
    case 'text':
      if (part.synthetic || part.ignored) break;
      out.push(log.textSnapshot(part.id, role, part.text, fromResync && !part.time?.end && role === 'assistant'));
      break;
    case 'reasoning':
      out.push(log.textSnapshot(part.id, 'thought', part.text, fromResync && !part.time?.end));
      break;
    case 'tool':
      out.push(log.tool(toolEvent(part)));
      break;
    case 'step-finish':
      out.push(
        log.push(`usage:${part.id}`, {
          kind: 'usage',
          inputTokens: part.tokens.input,
          outputTokens: part.tokens.output,
          reasoningTokens: part.tokens.reasoning,
          cacheReadTokens: part.tokens.cache.read,
          cost: part.cost,
        }),
      );
      break;
    case 'retry':
      out.push(
        log.push(`retry:${part.messageID}:${part.attempt}`, { kind: 'retry', attempt: part.attempt, message: part.error.data.message }),
      );
      break;
    default:
      break;
  }
  return out.filter((e): e is AgentEvent => !!e);
}

/** Messages of one turn: its user message and the assistant messages answering it. */
export function turnMessages(all: MessageWithParts[], userMessageId: string): MessageWithParts[] {
  return all.filter((m) => m.info.id === userMessageId || (m.info.role === 'assistant' && m.info.parentID === userMessageId));
}

/** The newest user message not older than `afterId` (ids sort by time), i.e. this turn's prompt. */
export function findTurnUserMessage(all: MessageWithParts[], previousUserMessageId?: string): string | undefined {
  const users = all.filter((m) => m.info.role === 'user' && (!previousUserMessageId || m.info.id > previousUserMessageId));
  return users.length ? users[users.length - 1].info.id : undefined;
}

export function applySnapshot(log: AgentEventLog, msgs: MessageWithParts[]): AgentEvent[] {
  const out: AgentEvent[] = [];
  for (const m of msgs) for (const p of m.parts) out.push(...applyPart(log, p, m.info.role, true));
  return out;
}

export interface TurnOutcome {
  /** The turn is over according to the messages (a final assistant message exists). */
  complete: boolean;
  summary: string;
  usage: UsageTotals;
  error?: { reason: AgentErrorReason | 'aborted'; message: string };
}

function assistantMessages(msgs: MessageWithParts[]): (MessageWithParts & { info: AssistantMessage })[] {
  return msgs.filter((m): m is MessageWithParts & { info: AssistantMessage } => m.info.role === 'assistant');
}

/** Classifies an OpenCode message error. */
export function classifyError(err: NonNullable<AssistantMessage['error']>): { reason: AgentErrorReason | 'aborted'; message: string } {
  const message = 'message' in err.data && typeof err.data.message === 'string' ? err.data.message : err.name;
  if (err.name === 'MessageAbortedError') return { reason: 'aborted', message };
  if (err.name === 'APIError' && looksUnreachable(message)) return { reason: 'unreachable', message };
  if (
    err.name === 'APIError' ||
    err.name === 'ProviderAuthError' ||
    err.name === 'ContextOverflowError' ||
    err.name === 'MessageOutputLengthError'
  )
    return { reason: 'model_error', message: `${err.name}: ${message}` };
  return { reason: 'protocol', message: `${err.name}: ${message}` };
}

export function looksUnreachable(message: string): boolean {
  return /cannot connect|unable to connect|ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|fetch failed|connection refused|socket hang up|timed? ?out/i.test(
    message,
  );
}

/** What the stored messages say about a turn (`msgs` = `turnMessages(...)`). */
export function turnOutcome(msgs: MessageWithParts[]): TurnOutcome {
  const assistants = assistantMessages(msgs);
  const usage = emptyUsage();
  for (const a of assistants) {
    usage.inputTokens += a.info.tokens.input;
    usage.outputTokens += a.info.tokens.output;
    usage.reasoningTokens += a.info.tokens.reasoning;
    usage.cacheReadTokens += a.info.tokens.cache.read;
    usage.cost += a.info.cost;
  }
  const last = assistants[assistants.length - 1];
  const summary = last
    ? last.parts
        .filter((p) => p.type === 'text' && !p.synthetic && !p.ignored)
        .map((p) => (p.type === 'text' ? p.text : ''))
        .join('')
    : '';
  if (!last) return { complete: false, summary, usage };
  const error = last.info.error ? classifyError(last.info.error) : undefined;
  const complete = !!error || (!!last.info.finish && last.info.finish !== 'tool-calls' && !!last.info.time.completed);
  return { complete, summary, usage, error };
}

interface OpencodeFileDiff {
  file?: string;
  patch?: string;
  additions: number;
  deletions: number;
  status?: 'added' | 'deleted' | 'modified';
}

export function toFileChanges(diffs: OpencodeFileDiff[] | undefined): FileChange[] {
  return (diffs ?? [])
    .filter((d) => d.file)
    .map((d) => ({
      path: d.file as string,
      status: d.status ?? 'modified',
      additions: d.additions,
      deletions: d.deletions,
      ...(d.patch ? { patch: d.patch } : {}),
    }));
}

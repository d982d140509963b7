/**
 * One agent run → one chat-with-tools example. The run's prompt is the user turn; the transcript's
 * assistant text chunks and tool calls (final status, input, output) become assistant messages with
 * `tool_calls`, each answered by a `tool` message. Thoughts and echoed user text are left out. A run that
 * did not finish (no `finished` event, stopped by cancel or error, a tool call never completed) is not
 * an example: the result says why. Tool definitions are inferred from the calls (names, argument keys
 * and JSON types), since transcripts do not carry the agent's tool schemas.
 */
import type { ChatMessage, Example, ToolCall, ToolDef } from './example';
import { toolNamePattern } from './example';

export interface RunSource {
  prompt: string;
  /** Transcript entries as stored (AgentEvent lines: seq, at, key, kind, …); unknown kinds are ignored. */
  events: readonly unknown[];
  system?: string;
  /**
   * The folder the run worked in (a worktree path holds the data folder and often the user's name): in
   * every text it becomes `.` (and `<folder>/x` becomes `x`), so examples do not depend on where they ran.
   */
  workdir?: string;
}

export type BuildResult = { ok: true; example: Example } | { ok: false; reason: string };

interface ToolState {
  id: string;
  name: string;
  status: string;
  input?: unknown;
  output?: string;
}

type Ev = Record<string, unknown> & { seq?: number; kind?: string; key?: string };

/** A tool name OpenAI accepts: other characters become `_`, at most 64. */
export const toolName = (raw: string): string => {
  const s = raw.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  return toolNamePattern.test(s) ? s : 'tool';
};

const jsonType = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v;

function argsObject(input: unknown): Record<string, unknown> {
  if (input && typeof input === 'object' && !Array.isArray(input)) return input as Record<string, unknown>;
  return input === undefined ? {} : { input };
}

/** Tool definitions inferred from the calls: each key seen, with the JSON types seen for it. */
export function inferTools(calls: readonly ToolCall[]): ToolDef[] {
  const byName = new Map<string, Map<string, Set<string>>>();
  for (const c of calls) {
    const props = byName.get(c.function.name) ?? new Map<string, Set<string>>();
    byName.set(c.function.name, props);
    for (const [k, v] of Object.entries(JSON.parse(c.function.arguments) as Record<string, unknown>)) {
      const types = props.get(k) ?? new Set<string>();
      types.add(jsonType(v));
      props.set(k, types);
    }
  }
  return [...byName.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, props]) => ({
      type: 'function',
      function: {
        name,
        parameters: {
          type: 'object',
          properties: Object.fromEntries(
            [...props.entries()]
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, t]) => {
                const types = [...t].sort();
                return [k, { type: types.length === 1 ? types[0] : types }];
              }),
          ),
        },
      },
    }));
}

function relativiser(workdir: string | undefined): <T>(v: T) => T {
  const dir = workdir?.replace(/\/+$/, '');
  if (!dir || dir.length < 2) return (v) => v;
  const fix = (s: string) => s.split(`${dir}/`).join('').split(dir).join('.');
  const walk = (v: unknown): unknown =>
    typeof v === 'string'
      ? fix(v)
      : Array.isArray(v)
        ? v.map(walk)
        : v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
          : v;
  return <T>(v: T) => walk(v) as T;
}

export function buildExample(run: RunSource): BuildResult {
  const rel = relativiser(run.workdir);
  const prompt = rel(run.prompt.trim());
  if (!prompt) return { ok: false, reason: 'empty: the run has no prompt' };
  // Order by seq and drop repeated keys (a replay overlapping the file).
  const seenKeys = new Set<string>();
  const events = (run.events.filter((e) => e && typeof e === 'object') as Ev[])
    .slice()
    .sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0))
    .filter((e) => {
      if (typeof e.key !== 'string') return true;
      if (seenKeys.has(e.key)) return false;
      seenKeys.add(e.key);
      return true;
    });

  const messages: ChatMessage[] = [
    ...(run.system ? [{ role: 'system' as const, content: run.system }] : []),
    { role: 'user', content: prompt },
  ];
  const tools = new Map<string, ToolState>();
  let text = '';
  let calls: string[] = [];
  let finished: string | undefined;
  const allCalls: ToolCall[] = [];

  const flush = () => {
    if (!text.trim() && !calls.length) return;
    const toolCalls: ToolCall[] = calls.map((id) => {
      const t = tools.get(id)!;
      return { id, type: 'function', function: { name: toolName(t.name), arguments: JSON.stringify(argsObject(t.input)) } };
    });
    allCalls.push(...toolCalls);
    messages.push({ role: 'assistant', content: text.trim() ? rel(text) : null, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) });
    for (const id of calls) {
      const t = tools.get(id)!;
      messages.push({ role: 'tool', tool_call_id: id, content: t.output ?? (t.status === 'failed' ? '(the tool call failed)' : '') });
    }
    text = '';
    calls = [];
  };

  for (const e of events) {
    if (e.kind === 'message_chunk' && e.role === 'assistant' && typeof e.text === 'string') {
      if (calls.length) flush();
      text += e.text;
    } else if (e.kind === 'tool_call' && typeof e.id === 'string') {
      const prev = tools.get(e.id);
      const next: ToolState = {
        id: e.id,
        name: typeof e.toolName === 'string' && e.toolName ? e.toolName : (prev?.name ?? 'tool'),
        status: typeof e.status === 'string' ? e.status : (prev?.status ?? 'pending'),
        input: e.input !== undefined ? rel(e.input) : prev?.input,
        output: typeof e.output === 'string' ? rel(e.output) : prev?.output,
      };
      tools.set(e.id, next);
      if (!prev) calls.push(e.id);
    } else if (e.kind === 'finished') {
      finished = typeof e.stopReason === 'string' ? e.stopReason : 'unknown';
    }
  }
  if (finished === undefined) return { ok: false, reason: 'truncated: the run has no finished event (it did not end)' };
  if (finished !== 'end_turn') return { ok: false, reason: `truncated: the run stopped with ${finished}, not end_turn` };
  const open = [...tools.values()].find((t) => t.status !== 'completed' && t.status !== 'failed');
  if (open) return { ok: false, reason: `truncated: tool call ${open.id} (${open.name}) never completed (status ${open.status})` };
  flush();
  if (messages[messages.length - 1]!.role === 'user') return { ok: false, reason: 'empty: no assistant text or tool call' };
  if (messages[messages.length - 1]!.role === 'tool')
    return { ok: false, reason: 'truncated: the run ended on a tool result without a final assistant message' };
  return { ok: true, example: { messages, tools: inferTools(allCalls) } };
}

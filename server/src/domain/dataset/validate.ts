/**
 * Normalise and validate one dataset row into an `Example`. Every problem is a `DomainError('bad_input')`
 * whose message names the row and the field (`row 3: messages[2].tool_calls[0].function.arguments: …`)
 * and whose data carries `{ row, field }`. Normalising: CRLF → LF, Unicode NFC, trailing whitespace of
 * texts trimmed, tool arguments re-serialised compactly.
 */
import { DomainError } from '../errors';
import { roles, toolNamePattern, type ChatMessage, type Example, type ToolCall, type ToolDef } from './example';

export const normaliseText = (s: string): string => s.replace(/\r\n?/g, '\n').normalize('NFC').trimEnd();

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v)?.slice(0, 60));

class RowContext {
  constructor(readonly row: number | string) {}
  fail(field: string, problem: string): never {
    throw new DomainError('bad_input', `row ${this.row}: ${field}: ${problem}`, { row: this.row, field });
  }
  keys(o: Obj, field: string, allowed: readonly string[]): void {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) this.fail(`${field}.${k}`, `unknown field (allowed: ${allowed.join(', ')})`);
  }
  text(v: unknown, field: string, opts: { nonEmpty?: boolean } = {}): string {
    if (typeof v !== 'string') this.fail(field, `must be a string, got ${show(v)}`);
    const s = normaliseText(v);
    if (opts.nonEmpty && !s) this.fail(field, 'must not be empty');
    return s;
  }
}

function toolCall(ctx: RowContext, v: unknown, field: string): ToolCall {
  if (!isObj(v)) ctx.fail(field, `must be an object, got ${show(v)}`);
  ctx.keys(v, field, ['id', 'type', 'function']);
  const id = ctx.text(v.id, `${field}.id`, { nonEmpty: true });
  if (v.type !== 'function') ctx.fail(`${field}.type`, `must be "function", got ${show(v.type)}`);
  const fn = v.function;
  if (!isObj(fn)) ctx.fail(`${field}.function`, `must be an object, got ${show(fn)}`);
  ctx.keys(fn, `${field}.function`, ['name', 'arguments']);
  const name = ctx.text(fn.name, `${field}.function.name`, { nonEmpty: true });
  if (!toolNamePattern.test(name)) ctx.fail(`${field}.function.name`, `must match ${toolNamePattern}, got ${show(name)}`);
  if (typeof fn.arguments !== 'string') ctx.fail(`${field}.function.arguments`, `must be a JSON string, got ${show(fn.arguments)}`);
  let args: unknown;
  try {
    args = JSON.parse(fn.arguments);
  } catch (e) {
    ctx.fail(`${field}.function.arguments`, `is not valid JSON (${(e as Error).message})`);
  }
  if (!isObj(args)) ctx.fail(`${field}.function.arguments`, `must be a JSON object, got ${show(args)}`);
  return { id, type: 'function', function: { name, arguments: JSON.stringify(args) } };
}

function message(ctx: RowContext, v: unknown, field: string): ChatMessage {
  if (!isObj(v)) ctx.fail(field, `must be an object, got ${show(v)}`);
  const role = v.role;
  if (typeof role !== 'string' || !(roles as readonly string[]).includes(role))
    ctx.fail(`${field}.role`, `must be one of ${roles.join(', ')}, got ${show(role)}`);
  switch (role) {
    case 'system':
    case 'user':
      ctx.keys(v, field, ['role', 'content']);
      return { role, content: ctx.text(v.content, `${field}.content`, { nonEmpty: true }) };
    case 'tool':
      ctx.keys(v, field, ['role', 'tool_call_id', 'content']);
      return {
        role,
        tool_call_id: ctx.text(v.tool_call_id, `${field}.tool_call_id`, { nonEmpty: true }),
        content: ctx.text(v.content, `${field}.content`),
      };
    default: {
      ctx.keys(v, field, ['role', 'content', 'tool_calls', 'weight']);
      const content = v.content === null || v.content === undefined ? null : ctx.text(v.content, `${field}.content`);
      let calls: ToolCall[] | undefined;
      if (v.tool_calls !== undefined) {
        if (!Array.isArray(v.tool_calls)) ctx.fail(`${field}.tool_calls`, `must be an array, got ${show(v.tool_calls)}`);
        calls = v.tool_calls.map((c, j) => toolCall(ctx, c, `${field}.tool_calls[${j}]`));
        if (!calls.length) calls = undefined;
      }
      if (!content && !calls) ctx.fail(field, 'an assistant message needs content or tool_calls');
      if (v.weight !== undefined && v.weight !== 0 && v.weight !== 1) ctx.fail(`${field}.weight`, `must be 0 or 1, got ${show(v.weight)}`);
      return {
        role: 'assistant',
        content: content || null,
        ...(calls ? { tool_calls: calls } : {}),
        ...(v.weight !== undefined ? { weight: v.weight as 0 | 1 } : {}),
      };
    }
  }
}

function toolDef(ctx: RowContext, v: unknown, field: string): ToolDef {
  if (!isObj(v)) ctx.fail(field, `must be an object, got ${show(v)}`);
  ctx.keys(v, field, ['type', 'function']);
  if (v.type !== 'function') ctx.fail(`${field}.type`, `must be "function", got ${show(v.type)}`);
  const fn = v.function;
  if (!isObj(fn)) ctx.fail(`${field}.function`, `must be an object, got ${show(fn)}`);
  ctx.keys(fn, `${field}.function`, ['name', 'description', 'parameters']);
  const name = ctx.text(fn.name, `${field}.function.name`, { nonEmpty: true });
  if (!toolNamePattern.test(name)) ctx.fail(`${field}.function.name`, `must match ${toolNamePattern}, got ${show(name)}`);
  if (!isObj(fn.parameters)) ctx.fail(`${field}.function.parameters`, `must be a JSON schema object, got ${show(fn.parameters)}`);
  const description = fn.description === undefined ? undefined : ctx.text(fn.description, `${field}.function.description`);
  return { type: 'function', function: { name, ...(description ? { description } : {}), parameters: fn.parameters } };
}

/**
 * Checks the conversation as a whole: starts with system/user, a tool message answers a call made earlier,
 * every call is answered, names are declared tools, and it ends with an assistant turn (not truncated).
 */
function checkConversation(ctx: RowContext, messages: readonly ChatMessage[], tools: readonly ToolDef[]): void {
  const first = messages.findIndex((m) => m.role !== 'system');
  if (first === -1 || messages[first]!.role !== 'user')
    ctx.fail(`messages[${Math.max(first, 0)}].role`, 'the conversation must start with a user message (after any system messages)');
  const declared = new Set(tools.map((t) => t.function.name));
  const open = new Map<string, number>();
  const seen = new Set<string>();
  messages.forEach((m, i) => {
    if (m.role === 'system' && i > first) ctx.fail(`messages[${i}].role`, 'system messages must come first');
    if ((m.role === 'user' || m.role === 'assistant') && open.size) {
      const [id, at] = [...open][0]!;
      ctx.fail(`messages[${at}].tool_calls`, `tool call ${show(id)} has no tool message answering it`);
    }
    if (m.role === 'assistant')
      m.tool_calls?.forEach((c, j) => {
        if (seen.has(c.id)) ctx.fail(`messages[${i}].tool_calls[${j}].id`, `duplicate tool call id ${show(c.id)}`);
        if (declared.size && !declared.has(c.function.name))
          ctx.fail(`messages[${i}].tool_calls[${j}].function.name`, `${show(c.function.name)} is not one of the declared tools`);
        seen.add(c.id);
        open.set(c.id, i);
      });
    if (m.role === 'tool') {
      if (!open.has(m.tool_call_id))
        ctx.fail(`messages[${i}].tool_call_id`, `${show(m.tool_call_id)} answers no earlier unanswered tool call`);
      open.delete(m.tool_call_id);
    }
  });
  if (open.size) {
    const [id, at] = [...open][0]!;
    ctx.fail(`messages[${at}].tool_calls`, `tool call ${show(id)} has no tool message answering it (truncated turn)`);
  }
  const last = messages[messages.length - 1]!;
  if (last.role !== 'assistant')
    ctx.fail(
      `messages[${messages.length - 1}].role`,
      `the conversation must end with an assistant message, not ${last.role} (truncated turn)`,
    );
}

/** Validates and normalises one row (an object with `messages` and optional `tools`). Throws naming row and field. */
export function validateExample(raw: unknown, row: number | string): Example {
  const ctx: RowContext = new RowContext(row);
  if (!isObj(raw)) ctx.fail('(row)', `must be a JSON object, got ${show(raw)}`);
  if (!Array.isArray(raw.messages)) ctx.fail('messages', `must be an array, got ${show(raw.messages)}`);
  if (!raw.messages.length) ctx.fail('messages', 'must not be empty');
  const messages = raw.messages.map((m, i) => message(ctx, m, `messages[${i}]`));
  if (raw.tools !== undefined && !Array.isArray(raw.tools)) ctx.fail('tools', `must be an array, got ${show(raw.tools)}`);
  const tools = ((raw.tools as unknown[] | undefined) ?? []).map((t, i) => toolDef(ctx, t, `tools[${i}]`));
  const names = new Set<string>();
  tools.forEach((t, i) => {
    if (names.has(t.function.name)) ctx.fail(`tools[${i}].function.name`, `duplicate tool ${show(t.function.name)}`);
    names.add(t.function.name);
  });
  checkConversation(ctx, messages, tools);
  return { messages, tools };
}

/**
 * Parses JSONL text of rows (1-based line numbers); all or nothing: the first bad line throws naming
 * the line and the field, and nothing is returned.
 */
export function parseExamplesJsonl(text: string): Example[] {
  const out: Example[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (e) {
      throw new DomainError('bad_input', `row ${i + 1}: (row): is not valid JSON (${(e as Error).message})`, {
        row: i + 1,
        field: '(row)',
      });
    }
    out.push(validateExample(raw, i + 1));
  });
  return out;
}

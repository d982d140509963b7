/**
 * Scripts for the scripted OpenAI-compatible model server.
 *
 * A script is chosen by a marker in the last user message: `[[script:NAME arg1 arg2 …]]`. The text after
 * the marker (up to the end of the message) is available as `rest`; words inside the marker are `args`.
 * The step within a turn is the number of `role:"tool"` messages after that user message, so a script can
 * issue a tool call at step 0 and answer with text once the tool result has come back.
 *
 * When no marker is present the "demo" behaviour answers, clearly labelled as scripted, and writes a file
 * when the prompt plainly asks for one.
 *
 * The block the orchestrator appends to a dependent task's prompt (its dependencies' summaries) is not
 * part of the request: it is cut off before anything is chosen (`requestText`), so a script never copies
 * it into a file and the demo never acts on an earlier reply quoted there.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dependencyContextHeading } from '../../domain/orchestration/plan';

/** What one chat-completions request should stream back. */
export type ScriptStep =
  | { kind: 'text'; text: string; chunkSize?: number; delayMs?: number }
  | { kind: 'tool'; calls: ToolCallSpec[]; delayMs?: number }
  | { kind: 'http_error'; status: number; message: string; retryAfterSec?: number }
  /** Streams `before` as text, then a chunk that is not valid JSON, then ends the stream. */
  | { kind: 'malformed'; before?: string }
  /** Sends the SSE headers and one empty delta, then nothing until the client goes away. */
  | { kind: 'hang' };

export interface ToolCallSpec {
  name: string;
  args: Record<string, unknown>;
}

export interface ScriptContext {
  /** Tool results already returned in this turn (0 = first LLM call of the turn). */
  step: number;
  /** Words inside the marker after the script name. */
  args: string[];
  /** Text after the marker, trimmed. */
  rest: string;
  /** Whole text of the last user message. */
  userText: string;
  /** `Working directory:` from the system prompt, when present (OpenCode puts it there). */
  cwd?: string;
  /** Contents of the tool results of this turn, oldest first. */
  toolResults: string[];
  /** Tool names offered in the request. */
  tools: string[];
  /** How many requests this conversation (x-session-id header, else the user text) has made for this step. */
  attempt: number;
}

export type Script = (ctx: ScriptContext) => ScriptStep;

export const demoLabel = '[demo model — scripted, no real LLM]';

const markerRe = /\[\[script:([A-Za-z0-9_.-]+)((?:\s+[^\]\s]+)*)\s*\]\]/;

export interface ParsedMarker {
  name: string;
  args: string[];
  rest: string;
}

/** The user's request without the dependency context the orchestrator appended to it. */
export function requestText(text: string): string {
  const at = text.indexOf(`\n\n${dependencyContextHeading}`);
  return at < 0 ? text : text.slice(0, at);
}

export function parseMarker(text: string): ParsedMarker | undefined {
  const m = markerRe.exec(text);
  if (!m) return undefined;
  const args = (m[2] ?? '').trim().split(/\s+/).filter(Boolean);
  const rest = text.slice(m.index + m[0].length).trim();
  return { name: m[1], args, rest };
}

/** Makes a relative path absolute against the working directory OpenCode reported (its file tools want absolute paths). */
export function absolute(file: string, cwd?: string): string {
  if (!cwd || file.startsWith('/') || /^[A-Za-z]:[\\/]/.test(file)) return file;
  return `${cwd.replace(/[\\/]$/, '')}/${file}`;
}

function finalText(ctx: ScriptContext, prefix = 'Done.'): ScriptStep {
  const last = ctx.toolResults[ctx.toolResults.length - 1] ?? '';
  return { kind: 'text', text: `${prefix} Last tool said: ${last.slice(0, 200)}` };
}

/** `[[script:write_file PATH]] content…` → write, then a final text. */
const writeFile: Script = (ctx) => {
  if (ctx.step > 0) return finalText(ctx, `Wrote ${ctx.args[0]}.`);
  const file = ctx.args[0] ?? 'scripted.txt';
  return { kind: 'tool', calls: [{ name: 'write', args: { filePath: absolute(file, ctx.cwd), content: `${ctx.rest}\n` } }] };
};

/** `[[script:read_file PATH]]` → read, then a final text quoting the result. */
const readFile: Script = (ctx) => {
  if (ctx.step > 0) return finalText(ctx, `Read ${ctx.args[0]}.`);
  return { kind: 'tool', calls: [{ name: 'read', args: { filePath: absolute(ctx.args[0] ?? '', ctx.cwd) } }] };
};

/** `[[script:edit_file PATH OLD NEW]]` → read, edit (OpenCode refuses an edit without a prior read), final text. */
const editFile: Script = (ctx) => {
  const [file = '', oldString = '', newString = ''] = ctx.args;
  const filePath = absolute(file, ctx.cwd);
  if (ctx.step === 0) return { kind: 'tool', calls: [{ name: 'read', args: { filePath } }] };
  if (ctx.step === 1) return { kind: 'tool', calls: [{ name: 'edit', args: { filePath, oldString, newString } }] };
  return finalText(ctx, `Edited ${file}.`);
};

/** `[[script:bash]] command…` → bash, then a final text. */
const bash: Script = (ctx) => {
  if (ctx.step > 0) return finalText(ctx, 'Ran the command.');
  return { kind: 'tool', calls: [{ name: 'bash', args: { command: ctx.rest } }] };
};

/** `[[script:bash_seq]] cmd1 ;; cmd2 ;; …` → one bash call per step, in order, then a final text. */
const bashSeq: Script = (ctx) => {
  const commands = ctx.rest
    .split(';;')
    .map((c) => c.trim())
    .filter(Boolean);
  if (ctx.step >= commands.length) return finalText(ctx, `Ran ${commands.length} commands.`);
  return { kind: 'tool', calls: [{ name: 'bash', args: { command: commands[ctx.step] } }] };
};

/** `[[script:slow N MS]]` → N text chunks, MS apart (defaults 10 × 500 ms). */
const slow: Script = (ctx) => {
  const n = Number(ctx.args[0] ?? 10) || 10;
  const ms = Number(ctx.args[1] ?? 500) || 500;
  const text = Array.from({ length: n }, (_, i) => `tick ${i} `).join('');
  return { kind: 'text', text, chunkSize: 'tick 0 '.length, delayMs: ms };
};

/** `[[script:slow_write PATH MS]] content…` → a write call streamed slowly (MS per chunk), then a final text. */
const slowWrite: Script = (ctx) => {
  if (ctx.step > 0)
    return {
      kind: 'text',
      text: `Wrote ${ctx.args[0]} slowly. ${'Streaming the final answer. '.repeat(4)}`,
      chunkSize: 8,
      delayMs: Number(ctx.args[1] ?? 200) || 200,
    };
  return {
    kind: 'tool',
    delayMs: Number(ctx.args[1] ?? 200) || 200,
    calls: [{ name: 'write', args: { filePath: absolute(ctx.args[0] ?? 'slow.txt', ctx.cwd), content: `${ctx.rest}\n` } }],
  };
};

/** `[[script:http_error STATUS TIMES]]` → answer STATUS for the first TIMES attempts (default: always), then text. */
const httpError: Script = (ctx) => {
  const status = Number(ctx.args[0] ?? 500) || 500;
  const times = ctx.args[1] === undefined ? Infinity : Number(ctx.args[1]);
  if (ctx.attempt <= times) {
    return { kind: 'http_error', status, message: `scripted HTTP ${status}`, retryAfterSec: status === 429 ? 1 : undefined };
  }
  return { kind: 'text', text: `Recovered after ${times} scripted HTTP ${status} answer(s).` };
};

/**
 * `[[script:fail_times COUNTER N PATH]] content…` → a task that fails its first N turns, across
 * conversations, sessions and server restarts, then works. COUNTER is a file (absolute path; keep it
 * outside the repository, or the count would be committed) holding how many turns failed so far
 * (missing = 0). A turn's first request while the count is below N increments it and answers HTTP 400
 * `invalid_request_error` (not retryable: OpenCode fails the turn with a model error at once; it retries
 * messages that look transient, e.g. ones naming 429/5xx or "server error", so this one names neither); once the count reaches N, the turn writes
 * PATH with the content like `write_file` (without PATH it answers text). The test owns COUNTER: it can
 * read the count, or write a number to fail more or fewer times.
 */
const failTimes: Script = (ctx) => {
  const [counter = '', times = '1', file] = ctx.args;
  const n = Number(times);
  if (!counter || !Number.isInteger(n) || n < 0)
    return { kind: 'text', text: 'fail_times needs COUNTER (a file) and N (a whole number): [[script:fail_times COUNTER N PATH]]' };
  if (ctx.step === 0) {
    let count = 0;
    try {
      count = Number(readFileSync(counter, 'utf8').trim()) || 0;
    } catch {
      // no counter file yet: nothing failed so far
    }
    if (count < n) {
      writeFileSync(counter, `${count + 1}\n`);
      return { kind: 'http_error', status: 400, message: `scripted failure ${count + 1} of ${n}` };
    }
  }
  if (!file) return { kind: 'text', text: `Succeeded after ${n} scripted failure(s).` };
  return writeFile({ ...ctx, args: [file] });
};

const malformed: Script = () => ({ kind: 'malformed', before: 'About to send a broken chunk. ' });
const hang: Script = () => ({ kind: 'hang' });
const text: Script = (ctx) => ({ kind: 'text', text: ctx.rest || 'Scripted reply.' });

/** `[[script:multi_write A B]] content` → two write calls in one step, then a final text. */
const multiWrite: Script = (ctx) => {
  if (ctx.step > 0) return finalText(ctx, `Wrote ${ctx.args.join(' and ')}.`);
  return {
    kind: 'tool',
    calls: ctx.args.map((f) => ({ name: 'write', args: { filePath: absolute(f, ctx.cwd), content: `${ctx.rest}\n` } })),
  };
};

/**
 * `[[script:tool_seq]] NAME {json args} ;; NAME {json args} ;; …` → one call per step of the offered tool
 * whose name is NAME or ends with `_NAME` (how OpenCode names MCP tools: `<server>_<tool>`), then a final
 * text quoting every tool result. A name no offered tool matches ends the turn with a text saying so.
 */
const toolSeq: Script = (ctx) => {
  const calls = ctx.rest
    .split(';;')
    .map((c) => c.trim())
    .filter(Boolean);
  if (ctx.step >= calls.length)
    return { kind: 'text', text: `Called ${calls.length} tools. Results: ${ctx.toolResults.map((r) => r.slice(0, 400)).join(' | ')}` };
  const call = calls[ctx.step] ?? '';
  const space = call.search(/\s/);
  const name = space < 0 ? call : call.slice(0, space);
  let args: Record<string, unknown>;
  try {
    args = space < 0 ? {} : (JSON.parse(call.slice(space + 1)) as Record<string, unknown>);
  } catch {
    return { kind: 'text', text: `tool_seq: the arguments of ${name} are not JSON` };
  }
  const tool = ctx.tools.find((t) => t === name || t.endsWith(`_${name}`));
  if (!tool) return { kind: 'text', text: `tool_seq: no offered tool is named ${name} (offered: ${ctx.tools.join(', ')})` };
  return { kind: 'tool', calls: [{ name: tool, args }] };
};

export const builtinScripts: Readonly<Record<string, Script>> = {
  tool_seq: toolSeq,
  text,
  write_file: writeFile,
  read_file: readFile,
  edit_file: editFile,
  bash,
  bash_seq: bashSeq,
  slow,
  slow_write: slowWrite,
  http_error: httpError,
  fail_times: failTimes,
  malformed,
  hang,
  multi_write: multiWrite,
};

const createFileRe =
  /\b(?:create|write|make|add)\s+(?:a\s+|an\s+|the\s+)?(?:new\s+)?file\s+(?:named\s+|called\s+)?[`'"]?([\w./-]+\.\w+)[`'"]?(?:[\s\S]*?\b(?:containing|with(?:\s+the)?\s+(?:content|text))\s*:?\s*[`'"]?([^`'"\n]*)[`'"]?)?/i;

/** The behaviour without a marker: label the reply as scripted; write a file when asked to create one. */
export const demoScript: Script = (ctx) => {
  const m = createFileRe.exec(ctx.userText);
  // A read-only task ("Do not edit files") gets no write even when its goal mentions a file to create.
  const readOnly = /\bdo not (edit|change|modify|write)\b/i.test(ctx.userText);
  if (m && !readOnly && ctx.tools.includes('write')) {
    const file = m[1];
    if (ctx.step > 0) {
      return {
        kind: 'text',
        text: `${demoLabel} I created ${file} as asked. No real language model was involved; configure a real provider for actual work.`,
      };
    }
    const content = m[2]?.trim() || `Created by the scripted demo model for: ${ctx.userText.slice(0, 120)}`;
    return { kind: 'tool', calls: [{ name: 'write', args: { filePath: absolute(file, ctx.cwd), content: `${content}\n` } }] };
  }
  if (ctx.step > 0) return finalText(ctx, `${demoLabel} Done.`);
  return {
    kind: 'text',
    text: `${demoLabel} I received your request: "${ctx.userText.slice(0, 200)}". I am a scripted stand-in and make no changes unless asked to create a file (say: create a file named <name> containing <text>).`,
  };
};

/** A short title for requests that come without tools (OpenCode's title generator and summaries). */
export function titleFor(userText: string): string {
  const words = userText.replace(markerRe, '').trim().split(/\s+/).filter(Boolean).slice(0, 6).join(' ');
  return words ? `Scripted: ${words}` : 'Scripted title';
}

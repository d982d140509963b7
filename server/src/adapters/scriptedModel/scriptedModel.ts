/**
 * A scripted OpenAI-compatible chat-completions server on 127.0.0.1: the one fake in the test suite, and
 * the offline "demo" model. `POST /v1/chat/completions` (SSE when `stream:true`, JSON otherwise) and
 * `GET /v1/models`. Behaviour comes from `scripts.ts`; every request is recorded.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  builtinScripts,
  demoScript,
  parseMarker,
  requestText,
  titleFor,
  type Script,
  type ScriptContext,
  type ScriptStep,
} from './scripts';

export interface RecordedRequest {
  at: string;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON body (undefined for GET or unparseable bodies). */
  body?: ChatRequest;
  /** The script that answered (`demo`, `title`, or a marker name). */
  script?: string;
  step?: number;
  /** True when the client went away before the response was complete. */
  clientClosed?: boolean;
}

export interface ChatMessage {
  role: string;
  content?: unknown;
  tool_calls?: unknown[];
  tool_call_id?: string;
}

export interface ChatRequest {
  model?: string;
  messages?: ChatMessage[];
  tools?: { type?: string; function?: { name?: string; parameters?: unknown } }[];
  stream?: boolean;
}

export interface ScriptedModelOptions {
  /** 0 or undefined = a random free port. */
  port?: number;
  /** Extra or overriding scripts, by marker name. */
  scripts?: Record<string, Script>;
  /** Model ids listed by `GET /v1/models` (default `["scripted"]`). */
  models?: string[];
  /** When set, every request without `Authorization: Bearer <apiKey>` is answered 401 (still recorded). */
  apiKey?: string;
  /** false: keep no request log (the demo model of a long-running server; `requests` stays empty). Default true. */
  record?: boolean;
}

export interface ScriptedModel {
  /** Base URL to configure as an OpenAI-compatible provider, e.g. `http://127.0.0.1:4321/v1`. */
  url: string;
  port: number;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Text of an OpenAI message content (string or array of parts). */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p: unknown) =>
        p && typeof p === 'object' && (p as { type?: string }).type === 'text' ? String((p as { text?: unknown }).text ?? '') : '',
      )
      .join('');
  }
  return '';
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Plan {
  name: string;
  ctx: ScriptContext;
  step: ScriptStep;
}

function plan(body: ChatRequest, headers: http.IncomingHttpHeaders, scripts: Record<string, Script>, attempts: Map<string, number>): Plan {
  const msgs = body.messages ?? [];
  let lastUser = -1;
  msgs.forEach((m, i) => {
    if (m.role === 'user') lastUser = i;
  });
  const userText = requestText(lastUser >= 0 ? textOf(msgs[lastUser].content) : '');
  const after = msgs.slice(lastUser + 1);
  const toolResults = after.filter((m) => m.role === 'tool').map((m) => textOf(m.content));
  const system = msgs
    .filter((m) => m.role === 'system')
    .map((m) => textOf(m.content))
    .join('\n');
  const cwd = /Working directory:\s*(\S+)/i.exec(system)?.[1];
  const tools = (body.tools ?? []).map((t) => t.function?.name ?? '').filter(Boolean);
  const marker = parseMarker(userText);
  const conv = `${String(headers['x-session-id'] ?? userText)}#${toolResults.length}`;
  const attempt = (attempts.get(conv) ?? 0) + 1;
  attempts.set(conv, attempt);
  const ctx: ScriptContext = {
    step: toolResults.length,
    args: marker?.args ?? [],
    rest: marker?.rest ?? userText,
    userText,
    cwd,
    toolResults,
    tools,
    attempt,
  };
  if (tools.length === 0) return { name: 'title', ctx, step: { kind: 'text', text: titleFor(userText) } };
  if (marker) {
    const script = scripts[marker.name];
    if (!script)
      return {
        name: marker.name,
        ctx,
        step: { kind: 'text', text: `Unknown script "${marker.name}". Known: ${Object.keys(scripts).join(', ')}.` },
      };
    return { name: marker.name, ctx, step: script(ctx) };
  }
  return { name: 'demo', ctx, step: demoScript(ctx) };
}

function estimateTokens(s: string): number {
  return Math.max(1, Math.ceil(s.length / 4));
}

function chunks(s: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out.length ? out : [''];
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  let raw = '';
  for await (const c of req) raw += String(c);
  return raw;
}

export async function startScriptedModel(opts: ScriptedModelOptions = {}): Promise<ScriptedModel> {
  const scripts: Record<string, Script> = { ...builtinScripts, ...(opts.scripts ?? {}) };
  const models = opts.models ?? ['scripted'];
  const requests: RecordedRequest[] = [];
  const attempts = new Map<string, number>();
  let counter = 0;

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `scripted model crashed: ${String(e)}` } }));
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const rec: RecordedRequest = { at: new Date().toISOString(), method: req.method ?? '', url: req.url ?? '', headers: req.headers };
    if (opts.record !== false) requests.push(rec);
    const url = req.url ?? '';
    if (opts.apiKey !== undefined && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' } }),
      );
      return;
    }
    if (req.method === 'GET' && /\/models\/?$/.test(url)) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'scripted' })) }));
      return;
    }
    if (req.method !== 'POST' || !/\/chat\/completions\/?$/.test(url)) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${url}`, type: 'not_found' } }));
      return;
    }
    let body: ChatRequest;
    try {
      body = JSON.parse(raw) as ChatRequest;
      rec.body = body;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'request body is not JSON', type: 'invalid_request_error' } }));
      return;
    }
    const p = plan(body, req.headers, scripts, attempts);
    rec.script = p.name;
    rec.step = p.ctx.step;
    const id = `chatcmpl-scripted-${++counter}`;
    const model = body.model ?? models[0];
    const created = Math.floor(Date.now() / 1000);
    const promptTokens = estimateTokens(JSON.stringify(body.messages ?? []));
    const step = p.step;

    if (step.kind === 'http_error') {
      const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json' };
      if (step.retryAfterSec !== undefined) headers['retry-after'] = String(step.retryAfterSec);
      res.writeHead(step.status, headers);
      res.end(
        JSON.stringify({
          error: {
            message: step.message,
            type: step.status === 429 ? 'rate_limit_exceeded' : step.status >= 500 ? 'server_error' : 'invalid_request_error',
            code: step.status,
          },
        }),
      );
      return;
    }

    const outText =
      step.kind === 'text'
        ? step.text
        : step.kind === 'tool'
          ? JSON.stringify(step.calls)
          : step.kind === 'malformed'
            ? (step.before ?? '')
            : '';
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: estimateTokens(outText),
      total_tokens: promptTokens + estimateTokens(outText),
    };
    const toolCalls = (calls: { name: string; args: Record<string, unknown> }[]) =>
      calls.map((c, i) => ({
        id: `call_${counter}_${i}`,
        type: 'function',
        function: { name: c.name, arguments: JSON.stringify(c.args) },
      }));

    if (!body.stream) {
      const message =
        step.kind === 'tool'
          ? { role: 'assistant', content: null, tool_calls: toolCalls(step.calls) }
          : { role: 'assistant', content: outText };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created,
          model,
          choices: [{ index: 0, message, finish_reason: step.kind === 'tool' ? 'tool_calls' : 'stop' }],
          usage,
        }),
      );
      return;
    }

    let closed = false;
    res.on('close', () => {
      if (!res.writableFinished) {
        closed = true;
        rec.clientClosed = true;
      }
    });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const send = (delta: Record<string, unknown>, finish: string | null = null) =>
      res.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
      );
    send({ role: 'assistant', content: '' });

    if (step.kind === 'hang') {
      await new Promise<void>((r) => res.on('close', () => r()));
      return;
    }
    if (step.kind === 'malformed') {
      if (step.before) send({ content: step.before });
      res.write('data: {"id":"broken", "choices": [ {"delta": {"content": "unterminated\n\n');
      res.end();
      return;
    }
    if (step.kind === 'text') {
      for (const piece of chunks(step.text, step.chunkSize ?? 24)) {
        if (closed) return;
        send({ content: piece });
        if (step.delayMs) await sleep(step.delayMs);
      }
      if (closed) return;
      send({}, 'stop');
    } else {
      const calls = toolCalls(step.calls);
      for (let i = 0; i < calls.length; i++) {
        const c = calls[i];
        send({ tool_calls: [{ index: i, id: c.id, type: 'function', function: { name: c.function.name, arguments: '' } }] });
        for (const piece of chunks(c.function.arguments, 40)) {
          if (closed) return;
          send({ tool_calls: [{ index: i, function: { arguments: piece } }] });
          if (step.delayMs) await sleep(step.delayMs);
        }
      }
      if (closed) return;
      send({}, 'tool_calls');
    }
    res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`);
    res.write('data: [DONE]\n\n');
    res.end();
  }

  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

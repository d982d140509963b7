/**
 * Our MCP server for agents: the Model Context Protocol over Streamable HTTP on 127.0.0.1 (a random
 * port), on `@modelcontextprotocol/sdk` (the only place that imports it). Stateless: every POST gets its
 * own MCP server and transport, bound to the grant its bearer token resolves to; a request without a
 * token, with an unknown or revoked one, gets 401 before the SDK sees it. The tools only pass calls to
 * the backend (`services/agentToolService.ts`), which decides everything. Tokens are never logged.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import type { AgentToolBackend, AgentToolName, ToolGrant, ToolOutcome } from '../../ports/agentTools';
import type { AgentToolServerPort } from '../../ports/agentTools';
import type { Logger } from '../../ports/logger';
import { version } from '../../version';

const mcpPath = '/mcp';

const paths = z
  .array(z.string())
  .describe('Paths or globs relative to the repository root, e.g. ["src/app.ts", "docs/**"]. Absolute paths and ".." are refused.');

interface ToolSpec {
  name: AgentToolName;
  title: string;
  description: string;
  input: Record<string, z.ZodType>;
  readOnly: boolean;
}

/** The tools as agents see them. */
export const toolSpecs: readonly ToolSpec[] = [
  {
    name: 'task_context',
    title: 'Task context',
    description:
      "Your task in the orchestrator's session: the session goal, this task's title and prompt, the summaries and changed files of the tasks it depends on, the files changed in your worktree so far, and your file lease.",
    input: {},
    readOnly: true,
  },
  {
    name: 'report_progress',
    title: 'Report progress',
    description: "Tell the user what you are doing now (one short sentence; optional percent done). Shown as the task's current activity.",
    input: {
      message: z.string().describe('What you are doing, 1–500 characters.'),
      percent: z.number().optional().describe('How far along the task is, 0–100.'),
    },
    readOnly: false,
  },
  {
    name: 'claim_lease',
    title: 'Claim file lease',
    description:
      'Claim files before editing them outside your planned paths. Refused, with the holder named, when another task holds them: then do not edit those files.',
    input: { paths, mode: z.enum(['write', 'read']).optional().describe('"write" (default for writing tasks) or "read".') },
    readOnly: false,
  },
  {
    name: 'release_lease',
    title: 'Release file lease',
    description: 'Give back paths you claimed and no longer need, so other tasks can work on them.',
    input: { paths },
    readOnly: false,
  },
  {
    name: 'budget',
    title: 'Remaining budget',
    description: "The session's budget: limits, spent, reserved and remaining tokens, money and wall-clock time (null = no limit).",
    input: {},
    readOnly: true,
  },
];

function answer(o: ToolOutcome) {
  if (!o.ok) return { content: [{ type: 'text' as const, text: o.reason }], isError: true };
  return { content: [{ type: 'text' as const, text: JSON.stringify(o.data, null, 2) }] };
}

function serverFor(backend: AgentToolBackend, grant: ToolGrant, log: Logger): McpServer {
  const server = new McpServer({ name: 'industrial-orchestrator', version });
  for (const t of toolSpecs) {
    server.registerTool(
      t.name,
      { title: t.title, description: t.description, inputSchema: t.input, annotations: { readOnlyHint: t.readOnly, openWorldHint: false } },
      async (args: Record<string, unknown>) => {
        try {
          return answer(await backend.call(grant, t.name, args ?? {}));
        } catch (e) {
          log.error(`agent tool ${t.name} failed for run ${grant.runId}: ${String(e)}`);
          return answer({ ok: false, reason: `${t.name} failed inside the orchestrator: ${(e as Error).message}` });
        }
      },
    );
  }
  return server;
}

function refuse(res: http.ServerResponse, status: number, message: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...extra });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message }, id: null }));
}

/** The bearer token of a request, or undefined. */
function bearer(req: http.IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m?.[1];
}

export class McpHttpServer implements AgentToolServerPort {
  private server: http.Server | undefined;
  private url: Promise<string> | undefined;

  constructor(private readonly log: Logger) {}

  start(backend: AgentToolBackend): Promise<string> {
    this.url ??= new Promise<string>((resolve, reject) => {
      const server = http.createServer((req, res) => void this.handle(backend, req, res));
      server.headersTimeout = 10_000;
      server.requestTimeout = 60_000;
      server.keepAliveTimeout = 5_000;
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        server.on('error', (e) => this.log.error(`agent tools server: ${String(e)}`));
        this.server = server;
        const { port } = server.address() as AddressInfo;
        this.log.info(`agent tools (MCP) server listening on http://127.0.0.1:${port}${mcpPath}`);
        resolve(`http://127.0.0.1:${port}${mcpPath}`);
      });
    });
    return this.url;
  }

  private async handle(backend: AgentToolBackend, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== mcpPath) return refuse(res, 404, `not found: the MCP endpoint is ${mcpPath}`);
    const token = bearer(req);
    const grant = token ? backend.authenticate(token) : undefined;
    if (!grant) {
      this.log.warn(`agent tools: ${req.method} ${mcpPath} refused (401): ${token ? 'unknown or revoked token' : 'no bearer token'}`);
      return refuse(res, 401, 'unauthorized: a valid bearer token for a running task is required', {
        'www-authenticate': 'Bearer realm="industrial-orchestrator"',
      });
    }
    const server = serverFor(backend, grant, this.log);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close().catch(() => undefined);
      void server.close().catch(() => undefined);
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res);
    } catch (e) {
      this.log.error(`agent tools: request failed for run ${grant.runId}: ${String(e)}`);
      if (!res.headersSent) refuse(res, 500, 'internal error in the orchestrator MCP server');
      else res.end();
    }
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

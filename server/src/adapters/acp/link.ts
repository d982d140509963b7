/**
 * One ACP connection to one agent process: spawn, `initialize` (protocol version checked), `authenticate` when
 * the descriptor names a method, then sessions and prompts. Requests from the agent go to `LinkHandlers`
 * (the task that owns this link). Every call has a deadline and fails fast when the process dies.
 */
import { Readable, Writable } from 'node:stream';
import { AgentError } from '../../ports/agentRuntime';
import type { McpAttachment } from '../../ports/agentTools';
import { AgentProcess } from './agentProcess';
import type { PermissionAnswer } from './acpTurn';
import type { Acp } from './sdk';
import type { AnyMessage, ClientConnection, McpServer } from '@agentclientprotocol/sdk';
import { version } from '../../version';

export interface LinkHandlers {
  update(sessionId: string, update: unknown): void;
  permission(params: { sessionId?: unknown; toolCall?: unknown; options?: unknown }, requestId: string): Promise<PermissionAnswer>;
  readTextFile(params: { sessionId: string; path: string; line?: number | null; limit?: number | null }): Promise<{ content: string }>;
  writeTextFile(params: { sessionId: string; path: string; content: string }): Promise<Record<string, never>>;
  createTerminal(params: TerminalCreate, requestId: string): Promise<{ terminalId: string }>;
  terminalOutput(params: {
    sessionId: string;
    terminalId: string;
  }): Promise<{ output: string; truncated: boolean; exitStatus?: { exitCode: number | null; signal: string | null } }>;
  waitForTerminalExit(params: { sessionId: string; terminalId: string }): Promise<{ exitCode: number | null; signal: string | null }>;
  killTerminal(params: { sessionId: string; terminalId: string }): Promise<Record<string, never>>;
  releaseTerminal(params: { sessionId: string; terminalId: string }): Promise<Record<string, never>>;
}

export interface TerminalCreate {
  sessionId: string;
  command: string;
  args?: string[];
  env?: { name: string; value: string }[];
  cwd?: string | null;
  outputByteLimit?: number | null;
}

export interface LinkOptions {
  acp: Acp;
  agentName: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  /** Where the process starts (its isolated home). */
  cwd: string;
  startTimeoutMs: number;
  maxMessageBytes: number;
  advertiseFs: boolean;
  advertiseTerminal: boolean;
  authMethodId?: string;
  handlers: LinkHandlers;
  log?: (line: string) => void;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class AcpLink {
  private constructor(
    readonly proc: AgentProcess,
    private readonly conn: ClientConnection,
    private readonly opts: LinkOptions,
    readonly agentInfo: { protocolVersion: number; authMethods: string[]; name?: string; version?: string; mcpHttp: boolean },
  ) {}

  get alive(): boolean {
    return this.proc.alive && !this.conn.signal.aborted;
  }

  /** Races `p` against a deadline and the process exiting; failures become `AgentError(reason)`. */
  private static guard<T>(proc: AgentProcess, p: Promise<T>, ms: number, what: string, reason: 'start_failed' | 'protocol'): Promise<T> {
    let t: NodeJS.Timeout | undefined;
    return Promise.race([
      p.catch((e: unknown) => {
        throw e instanceof AgentError ? e : new AgentError(reason, `${what} failed: ${message(e)}`, proc.stderrTail());
      }),
      new Promise<never>(
        (_, rej) => (t = setTimeout(() => rej(new AgentError(reason, `${what} got no answer within ${ms} ms.`, proc.stderrTail())), ms)),
      ),
      proc.exited.then((x) => {
        throw new AgentError(reason, `The agent exited during ${what} (code ${x.code}, signal ${x.signal}).`, x.stderrTail);
      }),
      proc.spawnFailed.then((e) => {
        throw new AgentError('not_installed', `Could not run ${JSON.stringify(proc.child.spawnfile)}: ${e.message}`);
      }),
    ]).finally(() => clearTimeout(t));
  }

  static async open(o: LinkOptions): Promise<AcpLink> {
    const { acp } = o;
    o.log?.(`starting ${o.agentName}: ${o.command} ${o.args.join(' ')} (environment: ${Object.keys(o.env).sort().join(', ')})`);
    const proc = new AgentProcess({ command: o.command, args: o.args, env: o.env, cwd: o.cwd, log: o.log });
    const raw = acp.ndJsonStream(
      Writable.toWeb(proc.child.stdin!) as WritableStream<Uint8Array>,
      Readable.toWeb(proc.child.stdout!) as ReadableStream<Uint8Array>,
      { maxMessageBytes: o.maxMessageBytes },
    );
    const h = o.handlers;
    // `session/update` notifications are taken off the stream here, in arrival order and before any later
    // message (the prompt's response included) reaches the SDK: the SDK would drop a malformed one silently
    // (it validates before any handler runs), and its handler chain does not keep notifications ordered
    // against responses. The normaliser reads them defensively and reports the malformed ones.
    const updates = new TransformStream<AnyMessage, AnyMessage>({
      transform(msg, ctl) {
        const m = msg as { method?: unknown; id?: unknown; params?: { sessionId?: unknown; update?: unknown } };
        if (m.method === 'session/update' && m.id === undefined) {
          try {
            h.update(typeof m.params?.sessionId === 'string' ? m.params.sessionId : '', m.params?.update);
          } catch (e) {
            o.log?.(`session/update handler threw: ${message(e)}`);
          }
        } else ctl.enqueue(msg);
      },
    });
    const stream = { readable: raw.readable.pipeThrough(updates), writable: raw.writable };
    const app = acp
      .client({ name: 'industrial-orchestrator' })
      .onRequest(
        'session/request_permission',
        (p: unknown) => (p && typeof p === 'object' ? p : {}) as { sessionId?: unknown; toolCall?: unknown; options?: unknown },
        ({ params, requestId }) => h.permission(params, String(requestId)),
      )
      .onRequest(acp.methods.client.fs.readTextFile, ({ params }) => h.readTextFile(params))
      .onRequest(acp.methods.client.fs.writeTextFile, ({ params }) => h.writeTextFile(params));
    if (o.advertiseTerminal)
      app
        .onRequest(acp.methods.client.terminal.create, ({ params, requestId }) => h.createTerminal(params, String(requestId)))
        .onRequest(acp.methods.client.terminal.output, ({ params }) => h.terminalOutput(params))
        .onRequest(acp.methods.client.terminal.waitForExit, ({ params }) => h.waitForTerminalExit(params))
        .onRequest(acp.methods.client.terminal.kill, ({ params }) => h.killTerminal(params))
        .onRequest(acp.methods.client.terminal.release, ({ params }) => h.releaseTerminal(params));
    const conn = app.connect(stream);
    const ms = o.startTimeoutMs;
    try {
      const init = await AcpLink.guard(
        proc,
        conn.agent.request(acp.methods.agent.initialize, {
          protocolVersion: acp.PROTOCOL_VERSION,
          clientCapabilities: { fs: { readTextFile: o.advertiseFs, writeTextFile: o.advertiseFs }, terminal: o.advertiseTerminal },
          clientInfo: { name: 'industrial-orchestrator', version },
        }),
        ms,
        'initialize',
        'start_failed',
      );
      if (init.protocolVersion !== acp.PROTOCOL_VERSION)
        throw new AgentError(
          'start_failed',
          `${o.agentName} speaks ACP protocol version ${JSON.stringify(init.protocolVersion)}; this orchestrator speaks version ${acp.PROTOCOL_VERSION}.`,
        );
      const authMethods = (init.authMethods ?? []).map((m) => m.id);
      if (o.authMethodId) {
        if (!authMethods.includes(o.authMethodId))
          throw new AgentError(
            'start_failed',
            `${o.agentName} does not offer the authentication method "${o.authMethodId}" named by its descriptor (it offers: ${authMethods.join(', ') || 'none'}).`,
          );
        await AcpLink.guard(
          proc,
          conn.agent.request(acp.methods.agent.authenticate, { methodId: o.authMethodId }),
          ms,
          'authenticate',
          'start_failed',
        );
      }
      o.log?.(
        `${o.agentName} initialized (pid ${proc.pid}, protocol ${init.protocolVersion}, agent ${init.agentInfo?.name ?? '?'} ${init.agentInfo?.version ?? ''})`,
      );
      return new AcpLink(proc, conn, o, {
        protocolVersion: init.protocolVersion,
        authMethods,
        name: init.agentInfo?.name ?? undefined,
        version: init.agentInfo?.version ?? undefined,
        mcpHttp: init.agentCapabilities?.mcpCapabilities?.http === true,
      });
    } catch (e) {
      conn.close();
      await proc.stop();
      if (e instanceof AgentError) throw new AgentError(e.reason, e.message, e.stderrTail ?? (proc.stderrTail() || undefined));
      throw new AgentError('start_failed', `${o.agentName} did not start: ${message(e)}`, proc.stderrTail());
    }
  }

  /**
   * Opens a session in `cwd`. Our MCP server is attached when the agent advertised `mcpCapabilities.http`
   * (an agent without it gets no orchestrator tools). The attachment's headers hold the run's token: never logged.
   */
  async newSession(cwd: string, mcp?: McpAttachment): Promise<string> {
    const { acp } = this.opts;
    const mcpServers: McpServer[] =
      mcp && this.agentInfo.mcpHttp
        ? [
            {
              type: 'http' as const,
              name: mcp.name,
              url: mcp.url,
              headers: Object.entries(mcp.headers).map(([name, value]) => ({ name, value })),
            },
          ]
        : [];
    try {
      const r = await AcpLink.guard(
        this.proc,
        this.conn.agent.request(acp.methods.agent.session.new, { cwd, mcpServers }),
        this.opts.startTimeoutMs,
        'session/new',
        'start_failed',
      );
      if (typeof r.sessionId !== 'string' || !r.sessionId) throw new AgentError('protocol', 'session/new returned no sessionId.');
      return r.sessionId;
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === -32000 || /auth/i.test(message(e)))
        throw new AgentError(
          'start_failed',
          `${this.opts.agentName} requires authentication (${message(e)}); it offers: ${this.agentInfo.authMethods.join(', ') || 'no method'}. Name one in the descriptor's _meta.orchestrator.auth.methodId.`,
          this.proc.stderrTail(),
        );
      throw e;
    }
  }

  /** Sends the prompt; resolves with the raw `PromptResponse` or rejects with the JSON-RPC error. */
  prompt(sessionId: string, text: string): Promise<{ stopReason?: unknown; usage?: unknown }> {
    return this.conn.agent.request(this.opts.acp.methods.agent.session.prompt, { sessionId, prompt: [{ type: 'text', text }] });
  }

  async cancel(sessionId: string): Promise<void> {
    if (!this.alive) return;
    await this.conn.agent.notify(this.opts.acp.methods.agent.session.cancel, { sessionId });
  }

  /** Closes the connection and kills the process group. */
  async stop(): Promise<void> {
    this.conn.close();
    await this.proc.stop();
  }
}

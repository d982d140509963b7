/**
 * AgentRuntime on OpenCode: one `opencode serve` per adapter (isolated home under `dataDir`, random port
 * and password), one OpenCode session per task (`?directory=<cwd>`), prompts sent with `prompt_async` and
 * followed on the `/global/event` SSE stream. See docs/opencode.md for the API and its gotchas.
 *
 * Failure handling: the server process dying fails in-flight turns (`crashed`, with its stderr tail) and
 * the next prompt restarts it with backoff; a dropped event stream reconnects and every running turn
 * resyncs from the messages API; watchdogs bound every wait (see TurnTimeouts).
 */
import { badInput, checkPromptRequest } from '../promptRequest';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CommandSandbox } from '../../ports/commandSandbox';
import type { McpAttachment } from '../../ports/agentTools';
import type { createOpencodeClient, OpencodeClient, PermissionRequest as OcPermissionRequest } from '@opencode-ai/sdk/v2';
import { AgentEventLog } from '../../domain/agentEvent';
import {
  AgentError,
  type AgentEventListener,
  type AgentRuntime,
  type PromptRequest,
  type TurnResult,
  type TurnTimeouts,
} from '../../ports/agentRuntime';
import { resolveOpencodeBinary } from './binary';
import { EventStream, type OpencodeEvent } from './eventStream';
import { buildConfig, buildEnv, knownModel, prepareHome, splitModel, type OpencodeConfigInput } from './home';
import type { MessageWithParts } from './normalize';
import { warmOpencodeFolder } from './warmFolder';
import { waitForLoopEnd } from './loopDrain';
import { randomPassword, ServerProcess, type ExitInfo } from './serverProcess';
import { Turn, type TurnApi } from './turn';
import { turnTrace } from '../turnTrace';

export interface OpencodeAdapterOptions {
  /** Folder for the isolated OpenCode home (config, SQLite, logs, snapshots). */
  dataDir: string;
  /** Providers and default model (e.g. the scripted model's URL for tests and the offline demo). */
  models: OpencodeConfigInput;
  /** Explicit binary path; otherwise the platform package is resolved. */
  binaryPath?: string;
  startTimeoutMs?: number;
  /** Deadline of each HTTP call to OpenCode. */
  apiTimeoutMs?: number;
  /** Defaults for every turn (a prompt may override). */
  timeouts?: Partial<TurnTimeouts>;
  /** Permissions routed to the caller's PermissionPolicy (session rules `ask`) when a prompt supplies one. */
  askPermissions?: string[];
  /** Restart backoff after a crash: first delay, doubled per crash within a minute, capped. */
  restartBackoffMs?: { initial: number; max: number };
  heartbeatTimeoutMs?: number;
  /** Extra environment for the server (e.g. provider keys referenced as `{env:NAME}`). */
  env?: Record<string, string>;
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  log?: (line: string) => void;
  /** The OS sandbox for the bash tool: OpenCode's shell becomes `shellPath`; each turn's cwd is allowed while it runs. */
  sandbox?: CommandSandbox;
}

export const defaultTurnTimeouts: TurnTimeouts = { idleMs: 180_000, turnMs: 30 * 60_000, unreachableMs: 30_000, permissionMs: 120_000 };
// Reads are routed to the policy too: it judges where a file really is (symlinks) and denies secret places.
const drainDeadlineMs = 15_000;
const defaultAsk = ['edit', 'bash', 'webfetch', 'external_directory', 'read'];
/** Our MCP server is attached while the session is created (off with `ORCH_OPENCODE_OVERLAP=0`, for the bench). */
const overlapEnabled = (): boolean => process.env.ORCH_OPENCODE_OVERLAP !== '0';

/** What the adapter keeps per task between its turns (until `release`). */
interface TaskState {
  log: AgentEventLog;
  sessionId?: string;
  cwd?: string;
  previousUserMessageId?: string;
  turn?: Turn;
  busy: boolean;
  /** Released while a turn ran: dropped when that turn ends. */
  released?: boolean;
  /** After a cancelled turn: resolves when OpenCode's aborted loop has ended (see loopDrain.ts). */
  draining?: Promise<void>;
}

function readVersion(binary: string): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(path.dirname(path.dirname(binary)), 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return '1.18.33';
  }
}

/**
 * The SDK is ESM-only (its exports map has no `require` condition) while the server is CommonJS (tsx in
 * tests, an esbuild cjs bundle in production), so it is loaded with a dynamic import. esbuild bundles it.
 */
type Sdk = { createOpencodeClient: typeof createOpencodeClient };
let sdk: Promise<Sdk> | undefined;
const loadSdk = () =>
  (sdk ??= import('@opencode-ai/sdk/v2').catch(async (e: unknown) => {
    // When this CommonJS module is itself loaded from ESM through a loader (tsx), the bare specifier can fail
    // to resolve; fall back to the package's file on the normal node_modules lookup path.
    for (const dir of require.resolve.paths('@opencode-ai/sdk') ?? []) {
      const file = path.join(dir, '@opencode-ai', 'sdk', 'dist', 'v2', 'index.js');
      if (fs.existsSync(file)) return (await import(pathToFileURL(file).href)) as Sdk;
    }
    throw e;
  }));

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class OpencodeAdapter implements AgentRuntime {
  readonly id = 'opencode';
  // `protected` for the tests' subclass (test/integration/opencodeTestAdapter.ts), which reads them.
  protected server?: ServerProcess;
  protected stream?: EventStream;
  protected client?: OpencodeClient;
  private starting?: Promise<void>;
  private readonly crashTimes: number[] = [];
  /** Per task, between its turns; a task leaves when the caller releases it (its run is over). */
  protected readonly tasks = new Map<string, TaskState>();
  private readonly turnsBySession = new Map<string, Turn>();
  private disposed = false;
  private readonly apiTimeoutMs: number;
  /** The models changed since `opencode serve` started: restart it before a turn when no other turn runs. */
  private configStale = false;

  constructor(private readonly opts: OpencodeAdapterOptions) {
    this.apiTimeoutMs = opts.apiTimeoutMs ?? 20_000;
    if (!knownModel(opts.models, opts.models.defaultModel))
      throw new AgentError('bad_input', `models.defaultModel "${opts.models.defaultModel}" is not one of the configured provider models.`);
  }

  async start(): Promise<void> {
    await this.ensureServer();
  }

  /** Opens OpenCode's instance of a folder it has not seen before its first turn there (`warmFolder.ts`). */
  async warmFolder(cwd: string): Promise<void> {
    // A start under way (a session's planning starts OpenCode) is waited for; a stopped server is not started.
    await this.starting?.catch(() => undefined);
    if (this.disposed || !this.client) return;
    await warmOpencodeFolder((what, fn) => this.call(what, fn), cwd);
  }

  /**
   * Replaces the providers and models (a model was promoted). Prompts are checked against them at once; a
   * running `opencode serve` is restarted with them before the next turn that finds no other turn running
   * (its sessions persist in the isolated home, so later turns of a task continue them).
   */
  setModels(models: OpencodeConfigInput): void {
    if (!knownModel(models, models.defaultModel))
      throw new AgentError('bad_input', `models.defaultModel "${models.defaultModel}" is not one of the configured provider models.`);
    this.opts.models = models;
    if (this.server) this.configStale = true;
  }

  private async ensureServer(): Promise<void> {
    if (this.disposed) throw new AgentError('disposed', 'The OpenCode adapter was disposed.');
    if (this.server?.alive && this.client && this.configStale && this.turnsBySession.size === 0 && !this.starting) {
      this.starting = this.restartServer().finally(() => (this.starting = undefined));
      await this.starting;
      return;
    }
    if (this.server?.alive && this.client) return;
    this.starting ??= this.startServer().finally(() => (this.starting = undefined));
    await this.starting;
  }

  private backoffDelay(): number {
    const { initial, max } = this.opts.restartBackoffMs ?? { initial: 500, max: 10_000 };
    const recent = this.crashTimes.filter((t) => Date.now() - t < 60_000);
    if (!recent.length) return 0;
    const wait = Math.min(max, initial * 2 ** (recent.length - 1));
    return Math.max(0, recent[recent.length - 1] + wait - Date.now());
  }

  private async startServer(): Promise<void> {
    const delay = this.backoffDelay();
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (this.disposed) throw new AgentError('disposed', 'The OpenCode adapter was disposed.');
    const binary = resolveOpencodeBinary({ explicitPath: this.opts.binaryPath });
    const home = prepareHome(this.opts.dataDir, readVersion(binary));
    const password = randomPassword();
    const config = buildConfig(this.opts.models);
    // OpenCode's bash tool runs `<shell> -c <command>`; the config's `shell` wins over $SHELL.
    if (this.opts.sandbox) config.shell = this.opts.sandbox.shellPath;
    const server: ServerProcess = new ServerProcess({
      binary,
      cwd: home.root,
      env: buildEnv(home, config, password, this.opts.env),
      password,
      startTimeoutMs: this.opts.startTimeoutMs ?? 30_000,
      pidDir: home.root,
      logLevel: this.opts.logLevel,
      onExit: (info) => this.onServerExit(server, info),
      log: this.opts.log,
    });
    await server.start();
    if (this.disposed) {
      await server.stop();
      throw new AgentError('disposed', 'The OpenCode adapter was disposed.');
    }
    const { createOpencodeClient } = await loadSdk();
    this.server = server;
    this.client = createOpencodeClient({ baseUrl: server.url, headers: { authorization: server.authHeader } });
    const stream = new EventStream({
      url: server.url,
      authHeader: server.authHeader,
      onEvent: (e) => this.route(e),
      onReconnect: () => this.resyncAll(),
      heartbeatTimeoutMs: this.opts.heartbeatTimeoutMs,
      log: this.opts.log,
    });
    this.stream = stream;
    let t: NodeJS.Timeout | undefined;
    const ok = await Promise.race([stream.ready.then(() => true), new Promise<boolean>((r) => (t = setTimeout(() => r(false), 10_000)))]);
    clearTimeout(t);
    if (!ok) {
      stream.close();
      await server.stop();
      throw new AgentError('start_failed', 'The OpenCode event stream did not connect within 10000 ms.', server.stderrTail());
    }
    this.opts.log?.(`opencode serve ready at ${server.url} (pid ${server.pid})`);
  }

  /** Stops `opencode serve` on purpose (not a crash: no backoff, no failed turn) and starts it with the current models. */
  private async restartServer(): Promise<void> {
    this.configStale = false;
    const old = this.server;
    this.stream?.close();
    this.server = undefined;
    this.client = undefined;
    this.opts.log?.('restarting opencode serve with the changed providers');
    await old?.stop();
    await this.startServer();
  }

  private onServerExit(server: ServerProcess, info: ExitInfo): void {
    if (server !== this.server) return;
    this.stream?.close();
    this.server = undefined;
    this.client = undefined;
    this.crashTimes.push(Date.now());
    const why = `OpenCode exited unexpectedly (code ${info.code}, signal ${info.signal}).`;
    this.opts.log?.(`${why} stderr tail:\n${info.stderrTail}`);
    for (const turn of this.turnsBySession.values()) turn.settleOffline('crashed', why, info.stderrTail);
  }

  private route(ev: OpencodeEvent): void {
    const p = ev.properties as { sessionID?: string; part?: { sessionID?: string }; info?: { sessionID?: string } } | undefined;
    const sessionID = p?.sessionID ?? p?.part?.sessionID ?? p?.info?.sessionID;
    if (!sessionID) return;
    this.turnsBySession.get(sessionID)?.handleEvent(ev);
  }

  private resyncAll(): void {
    for (const turn of this.turnsBySession.values())
      turn.resync().catch((e: unknown) => this.opts.log?.(`resync of ${turn.sessionId} failed: ${message(e)}`));
  }

  private async call<T>(
    what: string,
    fn: (c: OpencodeClient, o: { signal: AbortSignal; throwOnError: true }) => Promise<{ data: T }>,
  ): Promise<T> {
    if (this.disposed) throw new AgentError('disposed', `The OpenCode adapter was disposed (${what}).`);
    const client = this.client;
    if (!client) throw new AgentError('crashed', `OpenCode is not running (${what}).`, this.server?.stderrTail());
    try {
      return (await fn(client, { signal: AbortSignal.timeout(this.apiTimeoutMs), throwOnError: true })).data;
    } catch (e) {
      throw new AgentError('protocol', `OpenCode ${what} failed: ${message(e)}`);
    }
  }

  private readonly api: TurnApi = {
    messages: (sessionID, directory) =>
      this.call('messages', (c, o) => c.session.messages({ sessionID, directory }, o)) as Promise<MessageWithParts[]>,
    diff: (sessionID, directory, messageID) => this.call('diff', (c, o) => c.session.diff({ sessionID, directory, messageID }, o)),
    abort: async (sessionID, directory) => {
      await this.call('abort', (c, o) => c.session.abort({ sessionID, directory }, o));
    },
    replyPermission: async (requestID, directory, reply, msg) => {
      await this.call('permission reply', (c, o) =>
        c.permission.reply({ requestID, directory, reply, ...(msg ? { message: msg } : {}) }, o),
      );
    },
    pendingPermissions: (directory) =>
      this.call('permission list', (c, o) => c.permission.list({ directory }, o)) as Promise<OcPermissionRequest[]>,
  };

  private validate(req: PromptRequest): void {
    checkPromptRequest(req);
    if (req.model !== undefined && !knownModel(this.opts.models, req.model)) {
      const known = this.opts.models.providers.flatMap((p) => Object.keys(p.models).map((m) => `${p.id}/${m}`));
      throw badInput('model', `unknown model "${req.model}"; configured: ${known.join(', ')}`);
    }
  }

  async prompt(req: PromptRequest, onEvent: AgentEventListener): Promise<TurnResult> {
    if (this.disposed) throw new AgentError('disposed', 'The OpenCode adapter was disposed.');
    this.validate(req);
    let task = this.tasks.get(req.runId);
    if (!task) {
      task = { log: new AgentEventLog(), busy: false };
      this.tasks.set(req.runId, task);
    }
    if (task.busy) throw new AgentError('busy', `Run ${req.runId} already has a turn running.`);
    task.busy = true;
    let release = () => undefined as void;
    try {
      // Failing to register leaves the folder unregistered: its commands then write nowhere (fail closed).
      release = this.opts.sandbox?.allow(req.cwd) ?? release;
    } catch (e) {
      this.opts.log?.(`sandbox: could not allow ${req.cwd}: ${message(e)}`);
    }
    try {
      return await this.runTurn(task, req, onEvent);
    } finally {
      release();
      task.busy = false;
      task.turn = undefined;
      if (task.released) this.tasks.delete(req.runId);
    }
  }

  /** Forgets a task (its agent session and event log): its run is over, no turn follows. A running turn ends first. */
  release(taskId: string): void {
    const task = this.tasks.get(taskId);
    if (!task) return;
    if (task.busy) task.released = true;
    else this.tasks.delete(taskId);
  }

  private preTurnFailure(task: TaskState, onEvent: AgentEventListener, e: unknown, started: number): TurnResult {
    const err = e instanceof AgentError ? e : new AgentError('protocol', message(e));
    const key = `pre:${started}`;
    for (const ev of [
      task.log.push(`error:${key}`, { kind: 'error', message: err.message, reason: err.reason }),
      task.log.push(`finished:${key}`, { kind: 'finished', stopReason: 'error' }),
    ]) {
      if (ev) onEvent(ev);
    }
    return {
      status: 'failed',
      stopReason: 'error',
      summary: '',
      usage: { inputTokens: 0, outputTokens: 0, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 },
      diff: [],
      error: { reason: err.reason, message: err.message, ...(err.stderrTail ? { stderrTail: err.stderrTail } : {}) },
      ...(task.sessionId ? { agentSessionId: task.sessionId } : {}),
      durationMs: Date.now() - started,
      lastSeq: task.log.lastSeq,
    };
  }

  private async runTurn(task: TaskState, req: PromptRequest, onEvent: AgentEventListener): Promise<TurnResult> {
    const started = Date.now();
    const timeouts: TurnTimeouts = { ...defaultTurnTimeouts, ...this.opts.timeouts, ...req.timeouts };
    if (req.signal?.aborted) {
      const ev = task.log.push(`finished:pre:${started}`, { kind: 'finished', stopReason: 'cancelled' });
      if (ev) onEvent(ev);
      return {
        status: 'cancelled',
        stopReason: 'cancelled',
        summary: '',
        usage: { inputTokens: 0, outputTokens: 0, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 },
        diff: [],
        durationMs: 0,
        lastSeq: task.log.lastSeq,
      };
    }
    let sessionId: string;
    turnTrace(req.runId, 'adapter prompt');
    // Our MCP server is attached to the folder's instance while the session is created (both only need the
    // server); the prompt waits for both. `ORCH_OPENCODE_OVERLAP=0`: one after the other (bench comparison).
    let attaching: Promise<void> | undefined;
    try {
      await this.ensureServer();
      turnTrace(req.runId, 'server ready');
      if (req.mcp && overlapEnabled()) attaching = this.attachMcp(req.cwd, req.mcp);
      if (!task.sessionId || task.cwd !== req.cwd) {
        const ask = req.permissionPolicy
          ? (this.opts.askPermissions ?? defaultAsk).map((permission) => ({ permission, pattern: '*', action: 'ask' as const }))
          : undefined;
        const session = await this.call('session create', (c, o) =>
          c.session.create({ directory: req.cwd, title: `task ${req.runId}`, ...(ask ? { permission: ask } : {}) }, o),
        );
        turnTrace(req.runId, 'session created');
        task.sessionId = session.id;
        task.cwd = req.cwd;
        task.previousUserMessageId = undefined;
      }
      sessionId = task.sessionId;
    } catch (e) {
      // The attach (it never rejects) is left to end on its own: the failure is reported at once.
      return this.preTurnFailure(task, onEvent, e, started);
    }
    if (attaching) await attaching;
    else if (req.mcp) await this.attachMcp(req.cwd, req.mcp);
    turnTrace(req.runId, 'mcp attached');
    if (task.draining) await task.draining;
    task.draining = undefined;
    const turn = new Turn({
      runId: req.runId,
      sessionId,
      cwd: req.cwd,
      log: task.log,
      onEvent,
      timeouts,
      policy: req.permissionPolicy,
      previousUserMessageId: task.previousUserMessageId,
      api: this.api,
      debug: this.opts.log,
    });
    task.turn = turn;
    this.turnsBySession.set(sessionId, turn);
    const onAbort = () => void turn.cancel();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    // An abort while the server or the session was starting fired before the listener existed.
    if (req.signal?.aborted) onAbort();
    try {
      const model = splitModel(req.model ?? this.opts.models.defaultModel);
      await this.call('prompt', (c, o) =>
        c.session.promptAsync({ sessionID: sessionId, directory: req.cwd, model, parts: [{ type: 'text', text: req.prompt }] }, o),
      );
      turnTrace(req.runId, 'prompt_async answered');
    } catch (e) {
      const err = e instanceof AgentError ? e : new AgentError('protocol', message(e));
      if (this.server?.alive) turn.fail(err.reason, err.message);
      else turn.settleOffline('crashed', err.message, err.stderrTail);
    }
    try {
      const result = await turn.result;
      turnTrace(req.runId, 'turn result');
      if (leavesInstanceSuspect(result)) await this.resetInstance(req.cwd);
      if (result.status === 'cancelled') task.draining = this.drain(sessionId, req.cwd);
      return result;
    } finally {
      req.signal?.removeEventListener('abort', onAbort);
      this.turnsBySession.delete(sessionId);
      if (turn.userMessageId) task.previousUserMessageId = turn.userMessageId;
    }
  }

  /**
   * Adds our MCP server for this turn to OpenCode's instance of the task folder (`POST /mcp?directory=`), so
   * its tools appear as `<name>_<tool>`. Done before every turn: the attachment carries the run's own
   * token, and an instance reset drops it. Best effort: a failure is logged and the turn runs without the
   * tools. The headers hold the token: they are never logged.
   */
  private async attachMcp(directory: string, mcp: McpAttachment): Promise<void> {
    try {
      const status = await this.call('mcp add', (c, o) =>
        c.mcp.add(
          {
            directory,
            name: mcp.name,
            config: { type: 'remote', url: mcp.url, headers: { ...mcp.headers }, oauth: false, timeout: 10_000 },
          },
          o,
        ),
      );
      const st = (status as Record<string, { status?: string; error?: string } | undefined>)[mcp.name];
      if (st?.status !== 'connected')
        this.opts.log?.(
          `OpenCode did not connect to the orchestrator MCP server in ${directory}: ${st?.status ?? 'no status'} ${st?.error ?? ''}`,
        );
    } catch (e) {
      this.opts.log?.(`attaching the orchestrator MCP server in ${directory} failed; the turn runs without its tools: ${message(e)}`);
    }
  }

  /**
   * Disposes OpenCode's per-directory instance so the next turn there starts from a fresh one. After an
   * abort (or an internal OpenCode error) the instance has been seen to fail the next prompt in the same
   * folder with `UnknownError: All fibers interrupted`; a task folder has one writer, so this costs only
   * the next turn's instance start. Best effort, bounded by the API deadline.
   */
  private async resetInstance(directory: string): Promise<void> {
    try {
      await this.call('instance dispose', (c, o) => c.instance.dispose({ directory }, o));
    } catch (e) {
      this.opts.log?.(`disposing the OpenCode instance of ${directory} failed: ${message(e)}`);
    }
  }

  private drain(sessionId: string, directory: string): Promise<void> {
    return waitForLoopEnd({ messages: () => this.api.messages(sessionId, directory), deadlineMs: drainDeadlineMs, debug: this.opts.log });
  }

  async cancel(runId: string): Promise<void> {
    await this.tasks.get(runId)?.turn?.cancel();
  }

  async dispose(): Promise<void> {
    if (this.disposed) {
      await this.starting?.catch(() => undefined);
      return;
    }
    this.disposed = true;
    for (const turn of this.turnsBySession.values()) turn.settleOffline('disposed', 'The OpenCode adapter was disposed.');
    await this.starting?.catch(() => undefined);
    this.stream?.close();
    const server = this.server;
    this.server = undefined;
    this.client = undefined;
    await server?.stop();
  }
}

/** A turn after which OpenCode's instance for the folder may be left in a broken state. */
function leavesInstanceSuspect(r: TurnResult): boolean {
  return r.status === 'cancelled' || (r.status === 'failed' && /^UnknownError\b/.test(r.error?.message ?? ''));
}

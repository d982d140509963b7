/**
 * AgentRuntime on any ACP agent (the orchestrator is the ACP client), configured only by an agent descriptor
 * (domain/agentDescriptor.ts): no code path knows an agent by name.
 *
 * One agent process per task at a time, kept across the task's turns (one ACP session each), so a crash, a
 * hung prompt or an ignored cancel only ever costs that task, and the process can be killed safely. An idle
 * process waits in the pool (processPool.ts) for the next task: the spare `start()` pre-warms, or the process
 * of a released run whose turn ended cleanly (`end_turn`, process alive; not when the descriptor's
 * `quirks.reuseProcess` is false), which gets a new session in the next task's folder. Each process gets an
 * isolated home under `dataDir` and only the environment its descriptor names.
 */
import type { CommandSandbox } from '../../ports/commandSandbox';
import type { McpAttachment } from '../../ports/agentTools';
import { badInput, checkPromptRequest } from '../promptRequest';
import fs from 'node:fs';
import path from 'node:path';
import {
  agentEnvironment,
  launchPlan,
  metaOf,
  platformKeyOf,
  type AgentDescriptor,
  type LaunchPlan,
  type PlatformKey,
} from '../../domain/agentDescriptor';
import { AgentEventLog, emptyUsage } from '../../domain/agentEvent';
import {
  AgentError,
  type AgentEventListener,
  type AgentRuntime,
  type PromptRequest,
  type TurnResult,
  type TurnTimeouts,
} from '../../ports/agentRuntime';
import { AcpTurn } from './acpTurn';
import { AcpLink } from './link';
import { Route } from './route';
import { defaultLimits, type NormalizeLimits } from './normalize';
import { ProcessPool } from './processPool';
import { loadAcp } from './sdk';
import { TurnSnapshots } from './worktreeDiff';

export interface AcpAdapterOptions {
  descriptor: AgentDescriptor;
  /** Folder for this agent's isolated home. */
  dataDir: string;
  /** Where named variables are read from (default `process.env`); only the names the descriptor lists pass. */
  environment?: Readonly<Record<string, string | undefined>>;
  /** Program to run instead of the descriptor's distribution (e.g. a binary the caller located). */
  commandPath?: string;
  /** Where a binary distribution was installed. */
  installDir?: string;
  platform?: PlatformKey;
  timeouts?: Partial<TurnTimeouts>;
  /** Spawn → initialize → session/new deadline (default: the descriptor's quirk, else 60 s). */
  startTimeoutMs?: number;
  cancelGraceMs?: number;
  /** Largest single ACP message accepted (default 16 MiB); a bigger one ends the connection. */
  maxMessageBytes?: number;
  limits?: NormalizeLimits;
  /** A task's agent process is stopped when no turn of the task has run for this long (default 120 s). */
  idleProcessMs?: number;
  log?: (line: string) => void;
  /** The OS sandbox for `terminal/*` commands (the worktree is writable while a turn runs). */
  sandbox?: CommandSandbox;
}

export const defaultAcpTimeouts: TurnTimeouts = { idleMs: 180_000, turnMs: 30 * 60_000, unreachableMs: 30_000, permissionMs: 120_000 };

interface TaskState {
  log: AgentEventLog;
  link?: AcpLink;
  sessionId?: string;
  cwd?: string;
  turn?: AcpTurn;
  turns: number;
  busy: boolean;
  cost?: number;
  idleTimer?: NodeJS.Timeout;
  /** The caller is done with the run: forget it (and stop its process) once its turn ends. */
  released?: boolean;
  /** The last turn ended with `end_turn` on a live process: the process may serve another run once released. */
  reusable?: boolean;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class AcpAdapter implements AgentRuntime {
  readonly id: string;
  private readonly plan: LaunchPlan;
  private readonly home: string;
  private readonly tasks = new Map<string, TaskState>();
  private readonly pool: ProcessPool;
  private disposed = false;

  constructor(private readonly opts: AcpAdapterOptions) {
    this.id = opts.descriptor.id;
    const platform = opts.platform ?? platformKeyOf(process.platform, process.arch) ?? 'linux-x86_64';
    this.plan = launchPlan(opts.descriptor, { platform, installDir: opts.installDir, commandPath: opts.commandPath });
    this.home = path.join(opts.dataDir, 'home');
    this.pool = new ProcessPool({
      open: () => this.openLink(),
      idleMs: opts.idleProcessMs ?? 120_000,
      log: (l) => opts.log?.(`[${this.id}] ${l}`),
    });
  }

  private get meta() {
    return metaOf(this.opts.descriptor);
  }

  /** Pids of the running agent processes (diagnostics and tests). */
  get pids(): number[] {
    return [...this.tasks.values()].map((t) => t.link?.proc.pid).filter((p): p is number => p !== undefined);
  }

  pidOf(taskId: string): number | undefined {
    const l = this.tasks.get(taskId)?.link;
    return l?.alive ? l.proc.pid : undefined;
  }

  /** Pid of the idle process waiting for the next task, when there is one (diagnostics and tests). */
  idlePid(): Promise<number | undefined> {
    return this.pool.idlePid();
  }

  private prepareHome(): void {
    fs.mkdirSync(this.home, { recursive: true, mode: 0o700 });
    for (const d of ['.config', '.cache', '.local/share', '.local/state']) fs.mkdirSync(path.join(this.home, d), { recursive: true });
    for (const [rel, content] of Object.entries(this.meta.quirks?.homeFiles ?? {})) {
      const file = path.resolve(this.home, rel);
      if (!file.startsWith(this.home + path.sep))
        throw new AgentError('bad_input', `_meta.orchestrator.quirks.homeFiles: "${rel}" is outside the home`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const text = typeof content === 'string' ? content : JSON.stringify(content, null, 2);
      fs.writeFileSync(file, text.split('{home}').join(this.home));
    }
  }

  private async openLink(): Promise<{ link: AcpLink; route: Route }> {
    if (this.disposed) throw new AgentError('disposed', `The ${this.id} adapter was disposed.`);
    const { env, missing } = agentEnvironment(this.opts.descriptor, this.plan, {
      home: this.home,
      source: this.opts.environment ?? process.env,
    });
    if (missing.length)
      throw new AgentError(
        'start_failed',
        `${this.opts.descriptor.name} needs ${missing.join(', ')} in the environment (named by its descriptor); not set.`,
      );
    this.prepareHome();
    const route = new Route(env, this.opts.sandbox, this.opts.log);
    const link = await AcpLink.open({
      acp: await loadAcp(),
      agentName: this.opts.descriptor.name,
      command: this.plan.command,
      args: this.plan.args,
      env,
      cwd: this.home,
      startTimeoutMs: this.opts.startTimeoutMs ?? this.meta.quirks?.startTimeoutMs ?? 60_000,
      maxMessageBytes: this.opts.maxMessageBytes ?? 16 * 1024 * 1024,
      advertiseFs: this.meta.quirks?.advertiseFs ?? true,
      advertiseTerminal: this.meta.quirks?.advertiseTerminal ?? false,
      authMethodId: this.meta.auth?.methodId,
      handlers: route,
      log: (l) => this.opts.log?.(`[${this.id}] ${l}`),
    });
    if (this.disposed) {
      await link.stop();
      throw new AgentError('disposed', `The ${this.id} adapter was disposed.`);
    }
    return { link, route };
  }

  async start(): Promise<void> {
    if (this.disposed) throw new AgentError('disposed', `The ${this.id} adapter was disposed.`);
    await this.pool.start();
  }

  private validate(req: PromptRequest): void {
    checkPromptRequest(req);
    if (req.model !== undefined) throw badInput('model', `${this.opts.descriptor.name} chooses its own model; none can be set per prompt`);
  }

  async prompt(req: PromptRequest, onEvent: AgentEventListener): Promise<TurnResult> {
    if (this.disposed) throw new AgentError('disposed', `The ${this.id} adapter was disposed.`);
    this.validate(req);
    let task = this.tasks.get(req.runId);
    if (!task) {
      task = { log: new AgentEventLog(), turns: 0, busy: false };
      this.tasks.set(req.runId, task);
    }
    if (task.busy) throw new AgentError('busy', `Task ${req.runId} already has a turn running.`);
    task.busy = true;
    clearTimeout(task.idleTimer);
    try {
      return await this.runTurn(task, req, onEvent);
    } finally {
      task.busy = false;
      task.turn = undefined;
      // The next spare starts once this turn is over (not competing with it for the CPU).
      if (tookSpare.delete(task)) setImmediate(() => this.pool.refill());
      if (task.released) this.forget(req.runId, task);
      else this.armIdle(task, req.runId);
    }
  }

  /**
   * The run is over and no turn of it follows: drop its state (after a running turn), and stop its process or,
   * when its last turn ended cleanly, keep it idle for the next task.
   */
  release(runId: string): void {
    const task = this.tasks.get(runId);
    if (!task) return;
    task.released = true;
    if (!task.busy) this.forget(runId, task);
  }

  private forget(runId: string, task: TaskState): void {
    clearTimeout(task.idleTimer);
    const link = task.link;
    task.link = undefined;
    this.tasks.delete(runId);
    if (!link) return;
    const route = routes.get(link);
    const reuse = task.reusable && route && this.meta.quirks?.reuseProcess !== false;
    if (reuse && this.pool.give({ link, route })) return;
    void link.stop().catch((e: unknown) => this.opts.log?.(`[${this.id}] stopping ${runId}'s process: ${message(e)}`));
  }

  /** Runs whose state the adapter still holds (diagnostics and tests). */
  get heldRuns(): string[] {
    return [...this.tasks.keys()];
  }

  /** Keeps the task's process for a follow-up turn, and stops it when none comes. */
  private armIdle(task: TaskState, taskId: string): void {
    const link = task.link;
    if (!link || this.disposed) return;
    task.idleTimer = setTimeout(() => {
      if (task.busy || task.link !== link) return;
      this.opts.log?.(`[${this.id}] stopping the idle agent process of task ${taskId}`);
      task.link = undefined;
      task.sessionId = undefined;
      void link.stop();
    }, this.opts.idleProcessMs ?? 120_000);
    task.idleTimer.unref();
  }

  private preTurnResult(task: TaskState, onEvent: AgentEventListener, tag: string, started: number, e?: unknown): TurnResult {
    const err = e === undefined ? undefined : e instanceof AgentError ? e : new AgentError('protocol', message(e));
    const stopReason = err ? 'error' : 'cancelled';
    if (err) {
      const ev = task.log.push(`error:${tag}`, { kind: 'error', message: err.message, reason: err.reason });
      if (ev) onEvent(ev);
    }
    const fin = task.log.push(`finished:${tag}`, { kind: 'finished', stopReason });
    if (fin) onEvent(fin);
    return {
      status: err ? 'failed' : 'cancelled',
      stopReason,
      summary: '',
      usage: emptyUsage(),
      diff: [],
      ...(err ? { error: { reason: err.reason, message: err.message, ...(err.stderrTail ? { stderrTail: err.stderrTail } : {}) } } : {}),
      ...(task.sessionId ? { agentSessionId: task.sessionId } : {}),
      durationMs: Date.now() - started,
      lastSeq: task.log.lastSeq,
    };
  }

  /** The task's link and session, starting the process (or taking the spare) and opening a session as needed. */
  private async ensureSession(
    task: TaskState,
    cwd: string,
    mcp?: McpAttachment,
  ): Promise<{ link: AcpLink; route: Route; sessionId: string }> {
    if (!task.link?.alive) {
      task.link = undefined;
      task.sessionId = undefined;
      const idle = this.pool.take();
      if (idle) tookSpare.add(task);
      const opened = (await idle) ?? (await this.openLink());
      task.link = opened.link;
      routes.set(opened.link, opened.route);
    }
    const link = task.link;
    const route = routes.get(link)!;
    if (!task.sessionId || task.cwd !== cwd) {
      task.sessionId = await link.newSession(cwd, mcp);
      task.cwd = cwd;
      task.cost = undefined;
    }
    return { link, route, sessionId: task.sessionId };
  }

  private async runTurn(task: TaskState, req: PromptRequest, onEvent: AgentEventListener): Promise<TurnResult> {
    const started = Date.now();
    const tag = `t${++task.turns}`;
    task.reusable = false;
    const timeouts: TurnTimeouts = { ...defaultAcpTimeouts, ...this.opts.timeouts, ...req.timeouts };
    if (req.signal?.aborted) return this.preTurnResult(task, onEvent, tag, started);
    // The before-snapshot is taken while the process and the session start (nothing is prompted yet).
    const snapshots = TurnSnapshots.begin(req.cwd).catch(() => undefined);
    let session: { link: AcpLink; route: Route; sessionId: string };
    try {
      session = await this.ensureSession(task, req.cwd, req.mcp);
    } catch (e) {
      if (task.link && !task.link.alive) task.link = undefined;
      void snapshots.then((s) => s?.dispose());
      return this.preTurnResult(task, onEvent, tag, started, e);
    }
    const { link, route, sessionId } = session;
    const snaps = await snapshots;
    // Cancelled while the process or the session was starting: the prompt is never sent.
    if (req.signal?.aborted) {
      snaps?.dispose();
      return this.preTurnResult(task, onEvent, tag, started);
    }
    const turn = new AcpTurn({
      taskId: req.runId,
      cwd: req.cwd,
      agentSessionId: sessionId,
      log: task.log,
      onEvent,
      timeouts,
      policy: req.permissionPolicy,
      turnTag: tag,
      cancelGraceMs: this.opts.cancelGraceMs ?? this.meta.quirks?.cancelGraceMs ?? 5000,
      limits: this.opts.limits ?? defaultLimits,
      costBefore: task.cost,
      permissionQuirks: { executeTitleIsCommand: this.meta.quirks?.executeTitleIsCommand ?? false },
      sendCancel: () => link.cancel(sessionId),
      abandon: (why) => {
        this.opts.log?.(`[${this.id}] stopping the agent process of task ${req.runId}: ${why}`);
        if (task.link === link) {
          task.link = undefined;
          task.sessionId = undefined;
        }
        void link.stop();
      },
      diff: async () => (snaps ? snaps.changes() : []),
      debug: (l) => this.opts.log?.(`[${this.id}] ${req.runId}: ${l}`),
    });
    task.turn = turn;
    route.attach(sessionId, req.cwd, turn, this.meta.quirks?.missingFileAsEmpty ?? false);
    const onExit = link.proc.exited.then((x) => turn.processExited(x.code, x.signal, x.stderrTail));
    void onExit;
    const onAbort = () => void turn.cancel();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    link.prompt(sessionId, req.prompt).then(
      // Updates sent before the response were already delivered (link.ts takes them off the stream in order).
      (r) => turn.promptReturned(r),
      async (e: unknown) => {
        // A rejected prompt because the process died is a crash: give the exit a moment to be seen.
        await Promise.race([link.proc.exited, new Promise((r) => setTimeout(r, 1000))]);
        if (link.proc.alive) turn.promptFailed(message(e));
      },
    );
    try {
      const result = await turn.result;
      task.cost = turn.normalizer.lastCost;
      task.reusable = result.status === 'succeeded' && link.alive && task.link === link;
      if (!link.alive) {
        // The connection or the process is gone (crash, an oversized message): never reuse it.
        if (task.link === link) {
          task.link = undefined;
          task.sessionId = undefined;
        }
        void link.stop();
      }
      return result;
    } finally {
      snaps?.dispose();
      req.signal?.removeEventListener('abort', onAbort);
      route.detach(turn);
    }
  }

  async cancel(taskId: string): Promise<void> {
    await this.tasks.get(taskId)?.turn?.cancel();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const stops: Promise<void>[] = [this.pool.dispose()];
    for (const task of this.tasks.values()) {
      clearTimeout(task.idleTimer);
      task.turn?.fail('disposed', `The ${this.id} adapter was disposed.`);
      if (task.link) stops.push(task.link.stop());
      task.link = undefined;
    }
    await Promise.all(stops);
  }
}

const routes = new WeakMap<AcpLink, Route>();
/** Tasks whose current turn took the spare process. */
const tookSpare = new WeakSet<TaskState>();

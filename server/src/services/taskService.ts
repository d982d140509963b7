/**
 * Runs single agent tasks: validates the request, persists the task, drives one agent turn through the
 * AgentRuntime port, writes every event to the task's transcript before publishing it, and records the
 * result. Permission requests go through the pure policy; what it cannot decide is asked of the user.
 */
import type { AgentEvent } from '../../../protocol/agentEvent';
import type { PermissionAsk, TaskView } from '../../../protocol/task';
import { emptyUsage, addUsage } from '../domain/agentEvent';
import { DomainError } from '../domain/errors';
import { decidePermission, requestGlobs, requestPaths, type PolicyConfig, type PolicyRequest } from '../domain/permissionPolicy';
import { localTenantId } from '../domain/storeSchema';
import { turnWarnings } from '../domain/turnOutcome';
import type { AgentRuntime, PermissionRequest, TurnResult, TurnTimeouts } from '../ports/agentRuntime';
import type { Logger } from '../ports/logger';
import type { PathResolverPort } from '../ports/pathResolver';
import type { StorePort } from '../ports/store';
import type { TranscriptPort } from '../ports/transcript';
import type { WorkspacePort } from '../ports/workspace';

export interface RunTaskInput {
  agent: string;
  cwd: string;
  prompt: string;
  model?: string;
  timeouts?: Partial<TurnTimeouts>;
  /** Set by orchestrated sessions; single tasks get their own session id. */
  sessionId?: string;
  /** The user's repository (reads inside it are allowed). Sessions pass the session's repository; single runs default to the git root of `cwd`. */
  repoRoot?: string;
}

export interface TaskServiceDeps {
  store: StorePort;
  transcripts: TranscriptPort<AgentEvent>;
  workspace: WorkspacePort;
  runtime(agent: string): AgentRuntime | undefined;
  /** Checks a `provider/model` id for an agent; returns an error message when it is unknown. */
  checkModel(agent: string, model: string): string | undefined;
  publish(update: { task: TaskView; event?: AgentEvent }): void;
  /** Ask the user (the extension or another client). Rejects or resolves 'deny' when nobody answers. */
  askUser(ask: PermissionAsk): Promise<'allow' | 'deny'>;
  policy?: PolicyConfig;
  /** Resolves paths (symlinks included) before the policy decides. */
  paths: PathResolverPort;
  newId(): string;
  now(): Date;
  logger: Logger;
}

type TaskRecord = TaskView & { tenantId: string };

/** What the permission policy needs of a running turn beyond the request. */
interface TurnContext {
  /** The user's repository and the folder OpenCode reports relative paths from (the git root of the task's folder). */
  repoRoot: string;
  patternBase: string;
  /** bash `workdir` per tool call, from the tool call's input. */
  workdirs: Map<string, string>;
  /** The policy's reason per request (permission + patterns), for the denied list. */
  reasons: Map<string, string>;
  /** Open permission requests by adapter id. */
  requests: Map<string, { permission: string; patterns: string[] }>;
}

const maxDenied = 50;
const requestKey = (permission: string, patterns: readonly string[]) => `${permission}\u0000${patterns.join('\u0000')}`;

export class TaskService {
  private readonly running = new Map<string, { controller: AbortController; done: Promise<TurnResult | undefined> }>();
  private readonly views = new Map<string, TaskRecord>();

  constructor(private readonly deps: TaskServiceDeps) {}

  /** Marks tasks left running by a crashed server as failed (they cannot be re-attached yet). */
  async recoverInterrupted(): Promise<number> {
    let n = 0;
    await this.deps.store.update((d) => {
      for (const t of d.runs) {
        if (t.state === 'running' || t.state === 'pending') {
          t.state = 'failed';
          t.finishedAt = this.deps.now().toISOString();
          t.error = { reason: 'interrupted', message: 'The orchestrator server stopped while this task was running.' };
          n++;
        }
      }
    });
    return n;
  }

  async run(input: RunTaskInput): Promise<{ taskId: string; sessionId: string; done: Promise<TurnResult | undefined> }> {
    const runtime = this.deps.runtime(input.agent);
    if (!runtime) throw new DomainError('bad_input', `agent: unknown agent ${JSON.stringify(input.agent)}`, { field: 'agent' });
    if (!input.prompt.trim()) throw new DomainError('bad_input', 'prompt: must not be empty', { field: 'prompt' });
    if (input.model) {
      const problem = this.deps.checkModel(input.agent, input.model);
      if (problem) throw new DomainError('bad_input', `model: ${problem}`, { field: 'model' });
    }
    const { root } = await this.deps.workspace.assertRepo(input.cwd);

    const id = this.deps.newId();
    const now = this.deps.now().toISOString();
    const task: TaskRecord = {
      id,
      tenantId: localTenantId,
      sessionId: input.sessionId ?? `run-${id}`,
      agent: input.agent,
      cwd: input.cwd,
      prompt: input.prompt,
      model: input.model,
      state: 'running',
      createdAt: now,
      startedAt: now,
      usage: emptyUsage(),
      events: 0,
    };
    await this.save(task);
    this.deps.publish({ task: this.view(task) });
    const controller = new AbortController();
    const ctx: TurnContext = {
      repoRoot: input.repoRoot ?? root,
      patternBase: root,
      workdirs: new Map(),
      reasons: new Map(),
      requests: new Map(),
    };
    const done = this.drive(runtime, task, input, ctx, controller).finally(() => this.running.delete(id));
    this.running.set(id, { controller, done });
    return { taskId: id, sessionId: task.sessionId, done };
  }

  private async drive(
    runtime: AgentRuntime,
    task: TaskRecord,
    input: RunTaskInput,
    ctx: TurnContext,
    controller: AbortController,
  ): Promise<TurnResult | undefined> {
    const signal = controller.signal;
    // Transcript appends are chained so events land in seq order; publishing waits for the append.
    let chain = Promise.resolve();
    // A transcript that cannot be written (full disk, I/O error) ends the turn: its events would be lost.
    let writeError: Error | undefined;
    const stopOnWriteError = (err: unknown) => {
      if (writeError) return;
      writeError = err as Error;
      this.deps.logger.error(`transcript append failed for task ${task.id}; stopping the turn: ${String(err)}`);
      controller.abort();
      void runtime.cancel(task.id).catch(() => undefined);
    };
    const onEvent = (e: AgentEvent) => {
      task.events++;
      this.notePermissions(task, ctx, e);
      if (e.kind === 'usage') task.usage = addUsage(task.usage, e);
      if (e.kind === 'tool_call')
        task.currentTool = e.status === 'pending' || e.status === 'in_progress' ? e.title || e.toolName : undefined;
      const snapshot = this.view(task);
      chain = chain
        .then(() => this.deps.transcripts.append(task.sessionId, task.id, e))
        .then(() => this.deps.publish({ task: snapshot, event: e }))
        .catch(stopOnWriteError);
    };
    let result: TurnResult | undefined;
    try {
      result = await runtime.prompt(
        {
          taskId: task.id,
          cwd: input.cwd,
          prompt: input.prompt,
          model: input.model,
          signal,
          timeouts: input.timeouts,
          permissionPolicy: (req) => this.permission(task, ctx, req),
        },
        onEvent,
      );
    } catch (e) {
      // Refused before it started (busy, disposed, bad input): a failed result that says why.
      const reason = (e as { reason?: string }).reason ?? 'error';
      result = {
        status: 'failed',
        stopReason: 'error',
        summary: '',
        usage: task.usage,
        diff: [],
        error: { reason: reason as never, message: (e as Error).message },
        durationMs: 0,
        lastSeq: 0,
      };
    }
    // One run is one turn: the agent adapter need not keep anything of it for a follow-up.
    runtime.release?.(task.id);
    await chain;
    if (writeError) {
      const base = result ?? { stopReason: 'error' as const, summary: '', usage: task.usage, diff: [], durationMs: 0, lastSeq: 0 };
      result = {
        ...base,
        status: 'failed',
        error: { reason: 'write_failed', message: `the transcript could not be written: ${writeError.message}` },
      };
    }
    task.state = result?.status ?? 'failed';
    task.finishedAt = this.deps.now().toISOString();
    task.currentTool = undefined;
    if (result) {
      task.summary = result.summary;
      task.diff = result.diff;
      task.usage = result.usage;
      if (result.error) task.error = { reason: result.error.reason, message: result.error.message, stderrTail: result.error.stderrTail };
    }
    const warnings = turnWarnings({ state: task.state, changedFiles: task.diff?.length ?? 0, denied: task.denied ?? [] });
    if (warnings.length) {
      task.warnings = warnings;
      if (result) result = { ...result, warnings };
      this.deps.logger.warn(`task ${task.id}: ${warnings.join('; ')}`);
    }
    await this.save(task).catch((e: unknown) => this.deps.logger.error(`could not save task ${task.id}: ${String(e)}`));
    this.deps.publish({ task: this.view(task) });
    return result;
  }

  /** Keeps what the policy needs from the event stream: bash working folders, and which requests were denied. */
  private notePermissions(task: TaskRecord, ctx: TurnContext, e: AgentEvent): void {
    if (e.kind === 'tool_call' && e.input && typeof e.input === 'object') {
      const workdir = (e.input as { workdir?: unknown }).workdir;
      if (typeof workdir === 'string' && workdir) ctx.workdirs.set(e.id, workdir);
    } else if (e.kind === 'permission_request') {
      ctx.requests.set(e.id, { permission: e.permission, patterns: e.patterns ?? [] });
    } else if (e.kind === 'permission_decision') {
      const req = ctx.requests.get(e.id);
      ctx.requests.delete(e.id);
      if (e.decision !== 'deny' || !req) return;
      const reason = ctx.reasons.get(requestKey(req.permission, req.patterns)) ?? `denied (${e.by})`;
      task.denied = [...(task.denied ?? []), { ...req, reason }].slice(-maxDenied);
    }
  }

  private async permission(task: TaskRecord, ctx: TurnContext, req: PermissionRequest): Promise<'allow' | 'deny'> {
    const filepath = typeof req.metadata?.filepath === 'string' ? req.metadata.filepath : undefined;
    const workdir = req.toolCallId ? ctx.workdirs.get(req.toolCallId) : undefined;
    const base: PolicyRequest = {
      permission: req.permission,
      patterns: req.patterns,
      cwd: req.cwd || task.cwd,
      repoRoot: ctx.repoRoot,
      patternBase: ctx.patternBase,
      home: this.deps.paths.home(),
      ...(filepath ? { filepath } : {}),
      ...(workdir ? { commandCwd: workdir } : {}),
    };
    const globs = requestGlobs(base, this.deps.policy);
    if (globs.length)
      base.expanded = Object.fromEntries(await Promise.all(globs.map(async (g) => [g, await this.deps.paths.expand(g)] as const)));
    const paths = requestPaths(base, this.deps.policy);
    const resolved = Object.fromEntries(await Promise.all(paths.map(async (p) => [p, await this.deps.paths.resolve(p)] as const)));
    const verdict = decidePermission({ ...base, resolved }, this.deps.policy);
    this.deps.logger.info(`task ${task.id}: ${req.permission} ${req.patterns.join(' ')} → ${verdict.decision} (${verdict.reason})`);
    const key = requestKey(req.permission, req.patterns);
    ctx.reasons.set(key, verdict.reason);
    if (verdict.decision !== 'ask') return verdict.decision;
    try {
      const answer = await this.deps.askUser({
        taskId: task.id,
        permission: req.permission,
        patterns: req.patterns,
        reason: verdict.reason,
        cwd: task.cwd,
      });
      if (answer === 'deny') ctx.reasons.set(key, `the user denied it (${verdict.reason})`);
      return answer;
    } catch (e) {
      this.deps.logger.warn(`task ${task.id}: nobody answered the permission request (${String(e)}); denied`);
      ctx.reasons.set(key, `nobody answered (${verdict.reason})`);
      return 'deny';
    }
  }

  async cancel(taskId: string): Promise<TaskView> {
    const task = this.get(taskId);
    const r = this.running.get(taskId);
    if (r) {
      r.controller.abort();
      await this.deps.runtime(task.agent)?.cancel(taskId);
      await r.done;
    }
    return this.get(taskId);
  }

  get(taskId: string): TaskView {
    const live = this.views.get(taskId);
    if (live) return this.view(live);
    const t = this.deps.store.read().runs.find((x) => x.id === taskId && x.tenantId === localTenantId);
    if (!t) throw new DomainError('not_found', `taskId: no task ${JSON.stringify(taskId)}`, { field: 'taskId' });
    return this.view(t);
  }

  list(limit = 100): TaskView[] {
    const stored = this.deps.store.read().runs;
    return [...stored]
      .filter((t) => t.tenantId === localTenantId)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, limit)
      .map((t) => this.get(t.id));
  }

  async transcript(taskId: string, afterSeq = 0): Promise<AgentEvent[]> {
    const task = this.get(taskId);
    const entries = await this.deps.transcripts.read(task.sessionId, task.id);
    return entries.filter((e) => e.seq > afterSeq);
  }

  /** Waits for every running task (used by the CLI and on shutdown). */
  async settle(): Promise<void> {
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  private async save(task: TaskRecord): Promise<void> {
    this.views.set(task.id, task);
    const copy = { ...task };
    await this.deps.store.update((d) => {
      const list = d.runs;
      const i = list.findIndex((t) => t.id === task.id);
      if (i >= 0) list[i] = copy;
      else list.push(copy);
    });
    if (task.state !== 'running' && task.state !== 'pending') this.views.delete(task.id);
  }

  private view(t: TaskRecord): TaskView {
    const { tenantId: _tenant, ...view } = t;
    return { ...view, usage: { ...view.usage } };
  }
}

/**
 * Runs agent turns (runs): persists the run, drives one agent turn through the AgentRuntime port, writes
 * every event to the run's transcript before publishing it, and records the result. Its input was
 * validated once at the edge (the `run/start` schema, or the session runner's own records); here only
 * what needs the machine is checked (the folder is a git repository, the model is configured).
 * Permission requests go through the pure policy; what it cannot decide is asked of the user.
 */
import type { AgentEvent } from '../../../protocol/agentEvent';
import type { PermissionAnswer, PermissionAsk, RunView } from '../../../protocol/run';
import { emptyUsage, addUsage } from '../domain/agentEvent';
import { DomainError } from '../domain/errors';
import { type PolicyConfig, type PolicyRequest } from '../domain/permissionPolicy';
import { localTenantId } from '../domain/storeSchema';
import { turnWarnings } from '../domain/turnOutcome';
import type { AgentToolGrants, OpenGrant } from '../ports/agentTools';
import type { AgentRuntime, PermissionRequest, PolicyAnswer, TurnResult, TurnTimeouts } from '../ports/agentRuntime';
import type { Logger } from '../ports/logger';
import type { PathResolverPort } from '../ports/pathResolver';
import type { StorePort } from '../ports/store';
import type { TranscriptPort } from '../ports/transcript';
import type { WorkspacePort } from '../ports/workspace';
import { PermissionAsker } from './permissionAsker';
import { decideResolved } from './policyInput';

export interface RunInput {
  agent: string;
  cwd: string;
  prompt: string;
  model?: string;
  timeouts?: Partial<TurnTimeouts>;
  /** Set by orchestrated sessions (run attempts and planning turns); a single run has none. */
  sessionId?: string;
  /** The session task this run is an attempt of. */
  taskId?: string;
  /** The user's repository (reads inside it are allowed). Sessions pass the session's repository; single runs default to the git root of `cwd`. */
  repoRoot?: string;
}

export interface RunServiceDeps {
  store: StorePort;
  transcripts: TranscriptPort<AgentEvent>;
  /** Benchmarks only: each event's append waits for the previous event's publish (no group commit across events). */
  serialAppends?: boolean;
  workspace: WorkspacePort;
  runtime(agent: string): AgentRuntime | undefined;
  /** Whether the settings disable the agent (`orchestrator.agents.disabled`): no run starts on it. */
  isDisabled?(agent: string): boolean;
  /** Checks a `provider/model` id for an agent; returns an error message when it is unknown. */
  checkModel(agent: string, model: string): string | undefined;
  /** The model an agent uses when a run names none (recorded on the run so clients and datasets see what ran). */
  defaultModel?(agent: string): string | undefined;
  publish(update: { run: RunView; event?: AgentEvent }): void;
  /** Ask the user (the extension or another client). The run service applies the deadline (`permissionAskMs`). */
  askUser(ask: PermissionAsk): Promise<PermissionAnswer | 'allow' | 'deny'>;
  /**
   * Every permission answer not given by a user (the policy's, a remembered rule's, a deadline's), for an
   * audit log; the user's own answers pass through `askUser`. Called without waiting.
   */
  permissionAnswered?(a: AutoPermissionAnswer): void;
  /** The tenant its run records carry (default `local`). */
  tenantId?: string;
  /** How long a user may take to answer before the ask is denied (default 115 s, under the adapters' 120 s). */
  permissionAskMs?: number;
  policy?: PolicyConfig;
  /** Resolves paths (symlinks included) before the policy decides. */
  paths: PathResolverPort;
  /** Our MCP server's per-run grants; without it agents get no orchestrator tools. */
  agentTools?: AgentToolGrants;
  newId(): string;
  now(): Date;
  logger: Logger;
}

type RunRecord = RunView & { tenantId: string };

/** A permission answer the server gave by itself. */
export interface AutoPermissionAnswer {
  runId: string;
  sessionId?: string;
  taskId?: string;
  permission: string;
  patterns: string[];
  decision: 'allow' | 'deny';
  by: 'policy' | 'remembered' | 'deadline' | 'undelivered';
  reason: string;
}

/** The transcript folder of a run: its session's, or `run-<id>` for a single run. */
export const transcriptFolder = (r: Pick<RunView, 'id' | 'sessionId'>): string => r.sessionId ?? `run-${r.id}`;

/** What the permission policy needs of a running turn beyond the request. */
interface TurnContext {
  /** The user's repository and the folder OpenCode reports relative paths from (the git root of the run's folder). */
  repoRoot: string;
  patternBase: string;
  /** bash `workdir` per tool call, from the tool call's input. */
  workdirs: Map<string, string>;
  /** The policy's reason per request (permission + patterns), for the denied list. */
  reasons: Map<string, string>;
  /** Open permission requests by adapter id. */
  requests: Map<string, { permission: string; patterns: string[] }>;
  /** How long the user may take to answer an ask in this turn. */
  askMs: number;
}

const maxDenied = 50;
const defaultAskMs = 115_000;

/** The user's deadline in a turn: under the turn's own permission deadline, so the run service denies first and says why. */
function askDeadline(configured: number, turnPermissionMs: number | undefined): number {
  if (turnPermissionMs === undefined) return configured;
  return Math.max(500, Math.min(configured, turnPermissionMs - Math.min(2000, turnPermissionMs / 4)));
}
const requestKey = (permission: string, patterns: readonly string[]) => `${permission}\u0000${patterns.join('\u0000')}`;

export class RunService {
  private readonly running = new Map<string, { controller: AbortController; done: Promise<TurnResult | undefined> }>();
  private readonly views = new Map<string, RunRecord>();
  private readonly asker: PermissionAsker;

  constructor(private readonly deps: RunServiceDeps) {
    this.asker = new PermissionAsker(deps);
  }

  /** Marks runs left running by a crashed server as failed (they cannot be re-attached yet). */
  async recoverInterrupted(): Promise<number> {
    let n = 0;
    await this.deps.store.update((d) => {
      for (const t of d.runs) {
        if (t.state === 'running' || t.state === 'pending') {
          t.state = 'failed';
          t.finishedAt = this.deps.now().toISOString();
          t.error = { reason: 'interrupted', message: 'The orchestrator server stopped while this run was in progress.' };
          n++;
        }
      }
    });
    return n;
  }

  /**
   * Starts a run. `firstReply` resolves at the run's first event from the model's side (anything but the echo
   * of the user's prompt: the model request went out), or when the turn ends without one.
   */
  async start(input: RunInput): Promise<{ runId: string; done: Promise<TurnResult | undefined>; firstReply: Promise<void> }> {
    const runtime = this.deps.runtime(input.agent);
    if (!runtime)
      throw new DomainError('bad_input', `agent: ${JSON.stringify(input.agent)} is not a registered agent (see agent/list)`, {
        field: 'agent',
      });
    // Routing already gives a disabled agent no session task; this also covers a direct `run/start` and the CLI.
    if (this.deps.isDisabled?.(input.agent))
      throw new DomainError(
        'agent_disabled',
        `agent ${JSON.stringify(input.agent)} is disabled by the setting orchestrator.agents.disabled; enable it in the Agents view or remove it from that setting`,
        { field: 'agent', agent: input.agent, setting: 'orchestrator.agents.disabled' },
      );
    if (input.model) {
      const problem = this.deps.checkModel(input.agent, input.model);
      if (problem) throw new DomainError('bad_input', `model: ${problem}`, { field: 'model' });
    }
    const ws = this.deps.workspace;
    const root = ws.repoRoot ? await ws.repoRoot(input.cwd) : (await ws.assertRepo(input.cwd)).root;

    const id = this.deps.newId();
    const now = this.deps.now().toISOString();
    const run: RunRecord = {
      id,
      tenantId: this.deps.tenantId ?? localTenantId,
      ...(input.sessionId ? { sessionId: input.sessionId } : {}),
      ...(input.taskId ? { taskId: input.taskId } : {}),
      agent: input.agent,
      cwd: input.cwd,
      prompt: input.prompt,
      model: input.model ?? this.deps.defaultModel?.(input.agent),
      state: 'running',
      createdAt: now,
      startedAt: now,
      usage: emptyUsage(),
      events: 0,
    };
    await this.save(run);
    this.deps.publish({ run: this.view(run) });
    const controller = new AbortController();
    const ctx: TurnContext = {
      repoRoot: input.repoRoot ?? root,
      patternBase: root,
      workdirs: new Map(),
      reasons: new Map(),
      requests: new Map(),
      askMs: askDeadline(this.deps.permissionAskMs ?? defaultAskMs, input.timeouts?.permissionMs),
    };
    let replied!: () => void;
    const firstReply = new Promise<void>((r) => (replied = r));
    const done = this.drive(runtime, run, input, ctx, controller, replied).finally(() => {
      replied();
      this.running.delete(id);
    });
    this.running.set(id, { controller, done });
    return { runId: id, done, firstReply };
  }

  private async drive(
    runtime: AgentRuntime,
    run: RunRecord,
    input: RunInput,
    ctx: TurnContext,
    controller: AbortController,
    replied: () => void,
  ): Promise<TurnResult | undefined> {
    const signal = controller.signal;
    // Events are appended in seq order and each is published after its append resolved, in seq order.
    let chain = Promise.resolve();
    const pipelined = this.deps.serialAppends !== true;
    // A transcript that cannot be written (full disk, I/O error) ends the turn: its events would be lost.
    let writeError: Error | undefined;
    const stopOnWriteError = (err: unknown) => {
      if (writeError) return;
      writeError = err as Error;
      this.deps.logger.error(`transcript append failed for run ${run.id}; stopping the turn: ${String(err)}`);
      controller.abort();
      void runtime.cancel(run.id).catch(() => undefined);
    };
    // After a failed append nothing more is published: subscribers never see a gap the transcript has.
    const publish = (snapshot: ReturnType<RunService['view']>, e: AgentEvent) =>
      writeError ? undefined : this.deps.publish({ run: snapshot, event: e });
    const record = (e: AgentEvent) => {
      run.events++;
      this.notePermissions(run, ctx, e);
      if (e.kind === 'usage') run.usage = addUsage(run.usage, e);
      if (e.kind === 'tool_call')
        run.currentTool = e.status === 'pending' || e.status === 'in_progress' ? e.title || e.toolName : undefined;
      if (e.kind === 'progress') run.currentTool = e.percent === undefined ? e.message : `${e.message} (${e.percent}%)`;
      const snapshot = this.view(run);
      if (!pipelined) {
        chain = chain
          .then(() => this.deps.transcripts.append(transcriptFolder(run), run.id, e))
          .then(() => publish(snapshot, e))
          .catch(stopOnWriteError);
        return;
      }
      // The append is issued now (the transcript writes a run's lines in call order, and lines queued while a
      // write is in flight share the next fdatasync); only the publishes are chained, each after its own append.
      let appended: Promise<void>;
      try {
        appended = this.deps.transcripts.append(transcriptFolder(run), run.id, e);
      } catch (err) {
        appended = Promise.reject(err);
      }
      appended.catch(() => undefined);
      chain = chain
        .then(() => appended)
        .then(() => publish(snapshot, e))
        .catch(stopOnWriteError);
    };
    // Progress reported through our MCP server is placed between the adapter's events: every adapter event
    // after it moves up by one `seq`, so the run's sequence stays strictly increasing and gap-free per source.
    let shift = 0;
    let lastSeq = 0;
    let ended = false;
    const onEvent = (e: AgentEvent) => {
      const ev = shift ? { ...e, seq: e.seq + shift } : e;
      lastSeq = ev.seq;
      if (ev.kind !== 'message_chunk' || ev.role !== 'user') replied();
      if (ev.kind === 'finished') ended = true;
      record(ev);
    };
    const onProgress = (p: { message: string; percent?: number }): boolean => {
      if (ended) return false;
      shift++;
      record({ kind: 'progress', ...p, seq: ++lastSeq, at: this.deps.now().toISOString(), key: `progress:${shift}` });
      return true;
    };
    let grant: OpenGrant | undefined;
    try {
      grant = await this.deps.agentTools?.open(
        {
          runId: run.id,
          cwd: input.cwd,
          ...(run.sessionId ? { sessionId: run.sessionId } : {}),
          ...(run.taskId ? { taskId: run.taskId } : {}),
        },
        onProgress,
      );
    } catch (e) {
      this.deps.logger.warn(`run ${run.id}: the agent tools are not available for this turn: ${String(e)}`);
    }
    let result: TurnResult | undefined;
    try {
      result = await runtime.prompt(
        {
          runId: run.id,
          cwd: input.cwd,
          prompt: input.prompt,
          model: input.model,
          signal,
          timeouts: input.timeouts,
          permissionPolicy: (req) => this.permission(run, ctx, req),
          ...(grant ? { mcp: grant.attachment } : {}),
        },
        onEvent,
      );
      if (shift) result = { ...result, lastSeq: result.lastSeq + shift };
    } catch (e) {
      // Refused before it started (busy, disposed, bad input): a failed result that says why.
      const reason = (e as { reason?: string }).reason ?? 'error';
      result = {
        status: 'failed',
        stopReason: 'error',
        summary: '',
        usage: run.usage,
        diff: [],
        error: { reason: reason as never, message: (e as Error).message },
        durationMs: 0,
        lastSeq: 0,
      };
    }
    ended = true;
    grant?.close();
    // One run is one turn: the agent adapter need not keep anything of it for a follow-up.
    runtime.release?.(run.id);
    if (!run.sessionId) this.asker.forget({ runId: run.id });
    await chain;
    if (writeError) {
      const base = result ?? { stopReason: 'error' as const, summary: '', usage: run.usage, diff: [], durationMs: 0, lastSeq: 0 };
      result = {
        ...base,
        status: 'failed',
        error: { reason: 'write_failed', message: `the transcript could not be written: ${writeError.message}` },
      };
    }
    run.state = result?.status ?? 'failed';
    run.finishedAt = this.deps.now().toISOString();
    run.currentTool = undefined;
    if (result) {
      run.summary = result.summary;
      run.diff = result.diff;
      run.usage = result.usage;
      if (result.error) run.error = { reason: result.error.reason, message: result.error.message, stderrTail: result.error.stderrTail };
    }
    const warnings = turnWarnings({ state: run.state, changedFiles: run.diff?.length ?? 0, denied: run.denied ?? [] });
    if (warnings.length) {
      run.warnings = warnings;
      if (result) result = { ...result, warnings };
      this.deps.logger.warn(`run ${run.id}: ${warnings.join('; ')}`);
    }
    await this.save(run).catch((e: unknown) => this.deps.logger.error(`could not save run ${run.id}: ${String(e)}`));
    this.deps.publish({ run: this.view(run) });
    return result;
  }

  /** Keeps what the policy needs from the event stream: bash working folders, and which requests were denied. */
  private notePermissions(run: RunRecord, ctx: TurnContext, e: AgentEvent): void {
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
      run.denied = [...(run.denied ?? []), { ...req, reason }].slice(-maxDenied);
    }
  }

  private async permission(run: RunRecord, ctx: TurnContext, req: PermissionRequest): Promise<PolicyAnswer> {
    const filepath = typeof req.metadata?.filepath === 'string' ? req.metadata.filepath : undefined;
    const workdir = req.toolCallId ? ctx.workdirs.get(req.toolCallId) : undefined;
    const base: PolicyRequest = {
      permission: req.permission,
      patterns: req.patterns,
      cwd: req.cwd || run.cwd,
      repoRoot: ctx.repoRoot,
      patternBase: ctx.patternBase,
      home: this.deps.paths.home(),
      ...(filepath ? { filepath } : {}),
      ...(workdir ? { commandCwd: workdir } : {}),
    };
    const { request, paths, ...verdict } = await decideResolved(base, this.deps.paths, this.deps.policy);
    const resolved = request.resolved ?? {};
    this.deps.logger.info(`run ${run.id}: ${req.permission} ${req.patterns.join(' ')} → ${verdict.decision} (${verdict.reason})`);
    const key = requestKey(req.permission, req.patterns);
    ctx.reasons.set(key, verdict.reason);
    const answered = (decision: 'allow' | 'deny', by: AutoPermissionAnswer['by'], reason: string) => {
      try {
        this.deps.permissionAnswered?.({
          runId: run.id,
          ...(run.sessionId ? { sessionId: run.sessionId } : {}),
          ...(run.taskId ? { taskId: run.taskId } : {}),
          permission: req.permission,
          patterns: req.patterns,
          decision,
          by,
          reason,
        });
      } catch (e) {
        this.deps.logger.warn(`run ${run.id}: recording a permission answer failed: ${String(e)}`);
      }
    };
    // A policy allow or deny is final: a remembered rule never overrides a denial.
    if (verdict.decision !== 'ask') {
      answered(verdict.decision, 'policy', verdict.reason);
      return { decision: verdict.decision };
    }
    const realPaths = paths.map((p) => resolved[p] ?? p);
    const realTaskFolder = await this.deps.paths.resolve(base.cwd);
    const answer = await this.asker.decide({
      run,
      req,
      base: request,
      reason: verdict.reason,
      askMs: ctx.askMs,
      realPaths,
      realTaskFolder,
    });
    if (answer.by !== 'user')
      answered(answer.decision === 'allow' ? 'allow' : 'deny', answer.by, answer.why ?? answer.note ?? verdict.reason);
    if (answer.decision === 'deny' && answer.why) ctx.reasons.set(key, answer.why);
    return { decision: answer.decision, ...(answer.note ? { note: answer.note } : {}) };
  }

  /** Drops the "always" answers of a session (when it is deleted). */
  forgetSession(sessionId: string): void {
    this.asker.forget({ sessionId, runId: '' });
  }

  async cancel(runId: string): Promise<RunView> {
    const run = this.get(runId);
    const r = this.running.get(runId);
    if (r) {
      r.controller.abort();
      await this.deps.runtime(run.agent)?.cancel(runId);
      await r.done;
    }
    return this.get(runId);
  }

  get(runId: string): RunView {
    const live = this.views.get(runId);
    if (live) return this.view(live);
    // A run of an archived (finished) session is read from its session's archive.
    const t =
      this.deps.store.read().runs.find((x) => x.id === runId && x.tenantId === (this.deps.tenantId ?? localTenantId)) ??
      [this.deps.store.archivedRun?.(runId)].find((x) => x?.tenantId === (this.deps.tenantId ?? localTenantId));
    if (!t) throw new DomainError('not_found', `runId: no run ${JSON.stringify(runId)}`, { field: 'runId' });
    return this.view(t);
  }

  /** What a running run is doing now (its tool in progress and usage so far); undefined once it finished. */
  activity(runId: string): { currentTool?: string; usage: RunView['usage'] } | undefined {
    const live = this.views.get(runId);
    return live ? { currentTool: live.currentTool, usage: { ...live.usage } } : undefined;
  }

  list(limit = 100): RunView[] {
    const stored = this.deps.store.read().runs;
    return [...stored]
      .filter((t) => t.tenantId === (this.deps.tenantId ?? localTenantId))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, limit)
      .map((t) => this.get(t.id));
  }

  async transcript(runId: string, afterSeq = 0): Promise<AgentEvent[]> {
    const run = this.get(runId);
    const entries = await this.deps.transcripts.read(transcriptFolder(run), run.id);
    return entries.filter((e) => e.seq > afterSeq);
  }

  /** Waits for every running run (used by the CLI and on shutdown). */
  async settle(): Promise<void> {
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  private async save(run: RunRecord): Promise<void> {
    this.views.set(run.id, run);
    const copy = { ...run };
    await this.deps.store.update((d) => {
      const list = d.runs;
      const i = list.findIndex((t) => t.id === run.id);
      if (i >= 0) list[i] = copy;
      else list.push(copy);
    });
    if (run.state !== 'running' && run.state !== 'pending') this.views.delete(run.id);
  }

  private view(t: RunRecord): RunView {
    const { tenantId: _tenant, ...view } = t;
    return { ...view, usage: { ...view.usage } };
  }
}

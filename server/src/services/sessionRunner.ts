/**
 * The execution side of sessions: one serialized `pump` asks the pure scheduler what to start, commits
 * the decision in one store write, and hands each dispatch to the executor (p-queue). A dispatched task
 * runs in its own git worktree on `orchestrator/<session>/<task>`, branched from the session's
 * integration branch (which already holds its dependencies' results); when it succeeds it is committed
 * and merged into the integration branch, one merge at a time per session. A conflict is never resolved
 * silently: the task fails with the files listed, its branch is kept, and the session asks the user.
 * What a finished run does to its task, lease, dependents and session is decided by the pure
 * `finishTask` (domain/orchestration/finishRules.ts); this class only sequences the I/O around it.
 */
import type { SessionView } from '../../../protocol/session';
import { DomainError } from '../domain/errors';
import { applySchedule } from '../domain/orchestration/applySchedule';
import { finishTask, needsMerge, type MergeOutcome, type RunEnd } from '../domain/orchestration/finishRules';
import { promptWithDependencies } from '../domain/orchestration/plan';
import { outsideLease, upkeepLeases } from '../domain/orchestration/lease';
import { newAgentHealth, type AgentProfile } from '../domain/orchestration/routing';
import { nextDispatches, type ConcurrencyLimits, type Dispatch } from '../domain/orchestration/scheduler';
import { deriveSessionOutcome, isSessionTerminal, transitionSession } from '../domain/orchestration/sessionState';
import { isTaskTerminal } from '../domain/orchestration/taskState';
import { emptyUsage } from '../domain/agentEvent';
import type { TurnResult } from '../ports/agentRuntime';
import type { Executor } from '../ports/executor';
import type { Logger } from '../ports/logger';
import type { WorkspacePort } from '../ports/workspace';
import type { OrchestrationDraft, OrchestrationState, SessionRecords, StoredSession, StoredTask } from './sessionRecords';
import { integrationDirOf, taskBranchOf, taskWorktreeOf } from './sessionLayout';
import type { RunInput } from './runService';
import { WorktreePrewarmer } from './worktreePrewarm';
import { CleanupChains } from './cleanupChains';
import type { WorkerDispatch } from './workerDispatch';

/** The part of RunService the runner uses. */
export interface TurnRunner {
  /** `firstReply` (optional): resolves at the run's first event from the model's side, or at its end. */
  start(input: RunInput): Promise<{ runId: string; done: Promise<TurnResult | undefined>; firstReply?: Promise<void> }>;
  cancel(runId: string): Promise<unknown>;
}

export interface RunnerDeps {
  records: SessionRecords;
  workspace: WorkspacePort;
  runs: TurnRunner;
  executor: Executor;
  agents: AgentProfile[];
  /**
   * When an agent cannot start at all (a fatal start failure: not installed, start failed), the question
   * to ask the user; such an agent takes no task and a session needing it waits in `awaiting_approval`.
   */
  unavailable?(agentId: string): string | undefined;
  /** Probes again the agents that were unavailable (before a running session is made to wait for them). */
  recheckAgents?(): Promise<void>;
  limits: ConcurrencyLimits;
  /** Team server: who started each session (owner keys `user:<id>`, `key:<id>`), for `limits.perOwner`. */
  ownersOf?(sessionId: string): readonly string[];
  worktreeRoot: string;
  leaseTtlMs: number;
  publish(view: SessionView): void;
  now(): number;
  logger: Logger;
  /**
   * Pre-warmed worktrees for ready tasks waiting for a slot (see `worktreePrewarm.ts`): how many at most
   * (default: the global concurrency limit when `warmAgent` is given, else 0: off), and the agent's own
   * pre-warm of a folder.
   */
  prewarm?: { ahead?(): number; warmAgent?(cwd: string): Promise<void>; warmAgentMs?: number; holdMs?: number };
  /**
   * Team server with workers (`serve --workers`): tasks are queued for worker processes instead of run here,
   * and a session's end waits for its merge by a worker (see `workerDispatch.ts`).
   */
  workers?: WorkerDispatch;
  /**
   * Whether a task frees its executor slot (and its session's and agent's slot in the scheduler) when its
   * agent turn ends, so the next task starts while its commit and merge run (default true; docs/performance.md).
   * Its lease and its `running` state are kept until its end is recorded.
   */
  freeSlotAtTurnEnd?: boolean;
}

export class SessionRunner {
  private pumping: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Set by a write fault (full disk, I/O error): no dispatch, no upkeep; see `halt`. */
  private halted?: string;
  private readonly haltListeners = new Set<(reason: string) => void>();
  /** Tasks whose execution runs in this process. */
  private readonly executing = new Set<string>();
  /** Of those, tasks whose agent turn has ended and whose end (commit, merge, store write) is under way. */
  private readonly ending = new Set<string>();
  /** Tasks the user (or a session cancel) asked to cancel; only these count a `cancelled` turn as a cancel. */
  private readonly cancelRequested = new Set<string>();
  private readonly merges = new Map<string, Promise<unknown>>();
  /** Per session, its worktree clean-ups one at a time; retries and dispatches wait for them. */
  private readonly cleanups: CleanupChains;
  /** Sessions whose merge by a worker is awaited (workers mode). */
  private readonly workerMerges = new Set<string>();
  private timer?: NodeJS.Timeout;
  readonly prewarmer: WorktreePrewarmer;

  constructor(private readonly d: RunnerDeps) {
    this.cleanups = new CleanupChains(d.logger);
    this.prewarmer = new WorktreePrewarmer({
      workspace: d.workspace,
      worktreeRoot: d.worktreeRoot,
      logger: d.logger,
      // Default: only where an agent warms the folder too (a worktree alone saves one git process at dispatch
      // and costs two in the background: measured a loss on a saturated machine, docs/performance.md). The
      // server passes OpenCode's folder warm-up (`OpencodeAdapter.warmFolder`).
      ahead: () => (d.prewarm?.ahead ? d.prewarm.ahead() : d.prewarm?.warmAgent ? d.limits.global : 0),
      warmAgent: d.prewarm?.warmAgent,
      warmAgentMs: d.prewarm?.warmAgentMs,
      holdMs: d.prewarm?.holdMs,
    });
  }

  /** Periodic upkeep: renew leases of running tasks, expire stale ones, re-check dispatch (backoffs, wall time). */
  startTicking(ms = 5_000): void {
    this.timer = setInterval(() => void this.tick(), ms);
    this.timer.unref();
  }

  /**
   * Graceful stop (window reload, restart, CLI exit): running turns are about to be disposed; their
   * results are dropped so the tasks stay `running` and the next start re-queues them with the attempt
   * refunded, instead of counting a failure.
   */
  stop(): void {
    this.stopped = true;
    this.prewarmer.stop();
    if (this.timer) clearInterval(this.timer);
  }

  /**
   * A write fault: the store or a transcript cannot be written. Nothing new is dispatched and no
   * upkeep is written; tasks whose end cannot be recorded stay `running` in the store, so the next
   * start (or `orchestrator resume`) re-queues them with the attempt refunded. Until the process restarts.
   */
  halt(reason: string): void {
    if (this.halted) return;
    this.halted = reason;
    this.d.logger.error(`dispatching stopped: ${reason}`);
    for (const l of this.haltListeners) l(reason);
  }

  /** Called once, when the runner halts (at once when it already has). */
  onHalt(listener: (reason: string) => void): void {
    if (this.halted) listener(this.halted);
    else this.haltListeners.add(listener);
  }

  haltedBy(): string | undefined {
    return this.halted;
  }

  /** Marks a task as cancelled on purpose (before its run is cancelled). */
  requestCancel(taskId: string): void {
    this.cancelRequested.add(taskId);
  }

  /** Undoes `requestCancel` when the cancel was refused (the task keeps running). */
  withdrawCancel(taskId: string): void {
    this.cancelRequested.delete(taskId);
  }

  private async tick(): Promise<void> {
    if (this.halted) return;
    const now = this.d.now();
    await this.d.records
      .mutate((st) => (st.leases = upkeepLeases(st.leases, st.tasks, now, this.d.leaseTtlMs)), { skipIfUnchanged: true })
      .catch((e: unknown) => this.d.logger.warn(`lease upkeep failed: ${String(e)}`));
    this.pump();
  }

  /**
   * Pre-warms outside a dispatch (a draft was planned or re-planned: its first wave's worktrees are made while
   * it awaits approval), in the pump's order.
   */
  prewarm(): void {
    this.pumping = this.pumping
      .then(() => {
        if (!this.stopped && !this.halted) this.prewarmer.update(this.d.records.state(), this.executing);
      })
      .catch((e: unknown) => this.d.logger.error(`pre-warm pass failed: ${String(e)}`));
  }

  /** Serialized: each pump sees the state the previous one wrote. */
  pump(): void {
    this.pumping = this.pumping
      .then(() => this.pumpOnce())
      .catch((e: unknown) => this.d.logger.error(`scheduler pass failed: ${(e as Error)?.stack ?? e}`));
  }

  private async pumpOnce(): Promise<void> {
    if (this.stopped || this.halted) return;
    const first = this.d.records.state();
    this.prewarmer.update(first, this.executing, false);
    const liveNow = (st: OrchestrationState) =>
      st.sessions.filter((s) => s.tenantId === this.d.records.tenantId && !isSessionTerminal(s.state) && s.state !== 'draft');
    if (!liveNow(first).length) return;
    await this.finishDone(liveNow(first), first.tasks);
    // An agent that could not start may have been fixed (binary put back): look again before asking.
    if (
      this.d.recheckAgents &&
      liveNow(first).some((x) => x.state === 'running') &&
      this.d.agents.some((a) => this.d.unavailable?.(a.id))
    ) {
      await this.d.recheckAgents().catch((e: unknown) => this.d.logger.warn(`re-checking agents failed: ${String(e)}`));
    }
    const unavailable = new Map(this.d.agents.map((a) => [a.id, this.d.unavailable?.(a.id)] as const));
    const touched = new Set<string>();
    let dispatches: Dispatch[] = [];
    // The decision is pure and synchronous: it is computed from the same state it is written into,
    // inside one store update, so no concurrent finish or lease renewal can be overwritten.
    await this.d.records.mutate(
      (s) => {
        const live = liveNow(s);
        if (!live.length) return;
        const ids = new Set(live.map((x) => x.id));
        const now = this.d.now();
        const decision = nextDispatches({
          sessions: live,
          tasks: s.tasks.filter((t) => ids.has(t.sessionId) && !isTaskTerminal(t.state)),
          leases: s.leases,
          agents: this.d.agents.map((profile) => ({
            profile: { ...profile, unavailable: unavailable.get(profile.id) },
            health: s.agentHealth[profile.id] ?? newAgentHealth(),
          })),
          limits: this.d.limits,
          ...(this.d.ownersOf ? { owners: Object.fromEntries(live.map((x) => [x.id, this.d.ownersOf!(x.id)])) } : {}),
          nowMs: now,
          leaseTtlMs: this.d.leaseTtlMs,
          ending: this.ending,
        });
        dispatches = decision.dispatches;
        const applied = applySchedule({
          sessions: s.sessions,
          tasks: s.tasks,
          agentHealth: s.agentHealth,
          decision,
          branchOf: taskBranchOf,
          unavailableQuestion: [...unavailable.values()].find((q) => q),
          nowMs: now,
        });
        s.sessions = applied.sessions;
        s.tasks = applied.tasks;
        s.leases = applied.leases;
        s.agentHealth = applied.agentHealth;
        for (const id of applied.touched) touched.add(id);
      },
      { skipIfUnchanged: true },
    );
    for (const id of touched) this.publish(id);
    for (const d of dispatches) {
      this.d.logger.info(`dispatch ${d.taskId} → ${d.agentId}: ${d.routeReason}`);
      this.executing.add(d.taskId);
      this.prewarmer.dispatched(d.taskId);
      // The executor job is the agent's turn; the end (commit, merge, store write) runs after it, out of the slot.
      const ended = () => {
        this.executing.delete(d.taskId);
        this.ending.delete(d.taskId);
        this.prewarmer.firstRequest(d.taskId);
      };
      const workers = this.d.workers;
      if (workers) {
        // On workers the slot is the wait for a worker, whose end includes its push: nothing to free early.
        this.d.executor.add(() => this.executeOnWorker(d, workers).finally(ended), this.d.records.session(d.sessionId).priority);
        continue;
      }
      this.d.executor.add(async () => {
        let end: (() => Promise<void>) | undefined;
        try {
          end = await this.execute(d);
        } finally {
          if (!end) ended();
        }
        if (this.d.freeSlotAtTurnEnd === false) return end().finally(ended);
        this.ending.add(d.taskId);
        void end()
          .catch((e: unknown) => this.d.logger.error(`task execution failed: ${String(e)}`))
          .finally(ended);
        this.pump();
      }, this.d.records.session(d.sessionId).priority);
    }
    // Ready tasks still waiting for a slot: their worktrees are made now, in the background.
    this.prewarmer.update(this.d.records.state(), this.executing);
  }

  /** Running sessions whose tasks have all ended (e.g. approved after a conflict) finish now. */
  private async finishDone(live: readonly StoredSession[], tasks: readonly StoredTask[]): Promise<void> {
    const done = live.filter((s) => s.state === 'running' && deriveSessionOutcome(tasks.filter((t) => t.sessionId === s.id)));
    if (!done.length) return;
    if (this.d.workers) {
      for (const s of done) this.mergeOnWorkers(s.id, this.d.workers);
      return;
    }
    const now = this.d.now();
    await this.d.records.mutate((st) => {
      for (const s of done)
        st.updateSession(s.id, (x) => {
          const outcome = deriveSessionOutcome(st.tasksOf(x.id));
          return outcome && x.state === 'running' ? transitionSession(x, { type: 'finish', outcome, nowMs: now }) : x;
        });
    });
    // Every clean-up is in its session's chain before any is awaited (a retry of any of them waits for it).
    const cleanups = done.map((s) => this.cleanup(this.d.records.session(s.id)));
    for (const [i, s] of done.entries()) {
      await cleanups[i]!.catch((e: unknown) => this.d.logger.warn(`worktree clean-up failed: ${String(e)}`));
      this.publish(s.id);
    }
  }

  private stillWanted(taskId: string): boolean {
    const t = this.d.records.task(taskId);
    return !!t && t.state === 'running' && !this.cancelRequested.has(taskId);
  }

  /** Runs the task's turn; resolves with its end (commit, merge, store write) to run after it. */
  private async execute(d: Dispatch): Promise<() => Promise<void>> {
    const session = this.d.records.session(d.sessionId);
    const task = this.d.records.task(d.taskId)!;
    const wt = taskWorktreeOf(this.d.worktreeRoot, session.id, task.planId);
    const branch = taskBranchOf(session.id, task.planId);
    let baseSha: string | null = null;
    let result: TurnResult | undefined;
    let failure: string | undefined;
    try {
      // Re-opened (a retry) while its end's clean-up still removes worktrees: this task's and the merge's come back after it.
      await this.cleanups.endSettled(session.id);
      const warm = await this.prewarmer.claim(task.id, wt);
      const tip = warm && (await this.d.workspace.resolveRef(wt, session.integrationBranch!));
      if (warm && tip) {
        // Pre-warmed: a clean checkout nothing ran in (no untracked files to clean); moved to the
        // integration branch as it is now when merges landed since.
        if (tip !== warm) await this.d.workspace.resetWorktree(wt, tip, { clean: false });
        baseSha = tip;
      } else {
        const made = await this.d.workspace.addWorktree(session.cwd, wt, branch, session.integrationBranch!);
        // Every attempt starts from the integration branch as it is now: a retry or a re-queued task
        // never inherits the half-done edits or the conflicting commits of an earlier attempt. A worktree
        // just created on a new branch at the integration branch is that already.
        if (made !== 'created') await this.d.workspace.resetWorktree(wt, session.integrationBranch!);
        baseSha = await this.d.workspace.headCommit(wt);
      }
      if (!this.stillWanted(task.id)) throw new Error('cancelled before the agent started');
      const run = await this.d.runs.start({
        agent: d.agentId,
        cwd: wt,
        prompt: promptWithDependencies(task, this.d.records.tasksOf(session.id)),
        sessionId: session.id,
        taskId: task.id,
        model: session.model,
        repoRoot: session.cwd,
      });
      const replied = () => this.prewarmer.firstRequest(task.id);
      void run.firstReply?.then(replied, replied);
      await this.d.records.mutate((s) => s.updateTask(task.id, (t) => ({ ...t, runId: run.runId, baseSha: baseSha ?? undefined })));
      // A cancel that arrived while the run was starting (before its id was known) applies now.
      if (!this.stillWanted(task.id)) await this.d.runs.cancel(run.runId).catch(() => undefined);
      this.publish(session.id);
      result = await run.done;
    } catch (e) {
      failure = (e as Error).message;
    }
    return () => this.finish(task.id, { result, failure, wt, branch, baseSha });
  }

  /** Sequences the end of a run: commit and merge, then one store write of what `finishTask` decided, then clean-up. */
  private async finish(
    taskId: string,
    x: { result?: TurnResult; failure?: string; wt: string; branch: string; baseSha: string | null; onWorker?: { changedFiles: string[] } },
  ): Promise<void> {
    const task = this.d.records.task(taskId);
    if (!task) return; // its session was deleted while the turn ended
    const session = this.d.records.session(task.sessionId);
    const run: RunEnd = { result: x.result, failure: x.failure, cancelRequested: false };
    // On a worker, the task branch was pushed; the session's merge follows its last task (`mergeOnWorkers`).
    const merge = !needsMerge(run)
      ? undefined
      : x.onWorker
        ? { kind: 'merged' as const, changedFiles: x.onWorker.changedFiles, outsideLease: outsideOf(task, x.onWorker.changedFiles) }
        : await this.commitAndMerge(session, task, x);
    if (this.stopped) return; // graceful stop: the task stays running and is re-queued on the next start
    if (x.result?.error?.reason === 'write_failed') {
      // The turn's transcript could not be written: like a stop, the task stays running and is re-queued.
      this.halt(`task ${taskId}: ${x.result.error.message}`);
      return;
    }
    run.cancelRequested = this.cancelRequested.delete(taskId);
    const now = this.d.now();
    let error: string | undefined;
    let removeWorktree = false;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.d.records.mutate((s) => {
          ({ error, removeWorktree } = this.applyFinish(s, task, { run, merge, branch: x.branch, now, onWorker: !!x.onWorker }));
        });
        break;
      } catch (e) {
        // Retry a transient failure briefly. A write fault halts the runner (see `halt`): then the task
        // stays running in the store, which is consistent, and the next start re-queues it.
        this.d.logger.error(`recording the end of task ${taskId} failed (attempt ${attempt}): ${String(e)}`);
        if (this.halted || attempt >= 3) {
          this.halt(`the end of task ${taskId} could not be recorded: ${String(e)}`);
          return;
        }
        await new Promise((r) => setTimeout(r, 250 * attempt));
      }
    }
    const usage = x.result?.usage;
    this.d.logger.info(
      `task ${taskId} finished: ${this.d.records.task(taskId)?.state}${error ? ` (${error})` : ''}${usage ? `, ${usage.inputTokens + usage.outputTokens} tokens` : ''}`,
    );
    this.publish(session.id);
    this.pump();
    // Clean-up is off the critical path: it does not hold an executor slot. A retry (and a dispatch of
    // this session) waits for it.
    const ended = isSessionTerminal(this.d.records.session(session.id).state);
    void this.cleanups
      .run(
        session.id,
        async () => {
          if (removeWorktree && x.wt) await this.d.workspace.removeWorktree(session.cwd, x.wt).catch(() => undefined);
          const after = this.d.records.session(session.id);
          // This task is still in `executing` until `finish` returns: its own worktree is not busy any more.
          if (isSessionTerminal(after.state)) await this.cleanupNow(after, taskId);
        },
        ended,
      )
      .catch((e: unknown) => this.d.logger.warn(`worktree clean-up failed: ${String(e)}`));
  }

  /** Commits the task's work in its worktree and merges its branch into the integration branch (audit: files outside its lease). */
  private async commitAndMerge(
    session: StoredSession,
    task: StoredTask,
    x: { wt: string; branch: string; baseSha: string | null },
  ): Promise<MergeOutcome> {
    try {
      const changedFiles = (await this.d.workspace.commitChanges(x.wt, `${task.planId}: ${task.title}`, x.baseSha)).map((f) => f.path);
      const outside = task.expectedFiles.length ? outsideLease(changedFiles, task.expectedFiles) : [];
      const merged = await this.mergeSerial(session, x.branch, `merge ${task.planId}: ${task.title}`);
      return merged.ok ? { kind: 'merged', changedFiles, outsideLease: outside } : { kind: 'conflict', files: merged.conflicts ?? [] };
    } catch (e) {
      return { kind: 'failed', message: (e as Error).message };
    }
  }

  /** Applies the finish rules to the current state of the task's session, inside one store update. */
  private applyFinish(
    s: OrchestrationDraft,
    task: StoredTask,
    f: { run: RunEnd; merge?: MergeOutcome; branch: string; now: number; onWorker?: boolean },
  ): { error?: string; removeWorktree: boolean } {
    const session = s.session(task.sessionId);
    if (!session || !s.task(task.id)) return { removeWorktree: false }; // deleted meanwhile: nothing to record
    // A worker's outcome is recorded once in the ledger: a failed task is not retried automatically.
    if (f.onWorker) s.updateTask(task.id, (t) => ({ ...omitKey(t, 'blocked'), maxAttempts: Math.max(1, t.attempts) }));
    const decision = finishTask({
      session,
      tasks: s.tasksOf(task.sessionId),
      taskId: task.id,
      branch: f.branch,
      leases: s.leases,
      agentHealth: s.agentHealth,
      run: f.run,
      merge: f.merge,
      unavailableQuestion: (agentId) => this.d.unavailable?.(agentId),
      nowMs: f.now,
    });
    s.updateTasksOf(task.sessionId, () => decision.tasks);
    s.leases = decision.leases;
    s.agentHealth[decision.agentId] = decision.health;
    // On workers, the session ends once a worker merged it (`mergeOnWorkers`), not with its last task.
    const holdEnd = f.onWorker && isSessionTerminal(decision.session.state) && decision.session.state !== 'cancelled';
    s.updateSession(session.id, () =>
      holdEnd ? { ...omitKey(decision.session, 'finishedAt'), state: session.state, updatedAt: f.now } : decision.session,
    );
    return { error: decision.error, removeWorktree: decision.removeWorktree };
  }

  /** Workers mode: the task is queued for a worker and followed through the ledger; its end is recorded here. */
  private async executeOnWorker(d: Dispatch, workers: WorkerDispatch): Promise<void> {
    const session = this.d.records.session(d.sessionId);
    const task = this.d.records.task(d.taskId)!;
    const branch = taskBranchOf(session.id, task.planId);
    const waiting = (note: string | undefined) =>
      void this.d.records
        .mutate((s) =>
          s.updateTask(task.id, (t) =>
            t.state !== 'running'
              ? t
              : note
                ? { ...t, blocked: { on: 'worker', reason: note, since: t.blocked?.since ?? this.d.now() } }
                : omitKey(t, 'blocked'),
          ),
        )
        .then(() => this.publish(session.id))
        .catch((e: unknown) => this.d.logger.warn(`task ${task.id}: recording that it waits for a worker failed: ${String(e)}`));
    let result: TurnResult | undefined;
    let failure: string | undefined;
    let changedFiles: string[] = [];
    try {
      if (!session.baseCommit) throw new Error('the session has no base commit to give the workers');
      const end = await workers.run({
        tenantId: this.d.records.tenantId,
        sessionId: session.id,
        cwd: session.cwd,
        baseCommit: session.baseCommit,
        taskId: task.planId,
        agent: d.agentId,
        prompt: promptWithDependencies(task, this.d.records.tasksOf(session.id)),
        order: task.order,
        sessionTasks: this.d.records.tasksOf(session.id).length,
        dependsOn: task.dependsOn.flatMap((id) => this.d.records.task(id)?.planId ?? []),
        wanted: () => this.stillWanted(task.id),
        waiting,
      });
      const by = end.workerId ? ` on worker ${end.workerId}` : '';
      changedFiles = end.changedFiles ?? [];
      // The worker's turn usage counts in the session's budget and usage like a local turn's.
      const u = end.usage;
      const usage = u
        ? {
            inputTokens: u.inputTokens,
            outputTokens: u.outputTokens,
            reasoningTokens: u.reasoningTokens ?? 0,
            cacheReadTokens: u.cacheReadTokens ?? 0,
            cost: u.cost ?? 0,
          }
        : emptyUsage();
      if (end.state === 'failed') failure = `${end.error ?? 'failed'}${by}`;
      if (end.state !== 'failed' || u)
        result = {
          lastSeq: 0,
          status: end.state,
          summary: end.state === 'succeeded' ? `done${by}; branch ${branch} pushed at ${end.commit ?? '?'}` : (end.error ?? end.state),
          usage,
          stopReason: end.state === 'succeeded' ? 'end_turn' : end.state === 'cancelled' ? 'cancelled' : 'error',
          diff: [],
          durationMs: 0,
        };
    } catch (e) {
      failure = (e as Error).message;
    }
    await this.finish(task.id, { result, failure, wt: '', branch, baseSha: null, onWorker: { changedFiles } });
  }

  /** Workers mode: a session whose tasks all ended has its merge queued; its end state follows the merge. */
  private mergeOnWorkers(sessionId: string, workers: WorkerDispatch): void {
    if (this.workerMerges.has(sessionId)) return;
    this.workerMerges.add(sessionId);
    void (async () => {
      const s = this.d.records.session(sessionId);
      const m = await workers
        .merge(this.d.records.tenantId, sessionId, s.baseCommit ?? '')
        .catch((e: unknown) => ({ state: 'timeout' as const, message: `queueing the merge failed: ${String(e)}` }));
      // The result comes back into the session's repository (its diff, review and apply read it there).
      if (m.state === 'merged' && m.commit && s.baseCommit) await workers.fetchResult(s.cwd, sessionId, s.baseCommit, m.commit);
      const now = this.d.now();
      await this.d.records.mutate((st) =>
        st.updateSession(sessionId, (x) => {
          const outcome = deriveSessionOutcome(st.tasksOf(x.id));
          if (!outcome || x.state !== 'running') return x;
          if (m.state === 'merged' || m.state === 'nothing') return transitionSession(x, { type: 'finish', outcome, nowMs: now });
          const error =
            m.state === 'timeout'
              ? m.message
              : m.state === 'conflict'
                ? `the merge on a worker stopped: ${m.taskId ?? 'a task'} conflicts; the integration branch was not pushed`
                : `the merge on a worker stopped: ${m.taskId ?? 'a task'}'s branch moved on the remote; the integration branch was not pushed`;
          return transitionSession(x, { type: 'fail', error, nowMs: now });
        }),
      );
      this.d.logger.info(`session ${sessionId}: merge on workers ${m.state}${'commit' in m && m.commit ? ` (${m.commit})` : ''}`);
      this.publish(sessionId);
    })()
      .catch((e: unknown) => this.d.logger.error(`session ${sessionId}: following its merge failed: ${String(e)}`))
      .finally(() => this.workerMerges.delete(sessionId));
  }

  private mergeSerial(session: StoredSession, branch: string, message: string) {
    const prev = this.merges.get(session.id) ?? Promise.resolve();
    const dir = integrationDirOf(this.d.worktreeRoot, session.id);
    const next = prev.then(async () => {
      // A session re-opened (task or session retry) just as it ended may have lost this worktree to the end's clean-up.
      if (session.integrationBranch && session.baseCommit)
        await this.d.workspace.addWorktree(session.cwd, dir, session.integrationBranch, session.baseCommit);
      return this.d.workspace.merge(dir, branch, message);
    });
    this.merges.set(
      session.id,
      next.catch(() => undefined),
    );
    return next;
  }

  /** Sessions with a task executing now (the archiver leaves them alone). */
  busySessions(): ReadonlySet<string> {
    return new Set([...this.executing].flatMap((id) => this.d.records.task(id)?.sessionId ?? []));
  }

  /**
   * Resolves once no task of the session executes in this process (its turns ended and their results
   * were recorded) and its worktree clean-up is over, or throws DomainError('timeout') after `ms`.
   */
  async quiesce(sessionId: string, ms: number): Promise<void> {
    const end = this.d.now() + ms;
    const busy = () => [...this.executing].some((id) => this.d.records.task(id)?.sessionId === sessionId);
    while (busy()) {
      if (this.d.now() > end)
        throw new DomainError(
          'timeout',
          `session ${sessionId}: its running tasks did not stop within ${Math.round(ms / 1000)} s; try again`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
    await this.pumping;
    await this.prewarmer.dropSession(sessionId);
    // A clean-up still removing its worktrees would race the caller's own removal (delete).
    await this.cleanedUp(sessionId, Math.max(1_000, end - this.d.now()));
  }

  /**
   * Resolves once none of the session's tasks that already ended in the store still executes here (a task
   * cancelled while its turn or its merge was under way: its end is still being recorded), or throws
   * DomainError('timeout') after `ms`. A retry waits for it: re-opening such a task before its old end is
   * recorded would have that end applied to the new attempt (an invalid transition that halted the runner).
   */
  async endedTasksSettled(sessionId: string, ms = 60_000): Promise<void> {
    const end = Date.now() + ms;
    const ending = () =>
      [...this.executing].filter((id) => {
        const t = this.d.records.task(id);
        return t?.sessionId === sessionId && isTaskTerminal(t.state);
      });
    for (let left = ending(); left.length; left = ending()) {
      if (Date.now() > end)
        throw new DomainError(
          'timeout',
          `session ${sessionId}: the last attempt of ${left.join(', ')} is still finishing after ${Math.round(ms / 1000)} s; try again`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A session that ended keeps its branches but none of its worktrees (`finished`: a task whose turn is over). */
  cleanup(session: StoredSession, finished?: string): Promise<void> {
    return this.cleanups.run(session.id, () => this.cleanupNow(session, finished), true);
  }

  /**
   * Resolves once the worktree clean-up under way for the session (if any) is over. A retry waits for it
   * before it re-adds worktrees and dispatches: a `git worktree remove` still running would otherwise take
   * the folder the retried work is about to use (or make its `worktree add` fail).
   */
  cleanedUp(sessionId: string, ms?: number): Promise<void> {
    return this.cleanups.settled(sessionId, ms);
  }

  /**
   * After a retry re-opened tasks of the session (and maybe the session): waits for its clean-up under way,
   * re-adds its integration worktree when the session had ended, then publishes and dispatches. A worktree
   * that cannot be added is logged, not thrown: the retry is recorded, and each merge adds it again.
   */
  async resumeAfterRetry(session: StoredSession, sessionReopened: boolean): Promise<void> {
    try {
      await this.cleanedUp(session.id);
      if (sessionReopened && session.integrationBranch && session.baseCommit)
        await this.d.workspace
          .addWorktree(session.cwd, integrationDirOf(this.d.worktreeRoot, session.id), session.integrationBranch, session.baseCommit)
          .catch((e: unknown) => this.d.logger.warn(`session ${session.id}: re-adding its integration worktree failed: ${String(e)}`));
    } finally {
      this.publish(session.id);
      this.pump();
    }
  }

  private async cleanupNow(session: StoredSession, finished?: string): Promise<void> {
    // Pre-warmed worktrees of its tasks that never ran (a cancelled draft's first wave) go first.
    this.prewarmer.update(this.d.records.state(), this.executing, false);
    await this.prewarmer.settled();
    // Re-opened meanwhile (a task or session retry): its tasks and merges need their worktrees again.
    const reopened = () => {
      const now = this.d.records.state().sessions.find((x) => x.id === session.id);
      return !!now && !isSessionTerminal(now.state);
    };
    for (const t of this.d.records.tasksOf(session.id)) {
      if (t.id !== finished && this.executing.has(t.id)) continue;
      if (reopened()) return;
      await this.d.workspace.removeWorktree(session.cwd, taskWorktreeOf(this.d.worktreeRoot, session.id, t.planId)).catch(() => undefined);
    }
    if (reopened()) return;
    // A task of the session still ending (cancelled while it merged) uses the integration worktree: its own
    // end queues this clean-up again once it is recorded.
    if ([...this.executing].some((id) => id !== finished && this.d.records.task(id)?.sessionId === session.id)) return;
    await this.d.workspace.removeWorktree(session.cwd, integrationDirOf(this.d.worktreeRoot, session.id)).catch(() => undefined);
  }

  publish(sessionId: string): void {
    try {
      this.d.publish(this.d.records.view(sessionId));
    } catch (e) {
      this.d.logger.warn(`could not publish session ${sessionId}: ${String(e)}`);
    }
  }
}

/** The files outside the task's lease request (none when it named none). */
function outsideOf(task: StoredTask, changed: string[]): string[] {
  return task.expectedFiles.length ? outsideLease(changed, task.expectedFiles) : [];
}

/** A copy of `o` without `key`. */
function omitKey<T extends object, K extends keyof T>(o: T, key: K): T {
  const copy = { ...o };
  delete copy[key];
  return copy;
}

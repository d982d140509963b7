/**
 * The execution side of sessions: one serialized `pump` asks the pure scheduler what to start, commits
 * the decision in one store write, and hands each dispatch to the executor (p-queue). A dispatched task
 * runs in its own git worktree on `orchestrator/<session>/<task>`, branched from the session's
 * integration branch (which already holds its dependencies' results); when it succeeds it is committed
 * and merged into the integration branch, one merge at a time per session. A conflict is never resolved
 * silently: the task fails with the files listed, its branch is kept, and the session asks the user.
 */
import path from 'node:path';
import type { SessionView } from '../../../protocol/session';
import { addUsage } from '../domain/agentEvent';
import { DomainError } from '../domain/errors';
import { isFatalStartFailure } from '../domain/agentAvailability';
import { afterTaskFinished } from '../domain/orchestration/dagProgress';
import { dependencyContextHeading } from '../domain/orchestration/plan';
import { usageAmount, reconcile } from '../domain/orchestration/budget';
import { outsideLease, release, renew, expire } from '../domain/orchestration/lease';
import { newAgentHealth, recordOutcome, recordRelease, type AgentProfile } from '../domain/orchestration/routing';
import { nextDispatches, type ConcurrencyLimits, type Dispatch } from '../domain/orchestration/scheduler';
import { deriveSessionOutcome, isSessionTerminal, transitionSession } from '../domain/orchestration/sessionState';
import { isTaskTerminal, transitionTask, type Task } from '../domain/orchestration/taskState';
import { sessionTaskWarnings } from '../domain/turnOutcome';
import type { TurnResult } from '../ports/agentRuntime';
import type { Executor } from '../ports/executor';
import type { Logger } from '../ports/logger';
import type { WorkspacePort } from '../ports/workspace';
import { replaceTasks, type OrchestrationState, type SessionRecords, type StoredSession, type StoredTask } from './sessionRecords';
import type { RunInput } from './runService';

/** The part of RunService the runner uses. */
export interface TurnRunner {
  start(input: RunInput): Promise<{ runId: string; done: Promise<TurnResult | undefined> }>;
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
  worktreeRoot: string;
  leaseTtlMs: number;
  publish(view: SessionView): void;
  now(): number;
  logger: Logger;
}

export const integrationDir = (root: string, sessionId: string) => path.join(root, sessionId, '_integration');
export const branchOf = (sessionId: string, planId: string) => `orchestrator/${sessionId}/${planId}`;

export class SessionRunner {
  private pumping: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Set by a write fault (full disk, I/O error): no dispatch, no upkeep; see `halt`. */
  private halted?: string;
  private readonly haltListeners = new Set<(reason: string) => void>();
  /** Tasks whose execution runs in this process. */
  private readonly executing = new Set<string>();
  /** Tasks the user (or a session cancel) asked to cancel; only these count a `cancelled` turn as a cancel. */
  private readonly cancelRequested = new Set<string>();
  private readonly merges = new Map<string, Promise<unknown>>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly d: RunnerDeps) {}

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

  private async tick(): Promise<void> {
    if (this.halted) return;
    const now = this.d.now();
    // Renew only leases close to expiry, so an idle server does not rewrite the store every tick.
    await this.d.records
      .mutate(
        (st) => {
          for (const t of st.tasks) {
            const lease = st.leases.leases.find((l) => l.taskId === t.id);
            if ((t.state === 'running' || t.state === 'blocked') && lease && lease.expiresAt - now < this.d.leaseTtlMs / 2)
              st.leases = renew(st.leases, t.id, now, this.d.leaseTtlMs).table;
          }
          st.leases = expire(st.leases, now).table;
        },
        { skipIfUnchanged: true },
      )
      .catch((e: unknown) => this.d.logger.warn(`lease upkeep failed: ${String(e)}`));
    this.pump();
  }

  /** Serialized: each pump sees the state the previous one wrote. */
  pump(): void {
    this.pumping = this.pumping
      .then(() => this.pumpOnce())
      .catch((e: unknown) => this.d.logger.error(`scheduler pass failed: ${(e as Error)?.stack ?? e}`));
  }

  /** Resolves after the pumps queued so far. */
  settled(): Promise<void> {
    return this.pumping;
  }

  private async pumpOnce(): Promise<void> {
    if (this.stopped || this.halted) return;
    const first = this.d.records.state();
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
          nowMs: now,
          leaseTtlMs: this.d.leaseTtlMs,
        });
        dispatches = decision.dispatches;
        const byId = new Map(s.tasks.map((t) => [t.id, t] as const));
        const put = (t: Task) => {
          byId.set(t.id, t as StoredTask);
          touched.add(t.sessionId);
        };
        for (const b of decision.blocked) {
          const t = byId.get(b.taskId);
          if (t?.state === 'ready') put(transitionTask(t, { type: 'block', on: 'lease', reason: b.reason, nowMs: now }));
        }
        for (const u of decision.unroutable) {
          const t = byId.get(u.taskId);
          if (t && !isTaskTerminal(t.state)) put(transitionTask(t, { type: 'fail', error: u.message, nowMs: now }));
        }
        for (const d of decision.dispatches) {
          const t = byId.get(d.taskId);
          if (t)
            put(
              transitionTask(t, {
                type: 'dispatch',
                agentId: d.agentId,
                routeReason: d.routeReason,
                branch: branchOf(d.sessionId, t.planId),
                nowMs: now,
              }),
            );
        }
        s.tasks = s.tasks.map((t) => byId.get(t.id) ?? t);
        for (const u of decision.unroutable) {
          // Dependents of a task no agent can take are skipped, like those of any final failure.
          s.tasks = replaceTasks(
            s.tasks,
            afterTaskFinished(
              s.tasks.filter((t) => t.sessionId === u.sessionId),
              u.taskId,
              now,
              { autoRetry: false },
            ).changed,
          );
        }
        s.leases = decision.leases;
        s.agentHealth = { ...s.agentHealth, ...decision.agents };
        s.sessions = s.sessions.map((x) => {
          let out: StoredSession = decision.budgets[x.id] ? { ...x, budget: decision.budgets[x.id] } : x;
          const a = decision.approvals.find((p) => p.sessionId === x.id);
          if (a && out.state === 'running') {
            out = transitionSession(out, {
              type: 'await_approval',
              approval: { kind: 'budget', message: a.crossing.message, crossing: a.crossing },
              nowMs: now,
            });
            touched.add(x.id);
          }
          const u = decision.unavailable.find((p) => p.sessionId === x.id);
          if (u && out.state === 'running') {
            const question = [...unavailable.values()].find((q) => q) ?? u.message;
            out = transitionSession(out, { type: 'await_approval', approval: { kind: 'other', message: question }, nowMs: now });
            touched.add(x.id);
          }
          return out;
        });
      },
      { skipIfUnchanged: true },
    );
    for (const id of touched) this.publish(id);
    for (const d of dispatches) {
      this.d.logger.info(`dispatch ${d.taskId} → ${d.agentId}: ${d.routeReason}`);
      this.executing.add(d.taskId);
      this.d.executor.add(
        () => this.execute(d).finally(() => this.executing.delete(d.taskId)),
        this.d.records.session(d.sessionId).priority,
      );
    }
  }

  /** Running sessions whose tasks have all ended (e.g. approved after a conflict) finish now. */
  private async finishDone(live: readonly StoredSession[], tasks: readonly StoredTask[]): Promise<void> {
    const done = live.filter((s) => s.state === 'running' && deriveSessionOutcome(tasks.filter((t) => t.sessionId === s.id)));
    if (!done.length) return;
    const now = this.d.now();
    await this.d.records.mutate((st) => {
      st.sessions = st.sessions.map((x) => {
        const outcome = done.some((s) => s.id === x.id) ? deriveSessionOutcome(st.tasks.filter((t) => t.sessionId === x.id)) : undefined;
        return outcome && x.state === 'running' ? { ...x, ...transitionSession(x, { type: 'finish', outcome, nowMs: now }) } : x;
      });
    });
    for (const s of done) {
      await this.cleanup(this.d.records.session(s.id));
      this.publish(s.id);
    }
  }

  private buildPrompt(task: StoredTask, all: readonly StoredTask[]): string {
    const deps = task.dependsOn.map((id) => all.find((t) => t.id === id)).filter((t): t is StoredTask => !!t?.result);
    if (!deps.length) return task.prompt;
    const lines = deps.map(
      (t) =>
        `- [${t.planId}] ${t.title}: ${t.result!.summary.slice(0, 600)}${t.result!.changedFiles.length ? ` (changed: ${t.result!.changedFiles.join(', ')})` : ''}`,
    );
    return `${task.prompt}\n\n${dependencyContextHeading} (their changes are already in your working tree):\n${lines.join('\n')}`;
  }

  private stillWanted(taskId: string): boolean {
    const t = this.d.records.task(taskId);
    return !!t && t.state === 'running' && !this.cancelRequested.has(taskId);
  }

  private async execute(d: Dispatch): Promise<void> {
    const session = this.d.records.session(d.sessionId);
    const task = this.d.records.task(d.taskId)!;
    const wt = path.join(this.d.worktreeRoot, session.id, task.planId);
    const branch = branchOf(session.id, task.planId);
    let baseSha: string | null = null;
    let result: TurnResult | undefined;
    let failure: string | undefined;
    try {
      await this.d.workspace.addWorktree(session.cwd, wt, branch, session.integrationBranch!);
      // Every attempt starts from the integration branch as it is now: a retry or a re-queued task
      // never inherits the half-done edits or the conflicting commits of an earlier attempt.
      await this.d.workspace.resetWorktree(wt, session.integrationBranch!);
      baseSha = await this.d.workspace.headCommit(wt);
      if (!this.stillWanted(task.id)) throw new Error('cancelled before the agent started');
      const run = await this.d.runs.start({
        agent: d.agentId,
        cwd: wt,
        prompt: this.buildPrompt(task, this.d.records.tasksOf(session.id)),
        sessionId: session.id,
        taskId: task.id,
        model: session.model,
        repoRoot: session.cwd,
      });
      await this.d.records.mutate((s) => {
        s.tasks = s.tasks.map((t) => (t.id === task.id ? { ...t, runId: run.runId, baseSha: baseSha ?? undefined } : t));
      });
      // A cancel that arrived while the run was starting (before its id was known) applies now.
      if (!this.stillWanted(task.id)) await this.d.runs.cancel(run.runId).catch(() => undefined);
      this.publish(session.id);
      result = await run.done;
    } catch (e) {
      failure = (e as Error).message;
    }
    await this.finish(task.id, { result, failure, wt, branch, baseSha });
  }

  private async finish(
    taskId: string,
    x: { result?: TurnResult; failure?: string; wt: string; branch: string; baseSha: string | null },
  ): Promise<void> {
    const task = this.d.records.task(taskId);
    if (!task) return; // its session was deleted while the turn ended
    const session = this.d.records.session(task.sessionId);
    let changedFiles: string[] = [];
    let conflict: string[] | undefined;
    let error =
      x.failure ??
      (x.result?.status === 'failed'
        ? `${x.result.error?.reason ?? 'error'}: ${x.result.error?.message ?? 'the agent failed'}`
        : undefined);
    let note = '';
    if (x.result?.status === 'succeeded' && !error) {
      try {
        await this.d.workspace.commitAll(x.wt, `${task.planId}: ${task.title}`);
        changedFiles = x.baseSha ? (await this.d.workspace.changedFiles(x.wt, x.baseSha)).map((f) => f.path) : [];
        const outside = task.expectedFiles.length ? outsideLease(changedFiles, task.expectedFiles) : [];
        if (outside.length) note = ` (touched outside its lease: ${outside.join(', ')}; the merge checks them)`;
        const merged = await this.mergeSerial(session, x.branch, `merge ${task.planId}: ${task.title}`);
        if (!merged.ok) conflict = merged.conflicts ?? [];
      } catch (e) {
        error = `commit or merge failed: ${(e as Error).message}`;
      }
      if (conflict)
        error = `merge conflict with the integration branch in ${conflict.join(', ') || 'unknown files'}; the task's work is kept on branch ${x.branch}`;
    }
    if (this.stopped) return; // graceful stop: the task stays running and is re-queued on the next start
    if (x.result?.error?.reason === 'write_failed') {
      // The turn's transcript could not be written: like a stop, the task stays running and is re-queued.
      this.halt(`task ${taskId}: ${x.result.error.message}`);
      return;
    }
    const now = this.d.now();
    const usage = x.result?.usage;
    const cancelled = this.cancelRequested.delete(taskId) && (x.result?.status === 'cancelled' || !x.result);
    // A turn that ended "cancelled" without anyone asking (idle without a final answer) is a failure.
    const result = x.result?.status === 'cancelled' && !cancelled ? { ...x.result, status: 'failed' as const } : x.result;
    if (result !== x.result && !error) error = 'the agent stopped without a final answer';
    // The agent could not start at all: not the task's fault and not transient. Ask the user instead of
    // burning attempts (the attempt is refunded, the task waits ready).
    const fatal = !cancelled && isFatalStartFailure(x.result?.error?.reason);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.d.records.mutate((s) =>
          fatal
            ? this.recordUnavailable(s, task, `${error ?? 'the agent could not start'}`, now)
            : this.recordFinish(s, task, { result, cancelled, error, changedFiles, conflict, note, now }),
        );
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
    this.d.logger.info(
      `task ${taskId} finished: ${this.d.records.task(taskId)?.state}${error ? ` (${error})` : ''}${usage ? `, ${usage.inputTokens + usage.outputTokens} tokens` : ''}`,
    );
    this.publish(session.id);
    this.pump();
    // Clean-up is off the critical path: it does not hold an executor slot.
    void (async () => {
      if (!error && x.result?.status === 'succeeded') await this.d.workspace.removeWorktree(session.cwd, x.wt).catch(() => undefined);
      const after = this.d.records.session(session.id);
      // This task is still in `executing` until `finish` returns: its own worktree is not busy any more.
      if (isSessionTerminal(after.state)) await this.cleanup(after, taskId);
    })().catch((e: unknown) => this.d.logger.warn(`worktree clean-up failed: ${String(e)}`));
  }

  private recordUnavailable(s: OrchestrationState, task: StoredTask, error: string, now: number): void {
    const current = s.tasks.find((t) => t.id === task.id)!;
    const agentId = current.agentId ?? 'opencode';
    if (!isTaskTerminal(current.state))
      s.tasks = replaceTasks(s.tasks, [transitionTask(current, { type: 'requeue', reason: error, nowMs: now })]);
    s.leases = release(s.leases, task.id);
    s.agentHealth[agentId] = recordRelease(s.agentHealth[agentId] ?? newAgentHealth(), task.id);
    const question = this.d.unavailable?.(agentId) ?? `${agentId} cannot start: ${error}. Fix it, then approve to continue.`;
    s.sessions = s.sessions.map((x) => {
      if (x.id !== task.sessionId) return x;
      const out: StoredSession = {
        ...x,
        budget: reconcile(
          x.budget,
          task.id,
          usageAmount({ inputTokens: 0, outputTokens: 0, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 }),
        ),
      };
      return out.state === 'running' || out.state === 'awaiting_approval'
        ? transitionSession(out, { type: 'await_approval', approval: { kind: 'other', message: question }, nowMs: now })
        : out;
    });
  }

  private recordFinish(
    s: OrchestrationState,
    task: StoredTask,
    f: { result?: TurnResult; cancelled: boolean; error?: string; changedFiles: string[]; conflict?: string[]; note: string; now: number },
  ): void {
    const current = s.tasks.find((t) => t.id === task.id)!;
    let updated: Task = current;
    const ok = !f.error && f.result?.status === 'succeeded';
    if (!isTaskTerminal(current.state)) {
      if (ok) {
        const warnings = sessionTaskWarnings({ mode: current.mode, changedFiles: f.changedFiles, runWarnings: f.result!.warnings });
        updated = transitionTask(current, {
          type: 'succeed',
          result: {
            summary: `${f.result!.summary}${f.note}`,
            changedFiles: f.changedFiles,
            usage: f.result!.usage,
            ...(warnings.length ? { warnings } : {}),
          },
          nowMs: f.now,
        });
      } else if (f.cancelled) updated = transitionTask(current, { type: 'cancel', reason: 'cancelled', nowMs: f.now });
      else updated = transitionTask(current, { type: 'fail', error: f.error ?? 'failed', nowMs: f.now });
    }
    s.tasks = replaceTasks(s.tasks, [updated]);
    const progress = afterTaskFinished(
      s.tasks.filter((t) => t.sessionId === task.sessionId),
      task.id,
      f.now,
      { autoRetry: !f.conflict },
    );
    s.tasks = replaceTasks(s.tasks, progress.changed);
    s.leases = release(s.leases, task.id);
    const agentId = current.agentId ?? 'opencode';
    const health = s.agentHealth[agentId] ?? newAgentHealth();
    s.agentHealth[agentId] = f.cancelled
      ? recordRelease(health, task.id)
      : recordOutcome(health, { taskId: task.id, ok, error: f.error }, f.now);
    s.sessions = s.sessions.map((x) => {
      if (x.id !== task.sessionId) return x;
      let out: StoredSession = {
        ...x,
        budget: reconcile(
          x.budget,
          task.id,
          usageAmount(f.result?.usage ?? { inputTokens: 0, outputTokens: 0, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 }),
        ),
      };
      if (f.result?.usage) out.usage = addUsage(out.usage, { kind: 'usage', ...f.result.usage });
      if (f.conflict && (out.state === 'running' || out.state === 'awaiting_approval')) {
        out = transitionSession(out, {
          type: 'await_approval',
          approval: {
            kind: 'other',
            message: `Task ${task.planId} conflicts with work already merged (${f.conflict.join(', ')}). Its branch ${branchOf(x.id, task.planId)} is kept. Approve to continue without it, or resolve and retry.`,
          },
          nowMs: f.now,
        });
      }
      const outcome = deriveSessionOutcome(s.tasks.filter((t) => t.sessionId === x.id));
      // A session waiting for the user (a conflict, a budget) stays waiting; approving it finishes it.
      if (outcome && out.state === 'running') out = transitionSession(out, { type: 'finish', outcome, nowMs: f.now });
      return out;
    });
  }

  private mergeSerial(session: StoredSession, branch: string, message: string) {
    const prev = this.merges.get(session.id) ?? Promise.resolve();
    const next = prev.then(() => this.d.workspace.merge(integrationDir(this.d.worktreeRoot, session.id), branch, message));
    this.merges.set(
      session.id,
      next.catch(() => undefined),
    );
    return next;
  }

  /**
   * Resolves once no task of the session executes in this process (its turns ended and their results
   * were recorded), or throws DomainError('timeout') after `ms`.
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
  }

  /** A session that ended keeps its branches but none of its worktrees (`finished`: a task whose turn is over). */
  async cleanup(session: StoredSession, finished?: string): Promise<void> {
    for (const t of this.d.records.tasksOf(session.id)) {
      if (t.id !== finished && this.executing.has(t.id)) continue;
      await this.d.workspace.removeWorktree(session.cwd, path.join(this.d.worktreeRoot, session.id, t.planId)).catch(() => undefined);
    }
    await this.d.workspace.removeWorktree(session.cwd, integrationDir(this.d.worktreeRoot, session.id)).catch(() => undefined);
  }

  publish(sessionId: string): void {
    try {
      this.d.publish(this.d.records.view(sessionId));
    } catch (e) {
      this.d.logger.warn(`could not publish session ${sessionId}: ${String(e)}`);
    }
  }
}

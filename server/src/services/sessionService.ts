/**
 * Sessions: a goal planned into a task DAG (template or LLM planner), approved (or edited) by the user,
 * then run by SessionRunner. Also pause/resume/cancel/retry, the session diff, applying it to the user's
 * working tree, and recovery after a crash.
 */
import type { SessionView } from '../../../protocol/session';
import { DomainError } from '../domain/errors';
import { addUsage, emptyUsage } from '../domain/agentEvent';
import { charge, setLimits, settle, usageAmount, usageTokens, type BudgetLimits } from '../domain/orchestration/budget';
import { cancelAll, promoteReady, requeueInterrupted, retryTask } from '../domain/orchestration/dagProgress';
import { release } from '../domain/orchestration/lease';
import { tasksFromPlan, type Plan } from '../domain/orchestration/plan';
import { newAgentHealth } from '../domain/orchestration/routing';
import { isSessionTerminal, newSession, transitionSession } from '../domain/orchestration/sessionState';
import { isActiveTask } from '../domain/orchestration/taskState';
import { isTaskList } from '../domain/orchestration/templatePlanner';
import type { TextCompleter } from '../ports/planner';
import type { WorkspacePort } from '../ports/workspace';
import { checkPlan, planGoal, type PlannerId } from './planning';
import { integrationBranchOf, integrationDirOf, sessionBranchPrefix, taskWorktreeOf } from './sessionLayout';
import { toView, type SessionRecords, type StoredSession } from './sessionRecords';
import type { SessionRunner } from './sessionRunner';
import { SessionReview } from './sessionReview';
import { SessionTaskControl } from './sessionTaskControl';

export interface StartSessionInput {
  goal: string;
  cwd: string;
  planner?: PlannerId;
  plan?: unknown;
  approve?: boolean;
  priority?: number;
  budget?: BudgetLimits;
  model?: string;
}

export interface SessionServiceDeps {
  records: SessionRecords;
  runner: SessionRunner;
  workspace: WorkspacePort;
  completer?: TextCompleter;
  worktreeRoot: string;
  newId(): string;
  now(): number;
  /** Cancels an agent turn (RunService.cancel). */
  cancelRun(runId: string): Promise<unknown>;
  /** Drops the session's remembered permission answers (RunService.forgetSession). */
  forgetPermissions?(sessionId: string): void;
  /** The planner when `session/start` names none: `llm` with a real model, `template` with the demo model (the session's `model`, else the default). */
  defaultPlanner?(model?: string): PlannerId;
  /** Start agents in the background: a draft is usually approved next. */
  prewarm?(): void;
  /** Why a session's `model` cannot run (not configured), or undefined when it can. */
  checkModel?(model: string): string | undefined;
}

export class SessionService {
  /** `task/*`: one task's retry, cancel and priority inside its session. */
  readonly tasks: SessionTaskControl;
  /** `session/diff`, `session/fileContent`: what the session or one task changed, file by file. */
  readonly review: SessionReview;

  /** Sessions with an approval in flight (its git set-up awaits before the store write). */
  private readonly approving = new Set<string>();

  constructor(private readonly d: SessionServiceDeps) {
    this.tasks = new SessionTaskControl(d);
    this.review = new SessionReview(d);
  }

  /** The named planner; else a task list is taken as written, and a free-form goal goes to the default. */
  private plannerFor(p: StartSessionInput): PlannerId {
    return p.planner ?? (isTaskList(p.goal) ? 'template' : (this.d.defaultPlanner?.(p.model) ?? 'template'));
  }

  async start(p: StartSessionInput): Promise<SessionView> {
    const wrongModel = p.model === undefined ? undefined : this.d.checkModel?.(p.model);
    if (wrongModel) throw new DomainError('bad_input', `model: ${wrongModel}`, { field: 'model' });
    const repo = await this.d.workspace.assertRepo(p.cwd);
    this.d.prewarm?.();
    if (!repo.head)
      throw new DomainError('bad_input', `cwd: the repository at ${p.cwd} has no commits yet; commit once so sessions can branch from it`, {
        field: 'cwd',
      });
    const id = this.d.newId();
    const planned =
      p.plan !== undefined
        ? { plan: checkPlan(p.plan), usage: emptyUsage() }
        : await planGoal(p.goal, this.plannerFor(p), this.d.completer, { sessionId: id, model: p.model });
    const plan: Plan = planned.plan;
    const now = this.d.now();
    let session: StoredSession = newSession({
      id,
      tenantId: this.d.records.tenantId,
      goal: p.goal,
      cwd: repo.root,
      priority: p.priority,
      budget: p.budget,
      nowMs: now,
    });
    session = transitionSession(
      { ...session, model: p.model },
      { type: 'set_plan', plan, planner: p.plan !== undefined ? 'user' : this.plannerFor(p), nowMs: now },
    );
    // The planning turns are part of what the session costs: its usage and its budget count them.
    if (usageTokens(planned.usage) > 0 || planned.usage.cost > 0) {
      session = {
        ...session,
        plannerUsage: planned.usage,
        usage: addUsage(session.usage, { kind: 'usage', ...planned.usage }),
        budget: charge(session.budget, 'planner', usageAmount(planned.usage)),
      };
    }
    const tasks = tasksFromPlan(plan, { sessionId: id, tenantId: this.d.records.tenantId, nowMs: now });
    await this.d.records.mutate((s) => {
      s.sessions.push(session);
      s.tasks.push(...tasks);
    });
    if (p.approve) return this.approve(id);
    this.d.runner.publish(id);
    this.d.runner.prewarm();
    return this.d.records.view(id);
  }

  /** Replace a draft's plan; `dryRun` checks exactly the same way and changes nothing. */
  async setPlan(sessionId: string, raw: unknown, opts: { dryRun?: boolean } = {}): Promise<SessionView> {
    const s = this.d.records.session(sessionId);
    if (s.state !== 'draft') throw new DomainError('conflict', `session ${sessionId} is ${s.state}; only a draft's plan can be edited`);
    const plan = checkPlan(raw);
    if (opts.dryRun) return this.d.records.view(sessionId);
    if (this.approving.has(sessionId))
      throw new DomainError('conflict', `session ${sessionId} is being approved; its plan can no longer be edited`);
    const now = this.d.now();
    const tasks = tasksFromPlan(plan, { sessionId, tenantId: s.tenantId, nowMs: now });
    await this.d.records.mutate((st) => {
      st.updateSession(sessionId, (x) => transitionSession(x, { type: 'set_plan', plan, planner: 'user', nowMs: now }));
      st.setTasksOf(sessionId, tasks);
    });
    this.d.runner.publish(sessionId);
    this.d.runner.prewarm();
    return this.d.records.view(sessionId);
  }

  /**
   * Start a draft or continue a session awaiting approval. `rawPlan` (drafts only) replaces the plan in the
   * same store write that starts it; it is checked before anything is created, so a refused plan changes
   * nothing. Approvals of one session never overlap: a second one while the first runs is a conflict.
   */
  async approve(sessionId: string, budget?: BudgetLimits, rawPlan?: unknown): Promise<SessionView> {
    this.d.records.session(sessionId);
    if (this.approving.has(sessionId))
      throw new DomainError('conflict', `session ${sessionId} is already being approved; wait for that approval to finish`);
    this.approving.add(sessionId);
    try {
      return await this.approveNow(sessionId, budget, rawPlan);
    } finally {
      this.approving.delete(sessionId);
    }
  }

  private async approveNow(sessionId: string, budget: BudgetLimits | undefined, rawPlan: unknown): Promise<SessionView> {
    const s = this.d.records.session(sessionId);
    if (rawPlan !== undefined && s.state !== 'draft')
      throw new DomainError('conflict', `session ${sessionId} is ${s.state}; only a draft's plan can be replaced`);
    const plan = rawPlan === undefined ? undefined : checkPlan(rawPlan);
    const now = this.d.now();
    const tasks = plan ? tasksFromPlan(plan, { sessionId, tenantId: s.tenantId, nowMs: now }) : undefined;
    let extra: Partial<StoredSession> = {};
    if (s.state === 'draft') {
      const base = await this.d.workspace.headCommit(s.cwd);
      if (!base) throw new DomainError('bad_input', `cwd: ${s.cwd} has no commits`);
      const integration = integrationBranchOf(s.id);
      await this.d.workspace.createBranch(s.cwd, integration, base);
      await this.d.workspace.addWorktree(s.cwd, integrationDirOf(this.d.worktreeRoot, s.id), integration, base);
      extra = { baseCommit: base, integrationBranch: integration };
    } else if (s.state !== 'awaiting_approval') {
      throw new DomainError('conflict', `session ${sessionId} is ${s.state}; only a draft or a session awaiting approval can be approved`);
    }
    await this.d.records.mutate((st) => {
      st.updateSession(sessionId, (x) => {
        const planned = plan ? transitionSession(x, { type: 'set_plan', plan, planner: 'user', nowMs: now }) : x;
        return transitionSession(
          { ...planned, ...(budget ? { budget: setLimits(x.budget, budget) } : {}), ...extra },
          { type: 'approve', nowMs: now },
        );
      });
      if (tasks) st.setTasksOf(sessionId, tasks);
      st.updateTasksOf(sessionId, (all) => promoteReady(all, now).changed);
    });
    this.d.runner.publish(sessionId);
    this.d.runner.pump();
    return this.d.records.view(sessionId);
  }

  private async transition(sessionId: string, type: 'pause' | 'resume'): Promise<SessionView> {
    const now = this.d.now();
    this.d.records.session(sessionId);
    await this.d.records.mutate((st) => {
      st.updateSession(sessionId, (x) => transitionSession(x, { type, nowMs: now }));
      if (type === 'resume') st.updateTasksOf(sessionId, (tasks) => promoteReady(tasks, now).changed);
    });
    this.d.runner.publish(sessionId);
    this.d.runner.pump();
    return this.d.records.view(sessionId);
  }

  pause(sessionId: string): Promise<SessionView> {
    return this.transition(sessionId, 'pause');
  }

  resume(sessionId: string): Promise<SessionView> {
    return this.transition(sessionId, 'resume');
  }

  async cancel(sessionId: string): Promise<SessionView> {
    const s = this.d.records.session(sessionId);
    if (isSessionTerminal(s.state)) throw new DomainError('conflict', `session ${sessionId} already ended (${s.state})`);
    const running = this.d.records.tasksOf(sessionId).filter((t) => t.state === 'running');
    for (const t of running) this.d.runner.requestCancel(t.id);
    const now = this.d.now();
    await this.d.records.mutate((st) => {
      st.updateSession(sessionId, (x) => transitionSession(x, { type: 'cancel', reason: 'cancelled by the user', nowMs: now }));
      st.updateTasksOf(sessionId, (tasks) => cancelAll(tasks, now).changed);
    });
    // Running turns end as cancelled and keep their partial output; the runner then frees their leases.
    await Promise.all(running.filter((t) => t.runId).map((t) => this.d.cancelRun(t.runId!).catch(() => undefined)));
    await this.d.runner.cleanup(this.d.records.session(sessionId));
    this.d.runner.publish(sessionId);
    return this.d.records.view(sessionId);
  }

  /** Retry, apply and delete work on finished sessions: they bring an archived one back first. */
  retry(sessionId: string): Promise<SessionView> {
    return this.d.records.holding(sessionId, () => this.retryHeld(sessionId));
  }

  apply(sessionId: string): Promise<{ applied: string[]; warning?: string }> {
    return this.d.records.holding(sessionId, () => this.applyHeld(sessionId));
  }

  delete(sessionId: string): Promise<{ sessionId: string; removedBranches: string[] }> {
    return this.d.records.holding(sessionId, () => this.deleteHeld(sessionId));
  }

  private async retryHeld(sessionId: string): Promise<SessionView> {
    // A task cancelled while it merged is still ending: its end is recorded before it is re-opened.
    await this.d.runner.endedTasksSettled(sessionId);
    const now = this.d.now();
    const s = this.d.records.session(sessionId);
    if (s.applied)
      throw new DomainError('conflict', `session ${sessionId} was already applied to your working tree; start a new session for more work`);
    // A cancelled session re-opens its cancelled tasks too (their dependents follow through retryTask).
    const reopen = this.d.records
      .tasksOf(sessionId)
      .filter((t) => t.state === 'failed' || (s.state === 'cancelled' && t.state === 'cancelled'));
    if (s.state === 'awaiting_approval' || s.state === 'running' || s.state === 'paused') {
      if (!reopen.length) throw new DomainError('conflict', `session ${sessionId} has no failed task to retry`);
    }
    await this.d.records.mutate((st) => {
      st.updateSession(sessionId, (x) => (isSessionTerminal(x.state) ? transitionSession(x, { type: 'retry', nowMs: now }) : x));
      for (const t of reopen) {
        const current = st.task(t.id);
        // An earlier retryTask of this loop may already have re-opened it as a dependent.
        if (current?.state !== 'failed' && current?.state !== 'cancelled') continue;
        st.updateTasksOf(sessionId, (tasks) => retryTask(tasks, t.id, now, { raiseLimit: true }).changed);
      }
    });
    await this.d.runner.resumeAfterRetry(s, this.d.records.session(sessionId).state !== 'draft');
    return this.d.records.view(sessionId);
  }

  get(sessionId: string): SessionView {
    return this.d.records.view(sessionId);
  }

  /** Newest first, archived sessions included (their files are read for the ones shown; a corrupt one is left out and logged). */
  list(limit = 100): SessionView[] {
    const st = this.d.records.state();
    const tenant = this.d.records.tenantId;
    const rows = [
      ...st.sessions.filter((s) => s.tenantId === tenant).map((s) => ({ id: s.id, createdAt: s.createdAt, hot: s })),
      ...(st.archive ?? []).filter((e) => e.tenantId === tenant).map((e) => ({ id: e.id, createdAt: e.createdAt, hot: undefined })),
    ].sort((a, b) => b.createdAt - a.createdAt);
    const views: SessionView[] = [];
    for (const r of rows) {
      if (views.length >= limit) break;
      if (r.hot) {
        views.push(
          toView(
            r.hot,
            st.tasks.filter((t) => t.sessionId === r.id),
          ),
        );
        continue;
      }
      try {
        const a = this.d.records.archived(r.id);
        if (a) views.push(toView(a.session, a.tasks));
      } catch (e) {
        if (!DomainError.is(e, 'store_corrupt')) throw e;
      }
    }
    return views;
  }

  private async applyHeld(sessionId: string): Promise<{ applied: string[]; warning?: string }> {
    const s = this.d.records.session(sessionId);
    if (s.applied) {
      throw new DomainError(
        'conflict',
        `session ${sessionId} was already applied (${new Date(s.applied.at).toISOString()}, ${s.applied.files.length} file(s)); nothing was changed`,
        { appliedAt: s.applied.at },
      );
    }
    if (!isSessionTerminal(s.state))
      throw new DomainError('conflict', `session ${sessionId} is ${s.state}; apply it once it has finished (or cancel it)`);
    if (!s.integrationBranch || !s.baseCommit)
      throw new DomainError('conflict', `session ${sessionId} never started; there is nothing to apply`);
    const commit = await this.d.workspace.resolveRef(s.cwd, s.integrationBranch);
    if (!commit)
      throw new DomainError('conflict', `session ${sessionId}: its branch ${s.integrationBranch} is gone; there is nothing to apply`);
    const files = await this.d.workspace.changedFiles(s.cwd, s.baseCommit, commit);
    const patch = await this.d.workspace.diff(s.cwd, s.baseCommit, commit);
    const dirty = new Set(await this.d.workspace.dirtyFiles(s.cwd));
    const overlap = files.map((f) => f.path).filter((p) => dirty.has(p));
    if (overlap.length)
      throw new DomainError(
        'conflict',
        `your working tree has uncommitted changes to ${overlap.join(', ')}; commit or stash them, then apply again`,
        { files: overlap },
      );
    await this.d.workspace.applyPatch(s.cwd, patch);
    const applied = { at: this.d.now(), files: files.map((f) => f.path), commit };
    await this.d.records.mutate((st) => st.updateSession(sessionId, (x) => ({ ...x, applied })));
    // Applied work needs no branch any more: leave the user's repository as it was, plus the applied files.
    // The files are applied either way; a failed clean-up is reported, not turned into a failed apply.
    const warning = await this.removeGitState(this.d.records.session(sessionId)).then(
      () => undefined,
      (e: unknown) =>
        `the changes were applied, but removing the session's branches failed (${(e as Error).message}); Delete Session removes them`,
    );
    this.d.runner.publish(sessionId);
    return warning ? { applied: applied.files, warning } : { applied: applied.files };
  }

  /**
   * Forget a session and leave the user's repository as it was before it started. A live session is
   * cancelled first and its running turns are waited for (with a deadline), so no result lands after.
   */
  private async deleteHeld(sessionId: string): Promise<{ sessionId: string; removedBranches: string[] }> {
    const s = this.d.records.session(sessionId);
    if (!isSessionTerminal(s.state) && s.state !== 'draft') await this.cancel(sessionId);
    await this.d.runner.quiesce(sessionId, 60_000);
    // A repository the user has since removed has nothing left to clean; the records still go.
    const repoThere = await this.d.workspace.assertRepo(s.cwd).then(
      () => true,
      () => false,
    );
    const removedBranches = repoThere ? await this.removeGitState(s) : [];
    await this.d.records.removeSession(sessionId);
    this.d.forgetPermissions?.(sessionId);
    return { sessionId, removedBranches };
  }

  /** Removes the session's worktrees (tasks and integration) and its `orchestrator/<session>/*` branches. */
  private async removeGitState(s: StoredSession): Promise<string[]> {
    for (const t of this.d.records.tasksOf(s.id))
      await this.d.workspace.removeWorktree(s.cwd, taskWorktreeOf(this.d.worktreeRoot, t.sessionId, t.planId));
    if (s.integrationBranch) await this.d.workspace.removeWorktree(s.cwd, integrationDirOf(this.d.worktreeRoot, s.id));
    return this.d.workspace.deleteBranches(s.cwd, sessionBranchPrefix(s.id));
  }

  /** After a crash: re-queue interrupted tasks (refunding the attempt), free their leases and reservations, clear half-done merges. */
  async recover(): Promise<number> {
    const st = this.d.records.state();
    const live = st.sessions.filter((s) => !isSessionTerminal(s.state) && s.state !== 'draft');
    const interrupted = st.tasks.filter((t) => live.some((s) => s.id === t.sessionId) && isActiveTask(t));
    const now = this.d.now();
    await this.d.records.mutate((s) => {
      for (const session of live) {
        const mine = interrupted.filter((t) => t.sessionId === session.id);
        s.updateTasksOf(
          session.id,
          (tasks) =>
            requeueInterrupted(
              tasks,
              mine.map((t) => t.id),
              now,
            ).changed,
        );
        s.updateSession(session.id, (x) => ({ ...x, budget: mine.reduce((b, t) => settle(b, t.id), x.budget) }));
        s.updateTasksOf(session.id, (tasks) => promoteReady(tasks, now).changed);
      }
      for (const t of interrupted) s.leases = release(s.leases, t.id);
      // No agent turn survives a restart of this process.
      for (const id of Object.keys(s.agentHealth))
        s.agentHealth[id] = { ...(s.agentHealth[id] ?? newAgentHealth()), running: 0, probeTaskId: undefined };
    });
    for (const session of live) {
      if (session.integrationBranch) {
        const dir = integrationDirOf(this.d.worktreeRoot, session.id);
        await this.d.workspace.addWorktree(session.cwd, dir, session.integrationBranch, session.baseCommit!).catch(() => undefined);
        await this.d.workspace.abortMerge(dir).catch(() => undefined);
      }
    }
    this.d.runner.pump();
    return interrupted.length;
  }
}

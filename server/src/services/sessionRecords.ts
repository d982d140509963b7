/**
 * Typed access to the orchestration part of the store (sessions, tasks, leases, agent health) and the
 * conversion to protocol views. Every mutation goes through `mutate`, one atomic store write.
 */
import type { SessionView, TaskView } from '../../../protocol/session';
import { DomainError } from '../domain/errors';
import type { LeaseTable } from '../domain/orchestration/lease';
import type { AgentHealth } from '../domain/orchestration/routing';
import type { Task } from '../domain/orchestration/taskState';
import type { ArchiveEntry, ArchivedSession, StoredSession, StoredTask } from '../domain/storeEntities';
import type { StorePort } from '../ports/store';

export type { StoredSession, StoredTask } from '../domain/storeEntities';

export interface OrchestrationState {
  sessions: StoredSession[];
  tasks: StoredTask[];
  leases: LeaseTable;
  agentHealth: Record<string, AgentHealth>;
  /** Finished sessions moved out of the hot store (read-only here: the store moves them). */
  archive?: readonly ArchiveEntry[];
}

/**
 * What a `mutate` callback edits: the orchestration state, plus typed helpers for the usual edits
 * (one session, the tasks of one session). Assigning a collection replaces it.
 */
export class OrchestrationDraft implements OrchestrationState {
  constructor(private readonly d: OrchestrationState) {}

  get sessions(): StoredSession[] {
    return this.d.sessions;
  }
  set sessions(v: StoredSession[]) {
    this.d.sessions = v;
  }
  get tasks(): StoredTask[] {
    return this.d.tasks;
  }
  set tasks(v: StoredTask[]) {
    this.d.tasks = v;
  }
  get leases(): LeaseTable {
    return this.d.leases;
  }
  set leases(v: LeaseTable) {
    this.d.leases = v;
  }
  get agentHealth(): Record<string, AgentHealth> {
    return this.d.agentHealth;
  }
  set agentHealth(v: Record<string, AgentHealth>) {
    this.d.agentHealth = v;
  }

  session(id: string): StoredSession | undefined {
    return this.d.sessions.find((x) => x.id === id);
  }

  /** Replaces session `id` by `fn(session)`; no-op when there is none. */
  updateSession(id: string, fn: (s: StoredSession) => StoredSession): void {
    this.d.sessions = this.d.sessions.map((x) => (x.id === id ? fn(x) : x));
  }

  task(id: string): StoredTask | undefined {
    return this.d.tasks.find((t) => t.id === id);
  }

  /** Replaces task `id` by `fn(task)`; no-op when there is none. */
  updateTask(id: string, fn: (t: StoredTask) => StoredTask): void {
    this.d.tasks = this.d.tasks.map((t) => (t.id === id ? fn(t) : t));
  }

  tasksOf(sessionId: string): StoredTask[] {
    return this.d.tasks.filter((t) => t.sessionId === sessionId);
  }

  /**
   * `fn` gets the tasks of one session and returns those it changed (what the domain's DAG functions
   * return as `changed`); they are merged into the store by id.
   */
  updateTasksOf(sessionId: string, fn: (tasks: StoredTask[]) => readonly Task[]): void {
    this.d.tasks = replaceTasks(this.d.tasks, fn(this.tasksOf(sessionId)));
  }

  /** Replaces the session's tasks as a whole (a new plan). */
  setTasksOf(sessionId: string, tasks: readonly Task[]): void {
    this.d.tasks = [...this.d.tasks.filter((t) => t.sessionId !== sessionId), ...tasks];
  }
}

export class SessionRecords {
  constructor(
    private readonly store: StorePort,
    readonly tenantId: string,
  ) {}

  state(): Readonly<OrchestrationState> {
    return this.store.read();
  }

  /** Sessions an operation is working on (by id → when it started): the archiver leaves them in place. */
  private readonly busy = new Map<string, number>();

  session(id: string): StoredSession {
    const s = this.state().sessions.find((x) => x.id === id && x.tenantId === this.tenantId) ?? this.archived(id)?.session;
    if (!s) throw new DomainError('not_found', `sessionId: no session ${JSON.stringify(id)}`, { field: 'sessionId' });
    return s;
  }

  tasksOf(sessionId: string): StoredTask[] {
    const hot = this.state().tasks.filter((t) => t.sessionId === sessionId);
    return hot.length ? hot : (this.archived(sessionId)?.tasks ?? []);
  }

  /** The records of an archived session of this tenant (undefined when it is not archived). */
  archived(id: string): ArchivedSession | undefined {
    const a = this.store.archived?.(id);
    return a && a.session.tenantId === this.tenantId ? a : undefined;
  }

  /**
   * Before changing session `id`: brings it back from the archive, and keeps the archiver away from it
   * until `done` (see `busyIds`).
   */
  async hold(id: string): Promise<() => void> {
    const mark = Date.now();
    this.busy.set(id, mark);
    await this.store.restoreSession?.(id);
    return () => {
      if (this.busy.get(id) === mark) this.busy.delete(id);
    };
  }

  /** `fn` with session `id` held (see `hold`). */
  async holding<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const release = await this.hold(id);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Ids of sessions an operation holds. */
  busyIds(): ReadonlySet<string> {
    return new Set(this.busy.keys());
  }

  task(id: string): StoredTask | undefined {
    return this.state().tasks.find((t) => t.id === id);
  }

  /** One atomic write: `fn` edits a draft of the orchestration state. `skipIfUnchanged`: no write when nothing changed. */
  async mutate(fn: (s: OrchestrationDraft) => void, opts: { skipIfUnchanged?: boolean } = {}): Promise<void> {
    await this.store.update((d) => {
      const before = opts.skipIfUnchanged ? JSON.stringify([d.sessions, d.tasks, d.leases, d.agentHealth]) : '';
      fn(new OrchestrationDraft(d));
      return !opts.skipIfUnchanged || JSON.stringify([d.sessions, d.tasks, d.leases, d.agentHealth]) !== before;
    });
  }

  /**
   * Forget a session: its record, its tasks, their leases, and the records of its agent turns (the
   * transcript files stay on disk: they are append-only). One atomic write.
   */
  async removeSession(id: string): Promise<void> {
    this.session(id);
    await this.store.update((d) => {
      const taskIds = new Set(d.tasks.filter((t) => t.sessionId === id).map((t) => t.id));
      d.sessions = d.sessions.filter((x) => x.id !== id);
      d.tasks = d.tasks.filter((t) => !taskIds.has(t.id));
      d.runs = d.runs.filter((r) => r.sessionId !== id);
      d.leases = { leases: d.leases.leases.filter((l) => !taskIds.has(l.taskId)) };
      return true;
    });
  }

  view(id: string): SessionView {
    return toView(this.session(id), this.tasksOf(id));
  }
}

/** `all` with each task of `changed` merged over the stored task of the same id. */
function replaceTasks(all: StoredTask[], changed: readonly Task[]): StoredTask[] {
  if (!changed.length) return all;
  const byId = new Map(changed.map((t) => [t.id, t] as const));
  return all.map((t) => (byId.has(t.id) ? { ...t, ...byId.get(t.id)! } : t));
}

/** Epoch milliseconds (the domain's clock) → ISO 8601 (the protocol's time format). */
const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

export function toView(s: StoredSession, tasks: readonly StoredTask[]): SessionView {
  return {
    id: s.id,
    goal: s.goal,
    cwd: s.cwd,
    state: s.state,
    priority: s.priority,
    planner: s.planner,
    model: s.model,
    plan: s.plan,
    budget: { limits: s.budget.limits, spent: s.budget.spent, reservedTotal: s.budget.reservedTotal, startedAt: iso(s.budget.startedAtMs) },
    usage: s.usage,
    approval: s.approval ? { kind: s.approval.kind, message: s.approval.message } : undefined,
    integrationBranch: s.integrationBranch,
    baseCommit: s.baseCommit,
    error: s.error,
    plannerUsage: s.plannerUsage,
    appliedAt: iso(s.applied?.at),
    appliedFiles: s.applied?.files,
    createdAt: iso(s.createdAt)!,
    startedAt: iso(s.startedAt),
    finishedAt: iso(s.finishedAt),
    tasks: [...tasks]
      .sort((a, b) => a.order - b.order)
      .map((t): TaskView => ({
        id: t.id,
        planId: t.planId,
        title: t.title,
        prompt: t.prompt,
        dependsOn: t.dependsOn,
        expectedFiles: t.expectedFiles,
        state: t.state,
        attempts: t.attempts,
        maxAttempts: t.maxAttempts,
        priority: t.priority,
        agentId: t.agentId,
        routeReason: t.routeReason,
        blocked: t.blocked && { ...t.blocked, since: iso(t.blocked.since)! },
        branch: t.branch,
        runId: t.runId,
        result: t.result,
        lastError: t.lastError,
        ...(t.earlierAttempts?.length
          ? { earlierAttempts: t.earlierAttempts.map((a) => ({ ...a, startedAt: iso(a.startedAt)!, finishedAt: iso(a.finishedAt)! })) }
          : {}),
        startedAt: iso(t.startedAt),
        finishedAt: iso(t.finishedAt),
      })),
  };
}

/**
 * Typed access to the orchestration part of the store (sessions, tasks, leases, agent health) and the
 * conversion to protocol views. Every mutation goes through `mutate`, one atomic store write.
 */
import type { SessionView, TaskView } from '../../../protocol/session';
import type { UsageTotals } from '../domain/agentEvent';
import { DomainError } from '../domain/errors';
import type { LeaseTable } from '../domain/orchestration/lease';
import type { AgentHealth } from '../domain/orchestration/routing';
import type { Session } from '../domain/orchestration/sessionState';
import type { Task } from '../domain/orchestration/taskState';
import type { StorePort } from '../ports/store';

export type StoredSession = Session & {
  baseCommit?: string;
  model?: string;
  /** What the LLM planner's turns cost (already included in `usage` and the budget's `spent`). */
  plannerUsage?: UsageTotals;
  /** Set once the session's diff was applied to the user's working tree: what, and from which commit. */
  applied?: { at: number; files: string[]; commit?: string };
};
export type StoredTask = Task & { runId?: string; baseSha?: string };

export interface OrchestrationState {
  sessions: StoredSession[];
  tasks: StoredTask[];
  leases: LeaseTable;
  agentHealth: Record<string, AgentHealth>;
}

export class SessionRecords {
  constructor(
    private readonly store: StorePort,
    readonly tenantId: string,
  ) {}

  state(): OrchestrationState {
    const d = this.store.read();
    return {
      sessions: d.sessions as unknown as StoredSession[],
      tasks: d.tasks as unknown as StoredTask[],
      leases: d.leases as LeaseTable,
      agentHealth: d.agentHealth as unknown as Record<string, AgentHealth>,
    };
  }

  session(id: string): StoredSession {
    const s = this.state().sessions.find((x) => x.id === id && x.tenantId === this.tenantId);
    if (!s) throw new DomainError('not_found', `sessionId: no session ${JSON.stringify(id)}`, { field: 'sessionId' });
    return s;
  }

  tasksOf(sessionId: string): StoredTask[] {
    return this.state().tasks.filter((t) => t.sessionId === sessionId);
  }

  task(id: string): StoredTask | undefined {
    return this.state().tasks.find((t) => t.id === id);
  }

  /** One atomic write: `fn` edits a draft of the orchestration state. `skipIfUnchanged`: no write when nothing changed. */
  async mutate(fn: (s: OrchestrationState) => void, opts: { skipIfUnchanged?: boolean } = {}): Promise<void> {
    await this.store.update((d) => {
      const before = opts.skipIfUnchanged ? JSON.stringify([d.sessions, d.tasks, d.leases, d.agentHealth]) : '';
      const s: OrchestrationState = {
        sessions: d.sessions as unknown as StoredSession[],
        tasks: d.tasks as unknown as StoredTask[],
        leases: d.leases as LeaseTable,
        agentHealth: d.agentHealth as unknown as Record<string, AgentHealth>,
      };
      fn(s);
      d.sessions = s.sessions as unknown as typeof d.sessions;
      d.tasks = s.tasks as unknown as typeof d.tasks;
      d.leases = s.leases;
      d.agentHealth = s.agentHealth as unknown as typeof d.agentHealth;
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
      const taskIds = new Set((d.tasks as unknown as StoredTask[]).filter((t) => t.sessionId === id).map((t) => t.id));
      d.sessions = d.sessions.filter((x) => x.id !== id);
      d.tasks = d.tasks.filter((t) => !taskIds.has(t.id));
      d.runs = d.runs.filter((r) => (r as { sessionId?: unknown }).sessionId !== id);
      d.leases = { leases: d.leases.leases.filter((l) => !taskIds.has(l.taskId)) };
      return true;
    });
  }

  view(id: string): SessionView {
    return toView(this.session(id), this.tasksOf(id));
  }
}

export function replaceTasks(all: StoredTask[], changed: readonly Task[]): StoredTask[] {
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
        agentId: t.agentId,
        routeReason: t.routeReason,
        blocked: t.blocked && { ...t.blocked, since: iso(t.blocked.since)! },
        branch: t.branch,
        runId: t.runId,
        result: t.result,
        lastError: t.lastError,
        startedAt: iso(t.startedAt),
        finishedAt: iso(t.finishedAt),
      })),
  };
}

/**
 * The scheduler's pure decision core (design.md §4, issue 5 "DAG scheduler"): which tasks start now. The
 * service layer owns the queue, the clock and the processes; it calls `nextDispatches` whenever something
 * changes (a task finished, a lease freed, a session resumed, a timer fired) and applies the decisions
 * with the state machines. Progress helpers (dependents ready, skip/cancel cascades) are in `dagProgress.ts`.
 *
 * Rules, in order, for each candidate:
 * 1. Candidates are `ready` tasks and tasks `blocked` on a lease, of sessions in state `running`, whose
 *    retry backoff (`notBeforeMs`) has passed. They are ordered by priority (task priority, else session
 *    priority; 0 first), then the task's topological `order`, then session age, session id and task id.
 * 2. Concurrency: at most `limits.global` active tasks overall; per session at most
 *    min(`limits.perSession`, the session budget's `maxParallel`); per agent its `maxConcurrency`. Active =
 *    running, or blocked on a permission while running. When the global limit is reached the pass stops.
 *    A task in `ending` (its agent turn is over, its commit and merge are under way) is still running and
 *    holds its lease, but runs no agent: it counts for neither limit nor its agent's running count (its
 *    executor slot is free), only for its owners' limits and `limits.tenant` (active tasks, ending included).
 *    Per owner (team server: the user and the API key that started the session, `owners`) at most
 *    `limits.perOwner[owner]`: a task whose session's owner is at its limit is `waiting`, and other
 *    owners' tasks still start (the global limit is the tenant's).
 * 3. Budget: a session already over a limit, or whose next reservation (`estimateAmount` of the task)
 *    would cross one, gets an `approvals` entry with the numbers and no further dispatch in this pass;
 *    the caller moves it to `awaiting_approval`.
 * 4. Lease: a write task requests a write lease on its `expectedFiles` (all of the repo, `**`, when it
 *    predicts none); a read task a read lease on its `expectedFiles` (nothing when empty). The repo is the
 *    session's `cwd`. A conflict puts the task in `blocked` with the reason and the holders; it stays a
 *    candidate and is retried on the next pass.
 * 5. Routing (`routeTask`): `all_busy` / `out_of_rotation` leave the task waiting (`waiting`);
 *    `unavailable` (every capable agent cannot start) reports the session in `unavailable`, the task
 *    stays ready and the session gets no further dispatch in this pass (the caller asks the user);
 *    `no_agents` / `no_capable_agent` report it as `unroutable` (the caller fails it or asks the user).
 * Only when all of budget, lease and route succeed is the dispatch committed: the reservation, the lease
 * and the agent's running count are all in the returned state, so a pass is all-or-nothing per task.
 *
 * Cost: O(n log n) for the sort plus O(active leases) per lease check; no per-call quadratic work.
 */
import {
  checkReserve,
  estimateAmount,
  overrun,
  reserve,
  startClock,
  type Amount,
  type BudgetCrossing,
  type BudgetState,
  type Pricing,
} from './budget';
import { tryAcquire, type Lease, type LeaseRequest, type LeaseTable } from './lease';
import {
  defaultRoutingPolicy,
  recordDispatch,
  routeTask,
  type AgentCandidate,
  type AgentHealth,
  type RouteFailure,
  type RoutingPolicy,
} from './routing';
import type { SessionState } from './sessionState';
import { isActiveTask, isDispatchable, type Task } from './taskState';

export interface SchedulerSession {
  id: string;
  state: SessionState;
  priority: number;
  createdAt: number;
  /** The repository the session works on: the lease namespace. */
  cwd: string;
  budget: BudgetState;
}

export interface ConcurrencyLimits {
  global: number;
  perSession?: number;
  /** Active tasks at most per owner key (e.g. `user:<id>`, `key:<id>`); owners not named are unlimited. */
  perOwner?: Readonly<Record<string, number>>;
  /** Active tasks at most, `ending` ones included (team server: the tenant's active-task quota). */
  tenant?: number;
}

export interface SchedulerInput {
  sessions: readonly SchedulerSession[];
  /** Every non-terminal task of these sessions (terminal ones are allowed and ignored). */
  tasks: readonly Task[];
  leases: LeaseTable;
  agents: readonly AgentCandidate[];
  limits: ConcurrencyLimits;
  nowMs: number;
  leaseTtlMs: number;
  routing?: RoutingPolicy;
  pricing?: Pricing;
  /** Owner keys of each session (who started it: its user, its key); sessions not named have none. */
  owners?: Readonly<Record<string, readonly string[]>>;
  /**
   * Running tasks whose agent turn has ended and whose end (commit, merge, store write) is under way: they
   * keep their lease and their owners' count, but free their session's, the global and their agent's slot.
   */
  ending?: ReadonlySet<string>;
}

export interface Dispatch {
  taskId: string;
  sessionId: string;
  agentId: string;
  routeReason: string;
  probe: boolean;
  lease: Lease;
  reservation: Amount;
}

export interface SchedulerDecision {
  /** Start these now, in this order. */
  dispatches: Dispatch[];
  /** Lease conflicts: move (or keep) these tasks in `blocked` with `reason`. */
  blocked: { taskId: string; sessionId: string; reason: string; conflictsWith: string[] }[];
  /** Sessions that must go to `awaiting_approval`, with the crossing numbers. */
  approvals: { sessionId: string; taskId?: string; crossing: BudgetCrossing }[];
  /** Sessions whose next task needs an agent that cannot start: they must go to `awaiting_approval` with `message`. */
  unavailable: { sessionId: string; taskId: string; message: string }[];
  /** No agent can ever take these as things stand (none registered, none capable). */
  unroutable: { taskId: string; sessionId: string; failure: RouteFailure; message: string }[];
  /** Ready but no agent free now (busy or out of rotation); they stay ready. */
  waiting: { taskId: string; reason: string }[];
  /** The lease table with the dispatches' leases. */
  leases: LeaseTable;
  /** Budgets that changed (reservations made, clock started), by session id. */
  budgets: Record<string, BudgetState>;
  /** Agent health that changed (running counts, probe in flight), by agent id. */
  agents: Record<string, AgentHealth>;
}

/** The lease a task asks for (see rule 4). */
export function leaseRequestFor(task: Pick<Task, 'id' | 'mode' | 'expectedFiles'>, repo: string): LeaseRequest {
  if (task.mode === 'read') return { taskId: task.id, repo, globs: [...task.expectedFiles], mode: 'read' };
  return { taskId: task.id, repo, globs: task.expectedFiles.length ? [...task.expectedFiles] : ['**'], mode: 'write' };
}

interface Candidate {
  task: Task;
  session: SchedulerSession;
  priority: number;
}

function compareCandidates(a: Candidate, b: Candidate): number {
  return (
    a.priority - b.priority ||
    a.task.order - b.task.order ||
    a.session.createdAt - b.session.createdAt ||
    (a.session.id < b.session.id ? -1 : a.session.id > b.session.id ? 1 : 0) ||
    (a.task.id < b.task.id ? -1 : a.task.id > b.task.id ? 1 : 0)
  );
}

/** Decide which tasks start now. Pure: inputs are not modified. */
export function nextDispatches(input: SchedulerInput): SchedulerDecision {
  const { nowMs, limits } = input;
  const policy = input.routing ?? defaultRoutingPolicy;
  const out: SchedulerDecision = {
    dispatches: [],
    blocked: [],
    approvals: [],
    unavailable: [],
    unroutable: [],
    waiting: [],
    leases: input.leases,
    budgets: {},
    agents: {},
  };
  const sessions = new Map(input.sessions.map((s) => [s.id, s] as const));
  const activePerSession = new Map<string, number>();
  const perOwner = limits.perOwner ?? {};
  const ownersOf = (sessionId: string): readonly string[] => input.owners?.[sessionId] ?? [];
  const activePerOwner = new Map<string, number>();
  let activeGlobal = 0;
  /** Active tasks with the ending ones, for `limits.tenant`. */
  let activeTenant = 0;
  const candidates: Candidate[] = [];
  /** Per agent, its tasks in `ending`: its running count less these is what routing sees. */
  const endingPerAgent = new Map<string, number>();
  for (const t of input.tasks) {
    if (isActiveTask(t) && input.ending?.has(t.id)) {
      activeTenant++;
      if (t.agentId !== undefined) endingPerAgent.set(t.agentId, (endingPerAgent.get(t.agentId) ?? 0) + 1);
      for (const o of ownersOf(t.sessionId)) activePerOwner.set(o, (activePerOwner.get(o) ?? 0) + 1);
      continue;
    }
    if (isActiveTask(t)) {
      activeGlobal++;
      activeTenant++;
      activePerSession.set(t.sessionId, (activePerSession.get(t.sessionId) ?? 0) + 1);
      for (const o of ownersOf(t.sessionId)) activePerOwner.set(o, (activePerOwner.get(o) ?? 0) + 1);
      continue;
    }
    if (!isDispatchable(t) || (t.notBeforeMs !== undefined && t.notBeforeMs > nowMs)) continue;
    const session = sessions.get(t.sessionId);
    if (!session || session.state !== 'running') continue;
    candidates.push({ task: t, session, priority: t.priority ?? session.priority });
  }
  const tenantLimit = limits.tenant ?? Infinity;
  if (!candidates.length || activeGlobal >= limits.global || activeTenant >= tenantLimit) return out;
  candidates.sort(compareCandidates);

  const agents = new Map(input.agents.map((a) => [a.profile.id, a] as const));
  const budgets = new Map<string, BudgetState>();
  const stopped = new Set<string>(); // sessions sent to approval in this pass
  const budgetOf = (s: SchedulerSession): BudgetState => budgets.get(s.id) ?? s.budget;
  // Routing sees the running counts without the ending tasks; the counts recorded stay the stored ones.
  const withoutEnding = (a: AgentCandidate): AgentCandidate => {
    const n = endingPerAgent.get(a.profile.id);
    return n ? { ...a, health: { ...a.health, running: Math.max(0, a.health.running - n) } } : a;
  };

  for (const { task, session } of candidates) {
    if (activeGlobal >= limits.global || activeTenant >= tenantLimit) break;
    if (stopped.has(session.id)) continue;
    const sessionLimit = Math.min(limits.perSession ?? Infinity, session.budget.limits.maxParallel ?? Infinity);
    const active = activePerSession.get(session.id) ?? 0;
    if (active >= sessionLimit) continue;
    const owners = ownersOf(session.id);
    const full = owners.find((o) => perOwner[o] !== undefined && (activePerOwner.get(o) ?? 0) >= perOwner[o]);
    if (full !== undefined) {
      out.waiting.push({ taskId: task.id, reason: `${full} is at its limit of ${perOwner[full]} concurrent task(s)` });
      continue;
    }

    const budget = budgetOf(session);
    const over = overrun(budget, nowMs);
    const amount = estimateAmount(task.estimate, input.pricing);
    const crossing = over ?? checkReserve(budget, amount, nowMs, task.id);
    if (crossing) {
      stopped.add(session.id);
      out.approvals.push({ sessionId: session.id, ...(over ? {} : { taskId: task.id }), crossing });
      continue;
    }

    const lease = tryAcquire(out.leases, leaseRequestFor(task, session.cwd), nowMs, input.leaseTtlMs);
    if (!lease.ok) {
      out.blocked.push({
        taskId: task.id,
        sessionId: session.id,
        reason: lease.reason,
        conflictsWith: lease.conflicts.map((c) => c.taskId),
      });
      continue;
    }

    const route = routeTask(task, [...agents.values()].map(withoutEnding), nowMs, policy);
    if (!route.ok) {
      if (route.failure === 'all_busy' || route.failure === 'out_of_rotation') out.waiting.push({ taskId: task.id, reason: route.message });
      else if (route.failure === 'unavailable') {
        stopped.add(session.id);
        out.unavailable.push({ sessionId: session.id, taskId: task.id, message: route.message });
      } else out.unroutable.push({ taskId: task.id, sessionId: session.id, failure: route.failure, message: route.message });
      continue;
    }

    const reserved = reserve(startClock(budget, nowMs), task.id, amount, nowMs);
    if (!reserved.ok) throw new Error('unreachable: the reservation was checked above');
    budgets.set(session.id, reserved.state);
    out.budgets[session.id] = reserved.state;
    out.leases = lease.table;
    const agent = agents.get(route.agentId) as AgentCandidate;
    const health = recordDispatch(agent.health, task.id, route.probe);
    agents.set(route.agentId, { ...agent, health });
    out.agents[route.agentId] = health;
    activeGlobal++;
    activeTenant++;
    activePerSession.set(session.id, active + 1);
    for (const o of owners) activePerOwner.set(o, (activePerOwner.get(o) ?? 0) + 1);
    out.dispatches.push({
      taskId: task.id,
      sessionId: session.id,
      agentId: route.agentId,
      routeReason: route.reason,
      probe: route.probe,
      lease: lease.lease,
      reservation: amount,
    });
  }
  return out;
}

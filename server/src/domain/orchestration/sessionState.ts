/**
 * The session entity and its state machine (design.md §4 "Session").
 *
 *   draft ──approve──▶ running ──pause──▶ paused ──resume──▶ running
 *                        │  ▲
 *          await_approval│  │approve            (budget crossing, a permission, a plan edit)
 *                        ▼  │
 *                  awaiting_approval
 *   running | paused | awaiting_approval ──finish──▶ completed | partially_completed | failed | cancelled
 *   any non-terminal ──cancel──▶ cancelled, ──time_out──▶ timed_out, ──fail──▶ failed
 *   failed | timed_out | partially_completed | cancelled (after it started) ──retry──▶ running
 *   (the caller re-opens failed and cancelled tasks)
 *
 * `completed` is final; a draft that was cancelled cannot be re-opened (start a new session). The outcome of a run is derived from its tasks by
 * `deriveSessionOutcome`. Priority: 0 = highest … 4 = lowest (default 2). Every function returns a new object.
 */
import type { SessionState } from '../../../../protocol/session';
import type { UsageTotals } from '../agentEvent';
import { emptyUsage } from '../agentEvent';
import { DomainError } from '../errors';
import { newBudget, type BudgetCrossing, type BudgetLimits, type BudgetState } from './budget';
import type { Plan } from './plan';
import type { Task } from './taskState';

export type { SessionState };
export type SessionOutcome = 'completed' | 'partially_completed' | 'failed' | 'cancelled';
export type SessionPriority = 0 | 1 | 2 | 3 | 4;

/** Why a session waits for the user. `budget` carries the crossing numbers. */
export type PendingApproval =
  | { kind: 'budget'; message: string; crossing: BudgetCrossing }
  | { kind: 'permission'; message: string; taskId: string; permissionId: string }
  | { kind: 'other'; message: string };

export interface Session {
  id: string;
  tenantId: string;
  goal: string;
  /** The user's repository (absolute). */
  cwd: string;
  state: SessionState;
  priority: SessionPriority;
  createdAt: number;
  updatedAt: number;
  budget: BudgetState;
  usage: UsageTotals;
  plan?: Plan;
  planner?: string;
  integrationBranch?: string;
  approval?: PendingApproval;
  /** Why the session failed, was cancelled or timed out. */
  error?: string;
  startedAt?: number;
  finishedAt?: number;
}

export type SessionEvent =
  | { type: 'set_plan'; plan: Plan; planner?: string; nowMs: number }
  | { type: 'approve'; nowMs: number }
  | { type: 'pause'; nowMs: number }
  | { type: 'resume'; nowMs: number }
  | { type: 'await_approval'; approval: PendingApproval; nowMs: number }
  | { type: 'finish'; outcome: SessionOutcome; nowMs: number }
  | { type: 'cancel'; reason?: string; nowMs: number }
  | { type: 'time_out'; nowMs: number }
  | { type: 'fail'; error: string; nowMs: number }
  | { type: 'retry'; nowMs: number };

const terminal: ReadonlySet<SessionState> = new Set(['completed', 'partially_completed', 'failed', 'cancelled', 'timed_out']);
const live: ReadonlySet<SessionState> = new Set(['running', 'paused', 'awaiting_approval']);

export const isSessionTerminal = (s: SessionState): boolean => terminal.has(s);

export interface NewSessionInput {
  id: string;
  tenantId: string;
  goal: string;
  cwd: string;
  priority?: number;
  budget?: BudgetLimits;
  nowMs: number;
}

export function newSession(i: NewSessionInput): Session {
  const priority = i.priority ?? 2;
  if (!(Number.isInteger(priority) && priority >= 0 && priority <= 4))
    throw new DomainError('bad_input', `priority must be an integer 0–4, got ${priority}`);
  if (!i.goal.trim()) throw new DomainError('bad_input', 'goal must not be empty');
  if (!i.cwd.trim()) throw new DomainError('bad_input', 'cwd must not be empty');
  for (const [k, v] of Object.entries(i.budget ?? {})) {
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0))
      throw new DomainError('bad_input', `budget.${k} must be a number ≥ 0, got ${String(v)}`);
  }
  if (i.budget?.maxParallel !== undefined && !(Number.isInteger(i.budget.maxParallel) && i.budget.maxParallel >= 1)) {
    throw new DomainError('bad_input', `budget.maxParallel must be an integer ≥ 1, got ${i.budget.maxParallel}`);
  }
  return {
    id: i.id,
    tenantId: i.tenantId,
    goal: i.goal,
    cwd: i.cwd,
    state: 'draft',
    priority: priority as SessionPriority,
    createdAt: i.nowMs,
    updatedAt: i.nowMs,
    budget: newBudget(i.budget),
    usage: emptyUsage(),
  };
}

function invalid(s: Session, event: SessionEvent, to: string, why?: string): never {
  throw new DomainError('conflict', `session ${s.id}: invalid transition ${s.state} → ${to} (${event.type})${why ? `: ${why}` : ''}`, {
    sessionId: s.id,
    from: s.state,
    to,
    event: event.type,
  });
}

function without<S extends Session>(s: S, ...keys: ('approval' | 'finishedAt' | 'error')[]): S {
  const copy: S = { ...s };
  for (const k of keys) delete copy[k];
  return copy;
}

/**
 * Apply `event`; throws DomainError('conflict') naming from → to when the transition is not allowed.
 * Fields beyond `Session` (what the services store beside it) are kept as they are.
 */
export function transitionSession<S extends Session>(s: S, event: SessionEvent): S {
  const at = { updatedAt: event.nowMs };
  switch (event.type) {
    case 'set_plan':
      if (s.state !== 'draft') invalid(s, event, 'draft', 'the plan can only change before the session starts');
      return { ...s, ...at, plan: event.plan, ...(event.planner ? { planner: event.planner } : {}) };
    case 'approve':
      if (s.state === 'draft') {
        if (!s.plan) invalid(s, event, 'running', 'there is no plan to approve');
        return { ...s, ...at, state: 'running', startedAt: event.nowMs };
      }
      if (s.state !== 'awaiting_approval') invalid(s, event, 'running');
      return { ...without(s, 'approval'), ...at, state: 'running' };
    case 'pause':
      if (s.state !== 'running' && s.state !== 'awaiting_approval') invalid(s, event, 'paused');
      return { ...s, ...at, state: 'paused' };
    case 'resume':
      if (s.state !== 'paused') invalid(s, event, 'running');
      // An approval still pending when the user paused is asked again on resume.
      return { ...s, ...at, state: s.approval ? 'awaiting_approval' : 'running' };
    case 'await_approval':
      if (s.state !== 'running' && s.state !== 'awaiting_approval') invalid(s, event, 'awaiting_approval');
      return { ...s, ...at, state: 'awaiting_approval', approval: event.approval };
    case 'finish':
      if (!live.has(s.state)) invalid(s, event, event.outcome);
      return { ...without(s, 'approval'), ...at, state: event.outcome, finishedAt: event.nowMs };
    case 'cancel':
      if (terminal.has(s.state)) invalid(s, event, 'cancelled');
      return {
        ...without(s, 'approval'),
        ...at,
        state: 'cancelled',
        finishedAt: event.nowMs,
        ...(event.reason ? { error: event.reason } : {}),
      };
    case 'time_out':
      if (!live.has(s.state)) invalid(s, event, 'timed_out');
      return { ...without(s, 'approval'), ...at, state: 'timed_out', finishedAt: event.nowMs, error: 'the session ran out of wall time' };
    case 'fail':
      if (terminal.has(s.state)) invalid(s, event, 'failed');
      return { ...without(s, 'approval'), ...at, state: 'failed', finishedAt: event.nowMs, error: event.error };
    case 'retry':
      if (!(
        s.state === 'failed' ||
        s.state === 'timed_out' ||
        s.state === 'partially_completed' ||
        (s.state === 'cancelled' && s.startedAt !== undefined)
      )) {
        invalid(
          s,
          event,
          'running',
          s.state === 'cancelled'
            ? 'it was cancelled before it started; start a new session'
            : 'only failed, timed-out, cancelled or partially completed sessions are re-opened',
        );
      }
      if (!s.plan) invalid(s, event, 'running', 'there is no plan to run');
      return { ...without(s, 'finishedAt', 'error'), ...at, state: 'running' };
  }
}

export interface TaskCounts {
  total: number;
  pending: number;
  ready: number;
  running: number;
  blocked: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  skipped: number;
}

export function countTasks(tasks: readonly Pick<Task, 'state'>[]): TaskCounts {
  const c: TaskCounts = {
    total: tasks.length,
    pending: 0,
    ready: 0,
    running: 0,
    blocked: 0,
    succeeded: 0,
    failed: 0,
    cancelled: 0,
    skipped: 0,
  };
  for (const t of tasks) c[t.state]++;
  return c;
}

/**
 * The session outcome once every task is terminal, else undefined (still work to do):
 * all succeeded → completed; some succeeded → partially_completed; none succeeded and all cancelled →
 * cancelled; otherwise failed. A session without tasks is completed.
 */
export function deriveSessionOutcome(tasks: readonly Pick<Task, 'state'>[]): SessionOutcome | undefined {
  const c = countTasks(tasks);
  if (c.pending + c.ready + c.running + c.blocked > 0) return undefined;
  if (c.succeeded === c.total) return 'completed';
  if (c.succeeded > 0) return 'partially_completed';
  if (c.cancelled === c.total) return 'cancelled';
  return 'failed';
}

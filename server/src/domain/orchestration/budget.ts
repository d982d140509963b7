/**
 * Session budgets (design.md §4 "Budget / quota"): estimate → reserve before dispatch → charge reported
 * usage → settle when the task ends. A reservation that would cross a limit is refused with the numbers,
 * and the caller puts the session in `awaiting_approval` before the next dispatch.
 *
 * Pure data + functions: a `BudgetState` is plain JSON (it is persisted with the session) and every
 * function returns a new state. The same ledger works for per-user or per-tenant quotas.
 *
 * Rules:
 * - `tokens` and `money` are checked at reservation: spent + reserved (all open reservations) + requested
 *   must stay ≤ the limit. Equal to the limit is allowed.
 * - `wallMs` is checked against the time since `startedAtMs` (set by `startClock`): once elapsed ≥ limit,
 *   every reservation is refused (the integrator may map that crossing to `timed_out` instead).
 * - `maxParallel` is a concurrency cap, not a spend: it never fails a reservation; the scheduler uses it as
 *   the per-session concurrency limit (a full session just waits).
 * - Tokens counted from usage are input + output + reasoning; cache reads are not counted.
 */
import type { UsageTotals } from '../agentEvent';

export interface BudgetLimits {
  tokens?: number;
  /** In the provider's currency unit (USD for most). */
  money?: number;
  wallMs?: number;
  maxParallel?: number;
}

export interface Amount {
  tokens: number;
  money: number;
}

export interface BudgetState {
  limits: BudgetLimits;
  /** Actual usage charged so far. */
  spent: Amount;
  /** Open reservations by task id (what is still expected to be spent by running tasks). */
  reserved: Record<string, Amount>;
  /** Sum of `reserved`, kept so checks are O(1). */
  reservedTotal: Amount;
  /** When the session's wall clock started (first dispatch); undefined until then. */
  startedAtMs?: number;
}

export type BudgetLimitName = 'tokens' | 'money' | 'wallMs';

/** Why a reservation was refused, with the numbers to show the user. */
export interface BudgetCrossing {
  limit: BudgetLimitName;
  /** The configured limit. */
  limitValue: number;
  /** Already spent (for wallMs: elapsed ms). */
  used: number;
  /** Held by other open reservations (0 for wallMs). */
  reserved: number;
  /** What this reservation asked for (0 for wallMs, or when only reporting an overrun). */
  requested: number;
  taskId?: string;
  /** One line, e.g. "tokens budget would be crossed: 9,000 used + 500 reserved + 2,000 requested > 10,000 limit". */
  message: string;
}

export type ReserveResult = { ok: true; state: BudgetState } | { ok: false; crossing: BudgetCrossing };

export interface Pricing {
  /** Money per one million tokens; when unknown, estimates carry no money. */
  moneyPerMillionTokens?: number;
}

const zero = (): Amount => ({ tokens: 0, money: 0 });
const add = (a: Amount, b: Amount): Amount => ({ tokens: a.tokens + b.tokens, money: a.money + b.money });
const sub = (a: Amount, b: Amount): Amount => ({ tokens: Math.max(0, a.tokens - b.tokens), money: Math.max(0, a.money - b.money) });
const fmt = (n: number): string => (Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(4).replace(/0+$/, ''));

export function newBudget(limits: BudgetLimits = {}): BudgetState {
  return { limits: { ...limits }, spent: zero(), reserved: {}, reservedTotal: zero() };
}

/** Tokens counted against a budget from a usage report. */
export function usageTokens(u: Pick<UsageTotals, 'inputTokens' | 'outputTokens' | 'reasoningTokens'>): number {
  return u.inputTokens + u.outputTokens + (u.reasoningTokens ?? 0);
}

export function usageAmount(u: UsageTotals): Amount {
  return { tokens: usageTokens(u), money: u.cost };
}

/** What a task is expected to cost, from its estimate. */
export function estimateAmount(estimate: { tokens: number }, pricing: Pricing = {}): Amount {
  const tokens = Math.max(0, estimate.tokens);
  const money = pricing.moneyPerMillionTokens ? (tokens / 1_000_000) * pricing.moneyPerMillionTokens : 0;
  return { tokens, money };
}

/** Starts the wall clock (idempotent: the first start wins). */
export function startClock(state: BudgetState, nowMs: number): BudgetState {
  return state.startedAtMs === undefined ? { ...state, startedAtMs: nowMs } : state;
}

function crossingOf(
  limit: BudgetLimitName,
  limitValue: number,
  used: number,
  reserved: number,
  requested: number,
  taskId?: string,
): BudgetCrossing {
  const message =
    limit === 'wallMs'
      ? `wall-time budget crossed: ${fmt(used)} ms elapsed ≥ ${fmt(limitValue)} ms limit`
      : `${limit} budget would be crossed: ${fmt(used)} used + ${fmt(reserved)} reserved + ${fmt(requested)} requested > ${fmt(limitValue)} limit`;
  return { limit, limitValue, used, reserved, requested, ...(taskId === undefined ? {} : { taskId }), message };
}

/** The first limit that `requested` would cross now, or undefined. Order: wallMs, tokens, money. */
export function checkReserve(state: BudgetState, requested: Amount, nowMs: number, taskId?: string): BudgetCrossing | undefined {
  const { limits, spent, reservedTotal } = state;
  const held = taskId !== undefined ? (state.reserved[taskId] ?? zero()) : zero();
  const others = sub(reservedTotal, held);
  if (limits.wallMs !== undefined && state.startedAtMs !== undefined) {
    const elapsed = nowMs - state.startedAtMs;
    if (elapsed >= limits.wallMs) return crossingOf('wallMs', limits.wallMs, elapsed, 0, 0, taskId);
  }
  if (limits.tokens !== undefined && spent.tokens + others.tokens + requested.tokens > limits.tokens) {
    return crossingOf('tokens', limits.tokens, spent.tokens, others.tokens, requested.tokens, taskId);
  }
  if (limits.money !== undefined && spent.money + others.money + requested.money > limits.money) {
    return crossingOf('money', limits.money, spent.money, others.money, requested.money, taskId);
  }
  return undefined;
}

/**
 * Reserve `requested` for `taskId`. A task already holding a reservation has it replaced (so re-dispatch
 * after a requeue does not double count).
 */
export function reserve(state: BudgetState, taskId: string, requested: Amount, nowMs: number): ReserveResult {
  const crossing = checkReserve(state, requested, nowMs, taskId);
  if (crossing) return { ok: false, crossing };
  const held = state.reserved[taskId] ?? zero();
  return {
    ok: true,
    state: {
      ...state,
      reserved: { ...state.reserved, [taskId]: { ...requested } },
      reservedTotal: add(sub(state.reservedTotal, held), requested),
    },
  };
}

/**
 * Charge usage reported while `taskId` runs (a delta, not a running total): it is added to `spent` and the
 * task's reservation shrinks by the same amount (not below zero), so in-flight checks stay accurate.
 */
export function charge(state: BudgetState, taskId: string, delta: Amount): BudgetState {
  const held = state.reserved[taskId];
  const next: BudgetState = { ...state, spent: add(state.spent, delta) };
  if (!held) return next;
  const left = sub(held, delta);
  const freed = sub(held, left);
  return { ...next, reserved: { ...state.reserved, [taskId]: left }, reservedTotal: sub(state.reservedTotal, freed) };
}

/** Drop whatever is left of the task's reservation (task finished, failed, cancelled or requeued). */
export function settle(state: BudgetState, taskId: string): BudgetState {
  const held = state.reserved[taskId];
  if (!held) return state;
  const reserved = { ...state.reserved };
  delete reserved[taskId];
  return { ...state, reserved, reservedTotal: sub(state.reservedTotal, held) };
}

/**
 * Final reconciliation when the task reports its total usage once (no incremental `charge` calls):
 * adds the actual usage and releases the reservation.
 */
export function reconcile(state: BudgetState, taskId: string, actual: Amount): BudgetState {
  return settle(charge(state, taskId, actual), taskId);
}

/** A limit already exceeded by actual spending (or elapsed time), regardless of new reservations. */
export function overrun(state: BudgetState, nowMs: number): BudgetCrossing | undefined {
  const { limits, spent } = state;
  if (limits.wallMs !== undefined && state.startedAtMs !== undefined && nowMs - state.startedAtMs >= limits.wallMs) {
    return crossingOf('wallMs', limits.wallMs, nowMs - state.startedAtMs, 0, 0);
  }
  if (limits.tokens !== undefined && spent.tokens > limits.tokens)
    return crossingOf('tokens', limits.tokens, spent.tokens, state.reservedTotal.tokens, 0);
  if (limits.money !== undefined && spent.money > limits.money)
    return crossingOf('money', limits.money, spent.money, state.reservedTotal.money, 0);
  return undefined;
}

/** New limits (e.g. the user approved a raise); `undefined` in the patch removes a limit. */
export function setLimits(state: BudgetState, patch: Partial<Record<keyof BudgetLimits, number | undefined>>): BudgetState {
  const limits: BudgetLimits = { ...state.limits };
  for (const [k, v] of Object.entries(patch) as [keyof BudgetLimits, number | undefined][]) {
    if (v === undefined) delete limits[k];
    else limits[k] = v;
  }
  return { ...state, limits };
}

/** Remaining headroom per limit (Infinity where there is no limit). */
export function remaining(state: BudgetState, nowMs: number): { tokens: number; money: number; wallMs: number } {
  const { limits, spent, reservedTotal } = state;
  const elapsed = state.startedAtMs === undefined ? 0 : nowMs - state.startedAtMs;
  return {
    tokens: limits.tokens === undefined ? Infinity : limits.tokens - spent.tokens - reservedTotal.tokens,
    money: limits.money === undefined ? Infinity : limits.money - spent.money - reservedTotal.money,
    wallMs: limits.wallMs === undefined ? Infinity : limits.wallMs - elapsed,
  };
}

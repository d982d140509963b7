/**
 * Quotas of the team server, pure: per tenant, and per user or API key inside it. Concurrent sessions,
 * concurrent tasks (session tasks and single runs together), agent tokens and money per
 * rolling window (default 24 h). A run's money is the cost its agent reported, or else its tokens × the
 * scope's price hint (`moneyPerMillionTokens`). The server reserves before dispatch (a
 * session's token limit is granted out of what the tenant has left) and reconciles after (the tokens a
 * run really used are added to the tenant's usage when it ends). A crossing is a refusal with the numbers.
 */
import type { z } from 'zod';
import { quotaLimitsSchema } from '../../../../protocol/quota';
import { DomainError } from '../errors';

/** One scope's limits: the protocol's shape (`quota/get`, `quota/set`), stored in `auth.json`. */
export const quotasSchema = quotaLimitsSchema;
export type Quotas = z.infer<typeof quotasSchema>;
export type QuotaName = 'sessions' | 'tasks' | 'tokens' | 'money';

/** Whose quota: the tenant's, one user's or one API key's. */
export interface QuotaScope {
  kind: 'tenant' | 'user' | 'key';
  id: string;
  /** The user's name, for messages. */
  name?: string;
}

export const defaultWindowMs = 86_400_000;

/** Why a request was refused, with the numbers. */
export interface QuotaCrossing {
  quota: QuotaName;
  limit: number;
  inUse: number;
  requested: number;
  windowMs?: number;
  scope: { kind: QuotaScope['kind']; id: string };
  message: string;
}

const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 4 });

const tenantScope: QuotaScope = { kind: 'tenant', id: '' };

function scopeText(s: QuotaScope): string {
  if (s.kind === 'tenant') return 'tenant';
  if (s.kind === 'user') return `user ${s.name ?? s.id}`;
  return `key ${s.id}`;
}

export function crossing(
  quota: QuotaName,
  limit: number,
  inUse: number,
  requested: number,
  windowMs?: number,
  scope: QuotaScope = tenantScope,
): QuotaCrossing {
  const per = `per ${fmt(Math.round((windowMs ?? defaultWindowMs) / 60_000))} min`;
  const what =
    quota === 'sessions'
      ? 'concurrent sessions'
      : quota === 'tasks'
        ? 'concurrent tasks'
        : quota === 'tokens'
          ? `tokens ${per}`
          : `money ${per}`;
  return {
    quota,
    limit,
    inUse,
    requested,
    ...(windowMs === undefined ? {} : { windowMs }),
    scope: { kind: scope.kind, id: scope.id },
    message:
      requested === 0
        ? `${scopeText(scope)} quota for ${what} is used up: ${fmt(inUse)} in use ≥ ${fmt(limit)} limit`
        : `${scopeText(scope)} quota for ${what} would be crossed: ${fmt(inUse)} in use + ${fmt(requested)} requested > ${fmt(limit)} limit`,
  };
}

/** Would `requested` more of a counted resource cross `limit`? Equal to the limit is allowed. */
export function checkCount(
  quota: 'sessions' | 'tasks',
  limit: number | undefined,
  inUse: number,
  requested = 1,
  scope: QuotaScope = tenantScope,
): QuotaCrossing | undefined {
  if (limit === undefined || inUse + requested <= limit) return undefined;
  return crossing(quota, limit, inUse, requested, undefined, scope);
}

/** What a tenant's tokens look like now: spent in the window and still granted to active sessions. */
export interface TokenLedger {
  /** Tokens used by the tenant's runs in the window (ended and running). */
  used: number;
  /** Tokens granted to other active sessions and not spent yet. */
  granted: number;
}

/**
 * How many tokens a session may still spend, out of the tenant's window. Refused (a crossing) when
 * nothing is left; `requested` is what the caller asked for (1 when it did not say).
 */
export function grantTokens(
  quotas: Quotas,
  ledger: TokenLedger,
  requested?: number,
  scope: QuotaScope = tenantScope,
): { grant: number } | { crossing: QuotaCrossing } {
  if (quotas.tokens === undefined) return { grant: requested ?? Infinity };
  const left = quotas.tokens - ledger.used - ledger.granted;
  if (left <= 0)
    return {
      crossing: crossing('tokens', quotas.tokens, ledger.used + ledger.granted, requested ?? 1, quotas.windowMs ?? defaultWindowMs, scope),
    };
  return { grant: Math.min(left, requested ?? Infinity) };
}

/** A scope's money in its window: spent by ended and running runs, and still granted to active sessions. */
export interface MoneyLedger {
  used: number;
  granted: number;
}

/** Money a run used: what its agent reported, else its tokens at the price hint (0 without one). */
export function runMoney(run: { tokens: number; cost?: number }, moneyPerMillionTokens?: number): number {
  if (typeof run.cost === 'number' && run.cost > 0) return run.cost;
  return moneyPerMillionTokens ? (run.tokens / 1_000_000) * moneyPerMillionTokens : 0;
}

/**
 * What a session may still spend of a scope's money. With a price hint the money left becomes tokens (the
 * session's token budget then stops it before the dispatch that would cross); without one, a money budget
 * (for agents that report their cost). Refused when nothing is left.
 */
export function grantMoney(
  quotas: Quotas,
  ledger: MoneyLedger,
  scope: QuotaScope = tenantScope,
): { tokens?: number; money?: number } | { crossing: QuotaCrossing } {
  if (quotas.money === undefined) return {};
  const left = quotas.money - ledger.used - ledger.granted;
  const price = quotas.moneyPerMillionTokens;
  const tokens = price ? Math.floor((left / price) * 1_000_000) : undefined;
  if (left <= 0 || tokens === 0) {
    return { crossing: crossing('money', quotas.money, ledger.used + ledger.granted, 0, quotas.windowMs ?? defaultWindowMs, scope) };
  }
  return tokens !== undefined ? { tokens } : { money: left };
}

/** Sum of the usage entries whose time is inside the window ending at `nowMs`. */
export function tokensInWindow(entries: readonly { atMs: number; tokens: number }[], windowMs: number, nowMs: number): number {
  let sum = 0;
  for (const e of entries) if (e.atMs > nowMs - windowMs && e.atMs <= nowMs) sum += e.tokens;
  return sum;
}

/** Applies a change from the admin CLI: a number sets a quota, `null` removes it. */
export function changeQuotas(current: Quotas | undefined, patch: Partial<Record<keyof Quotas, number | null>>): Quotas {
  const next: Record<string, number> = { ...(current ?? {}) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    if (v === null) delete next[k];
    else next[k] = v;
  }
  const parsed = quotasSchema.safeParse(next);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DomainError('bad_input', `quota ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

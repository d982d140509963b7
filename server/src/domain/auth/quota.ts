/**
 * Per-tenant quotas of the team server, pure: concurrent sessions, concurrent tasks (session tasks and
 * single runs together) and agent tokens per rolling window. The server reserves before dispatch (a
 * session's token limit is granted out of what the tenant has left) and reconciles after (the tokens a
 * run really used are added to the tenant's usage when it ends). A crossing is a refusal with the numbers.
 */
import { z } from 'zod';
import { DomainError } from '../errors';

export const quotasSchema = z
  .object({
    /** Sessions running, paused or awaiting approval at once. */
    sessions: z.number().int().min(0).optional(),
    /** Agent turns running at once (session tasks and single runs). */
    tasks: z.number().int().min(1).optional(),
    /** Agent tokens (input + output + reasoning) per window. */
    tokens: z.number().int().min(0).optional(),
    /** The tokens window in ms (default one day). */
    windowMs: z
      .number()
      .int()
      .min(60_000)
      .max(366 * 86_400_000)
      .optional(),
  })
  .strict();
export type Quotas = z.infer<typeof quotasSchema>;
export type QuotaName = 'sessions' | 'tasks' | 'tokens';

export const defaultWindowMs = 86_400_000;

/** Why a request was refused, with the numbers. */
export interface QuotaCrossing {
  quota: QuotaName;
  limit: number;
  inUse: number;
  requested: number;
  windowMs?: number;
  message: string;
}

const fmt = (n: number) => n.toLocaleString('en-US');

export function crossing(quota: QuotaName, limit: number, inUse: number, requested: number, windowMs?: number): QuotaCrossing {
  const what =
    quota === 'sessions'
      ? 'concurrent sessions'
      : quota === 'tasks'
        ? 'concurrent tasks'
        : `tokens per ${fmt(Math.round((windowMs ?? defaultWindowMs) / 60_000))} min`;
  return {
    quota,
    limit,
    inUse,
    requested,
    ...(windowMs === undefined ? {} : { windowMs }),
    message: `tenant quota for ${what} would be crossed: ${fmt(inUse)} in use + ${fmt(requested)} requested > ${fmt(limit)} limit`,
  };
}

/** Would `requested` more of a counted resource cross `limit`? Equal to the limit is allowed. */
export function checkCount(
  quota: 'sessions' | 'tasks',
  limit: number | undefined,
  inUse: number,
  requested = 1,
): QuotaCrossing | undefined {
  if (limit === undefined || inUse + requested <= limit) return undefined;
  return crossing(quota, limit, inUse, requested);
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
export function grantTokens(quotas: Quotas, ledger: TokenLedger, requested?: number): { grant: number } | { crossing: QuotaCrossing } {
  if (quotas.tokens === undefined) return { grant: requested ?? Infinity };
  const left = quotas.tokens - ledger.used - ledger.granted;
  if (left <= 0)
    return {
      crossing: crossing('tokens', quotas.tokens, ledger.used + ledger.granted, requested ?? 1, quotas.windowMs ?? defaultWindowMs),
    };
  return { grant: Math.min(left, requested ?? Infinity) };
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

/**
 * What a tenant's quota scopes use right now, read from the tenant's store, usage ledger and owner log:
 * active sessions, active tasks (session tasks from dispatch until their end is recorded, and running single
 * runs), tokens and money in the window. `TenantGuard` checks quotas with it; `quota/get` reports it. Who a
 * record belongs to is `owners.jsonl` (the user and key that started the session or run); unowned records
 * count for the tenant only.
 */
import type { OwnerEntry, OwnerLog, UsageLedger } from './adapters/auth/tenantLog';
import type { Principal } from './domain/auth/accounts';
import {
  defaultWindowMs,
  runMoney,
  tokensInWindow,
  type MoneyLedger,
  type QuotaScope,
  type Quotas,
  type TokenLedger,
} from './domain/auth/quota';
import { usageTokens } from './domain/orchestration/budget';
import { isActiveTask } from './domain/orchestration/taskState';
import type { StorePort } from './ports/store';

export const activeSessionStates = new Set(['running', 'paused', 'awaiting_approval']);

export interface ScopedQuotas {
  scope: QuotaScope;
  quotas: Quotas;
}

/** The scheduler's owner keys of an owner entry: its user and its key. */
export function ownerKeys(o: { userId?: string; keyId?: string } | undefined): string[] {
  if (!o) return [];
  return [...(o.userId ? [`user:${o.userId}`] : []), ...(o.keyId ? [`key:${o.keyId}`] : [])];
}

export function scopeKey(scope: QuotaScope): string {
  return `${scope.kind}:${scope.id}`;
}

export class TenantUsage {
  /**
   * The principal whose `session/start` (with `approve`) is being handled, and the sessions that existed
   * before it: a new session is dispatched before its owner line is written, and must count for its owner
   * from its first dispatch. Session starts that activate run one at a time per tenant (`TenantGuard.serial`).
   */
  private starting?: { owner: Pick<OwnerEntry, 'userId' | 'keyId'>; known: Set<string> };

  constructor(
    private readonly store: StorePort,
    private readonly ledger: UsageLedger,
    private readonly owners: OwnerLog | undefined,
    private readonly now: () => number,
  ) {}

  /** Runs `work` (a session start) with its new sessions owned by `principal` until their owner line is written. */
  async startingAs<T>(principal: Principal, work: () => Promise<T>): Promise<T> {
    this.starting = {
      owner: { userId: principal.userId, keyId: principal.keyId },
      known: new Set(this.store.read().sessions.map((s) => s.id)),
    };
    try {
      return await work();
    } finally {
      this.starting = undefined;
    }
  }

  /** Who started a session (its owner line, or the session start in progress). */
  sessionOwner(sessionId: string): Pick<OwnerEntry, 'userId' | 'keyId'> | undefined {
    const o = this.owners?.ofSession(sessionId);
    if (o) return o;
    return this.starting && !this.starting.known.has(sessionId) ? this.starting.owner : undefined;
  }

  private runOwner(run: { id: string; sessionId?: string }): Pick<OwnerEntry, 'userId' | 'keyId'> | undefined {
    return this.owners?.of(run) ?? (run.sessionId ? this.sessionOwner(run.sessionId) : undefined);
  }

  /** Is this owner (of a run, session or ledger line) inside the scope? Unowned records count for the tenant only. */
  owns(scope: QuotaScope, owner: { userId?: string; keyId?: string } | undefined): boolean {
    if (scope.kind === 'tenant') return true;
    return scope.kind === 'user' ? owner?.userId === scope.id : owner?.keyId === scope.id;
  }

  /** Running single runs (no session) and every active task, per tenant. */
  runningRuns(): { all: number; single: number } {
    const data = this.store.read();
    let single = 0;
    for (const r of data.runs) if ((r.state === 'running' || r.state === 'pending') && !r.sessionId) single++;
    // A session task counts from its dispatch (state `running`, before its run record exists) until it ends
    // (its run record may be closed a moment later); counting run records let a single run slip in between.
    return { all: single + data.tasks.filter((t) => t.state === 'running').length, single };
  }

  /** Running single runs per owner key (`user:<id>`, `key:<id>`). */
  singleRunsByOwner(): Map<string, number> {
    const out = new Map<string, number>();
    for (const r of this.store.read().runs) {
      if ((r.state !== 'running' && r.state !== 'pending') || r.sessionId) continue;
      for (const k of ownerKeys(this.runOwner(r))) out.set(k, (out.get(k) ?? 0) + 1);
    }
    return out;
  }

  /** Active tasks inside a scope: its running single runs and its sessions' active tasks (the scheduler's count). */
  activeTasks(scope: QuotaScope): number {
    if (scope.kind === 'tenant') return this.runningRuns().all;
    const data = this.store.read();
    let n = 0;
    for (const r of data.runs)
      if ((r.state === 'running' || r.state === 'pending') && !r.sessionId && this.owns(scope, this.runOwner(r))) n++;
    for (const t of data.tasks) if (isActiveTask(t) && this.owns(scope, this.sessionOwner(t.sessionId))) n++;
    return n;
  }

  /** Active sessions inside a scope. */
  activeSessions(scope: QuotaScope, exceptSession?: string): number {
    return this.store
      .read()
      .sessions.filter((x) => x.id !== exceptSession && activeSessionStates.has(x.state) && this.owns(scope, this.sessionOwner(x.id)))
      .length;
  }

  /** A scope's tokens and money in its window (ended and running runs) and what other active sessions still hold. */
  ledgerOf(s: ScopedQuotas, exceptSession?: string): { tokens: TokenLedger; money: MoneyLedger } {
    const windowMs = s.quotas.windowMs ?? defaultWindowMs;
    const price = s.quotas.moneyPerMillionTokens;
    const nowMs = this.now();
    const lines = this.ledger.all().filter((l) => this.owns(s.scope, l));
    let usedTokens = tokensInWindow(lines, windowMs, nowMs);
    let usedMoney = 0;
    for (const l of lines) if (l.atMs > nowMs - windowMs && l.atMs <= nowMs) usedMoney += runMoney(l, price);
    const data = this.store.read();
    for (const r of data.runs) {
      if ((r.state !== 'running' && r.state !== 'pending') || this.ledger.has(r.id)) continue;
      if (!this.owns(s.scope, this.runOwner(r))) continue;
      const tokens = usageTokens(r.usage);
      usedTokens += tokens;
      usedMoney += runMoney({ tokens, cost: r.usage.cost }, price);
    }
    let grantedTokens = 0;
    let grantedMoney = 0;
    for (const x of data.sessions) {
      if (x.id === exceptSession || !activeSessionStates.has(x.state)) continue;
      if (!this.owns(s.scope, this.sessionOwner(x.id))) continue;
      const { limits, spent } = x.budget;
      if (limits.tokens !== undefined) grantedTokens += Math.max(0, limits.tokens - spent.tokens);
      if (limits.money !== undefined && !price) grantedMoney += Math.max(0, limits.money - spent.money);
    }
    if (price) grantedMoney = (grantedTokens / 1_000_000) * price;
    return { tokens: { used: usedTokens, granted: grantedTokens }, money: { used: usedMoney, granted: grantedMoney } };
  }
}

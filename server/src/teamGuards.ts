/**
 * The team server's per-tenant guards, run on every request after the authorisation layer and before the
 * handler: paths a client gives are confined to the tenant's workspace roots (and replaced by their real
 * path), quotas are checked and reserved, and what an admin must be able to trace is appended to the
 * tenant's audit log.
 *
 * Quotas (`domain/auth/quota.ts`), set by `orchestrator admin set-quota` in `auth.json` and read at every
 * guarded request (a CLI change reaches the scheduler at the tenant's next guarded request; `quota/set` at once):
 * - sessions: activating a session (`session/start` with `approve`, approving a draft, retrying an ended
 *   one) is refused when the tenant's running, paused and awaiting sessions would exceed it.
 * - tasks: `run/start` is refused when running runs would exceed it; the scheduler never runs more session
 *   tasks than it less the running single runs (`maxActiveTasks`). A user's or key's tasks limit works the
 *   same inside the tenant's: `run/start` is refused, and the scheduler holds that owner's ready tasks while
 *   other owners' run (`maxTasksPerOwner`, `sessionOwners`). Usage is counted by `teamUsage.ts`.
 * - `quota/get`, `quota/set`: `teamQuotas.ts`.
 * - tokens per window: a session is granted, as its token budget, at most what the tenant has left
 *   (window usage and other sessions' unspent grants subtracted), so the session's own budget check stops
 *   it before the next dispatch that would cross it (`awaiting_approval` with the numbers); with nothing
 *   left, activation and `run/start` are refused. The tokens an ended run used are added to the tenant's
 *   `usage.jsonl` (reconciled, also on open for runs that ended while no one recorded them).
 * Checks and the handler that activates run one at a time per tenant, so two requests cannot both take the
 * last place.
 */
import { ResponseError } from 'vscode-languageserver/node';
import { errorCodes } from '../../protocol/errors';
import type { RpcEndpoint } from '../../protocol/messages';
import { modelSetAlias } from '../../protocol/model';
import { runStart } from '../../protocol/run';
import { sessionApprove, sessionResume, sessionRetry, sessionStart } from '../../protocol/session';
import { taskRetry } from '../../protocol/task';
import type { AuthFile } from './adapters/auth/authFile';
import { confinePath } from './adapters/auth/confinePath';
import type { AuditLog, OwnerLog, UsageLedger } from './adapters/auth/tenantLog';
import type { Accounts, Principal, Tenant as TenantRecord } from './domain/auth/accounts';
import { checkCount, grantMoney, grantTokens, type QuotaCrossing, type QuotaScope, type Quotas } from './domain/auth/quota';
import { aggregateUsage, usageLine } from './domain/auth/usageReport';
import type { ParamsOf } from '../../protocol/messages';
import type { QuotaReport, QuotaSetResult, quotaSet } from '../../protocol/quota';
import { pricedAs, quotaReport, setScopeQuotas } from './teamQuotas';
import { activeSessionStates, ownerKeys, TenantUsage, type ScopedQuotas } from './teamUsage';
import type { UsageReport, usageReport } from '../../protocol/usage';
import type { StorePort } from './ports/store';
import type { AutoPermissionAnswer } from './services/runService';

/** Request fields naming a folder on the server's machine: confined to the tenant's workspace roots. */
export const confinedPathFields: Readonly<Record<string, readonly string[]>> = {
  [runStart.method]: ['cwd'],
  [sessionStart.method]: ['cwd'],
};
/** Path fields that are relative to a session's repository and checked by their schema (no `..`, not absolute). */
export const repoRelativePathFields: readonly string[] = ['session/fileContent.path'];

const endedRunStates = new Set(['succeeded', 'failed', 'cancelled']);

export interface TenantGuardDeps {
  tenantId: string;
  auth: AuthFile;
  store: StorePort;
  ledger: UsageLedger;
  audit: AuditLog;
  /** Who started each run and session (the usage ledger's user column); without it usage lines name no user. */
  owners?: OwnerLog;
  now?: () => number;
}

type Handler = (params: unknown) => unknown;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class TenantGuard {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;
  /** What each quota scope uses now. */
  readonly usage: TenantUsage;

  constructor(private readonly d: TenantGuardDeps) {
    this.now = d.now ?? Date.now;
    this.usage = new TenantUsage(d.store, d.ledger, d.owners, this.now);
  }

  private async record(): Promise<TenantRecord | undefined> {
    return (await this.d.auth.read()).tenants.find((t) => t.id === this.d.tenantId);
  }

  /** The quotas as last read (the scheduler asks synchronously); refreshed at every guarded request. */
  private cached: Quotas = {};
  private accounts?: Accounts;

  async quotas(): Promise<Quotas> {
    this.accounts = await this.d.auth.read();
    this.cached = this.accounts.tenants.find((t) => t.id === this.d.tenantId)?.quotas ?? {};
    return this.cached;
  }

  /** One at a time per tenant: a check and the change it allows. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work, work);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Adds the tokens of ended runs not yet in the ledger (after a restart, or a missed update). */
  async reconcile(): Promise<void> {
    for (const r of this.d.store.read().runs) {
      if (!endedRunStates.has(r.state) || this.d.ledger.has(r.id)) continue;
      const at = Date.parse(r.finishedAt ?? r.createdAt);
      await this.d.ledger.record(usageLine(r, Number.isFinite(at) ? at : this.now(), this.d.owners?.of(r)));
    }
  }

  /** A run ended: its actual tokens count against the tenant's window. */
  async runEnded(run: Parameters<typeof usageLine>[0] & { state: string }): Promise<void> {
    if (endedRunStates.has(run.state)) await this.d.ledger.record(usageLine(run, this.now(), this.d.owners?.of(run)));
  }

  /** `usage/report`: the tenant's ledger; an admin sees every user's runs, anyone else only their own. */
  usageReport(principal: Principal, p: ParamsOf<typeof usageReport>): UsageReport {
    const scope = principal.role === 'admin' ? 'tenant' : 'own';
    const { rows, total } = aggregateUsage(this.d.ledger.all(), {
      ...p,
      ...(scope === 'own' ? { userId: principal.userId } : {}),
    });
    return { tenantId: this.d.tenantId, groupBy: p.groupBy, from: p.from, to: p.to, scope, rows, total };
  }

  /** Remembers who started a run (`run/start`) or a session (`session/start`) once the handler answers. */
  private attributed(method: string, principal: Principal, handler: Handler): Handler {
    const owners = this.d.owners;
    const kind = method === runStart.method ? 'run' : method === sessionStart.method ? 'session' : undefined;
    if (!owners || !kind) return handler;
    return async (params) => {
      const result = await handler(params);
      const id = isObject(result) ? (kind === 'run' ? result.runId : result.id) : undefined;
      if (typeof id === 'string')
        await owners.record({ kind, id, userId: principal.userId, userName: principal.userName, keyId: principal.keyId });
      return result;
    };
  }

  /** The scheduler's limit on session tasks right now. */
  maxActiveTasks(): number {
    if (this.cached.tasks === undefined) return Infinity;
    return this.cached.tasks - this.usage.runningRuns().single;
  }

  /** The scheduler's limit on session tasks per owner key (users and keys with a tasks quota) less their single runs. */
  maxTasksPerOwner(): Record<string, number> {
    const out: Record<string, number> = {};
    const a = this.accounts;
    if (!a) return out;
    const limited = [
      ...a.users
        .filter((u) => u.tenantId === this.d.tenantId && u.quotas?.tasks !== undefined)
        .map((u) => [`user:${u.id}`, u.quotas!.tasks!] as const),
      ...a.keys
        .filter((k) => k.tenantId === this.d.tenantId && k.quotas?.tasks !== undefined)
        .map((k) => [`key:${k.id}`, k.quotas!.tasks!] as const),
    ];
    if (!limited.length) return out;
    const single = this.usage.singleRunsByOwner();
    for (const [owner, limit] of limited) out[owner] = Math.max(0, limit - (single.get(owner) ?? 0));
    return out;
  }

  /** The scheduler's owner keys of a session: the user and key that started it. */
  sessionOwners(sessionId: string): string[] {
    return ownerKeys(this.usage.sessionOwner(sessionId));
  }

  /** `quota/get` for this principal. */
  async quotaGet(principal: Principal): Promise<QuotaReport> {
    await this.quotas();
    return quotaReport(this.quotaDesk(), principal);
  }

  /** `quota/set` (admins): a user's or key's quotas; applies from the next scheduler decision. */
  async quotaSet(principal: Principal, p: ParamsOf<typeof quotaSet>): Promise<QuotaSetResult> {
    const r = await setScopeQuotas(this.quotaDesk(), actorOf(principal), p);
    await this.quotas();
    return r;
  }

  private quotaDesk() {
    return { tenantId: this.d.tenantId, auth: this.d.auth, audit: this.d.audit, usage: this.usage };
  }

  /**
   * The quotas a principal's request counts against: the tenant's, then its user's and its key's when set
   * (`admin set-quota --user/--key`). A user or key without its own price hint uses the tenant's.
   */
  private async scopes(principal: Principal): Promise<ScopedQuotas[]> {
    await this.quotas();
    const a = this.accounts!;
    const withPrice = pricedAs(this.cached);
    const u = a.users.find((x) => x.id === principal.userId && x.tenantId === this.d.tenantId);
    const k = a.keys.find((x) => x.id === principal.keyId && x.tenantId === this.d.tenantId);
    return [
      { scope: { kind: 'tenant', id: this.d.tenantId }, quotas: this.cached },
      ...(u?.quotas ? [{ scope: { kind: 'user', id: u.id, name: u.name } as QuotaScope, quotas: withPrice(u.quotas) }] : []),
      ...(k?.quotas ? [{ scope: { kind: 'key', id: k.id } as QuotaScope, quotas: withPrice(k.quotas) }] : []),
    ];
  }

  /**
   * What every scope still grants: tokens (the tokens quota, and the money quota at its price hint) and
   * money (a money quota without a price hint); the first crossing refuses with its numbers.
   */
  private async grants(
    principal: Principal,
    method: string,
    scopes: readonly ScopedQuotas[],
    requestedTokens: number | undefined,
    exceptSession?: string,
  ): Promise<{ tokens?: number; money?: number }> {
    let tokens: number | undefined;
    let money: number | undefined;
    const min = (a: number | undefined, b: number) => (a === undefined ? b : Math.min(a, b));
    for (const s of scopes) {
      if (s.quotas.tokens === undefined && s.quotas.money === undefined) continue;
      const l = this.usage.ledgerOf(s, exceptSession);
      if (s.quotas.tokens !== undefined) {
        const g = grantTokens(s.quotas, l.tokens, requestedTokens, s.scope);
        if ('crossing' in g) return this.refuse(principal, method, g.crossing);
        tokens = min(tokens, g.grant);
      }
      const m = grantMoney(s.quotas, l.money, s.scope);
      if ('crossing' in m) return this.refuse(principal, method, m.crossing);
      if (m.tokens !== undefined) tokens = min(tokens, Math.min(m.tokens, requestedTokens ?? Infinity));
      if (m.money !== undefined) money = min(money, m.money);
    }
    return { ...(tokens === undefined ? {} : { tokens }), ...(money === undefined ? {} : { money }) };
  }

  private async refuse(principal: Principal, method: string, c: QuotaCrossing): Promise<never> {
    await this.d.audit.append({ tenantId: this.d.tenantId, actor: actorOf(principal), action: 'quota.refused', details: { method, ...c } });
    throw new ResponseError(errorCodes.quotaExceeded, c.message, c);
  }

  /**
   * Checks the sessions quotas for activating `sessionId` (undefined: a new one) and grants its tokens and
   * money: the new absolute limits of its budget (undefined: unchanged).
   */
  private async activation(
    principal: Principal,
    method: string,
    sessionId: string | undefined,
    requested: { tokens?: number; money?: number },
  ): Promise<{ tokens?: number; money?: number }> {
    const scopes = await this.scopes(principal);
    const self = sessionId === undefined ? undefined : this.d.store.read().sessions.find((s) => s.id === sessionId);
    // Not in the hot store: archived (ended) or unknown; counted as a new activation (the handler answers notFound).
    if (!self || !activeSessionStates.has(self.state))
      for (const s of scopes) {
        const c = checkCount('sessions', s.quotas.sessions, this.usage.activeSessions(s.scope), 1, s.scope);
        if (c) await this.refuse(principal, method, c);
      }
    // A draft's own budget (set at session/start) is kept when smaller; a session that stopped on its grant gets a new one.
    const own = self?.state === 'draft' ? self.budget.limits : {};
    const left = (limit: number | undefined, spent: number) => (limit === undefined ? undefined : Math.max(0, limit - spent));
    const askedTokens = [requested.tokens, left(own.tokens, self?.budget.spent.tokens ?? 0)].filter((x): x is number => x !== undefined);
    const g = await this.grants(principal, method, scopes, askedTokens.length ? Math.min(...askedTokens) : undefined, sessionId);
    const out: { tokens?: number; money?: number } = {};
    if (g.tokens !== undefined) out.tokens = (self?.budget.spent.tokens ?? 0) + g.tokens;
    if (g.money !== undefined) {
      const askedMoney = [requested.money, left(own.money, self?.budget.spent.money ?? 0)].filter((x): x is number => x !== undefined);
      out.money = (self?.budget.spent.money ?? 0) + Math.min(g.money, ...askedMoney);
    }
    return out;
  }

  private async confine(principal: Principal, method: string, params: Record<string, unknown>): Promise<void> {
    if (typeof params.cwd !== 'string') return; // Decoding names it.
    const roots = (await this.record())?.roots ?? [];
    const r = await confinePath('cwd', params.cwd, roots);
    if (r.ok) {
      params.cwd = r.real;
      return;
    }
    await this.d.audit.append({
      tenantId: this.d.tenantId,
      actor: actorOf(principal),
      action: 'path.refused',
      details: { method, field: 'cwd', path: params.cwd, why: r.kind },
    });
    if (r.kind === 'bad_path')
      throw new ResponseError(errorCodes.invalidParams, r.message, {
        method,
        fields: ['cwd'],
        issues: [{ path: ['cwd'], message: r.message }],
      });
    throw new ResponseError(errorCodes.forbidden, r.message, { method, field: 'cwd' });
  }

  /** The guarded handler of `method` for this connection's principal. */
  guard(method: string, principal: Principal, inner: Handler): Handler {
    const handler = this.attributed(method, principal, inner);
    const sessionIdOf = (p: unknown) => (isObject(p) && typeof p.sessionId === 'string' ? p.sessionId : undefined);
    switch (method) {
      case runStart.method:
        return async (params) => {
          if (!isObject(params)) return handler(params);
          await this.confine(principal, method, params);
          return this.serial(async () => {
            const scopes = await this.scopes(principal);
            const c = checkCount('tasks', this.cached.tasks, this.usage.runningRuns().all);
            if (c) await this.refuse(principal, method, c);
            for (const s of scopes) {
              if (s.scope.kind === 'tenant') continue;
              const own = checkCount('tasks', s.quotas.tasks, this.usage.activeTasks(s.scope), 1, s.scope);
              if (own) await this.refuse(principal, method, own);
            }
            await this.grants(principal, method, scopes, undefined);
            return handler(params);
          });
        };
      case sessionStart.method:
        return async (params) => {
          if (!isObject(params)) return handler(params);
          await this.confine(principal, method, params);
          if (params.approve !== true) return handler(params);
          return this.serial(async () => {
            const budget = isObject(params.budget) ? params.budget : {};
            const granted = await this.activation(principal, method, undefined, requestedOf(budget));
            if (Object.keys(granted).length) params.budget = { ...budget, ...granted };
            // The new session may be dispatched before its owner line is written: it is this principal's from the start.
            return this.usage.startingAs(principal, async () => handler(params));
          });
        };
      case sessionApprove.method:
        return (params) =>
          this.serial(async () => {
            const sessionId = sessionIdOf(params);
            if (!isObject(params) || sessionId === undefined) return handler(params);
            const budget = isObject(params.budget) ? params.budget : {};
            const granted = await this.activation(principal, method, sessionId, requestedOf(budget));
            if (Object.keys(granted).length) params.budget = { ...budget, ...granted };
            return handler(params);
          });
      case sessionRetry.method:
      case sessionResume.method:
      case taskRetry.method:
        return (params) =>
          this.serial(async () => {
            const sessionId = sessionIdOf(params);
            if (sessionId !== undefined) await this.activation(principal, method, sessionId, {});
            return handler(params);
          });
      case modelSetAlias.method:
        return async (params) => {
          const result = await handler(params);
          await this.d.audit.append({
            tenantId: this.d.tenantId,
            actor: actorOf(principal),
            action: 'model.setAlias',
            details: { ...(params as object) },
          });
          return result;
        };
      default:
        return handler;
    }
  }

  /** `endpoint` with every request handler behind `guard`. */
  endpoint(inner: RpcEndpoint, principal: Principal): RpcEndpoint {
    return {
      sendNotification: (m, p) => inner.sendNotification(m, p),
      onNotification: (m, h) => inner.onNotification(m, h),
      sendRequest: (m, p) => inner.sendRequest(m, p),
      onRequest: (method, handler) => inner.onRequest(method, this.guard(method, principal, handler as Handler) as typeof handler),
    };
  }

  /** The tenant's audit entries for `audit/list`. */
  auditList(limit: number): ReturnType<AuditLog['list']> {
    return this.d.audit.list(limit);
  }

  /** Records a permission answer the server gave by itself (the policy, a remembered rule, a deadline). */
  autoAnswered(a: AutoPermissionAnswer): Promise<void> {
    const { by, ...details } = a;
    return this.d.audit.append({ tenantId: this.d.tenantId, actor: { kind: 'server', by }, action: 'permission.answer', details });
  }

  /** Records a permission answer a client gave. */
  answered(
    principal: Principal,
    ask: { runId: string; sessionId?: string; taskId?: string; permission: string; patterns: string[] },
    answer: unknown,
  ): Promise<void> {
    return this.d.audit.append({
      tenantId: this.d.tenantId,
      actor: actorOf(principal),
      action: 'permission.answer',
      details: {
        runId: ask.runId,
        sessionId: ask.sessionId,
        taskId: ask.taskId,
        permission: ask.permission,
        patterns: ask.patterns,
        answer,
      },
    });
  }
}

function requestedOf(budget: Record<string, unknown>): { tokens?: number; money?: number } {
  return {
    ...(typeof budget.tokens === 'number' ? { tokens: budget.tokens } : {}),
    ...(typeof budget.money === 'number' ? { money: budget.money } : {}),
  };
}

export function actorOf(p: Principal): { kind: 'user'; userId: string; userName: string; keyId: string; role: string } {
  return { kind: 'user', userId: p.userId, userName: p.userName, keyId: p.keyId, role: p.role };
}

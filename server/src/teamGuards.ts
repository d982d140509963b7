/**
 * The team server's per-tenant guards, run on every request after the authorisation layer and before the
 * handler: paths a client gives are confined to the tenant's workspace roots (and replaced by their real
 * path), quotas are checked and reserved, and what an admin must be able to trace is appended to the
 * tenant's audit log.
 *
 * Quotas (`domain/auth/quota.ts`), set by `orchestrator admin set-quota` in `auth.json` and read at every
 * request (a change applies at once):
 * - sessions: activating a session (`session/start` with `approve`, approving a draft, retrying an ended
 *   one) is refused when the tenant's running, paused and awaiting sessions would exceed it.
 * - tasks: `run/start` is refused when running runs would exceed it; the scheduler never runs more session
 *   tasks than it less the running single runs (`maxActiveTasks`).
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
import type { Principal, Tenant as TenantRecord } from './domain/auth/accounts';
import { checkCount, defaultWindowMs, grantTokens, tokensInWindow, type QuotaCrossing, type Quotas } from './domain/auth/quota';
import { usageTokens } from './domain/orchestration/budget';
import { aggregateUsage, usageLine } from './domain/auth/usageReport';
import type { ParamsOf } from '../../protocol/messages';
import type { UsageReport, usageReport } from '../../protocol/usage';
import type { StorePort } from './ports/store';

/** Request fields naming a folder on the server's machine: confined to the tenant's workspace roots. */
export const confinedPathFields: Readonly<Record<string, readonly string[]>> = {
  [runStart.method]: ['cwd'],
  [sessionStart.method]: ['cwd'],
};
/** Path fields that are relative to a session's repository and checked by their schema (no `..`, not absolute). */
export const repoRelativePathFields: readonly string[] = ['session/fileContent.path'];

const activeSessionStates = new Set(['running', 'paused', 'awaiting_approval']);
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

  constructor(private readonly d: TenantGuardDeps) {
    this.now = d.now ?? Date.now;
  }

  private async record(): Promise<TenantRecord | undefined> {
    return (await this.d.auth.read()).tenants.find((t) => t.id === this.d.tenantId);
  }

  /** The quotas as last read (the scheduler asks synchronously); refreshed at every guarded request. */
  private cached: Quotas = {};

  async quotas(): Promise<Quotas> {
    this.cached = (await this.record())?.quotas ?? {};
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
      if (typeof id === 'string') await owners.record({ kind, id, userId: principal.userId, userName: principal.userName });
      return result;
    };
  }

  private runningRuns(): { all: number; single: number; tokens: number } {
    let single = 0;
    let tokens = 0;
    const data = this.d.store.read();
    for (const r of data.runs) {
      if (r.state !== 'running' && r.state !== 'pending') continue;
      if (!r.sessionId) single++;
      if (!this.d.ledger.has(r.id)) tokens += usageTokens(r.usage);
    }
    // A session task counts from its dispatch (state `running`, before its run record exists) until it ends
    // (its run record may be closed a moment later); counting run records let a single run slip in between.
    const all = single + data.tasks.filter((t) => t.state === 'running').length;
    return { all, single, tokens };
  }

  /** The scheduler's limit on session tasks right now. */
  maxActiveTasks(): number {
    if (this.cached.tasks === undefined) return Infinity;
    return this.cached.tasks - this.runningRuns().single;
  }

  private tokenLedger(q: Quotas, exceptSession?: string): { used: number; granted: number } {
    const windowMs = q.windowMs ?? defaultWindowMs;
    const used = tokensInWindow(this.d.ledger.all(), windowMs, this.now()) + this.runningRuns().tokens;
    let granted = 0;
    for (const s of this.d.store.read().sessions) {
      if (s.id === exceptSession || !activeSessionStates.has(s.state)) continue;
      const limit = s.budget.limits.tokens;
      if (limit !== undefined) granted += Math.max(0, limit - s.budget.spent.tokens);
    }
    return { used, granted };
  }

  private async refuse(principal: Principal, method: string, c: QuotaCrossing): Promise<never> {
    await this.d.audit.append({ tenantId: this.d.tenantId, actor: actorOf(principal), action: 'quota.refused', details: { method, ...c } });
    throw new ResponseError(errorCodes.quotaExceeded, c.message, c);
  }

  /** Checks the sessions quota for activating `sessionId` (undefined: a new one) and grants its tokens. */
  private async activation(
    principal: Principal,
    method: string,
    sessionId: string | undefined,
    requestedTokens: number | undefined,
  ): Promise<number | undefined> {
    const q = await this.quotas();
    const sessions = this.d.store.read().sessions;
    const self = sessionId === undefined ? undefined : sessions.find((s) => s.id === sessionId);
    // Not in the hot store: archived (ended) or unknown; counted as a new activation (the handler answers notFound).
    if (!self || !activeSessionStates.has(self.state)) {
      const inUse = sessions.filter((s) => activeSessionStates.has(s.state)).length;
      const c = checkCount('sessions', q.sessions, inUse);
      if (c) await this.refuse(principal, method, c);
    }
    if (q.tokens === undefined) return undefined;
    // A draft's own token budget (set at session/start) is kept when smaller; a session that stopped on its grant gets a new one.
    const own = self?.state === 'draft' ? self.budget.limits.tokens : undefined;
    const asked = [requestedTokens, own === undefined ? undefined : Math.max(0, own - (self?.budget.spent.tokens ?? 0))].filter(
      (x): x is number => x !== undefined,
    );
    const g = grantTokens(q, this.tokenLedger(q, sessionId), asked.length ? Math.min(...asked) : undefined);
    if ('crossing' in g) return this.refuse(principal, method, g.crossing);
    return (self?.budget.spent.tokens ?? 0) + g.grant;
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
            const q = await this.quotas();
            const c = checkCount('tasks', q.tasks, this.runningRuns().all);
            if (c) await this.refuse(principal, method, c);
            if (q.tokens !== undefined) {
              const g = grantTokens(q, this.tokenLedger(q));
              if ('crossing' in g) await this.refuse(principal, method, g.crossing);
            }
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
            const tokens = await this.activation(
              principal,
              method,
              undefined,
              typeof budget.tokens === 'number' ? budget.tokens : undefined,
            );
            if (tokens !== undefined) params.budget = { ...budget, tokens };
            return handler(params);
          });
        };
      case sessionApprove.method:
        return (params) =>
          this.serial(async () => {
            const sessionId = sessionIdOf(params);
            if (!isObject(params) || sessionId === undefined) return handler(params);
            const budget = isObject(params.budget) ? params.budget : {};
            const tokens = await this.activation(
              principal,
              method,
              sessionId,
              typeof budget.tokens === 'number' ? budget.tokens : undefined,
            );
            if (tokens !== undefined) params.budget = { ...budget, tokens };
            return handler(params);
          });
      case sessionRetry.method:
      case sessionResume.method:
      case taskRetry.method:
        return (params) =>
          this.serial(async () => {
            const sessionId = sessionIdOf(params);
            if (sessionId !== undefined) await this.activation(principal, method, sessionId, undefined);
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

export function actorOf(p: Principal): { kind: 'user'; userId: string; userName: string; keyId: string; role: string } {
  return { kind: 'user', userId: p.userId, userName: p.userName, keyId: p.keyId, role: p.role };
}

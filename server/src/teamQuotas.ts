/**
 * `quota/get` and `quota/set` of the team server: a tenant's quota scopes with what each uses now, and a
 * tenant admin's change of a user's or key's quotas (in `auth.json`, audited as `quota.set` like the admin
 * CLI). Tenant quotas are not set here: they stay with `orchestrator admin set-quota` on the server's machine
 * (the protocol's schema refuses `scope: tenant`, naming the field).
 */
import type { ParamsOf } from '../../protocol/messages';
import type { QuotaReport, QuotaScopeView, QuotaSetResult, quotaSet } from '../../protocol/quota';
import type { AuthFile } from './adapters/auth/authFile';
import type { AuditEntry, AuditLog } from './adapters/auth/tenantLog';
import { setQuotas, type Principal, type QuotaTarget } from './domain/auth/accounts';
import { defaultWindowMs, type QuotaScope, type Quotas } from './domain/auth/quota';
import type { ScopedQuotas, TenantUsage } from './teamUsage';

export interface QuotaDeskDeps {
  tenantId: string;
  auth: AuthFile;
  audit: AuditLog;
  usage: TenantUsage;
}

/** A user or key without its own price hint is priced at the tenant's. */
export function pricedAs(tenant: Quotas): (q: Quotas) => Quotas {
  const price = tenant.moneyPerMillionTokens;
  return (q) => (q.moneyPerMillionTokens === undefined && price !== undefined ? { ...q, moneyPerMillionTokens: price } : q);
}

function view(usage: TenantUsage, scope: QuotaScope, stored: Quotas, priced: Quotas, extra: Partial<QuotaScopeView> = {}): QuotaScopeView {
  const s: ScopedQuotas = { scope, quotas: priced };
  const l = usage.ledgerOf(s);
  return {
    kind: scope.kind,
    id: scope.id,
    ...extra,
    quotas: stored,
    usage: {
      sessions: usage.activeSessions(scope),
      tasks: usage.activeTasks(scope),
      tokens: l.tokens.used,
      money: l.money.used,
      windowMs: priced.windowMs ?? defaultWindowMs,
    },
  };
}

/** An admin gets every scope of the tenant; anyone else the tenant's and their own user's and key's. */
export async function quotaReport(d: QuotaDeskDeps, principal: Principal): Promise<QuotaReport> {
  const a = await d.auth.read();
  const tenant = a.tenants.find((t) => t.id === d.tenantId)?.quotas ?? {};
  const priced = pricedAs(tenant);
  const all = principal.role === 'admin';
  const names = new Map(a.users.filter((u) => u.tenantId === d.tenantId).map((u) => [u.id, u.name] as const));
  const scopes: QuotaScopeView[] = [view(d.usage, { kind: 'tenant', id: d.tenantId }, tenant, tenant)];
  for (const u of a.users)
    if (u.tenantId === d.tenantId && (all || u.id === principal.userId))
      scopes.push(view(d.usage, { kind: 'user', id: u.id, name: u.name }, u.quotas ?? {}, priced(u.quotas ?? {}), { name: u.name }));
  for (const k of a.keys)
    if (k.tenantId === d.tenantId && k.revokedAt === undefined && (all || k.id === principal.keyId))
      scopes.push(
        view(d.usage, { kind: 'key', id: k.id }, k.quotas ?? {}, priced(k.quotas ?? {}), {
          userId: k.userId,
          ...(names.has(k.userId) ? { name: names.get(k.userId) } : {}),
        }),
      );
  return { tenantId: d.tenantId, scope: all ? 'tenant' : 'own', scopes };
}

/** Sets a user's or key's quotas in the caller's tenant (a user or key of another tenant is not found); audited. */
export async function setScopeQuotas(d: QuotaDeskDeps, actor: AuditEntry['actor'], p: ParamsOf<typeof quotaSet>): Promise<QuotaSetResult> {
  const target: QuotaTarget = p.scope === 'user' ? { user: p.id } : { keyId: p.id };
  const { before, after, scope } = await d.auth.update((a) => {
    const r = setQuotas(a, d.tenantId, p.quotas, target);
    return { accounts: r.accounts, result: { before: r.before, after: r.after, scope: r.scope } };
  });
  const named = { kind: scope.kind as 'user' | 'key', id: scope.id, ...(scope.name === undefined ? {} : { name: scope.name }) };
  await d.audit.append({ tenantId: d.tenantId, actor, action: 'quota.set', details: { scope: named, before, after } });
  return { tenantId: d.tenantId, scope: named, before, after };
}

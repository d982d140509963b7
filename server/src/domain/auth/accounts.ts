/**
 * The team server's accounts, pure: tenants, their users (one role each) and API keys stored as hashes.
 * The adapter (`adapters/auth/authFile.ts`) reads and writes `<data>/auth.json`, makes key secrets and
 * hashes them; this module only decides. Times are epoch ms.
 *
 * A key reads `iok_<keyId>_<secret>`: the id finds the record, the secret is checked against its hash.
 */
import { z } from 'zod';
import { DomainError } from '../errors';
import { roles, type Role } from './permissions';
import { changeQuotas, quotasSchema, type QuotaScope, type Quotas } from './quota';
import { rootProblem } from './workspaceRoots';

/** A tenant id is also its data folder's name: lower-case letters, digits and dashes. */
export const tenantIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'a tenant id is 1–40 lower-case letters, digits or dashes, starting with a letter or digit');

const tenantSchema = z
  .object({
    id: tenantIdSchema,
    name: z.string().min(1).max(200),
    createdAt: z.number(),
    /** Real paths of the folders its clients may name (`cwd`); absent or empty: none. */
    roots: z.array(z.string().min(1)).optional(),
    quotas: quotasSchema.optional(),
  })
  .strict();
const userSchema = z
  .object({
    id: z.string().regex(/^u_[0-9a-f]{12}$/),
    tenantId: tenantIdSchema,
    name: z.string().min(1).max(200),
    role: z.enum(roles),
    createdAt: z.number(),
    /** This user's own limits inside the tenant's (sessions, tasks, tokens, money). */
    quotas: quotasSchema.optional(),
  })
  .strict();
const keySchema = z
  .object({
    id: z.string().regex(/^[0-9a-f]{16}$/),
    userId: z.string(),
    tenantId: tenantIdSchema,
    /** sha256 of the secret part, hex. */
    hash: z.string().regex(/^[0-9a-f]{64}$/),
    label: z.string().max(200).optional(),
    createdAt: z.number(),
    expiresAt: z.number().optional(),
    revokedAt: z.number().optional(),
    /** This key's own limits inside its user's and tenant's (sessions, tasks, tokens, money). */
    quotas: quotasSchema.optional(),
  })
  .strict();

export const accountsSchema = z
  .object({ version: z.literal(1), tenants: z.array(tenantSchema), users: z.array(userSchema), keys: z.array(keySchema) })
  .strict();
export type Accounts = z.infer<typeof accountsSchema>;
export type Tenant = z.infer<typeof tenantSchema>;
export type User = z.infer<typeof userSchema>;
export type ApiKeyRecord = z.infer<typeof keySchema>;

export const emptyAccounts = (): Accounts => ({ version: 1, tenants: [], users: [], keys: [] });

/** Who a valid key belongs to. */
export interface Principal {
  tenantId: string;
  userId: string;
  userName: string;
  role: Role;
  keyId: string;
}

const keyPattern = /^iok_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export function formatKey(keyId: string, secret: string): string {
  return `iok_${keyId}_${secret}`;
}

/** Splits a presented key; undefined when it does not have the key's shape. */
export function parseKey(presented: string): { keyId: string; secret: string } | undefined {
  const m = keyPattern.exec(presented);
  return m ? { keyId: m[1], secret: m[2] } : undefined;
}

export function addTenant(a: Accounts, t: { id: string; name?: string }, now: number): Accounts {
  const id = tenantIdSchema.safeParse(t.id);
  if (!id.success) throw new DomainError('bad_input', `tenant ${JSON.stringify(t.id)}: ${id.error.issues[0].message}`);
  if (a.tenants.some((x) => x.id === t.id)) throw new DomainError('conflict', `tenant ${t.id} already exists`);
  return { ...a, tenants: [...a.tenants, { id: t.id, name: t.name || t.id, createdAt: now }] };
}

function tenantOf(a: Accounts, tenantId: string): Tenant {
  const t = a.tenants.find((x) => x.id === tenantId);
  if (!t) throw new DomainError('not_found', `no tenant ${tenantId} (create it with admin create-tenant)`);
  return t;
}

/** Replaces a tenant's workspace roots (already resolved by the caller); an empty list means none. */
export function setRoots(a: Accounts, tenantId: string, roots: readonly string[]): { accounts: Accounts; before: string[] } {
  const t = tenantOf(a, tenantId);
  for (const r of roots) {
    const problem = rootProblem(r);
    if (problem) throw new DomainError('bad_input', `root ${problem}`);
  }
  const next = [...new Set(roots)];
  return {
    accounts: { ...a, tenants: a.tenants.map((x) => (x.id === tenantId ? { ...x, roots: next } : x)) },
    before: t.roots ?? [],
  };
}

/** Quota names a user or key may carry (all of a tenant's: concurrent tasks too, per owner in the scheduler). */
export const scopedQuotaNames: readonly (keyof Quotas)[] = ['sessions', 'tasks', 'tokens', 'money', 'moneyPerMillionTokens', 'windowMs'];

/** Whose quotas `setQuotas` changes: the tenant's (no target), a user's (id or name) or a key's. */
export type QuotaTarget = { user: string } | { keyId: string };

/** Changes a tenant's, one of its users' or one of its keys' quotas: a number sets one, null removes it. */
export function setQuotas(
  a: Accounts,
  tenantId: string,
  patch: Partial<Record<keyof Quotas, number | null>>,
  target?: QuotaTarget,
): { accounts: Accounts; before: Quotas; after: Quotas; scope: QuotaScope } {
  const t = tenantOf(a, tenantId);
  if (!target) {
    const after = changeQuotas(t.quotas, patch);
    return {
      accounts: { ...a, tenants: a.tenants.map((x) => (x.id === tenantId ? { ...x, quotas: after } : x)) },
      before: t.quotas ?? {},
      after,
      scope: { kind: 'tenant', id: tenantId },
    };
  }
  const unsupported = Object.entries(patch).find(([k, v]) => v !== undefined && !scopedQuotaNames.includes(k as keyof Quotas));
  if (unsupported)
    throw new DomainError(
      'bad_input',
      `quota ${unsupported[0]} is set per tenant only (a user or key may have: ${scopedQuotaNames.join(', ')})`,
    );
  if ('user' in target) {
    const u = findUser(a, { tenantId, user: target.user });
    // findUser takes an id from any tenant: another tenant's user is not found here.
    if (u.tenantId !== tenantId) throw new DomainError('not_found', `no user ${target.user} in tenant ${tenantId}`);
    const after = changeQuotas(u.quotas, patch);
    return {
      accounts: { ...a, users: a.users.map((x) => (x.id === u.id ? { ...x, quotas: after } : x)) },
      before: u.quotas ?? {},
      after,
      scope: { kind: 'user', id: u.id, name: u.name },
    };
  }
  const k = a.keys.find((x) => x.id === target.keyId && x.tenantId === tenantId);
  if (!k) throw new DomainError('not_found', `no key ${target.keyId} in tenant ${tenantId}`);
  const after = changeQuotas(k.quotas, patch);
  return {
    accounts: { ...a, keys: a.keys.map((x) => (x.id === k.id ? { ...x, quotas: after } : x)) },
    before: k.quotas ?? {},
    after,
    scope: { kind: 'key', id: k.id },
  };
}

export function addUser(a: Accounts, u: { id: string; tenantId: string; name: string; role: string }, now: number): Accounts {
  if (!a.tenants.some((x) => x.id === u.tenantId))
    throw new DomainError('not_found', `no tenant ${u.tenantId} (create it with admin create-tenant)`);
  if (!(roles as readonly string[]).includes(u.role))
    throw new DomainError('bad_input', `role must be one of ${roles.join(', ')} (got ${JSON.stringify(u.role)})`);
  if (!u.name.trim()) throw new DomainError('bad_input', 'a user needs a name');
  if (a.users.some((x) => x.tenantId === u.tenantId && x.name === u.name))
    throw new DomainError('conflict', `tenant ${u.tenantId} already has a user named ${u.name}`);
  return { ...a, users: [...a.users, { id: u.id, tenantId: u.tenantId, name: u.name, role: u.role as Role, createdAt: now }] };
}

/** Finds a user by id, or by name inside a tenant. */
export function findUser(a: Accounts, ref: { tenantId?: string; user: string }): User {
  const u = a.users.find((x) => x.id === ref.user || (x.name === ref.user && (!ref.tenantId || x.tenantId === ref.tenantId)));
  if (!u) throw new DomainError('not_found', `no user ${ref.user}${ref.tenantId ? ` in tenant ${ref.tenantId}` : ''}`);
  const same = a.users.filter((x) => x.name === ref.user && x.id !== ref.user);
  if (!ref.tenantId && same.length > 1) throw new DomainError('bad_input', `several tenants have a user named ${ref.user}; give --tenant`);
  return u;
}

export function addKey(
  a: Accounts,
  k: { id: string; user: User; hash: string; label?: string; expiresAt?: number },
  now: number,
): Accounts {
  if (k.expiresAt !== undefined && k.expiresAt <= now) throw new DomainError('bad_input', 'the expiry is in the past');
  const record: ApiKeyRecord = { id: k.id, userId: k.user.id, tenantId: k.user.tenantId, hash: k.hash, createdAt: now };
  if (k.label) record.label = k.label;
  if (k.expiresAt !== undefined) record.expiresAt = k.expiresAt;
  return { ...a, keys: [...a.keys, record] };
}

export function revokeKey(a: Accounts, keyId: string, now: number): Accounts {
  const k = a.keys.find((x) => x.id === keyId);
  if (!k) throw new DomainError('not_found', `no key ${keyId}`);
  if (k.revokedAt !== undefined) return a;
  return { ...a, keys: a.keys.map((x) => (x.id === keyId ? { ...x, revokedAt: now } : x)) };
}

export type KeyCheck = { ok: true; principal: Principal } | { ok: false; reason: 'malformed' | 'unknown' | 'revoked' | 'expired' };

/**
 * Checks a presented key. `secretMatches` compares the secret with the stored hash (constant time, in
 * the adapter). Unknown id and wrong secret give the same answer.
 */
export function checkKey(a: Accounts, presented: string, secretMatches: (secret: string, hash: string) => boolean, now: number): KeyCheck {
  const parsed = parseKey(presented);
  if (!parsed) return { ok: false, reason: 'malformed' };
  const k = a.keys.find((x) => x.id === parsed.keyId);
  if (!k || !secretMatches(parsed.secret, k.hash)) return { ok: false, reason: 'unknown' };
  return principalOf(a, k.id, now);
}

/** Is the key (already verified once) still good? Revocation and expiry apply to open connections too. */
export function principalOf(a: Accounts, keyId: string, now: number): KeyCheck {
  const k = a.keys.find((x) => x.id === keyId);
  if (!k) return { ok: false, reason: 'unknown' };
  if (k.revokedAt !== undefined) return { ok: false, reason: 'revoked' };
  if (k.expiresAt !== undefined && k.expiresAt <= now) return { ok: false, reason: 'expired' };
  const u = a.users.find((x) => x.id === k.userId);
  if (!u || !a.tenants.some((t) => t.id === k.tenantId)) return { ok: false, reason: 'unknown' };
  return { ok: true, principal: { tenantId: k.tenantId, userId: u.id, userName: u.name, role: u.role, keyId: k.id } };
}

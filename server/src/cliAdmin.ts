/**
 * `orchestrator admin …`: accounts of the team server in `<data>/auth.json`. A key is printed once, at
 * creation; only its hash is stored.
 *   admin create-tenant ID [--name NAME]
 *   admin create-user --tenant ID --name NAME --role viewer|developer|admin
 *   admin create-key --tenant ID --user NAME|ID [--label TEXT] [--expires-in-days N]
 *   admin revoke-key KEY_ID
 *   admin set-roots ID [PATH…]
 *   admin set-quota ID [--user NAME|ID | --key KEY_ID] [--max-sessions N|none] [--max-tasks N|none] [--tokens N|none]
 *                      [--money X|none] [--price-per-million X|none] [--window-minutes N|none]
 *   admin audit ID [--limit N]
 *   admin usage ID [--by user|agent|model|day] [--from DATE] [--to DATE]
 *   admin list
 * Every change is appended to the tenant's audit log (`<data>/tenants/<id>/audit.jsonl`).
 */
import { promises as fs } from 'node:fs';
import { AuthFile, newKey, newUserId } from './adapters/auth/authFile';
import { AuditLog, readUsage, tenantFolder } from './adapters/auth/tenantLog';
import { usageGroupBys, type UsageGroupBy } from '../../protocol/usage';
import { aggregateUsage, usageTable } from './domain/auth/usageReport';
import { DomainError } from './domain/errors';
import { CliUsageError, listValue, positiveInt, stringValue, type ParsedValues } from './cliArgs';
import { addKey, addTenant, addUser, findUser, revokeKey, setQuotas, setRoots, type QuotaTarget } from './domain/auth/accounts';
import type { Quotas } from './domain/auth/quota';
import { rootProblem } from './domain/auth/workspaceRoots';

const dayMs = 86_400_000;

/** Roots as the admin wrote them → their real paths; each must be an existing folder. */
async function realRoots(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const problem = rootProblem(p);
    if (problem) throw new CliUsageError(`root ${problem}`, 'admin');
    const real = await fs.realpath(p).catch(() => undefined);
    const st = real ? await fs.stat(real).catch(() => undefined) : undefined;
    if (!real || !st?.isDirectory()) throw new CliUsageError(`root ${p} is not an existing folder`, 'admin');
    out.push(real);
  }
  return out;
}

/** `--name N|none` → number, null (remove) or undefined (unchanged); `decimal` allows a fraction (money). */
function quotaValue(values: ParsedValues, name: string, scale = 1, decimal = false): number | null | undefined {
  const raw = stringValue(values, name);
  if (raw === undefined) return undefined;
  if (raw === 'none') return null;
  if (!(decimal ? /^\d+(\.\d+)?$/ : /^\d+$/).test(raw))
    throw new CliUsageError(
      `--${name} must be a ${decimal ? 'non-negative' : 'whole'} number or none (got ${JSON.stringify(raw)})`,
      'admin',
    );
  return Number(raw) * scale;
}

function required(values: ParsedValues, name: string, sub: string): string {
  const v = stringValue(values, name);
  if (!v) throw new CliUsageError(`admin ${sub} needs --${name}`, 'admin');
  return v;
}

export async function adminCommand(positionals: string[], values: ParsedValues, opts: { dataDir: string; json: boolean }): Promise<number> {
  const [sub, ...rest] = positionals;
  const auth = new AuthFile(opts.dataDir);
  const now = Date.now();
  const audit = (tenantId: string, action: string, details: Record<string, unknown>) =>
    new AuditLog(opts.dataDir, tenantId).append({ tenantId, actor: { kind: 'cli' }, action, details });
  const out = (json: unknown, text: string) => process.stdout.write(opts.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
  const noMore = (n: number) => {
    if (rest.length !== n)
      throw new CliUsageError(`admin ${sub}: unexpected arguments ${JSON.stringify(rest.slice(n).join(' '))}`, 'admin');
  };
  switch (sub) {
    case 'create-tenant': {
      if (rest.length !== 1) throw new CliUsageError('admin create-tenant needs one tenant id, e.g. admin create-tenant acme', 'admin');
      const id = rest[0];
      const roots = await realRoots(listValue(values, 'root'));
      await auth.update((a) => {
        const added = addTenant(a, { id, name: stringValue(values, 'name') }, now);
        return { accounts: roots.length ? setRoots(added, id, roots).accounts : added, result: undefined };
      });
      await audit(id, 'tenant.create', { name: stringValue(values, 'name') ?? id, roots });
      out(
        { tenant: id, roots },
        `tenant ${id} created${roots.length ? ` with workspace roots ${roots.join(', ')}` : ' (no workspace roots yet: admin set-roots)'}`,
      );
      return 0;
    }
    case 'create-user': {
      noMore(0);
      const tenantId = required(values, 'tenant', sub);
      const name = required(values, 'name', sub);
      const role = required(values, 'role', sub);
      const id = newUserId();
      await auth.update((a) => ({ accounts: addUser(a, { id, tenantId, name, role }, now), result: undefined }));
      await audit(tenantId, 'user.create', { userId: id, name, role });
      out({ user: id, tenant: tenantId, name, role }, `user ${name} (${id}) created in tenant ${tenantId} as ${role}`);
      return 0;
    }
    case 'create-key': {
      noMore(0);
      const tenantId = required(values, 'tenant', sub);
      const user = required(values, 'user', sub);
      const days = positiveInt(values, 'expires-in-days');
      const key = newKey();
      const expiresAt = days === undefined ? undefined : now + days * dayMs;
      await auth.update((a) => {
        const u = findUser(a, { tenantId, user });
        return {
          accounts: addKey(a, { id: key.id, user: u, hash: key.hash, label: stringValue(values, 'label'), expiresAt }, now),
          result: undefined,
        };
      });
      await audit(tenantId, 'key.create', {
        keyId: key.id,
        user,
        expiresAt: expiresAt === undefined ? null : new Date(expiresAt).toISOString(),
      });
      out(
        {
          keyId: key.id,
          key: key.key,
          tenant: tenantId,
          user,
          expiresAt: expiresAt === undefined ? null : new Date(expiresAt).toISOString(),
        },
        `${key.key}\n(key id ${key.id}; shown once, only its hash is kept; revoke with: orchestrator admin revoke-key ${key.id})`,
      );
      return 0;
    }
    case 'revoke-key': {
      if (rest.length !== 1) throw new CliUsageError('admin revoke-key needs the key id (printed at creation, or see admin list)', 'admin');
      const tenantId = await auth.update((a) => ({
        accounts: revokeKey(a, rest[0], now),
        result: a.keys.find((k) => k.id === rest[0])?.tenantId,
      }));
      if (tenantId) await audit(tenantId, 'key.revoke', { keyId: rest[0] });
      out({ revoked: rest[0] }, `key ${rest[0]} revoked`);
      return 0;
    }
    case 'set-roots': {
      if (rest.length < 1) throw new CliUsageError('admin set-roots needs the tenant id, then the folders (none: no folder)', 'admin');
      const [tenantId, ...paths] = rest;
      const roots = await realRoots(paths);
      const before = await auth.update((a) => {
        const r = setRoots(a, tenantId, roots);
        return { accounts: r.accounts, result: r.before };
      });
      await audit(tenantId, 'roots.set', { before, after: roots });
      out(
        { tenant: tenantId, roots },
        roots.length ? `tenant ${tenantId} workspace roots: ${roots.join(', ')}` : `tenant ${tenantId} has no workspace roots`,
      );
      return 0;
    }
    case 'set-quota': {
      if (rest.length !== 1)
        throw new CliUsageError('admin set-quota needs one tenant id, e.g. admin set-quota acme --max-sessions 2', 'admin');
      const tenantId = rest[0];
      const patch: Partial<Record<keyof Quotas, number | null>> = {
        sessions: quotaValue(values, 'max-sessions'),
        tasks: quotaValue(values, 'max-tasks'),
        tokens: quotaValue(values, 'tokens'),
        money: quotaValue(values, 'money', 1, true),
        moneyPerMillionTokens: quotaValue(values, 'price-per-million', 1, true),
        windowMs: quotaValue(values, 'window-minutes', 60_000),
      };
      if (Object.values(patch).every((v) => v === undefined))
        throw new CliUsageError(
          'admin set-quota needs at least one of --max-sessions, --max-tasks, --tokens, --money, --price-per-million, --window-minutes',
          'admin',
        );
      const user = stringValue(values, 'user');
      const keyId = stringValue(values, 'key');
      if (user && keyId) throw new CliUsageError('admin set-quota takes --user or --key, not both', 'admin');
      const target: QuotaTarget | undefined = user ? { user } : keyId ? { keyId } : undefined;
      const { before, after, scope } = await auth.update((a) => {
        const r = setQuotas(a, tenantId, patch, target);
        return { accounts: r.accounts, result: { before: r.before, after: r.after, scope: r.scope } };
      });
      // A tenant's change keeps its original shape ({ before, after }); a user's or key's names whose.
      await audit(tenantId, 'quota.set', target ? { scope, before, after } : { before, after });
      const whose =
        scope.kind === 'tenant' ? `tenant ${tenantId}` : scope.kind === 'user' ? `user ${scope.name} (${scope.id})` : `key ${scope.id}`;
      out({ tenant: tenantId, ...(target ? { scope } : {}), quotas: after }, `${whose} quotas: ${JSON.stringify(after)}`);
      return 0;
    }
    case 'audit': {
      if (rest.length !== 1) throw new CliUsageError('admin audit needs one tenant id', 'admin');
      const entries = await new AuditLog(opts.dataDir, rest[0]).list(positiveInt(values, 'limit') ?? 100);
      out(
        entries,
        entries
          .map(
            (e) =>
              `${e.at} ${e.actor.kind === 'cli' ? 'cli' : e.actor.kind === 'server' ? `server (${e.actor.by})` : e.actor.userName} ${e.action} ${JSON.stringify(e.details ?? {})}`,
          )
          .join('\n') || 'no entries',
      );
      return 0;
    }
    case 'usage': {
      if (rest.length !== 1) throw new CliUsageError('admin usage needs one tenant id', 'admin');
      const by = stringValue(values, 'by') ?? 'user';
      if (!(usageGroupBys as readonly string[]).includes(by))
        throw new CliUsageError(`--by must be one of ${usageGroupBys.join(', ')} (got ${JSON.stringify(by)})`, 'admin');
      const tenantId = rest[0];
      if (!(await auth.read()).tenants.some((t) => t.id === tenantId))
        throw new DomainError('not_found', `no tenant ${tenantId} (see orchestrator admin list)`);
      const groupBy = by as UsageGroupBy;
      const from = stringValue(values, 'from');
      const to = stringValue(values, 'to');
      const { rows, total } = aggregateUsage(await readUsage(tenantFolder(opts.dataDir, tenantId)), { groupBy, from, to });
      out({ tenantId, groupBy, from, to, scope: 'tenant', rows, total }, usageTable(groupBy, rows, total));
      return 0;
    }
    case 'list': {
      noMore(0);
      const a = await auth.read();
      const keys = a.keys.map(({ hash: _hash, ...k }) => k);
      out(
        { tenants: a.tenants, users: a.users, keys },
        [
          ...a.tenants.map(
            (t) => `tenant ${t.id} (${t.name}) roots ${JSON.stringify(t.roots ?? [])} quotas ${JSON.stringify(t.quotas ?? {})}`,
          ),
          ...a.users.map(
            (u) => `user   ${u.id} ${u.name} tenant ${u.tenantId} role ${u.role}${u.quotas ? ` quotas ${JSON.stringify(u.quotas)}` : ''}`,
          ),
          ...keys.map(
            (k) =>
              `key    ${k.id} user ${k.userId} tenant ${k.tenantId}${k.revokedAt ? ' revoked' : ''}${k.expiresAt ? ` expires ${new Date(k.expiresAt).toISOString()}` : ''}${k.quotas ? ` quotas ${JSON.stringify(k.quotas)}` : ''}`,
          ),
        ].join('\n') || 'no accounts yet',
      );
      return 0;
    }
    default:
      throw new CliUsageError(
        `admin needs one of create-tenant, create-user, create-key, revoke-key, set-roots, set-quota, audit, usage, list (got ${JSON.stringify(sub ?? '')})`,
        'admin',
      );
  }
}

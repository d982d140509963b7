/**
 * `orchestrator admin …`: accounts of the team server in `<data>/auth.json`. A key is printed once, at
 * creation; only its hash is stored.
 *   admin create-tenant ID [--name NAME]
 *   admin create-user --tenant ID --name NAME --role viewer|developer|admin
 *   admin create-key --tenant ID --user NAME|ID [--label TEXT] [--expires-in-days N]
 *   admin revoke-key KEY_ID
 *   admin list
 */
import { AuthFile, newKey, newUserId } from './adapters/auth/authFile';
import { CliUsageError, positiveInt, stringValue, type ParsedValues } from './cliArgs';
import { addKey, addTenant, addUser, findUser, revokeKey } from './domain/auth/accounts';

const dayMs = 86_400_000;

function required(values: ParsedValues, name: string, sub: string): string {
  const v = stringValue(values, name);
  if (!v) throw new CliUsageError(`admin ${sub} needs --${name}`, 'admin');
  return v;
}

export async function adminCommand(positionals: string[], values: ParsedValues, opts: { dataDir: string; json: boolean }): Promise<number> {
  const [sub, ...rest] = positionals;
  const auth = new AuthFile(opts.dataDir);
  const now = Date.now();
  const out = (json: unknown, text: string) => process.stdout.write(opts.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
  const noMore = (n: number) => {
    if (rest.length !== n)
      throw new CliUsageError(`admin ${sub}: unexpected arguments ${JSON.stringify(rest.slice(n).join(' '))}`, 'admin');
  };
  switch (sub) {
    case 'create-tenant': {
      if (rest.length !== 1) throw new CliUsageError('admin create-tenant needs one tenant id, e.g. admin create-tenant acme', 'admin');
      const id = rest[0];
      await auth.update((a) => ({ accounts: addTenant(a, { id, name: stringValue(values, 'name') }, now), result: undefined }));
      out({ tenant: id }, `tenant ${id} created`);
      return 0;
    }
    case 'create-user': {
      noMore(0);
      const tenantId = required(values, 'tenant', sub);
      const name = required(values, 'name', sub);
      const role = required(values, 'role', sub);
      const id = newUserId();
      await auth.update((a) => ({ accounts: addUser(a, { id, tenantId, name, role }, now), result: undefined }));
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
      await auth.update((a) => ({ accounts: revokeKey(a, rest[0], now), result: undefined }));
      out({ revoked: rest[0] }, `key ${rest[0]} revoked`);
      return 0;
    }
    case 'list': {
      noMore(0);
      const a = await auth.read();
      const keys = a.keys.map(({ hash: _hash, ...k }) => k);
      out(
        { tenants: a.tenants, users: a.users, keys },
        [
          ...a.tenants.map((t) => `tenant ${t.id} (${t.name})`),
          ...a.users.map((u) => `user   ${u.id} ${u.name} tenant ${u.tenantId} role ${u.role}`),
          ...keys.map(
            (k) =>
              `key    ${k.id} user ${k.userId} tenant ${k.tenantId}${k.revokedAt ? ' revoked' : ''}${k.expiresAt ? ` expires ${new Date(k.expiresAt).toISOString()}` : ''}`,
          ),
        ].join('\n') || 'no accounts yet',
      );
      return 0;
    }
    default:
      throw new CliUsageError(
        `admin needs one of create-tenant, create-user, create-key, revoke-key, list (got ${JSON.stringify(sub ?? '')})`,
        'admin',
      );
  }
}

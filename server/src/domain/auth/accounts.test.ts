import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../errors';
import { addKey, addTenant, addUser, checkKey, emptyAccounts, formatKey, revokeKey, setQuotas } from './accounts';

const secret = 'a'.repeat(43);
const same = (s: string, h: string) => h === `h:${s}`.padEnd(64, '0').slice(0, 64) || (h === 'f'.repeat(64) && s === secret);

test('a key is found by id, checked by secret, refused when revoked or expired', () => {
  let a = addTenant(emptyAccounts(), { id: 'acme' }, 1);
  a = addUser(a, { id: 'u_000000000001', tenantId: 'acme', name: 'al', role: 'developer' }, 1);
  a = addKey(a, { id: '0123456789abcdef', user: a.users[0], hash: 'f'.repeat(64), expiresAt: 100 }, 1);
  const key = formatKey('0123456789abcdef', secret);
  const ok = checkKey(a, key, same, 50);
  assert.ok(ok.ok && ok.principal.role === 'developer' && ok.principal.tenantId === 'acme');
  assert.deepEqual(checkKey(a, formatKey('0123456789abcdef', 'b'.repeat(43)), same, 50), { ok: false, reason: 'unknown' });
  assert.deepEqual(checkKey(a, 'garbage', same, 50), { ok: false, reason: 'malformed' });
  assert.deepEqual(checkKey(a, key, same, 100), { ok: false, reason: 'expired' });
  assert.deepEqual(checkKey(revokeKey(a, '0123456789abcdef', 60), key, same, 70), { ok: false, reason: 'revoked' });
});

test('bad input names what is wrong and changes nothing', () => {
  const a = addTenant(emptyAccounts(), { id: 'acme' }, 1);
  assert.throws(
    () => addTenant(a, { id: 'Bad/Id' }, 2),
    (e) => DomainError.is(e, 'bad_input'),
  );
  assert.throws(
    () => addTenant(a, { id: 'acme' }, 2),
    (e) => DomainError.is(e, 'conflict'),
  );
  assert.throws(() => addUser(a, { id: 'u_000000000001', tenantId: 'acme', name: 'x', role: 'boss' }, 1), /role must be one of/);
  assert.throws(
    () => addUser(a, { id: 'u_000000000001', tenantId: 'nope', name: 'x', role: 'viewer' }, 1),
    (e) => DomainError.is(e, 'not_found'),
  );
  assert.equal(a.users.length, 0);
});

test('quotas per user and per key: set beside the tenant, concurrent tasks too, unknown and foreign targets named', () => {
  let a = addTenant(emptyAccounts(), { id: 'acme' }, 1);
  a = addTenant(a, { id: 'other' }, 1);
  a = addUser(a, { id: 'u_000000000001', tenantId: 'acme', name: 'al', role: 'developer' }, 1);
  a = addKey(a, { id: '0123456789abcdef', user: a.users[0], hash: 'f'.repeat(64) }, 1);
  const u = setQuotas(a, 'acme', { sessions: 1, money: 0.5 }, { user: 'al' });
  assert.deepEqual(u.scope, { kind: 'user', id: 'u_000000000001', name: 'al' });
  assert.deepEqual(u.accounts.users[0].quotas, { sessions: 1, money: 0.5 });
  assert.equal(u.accounts.tenants[0].quotas, undefined, 'the tenant is unchanged');
  const k = setQuotas(u.accounts, 'acme', { tokens: 100 }, { keyId: '0123456789abcdef' });
  assert.deepEqual(k.accounts.keys[0].quotas, { tokens: 100 });
  assert.deepEqual(k.before, {});
  assert.deepEqual(setQuotas(a, 'acme', { tasks: 2 }, { user: 'al' }).after, { tasks: 2 });
  assert.deepEqual(setQuotas(a, 'acme', { tasks: 1 }, { keyId: '0123456789abcdef' }).after, { tasks: 1 });
  // A user id of another tenant is not found (an id alone would match across tenants).
  assert.throws(
    () => setQuotas(a, 'other', { tasks: 1 }, { user: 'u_000000000001' }),
    (e: unknown) => DomainError.is(e, 'not_found') && /no user u_000000000001 in tenant other/.test(e.message),
  );
  assert.throws(() => setQuotas(a, 'other', { tokens: 1 }, { keyId: '0123456789abcdef' }), /no key 0123456789abcdef in tenant other/);
  assert.throws(() => setQuotas(a, 'acme', { tokens: 1 }, { user: 'nobody' }), /no user nobody/);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requests } from '../../../../protocol/methods';
import { authorize, minimumRole } from './permissions';

test('every client → server request has a declared minimum role, and the table names no other method', () => {
  const registered = requests.map((d) => d.method);
  assert.deepEqual(
    registered.filter((m) => !minimumRole.has(m)),
    [],
    'methods without a permission',
  );
  assert.deepEqual(
    [...minimumRole.keys()].filter((m) => !registered.includes(m)),
    [],
    'permissions for unknown methods',
  );
});

test('roles are ordered and an unknown method fails closed', () => {
  assert.equal(authorize('session/list', 'viewer').allowed, true);
  assert.equal(authorize('session/start', 'viewer').allowed, false);
  assert.equal(authorize('session/start', 'developer').allowed, true);
  assert.equal(authorize('marketplace/install', 'developer').allowed, false);
  assert.equal(authorize('marketplace/install', 'admin').allowed, true);
  assert.equal(authorize('nope/nothing', 'admin').allowed, false);
});

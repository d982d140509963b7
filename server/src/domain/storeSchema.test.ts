import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from './errors';
import { currentSchemaVersion, emptyStore, parseStore } from './storeSchema';

test('an empty store round-trips', () => {
  const s = emptyStore('2026-01-01T00:00:00.000Z');
  assert.deepEqual(parseStore(JSON.stringify(s), 'f').data, s);
});

test('a version-1 file moves its agent turns to runs', () => {
  const r = parseStore(
    JSON.stringify({
      schemaVersion: 1,
      createdAt: 't',
      tenants: [{ id: 'local', name: 'Local' }],
      sessions: [],
      tasks: [{ id: 'r1', tenantId: 'local', agent: 'opencode' }],
      agents: [],
    }),
    'f',
  );
  assert.equal(r.migratedFrom, 1);
  assert.deepEqual(r.data.runs, [{ id: 'r1', tenantId: 'local', agent: 'opencode' }]);
  assert.deepEqual(r.data.tasks, []);
  assert.deepEqual(r.data.leases, { leases: [] });
});

test('a version-0 file (no schemaVersion, no tenants) migrates and keeps its rows', () => {
  const r = parseStore(JSON.stringify({ sessions: [{ id: 's1', goal: 'x' }], tasks: [] }), 'f');
  assert.equal(r.migratedFrom, 0);
  assert.equal(r.data.schemaVersion, currentSchemaVersion);
  assert.deepEqual(r.data.sessions, [{ id: 's1', goal: 'x', tenantId: 'local' }]);
  assert.deepEqual(r.data.runs, []);
  assert.deepEqual(r.data.tenants, [{ id: 'local', name: 'Local' }]);
});

for (const [name, text, pattern] of [
  ['truncated JSON', '{"schemaVersion":1,', /not valid JSON/],
  ['an array', '[]', /does not hold a JSON object/],
  ['a newer schema', JSON.stringify({ schemaVersion: 99 }), /newer than this server supports/],
  ['a bad version', JSON.stringify({ schemaVersion: 'one' }), /schemaVersion must be/],
  ['a bad field', JSON.stringify({ ...emptyStore('t'), tasks: [{ id: '', tenantId: 'local' }] }), /tasks\.0\.id/],
  ['an unknown top-level field', JSON.stringify({ ...emptyStore('t'), extra: 1 }), /extra/],
] as const) {
  test(`rejects ${name} with a store_corrupt error naming the problem`, () => {
    assert.throws(
      () => parseStore(text, 'store.json'),
      (e: unknown) => DomainError.is(e, 'store_corrupt') && pattern.test(e.message) && e.message.includes('store.json'),
    );
  });
}

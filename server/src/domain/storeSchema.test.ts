import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from './errors';
import { currentSchemaVersion, emptyStore, parseStore } from './storeSchema';

const usage = { inputTokens: 0, outputTokens: 0, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 };
const run = {
  id: 'r1',
  tenantId: 'local',
  sessionId: 'run-r1',
  agent: 'opencode',
  cwd: '/repo',
  prompt: 'p',
  state: 'succeeded',
  createdAt: 't',
  usage,
  events: 3,
};
const budget = { limits: {}, spent: { tokens: 0, money: 0 }, reserved: {}, reservedTotal: { tokens: 0, money: 0 } };
const session = { id: 's1', goal: 'x', cwd: '/repo', state: 'draft', priority: 2, createdAt: 1, updatedAt: 1, budget, usage };

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
      tasks: [run],
      agents: [],
    }),
    'f',
  );
  assert.equal(r.migratedFrom, 1);
  // Moved, and (v3) a single run no longer carries the made-up `run-<id>` session id.
  const { sessionId: _made, ...single } = run;
  assert.deepEqual(r.data.runs, [single]);
  assert.deepEqual(r.data.tasks, []);
  assert.deepEqual(r.data.leases, { leases: [] });
});

test('a version-0 file (no schemaVersion, no tenants) migrates and keeps its rows', () => {
  const r = parseStore(JSON.stringify({ sessions: [session], tasks: [] }), 'f');
  assert.equal(r.migratedFrom, 0);
  assert.equal(r.data.schemaVersion, currentSchemaVersion);
  assert.deepEqual(r.data.sessions, [{ ...session, tenantId: 'local' }]);
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

test('a version-2 store migrates: records of older servers get the defaults of fields added since', () => {
  const task = { id: 't1', sessionId: 's1', tenantId: 'local', title: 'A', prompt: 'do a', state: 'pending', createdAt: 5 };
  const r = parseStore(
    JSON.stringify({
      schemaVersion: 2,
      createdAt: 't',
      tenants: [{ id: 'local', name: 'Local' }],
      sessions: [{ ...session, tenantId: 'local', priority: undefined, updatedAt: undefined, usage: undefined }],
      tasks: [task],
      runs: [{ ...run, events: undefined }],
      agents: [],
      agentHealth: { opencode: { running: 0, successes: 2, failures: 0, consecutiveFailures: 0 } },
      leases: { leases: [] },
    }),
    'f',
  );
  assert.equal(r.migratedFrom, 2);
  assert.equal(r.data.schemaVersion, currentSchemaVersion);
  assert.deepEqual(r.data.sessions[0], { ...session, tenantId: 'local' });
  assert.deepEqual(r.data.tasks[0], {
    ...task,
    planId: 't1',
    dependsOn: [],
    expectedFiles: [],
    capabilities: [],
    estimate: { tokens: 20_000, minutes: 10 },
    mode: 'write',
    order: 0,
    attempts: 0,
    maxAttempts: 3,
    updatedAt: 5,
  });
  assert.equal(r.data.runs[0].events, 0);
  assert.equal(r.data.agentHealth.opencode.circuit, 'closed');
  assert.equal(r.data.agentHealth.opencode.successes, 2, 'values present are kept');
});

test('the migration fills only fields that have a default: a record missing its goal stays invalid and is named', () => {
  const { goal: _goal, ...noGoal } = session;
  const text = JSON.stringify({ ...emptyStore('t'), schemaVersion: 2, sessions: [{ ...noGoal, tenantId: 'local' }] });
  assert.throws(
    () => parseStore(text, 'store.json'),
    (e: unknown) => DomainError.is(e, 'store_corrupt') && /sessions\.0\.goal/.test(e.message),
  );
});

for (const [name, store, field] of [
  ['a task state', { tasks: [{ state: 'exploded' }] }, /tasks\.0\.state/],
  [
    'a session budget',
    { sessions: [{ ...session, tenantId: 'local', budget: { ...budget, spent: { tokens: 'lots', money: 0 } } }] },
    /sessions\.0\.budget\.spent\.tokens/,
  ],
  ['a run usage', { runs: [{ ...run, usage: { ...usage, cost: -1 } }] }, /runs\.0\.usage\.cost/],
  ['an unknown key of a run', { runs: [{ ...run, colour: 'red' }] }, /runs\.0.*colour/],
  [
    'an agent health circuit',
    { agentHealth: { opencode: { running: 0, successes: 0, failures: 0, consecutiveFailures: 0, circuit: 'ajar' } } },
    /agentHealth\.opencode\.circuit/,
  ],
  [
    'a lease mode',
    { leases: { leases: [{ taskId: 't', repo: '/r', globs: [], mode: 'exclusive', acquiredAt: 0, expiresAt: 1 }] } },
    /leases\.leases\.0\.mode/,
  ],
] as const) {
  test(`a schema-invalid ${name} is reported naming the field`, () => {
    const text = JSON.stringify({ ...emptyStore('t'), ...store });
    assert.throws(
      () => parseStore(text, 'store.json'),
      (e: unknown) => DomainError.is(e, 'store_corrupt') && field.test(e.message),
    );
  });
}

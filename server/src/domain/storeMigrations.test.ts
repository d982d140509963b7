import assert from 'node:assert/strict';
import { test } from 'node:test';
import { migrateRunsV2ToV3 } from './storeMigrations';

test('v2 → v3: a single run loses its made-up session id; a session task attempt gets its task id', () => {
  const out = migrateRunsV2ToV3({
    schemaVersion: 2,
    tasks: [{ id: 's1:a', sessionId: 's1', runId: 'r2' }],
    runs: [
      { id: 'r1', tenantId: 'local', sessionId: 'run-r1', state: 'succeeded', createdAt: '2026-01-01T00:00:00.000Z' },
      { id: 'r2', tenantId: 'local', sessionId: 's1', state: 'failed', createdAt: '2026-01-01T00:00:01.000Z' },
      { id: 'r3', tenantId: 'local', sessionId: 's1', state: 'succeeded', createdAt: '2026-01-01T00:00:02.000Z' },
    ],
  });
  assert.equal(out.schemaVersion, 3);
  assert.deepEqual(out.runs, [
    { id: 'r1', tenantId: 'local', state: 'succeeded', createdAt: '2026-01-01T00:00:00.000Z' },
    { id: 'r2', tenantId: 'local', sessionId: 's1', taskId: 's1:a', state: 'failed', createdAt: '2026-01-01T00:00:01.000Z' },
    // A planning turn (or an earlier attempt no task points at any more) keeps its session and gets no task.
    { id: 'r3', tenantId: 'local', sessionId: 's1', state: 'succeeded', createdAt: '2026-01-01T00:00:02.000Z' },
  ]);
});

test('v2 → v3 leaves what is not a run record for validation to reject', () => {
  assert.deepEqual(migrateRunsV2ToV3({ schemaVersion: 2, runs: [7] }).runs, [7]);
  assert.equal(migrateRunsV2ToV3({ schemaVersion: 2, runs: 'x' }).runs, 'x');
});

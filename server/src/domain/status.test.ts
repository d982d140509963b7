import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildStatus, deriveHealth } from './status';

test('health follows the store state', () => {
  assert.equal(deriveHealth(null).health, 'starting');
  assert.equal(deriveHealth({ kind: 'lowdb', path: 'p', schemaVersion: 1, state: 'ok' }).health, 'ok');
  const bad = deriveHealth({
    kind: 'lowdb',
    path: 'p',
    schemaVersion: 1,
    state: 'corrupt',
    error: 'p is not valid JSON',
    backupPath: 'p.bak',
  });
  assert.equal(bad.health, 'degraded');
  assert.match(bad.message, /p is not valid JSON/);
  assert.match(bad.message, /p\.bak/);
});

test('uptime is measured from the start', () => {
  const s = buildStatus({ version: '1', pid: 1, node: 'v20', mode: 'cli', startedAtMs: 1000, nowMs: 4500, dataDir: '/d', store: null });
  assert.equal(s.uptimeMs, 3500);
  assert.equal(s.startedAt, new Date(1000).toISOString());
});

test('an agent that cannot start degrades the health and the message says why; checking does not', () => {
  const store = { kind: 'lowdb' as const, path: 'p', schemaVersion: 1, state: 'ok' as const };
  const agent = (availability: { state: 'checking' | 'ready' | 'unavailable'; reason?: 'not_installed'; message?: string }) => [
    { id: 'opencode', name: 'OpenCode', availability: { ...availability, since: 'x' } },
  ];
  assert.equal(deriveHealth(store, agent({ state: 'ready' })).health, 'ok');
  const checking = deriveHealth(store, agent({ state: 'checking' }));
  assert.equal(checking.health, 'ok');
  assert.match(checking.message, /Checking OpenCode/);
  const down = deriveHealth(
    store,
    agent({ state: 'unavailable', reason: 'not_installed', message: 'No OpenCode binary; set orchestrator.opencode.path.' }),
  );
  assert.equal(down.health, 'degraded');
  assert.equal(down.message, 'OpenCode is unavailable: No OpenCode binary; set orchestrator.opencode.path.');
  // A broken store is reported first: it stops every write.
  assert.match(deriveHealth({ ...store, state: 'corrupt', error: 'bad' }, agent({ state: 'unavailable', message: 'm' })).message, /store/);
});

test('a write fault makes the health degraded with its message, whatever the store state', () => {
  const fault = 'Writing the store failed (ENOSPC: no space left on device, write).';
  const h = deriveHealth({ kind: 'lowdb', path: 'p', schemaVersion: 1, state: 'ok' }, [], fault);
  assert.deepEqual(h, { health: 'degraded', message: fault });
});

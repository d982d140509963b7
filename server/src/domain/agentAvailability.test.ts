import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initialAvailability, isFatalStartFailure, nextAvailability, unavailableQuestion } from './agentAvailability';

test('an agent is ready only after a probe passed or a real start, not before', () => {
  const a = initialAvailability(0);
  assert.equal(a.state, 'checking');
  assert.equal(nextAvailability(a, { type: 'inconclusive', nowMs: 1 }).state, 'checking');
  assert.equal(nextAvailability(a, { type: 'probe_passed', nowMs: 1 }).state, 'ready');
  assert.equal(nextAvailability(a, { type: 'started', nowMs: 1 }).state, 'ready');
});

test('a fatal start failure makes it unavailable at once with the reason; a later real start makes it ready again', () => {
  const ready = nextAvailability(initialAvailability(0), { type: 'probe_passed', nowMs: 1 });
  const down = nextAvailability(ready, {
    type: 'fatal',
    reason: 'not_installed',
    message: 'No binary.',
    setting: 'orchestrator.opencode.path',
    nowMs: 2,
  });
  assert.deepEqual(down, {
    state: 'unavailable',
    reason: 'not_installed',
    message: 'No binary.',
    setting: 'orchestrator.opencode.path',
    since: new Date(2).toISOString(),
  });
  // The same failure again is no change (no second notification).
  assert.equal(nextAvailability(down, { type: 'fatal', reason: 'not_installed', message: 'No binary.', nowMs: 3 }), down);
  assert.equal(nextAvailability(down, { type: 'inconclusive', nowMs: 4 }), down);
  assert.equal(nextAvailability(down, { type: 'started', nowMs: 5 }).state, 'ready');
});

test('only not_installed and start_failed are fatal; crashes, timeouts and model errors stay transient', () => {
  assert.ok(isFatalStartFailure('not_installed'));
  assert.ok(isFatalStartFailure('start_failed'));
  for (const r of ['crashed', 'timeout', 'unreachable', 'model_error', 'protocol', 'busy', undefined])
    assert.equal(isFatalStartFailure(r), false, String(r));
});

test('the question names the problem and the setting, and promises nothing was burnt', () => {
  const q = unavailableQuestion('OpenCode', {
    message: 'No OpenCode binary for linux-x64 was found.',
    setting: 'orchestrator.opencode.path',
  });
  assert.match(q, /^OpenCode cannot start: No OpenCode binary/);
  assert.match(q, /Set orchestrator\.opencode\.path/);
  assert.match(q, /no attempt was counted/);
  assert.doesNotMatch(q, /circuit/i);
});

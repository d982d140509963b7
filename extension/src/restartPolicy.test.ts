import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RestartPolicy } from './restartPolicy';

test('restarts the first four crashes in three minutes and gives up on the fifth', () => {
  const p = new RestartPolicy(5, 180_000);
  const decisions = [0, 1000, 2000, 3000, 4000].map((t) => p.onCrash(t));
  assert.deepEqual(
    decisions.map((d) => d.restart),
    [true, true, true, true, false],
  );
  assert.equal(decisions[4].crashesInWindow, 5);
});

test('crashes older than the window are forgotten', () => {
  const p = new RestartPolicy(5, 180_000);
  for (const t of [0, 1, 2, 3]) p.onCrash(t);
  assert.equal(p.onCrash(200_000).restart, true, 'the old crashes left the window');
  assert.equal(p.onCrash(200_001).crashesInWindow, 2);
});

test('a manual restart resets the count', () => {
  const p = new RestartPolicy(2, 180_000);
  assert.equal(p.onCrash(0).restart, true);
  p.reset();
  assert.equal(p.onCrash(1).restart, true);
  assert.equal(p.onCrash(2).restart, false);
});

test('a maxRestarts setting of 0 means no automatic restart (it is not taken as unset)', () => {
  const p = RestartPolicy.fromSetting(0);
  assert.deepEqual(p.onCrash(0), { restart: false, crashesInWindow: 1 });
});

test('an unset maxRestarts keeps the default of 5', () => {
  const p = RestartPolicy.fromSetting(undefined);
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((t) => p.onCrash(t).restart),
    [true, true, true, true, false],
  );
  assert.equal(RestartPolicy.fromSetting(2).onCrash(0).restart, true);
});

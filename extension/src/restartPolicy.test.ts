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

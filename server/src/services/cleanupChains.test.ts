import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CleanupChains } from './cleanupChains';

const gate = () => {
  let open: () => void = () => undefined;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
};

test("a session's clean-ups run one at a time, in order; a failed one does not stop the next", async () => {
  const chains = new CleanupChains({ warn: () => undefined });
  const log: string[] = [];
  const g = gate();
  const first = chains.run('s1', async () => {
    log.push('first start');
    await g.p;
    log.push('first end');
    throw new Error('git failed');
  });
  const second = chains.run('s1', async () => void log.push('second'));
  const other = chains.run('s2', async () => void log.push('other session'));
  await other;
  assert.deepEqual(log, ['first start', 'other session'], 'another session does not wait');
  g.open();
  await assert.rejects(first, /git failed/);
  await second;
  assert.deepEqual(log, ['first start', 'other session', 'first end', 'second']);
});

test('settled waits for what is queued; endSettled only for an end clean-up; both give up after their deadline, logged', async () => {
  const warnings: string[] = [];
  const chains = new CleanupChains({ warn: (m: string) => void warnings.push(m) });
  await chains.settled('none', 10); // nothing queued: at once
  const g = gate();
  void chains.run('s1', () => g.p);
  let endDone = false;
  void chains.endSettled('s1', 5_000).then(() => (endDone = true));
  const t0 = Date.now();
  await chains.settled('s1', 200);
  assert.ok(Date.now() - t0 >= 190, 'waited up to its deadline');
  assert.match(warnings.join('\n'), /session s1: its worktree clean-up took more than 0 s; going on/);
  assert.equal(endDone, true, 'a task clean-up is not an end clean-up');
  g.open();
  await chains.settled('s1', 5_000);
  const e = gate();
  void chains.run('s1', () => e.p, true);
  let ended = false;
  const waiting = chains.endSettled('s1', 5_000).then(() => (ended = true));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(ended, false, 'an end clean-up under way is waited for');
  e.open();
  await waiting;
});

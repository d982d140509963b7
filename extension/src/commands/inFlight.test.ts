import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InFlight } from './inFlight';

test('a second call for the same key while the first runs does not run; other keys and later calls do', async () => {
  const guard = new InFlight();
  let calls = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const first = guard.run('s1', async () => {
    calls++;
    await gate;
    return 'started';
  });
  assert.deepEqual(await guard.run('s1', async () => calls++), { busy: true }, 'a double click is refused');
  assert.ok(guard.has('s1'));
  assert.deepEqual(await guard.run('s2', async () => 'other'), { busy: false, value: 'other' });
  release();
  assert.deepEqual(await first, { busy: false, value: 'started' });
  assert.equal(calls, 1);
  assert.equal(guard.has('s1'), false);
  await assert.rejects(
    guard.run('s1', async () => {
      throw new Error('refused by the server');
    }),
    /refused by the server/,
  );
  assert.equal(guard.has('s1'), false, 'a failure frees the key');
});

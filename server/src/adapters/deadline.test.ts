import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeadlineError, withDeadline } from './deadline';

test('a promise that settles in time passes through, value or error', async () => {
  assert.equal(await withDeadline(Promise.resolve(7), 1000, 'x'), 7);
  const boom = new Error('boom');
  await assert.rejects(withDeadline(Promise.reject(boom), 1000, 'x'), (e: unknown) => e === boom);
});

test('a promise that does not settle in time rejects with a DeadlineError naming what and how long', async () => {
  const t0 = Date.now();
  await assert.rejects(withDeadline(new Promise(() => undefined), 50, 'permission policy'), (e: unknown) => {
    assert.ok(DeadlineError.is(e));
    assert.equal(e.what, 'permission policy');
    assert.equal(e.ms, 50);
    assert.equal(e.message, 'permission policy took longer than 50 ms');
    return true;
  });
  assert.ok(Date.now() - t0 < 1000);
});

test('an error whose text merely reads like a timeout is not a DeadlineError', async () => {
  await assert.rejects(withDeadline(Promise.reject(new Error('the lookup took longer than expected')), 1000, 'x'), (e: unknown) => {
    assert.equal(DeadlineError.is(e), false);
    return true;
  });
});

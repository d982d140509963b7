import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  charge,
  checkReserve,
  estimateAmount,
  newBudget,
  overrun,
  reconcile,
  remaining,
  reserve,
  setLimits,
  settle,
  startClock,
  usageAmount,
} from './budget';

test('reservations count against the limit and a crossing reports the numbers', () => {
  let b = newBudget({ tokens: 10_000 });
  const r1 = reserve(b, 't1', { tokens: 6_000, money: 0 }, 0);
  assert.ok(r1.ok);
  b = r1.state;
  assert.equal(b.reservedTotal.tokens, 6_000);
  const r2 = reserve(b, 't2', { tokens: 5_000, money: 0 }, 0);
  assert.equal(r2.ok, false);
  if (r2.ok) return;
  assert.equal(r2.crossing.limit, 'tokens');
  assert.equal(r2.crossing.limitValue, 10_000);
  assert.equal(r2.crossing.used, 0);
  assert.equal(r2.crossing.reserved, 6_000);
  assert.equal(r2.crossing.requested, 5_000);
  assert.equal(r2.crossing.taskId, 't2');
  assert.match(r2.crossing.message, /tokens budget would be crossed: 0 used \+ 6,000 reserved \+ 5,000 requested > 10,000 limit/);
  // exactly at the limit is allowed
  assert.ok(reserve(b, 't2', { tokens: 4_000, money: 0 }, 0).ok);
});

test('re-reserving for the same task replaces its reservation', () => {
  let b = newBudget({ tokens: 10_000 });
  const r = reserve(b, 't1', { tokens: 8_000, money: 0 }, 0);
  assert.ok(r.ok);
  b = r.state;
  const again = reserve(b, 't1', { tokens: 9_000, money: 0 }, 0);
  assert.ok(again.ok);
  assert.equal(again.state.reservedTotal.tokens, 9_000);
});

test('reconcile releases the reservation and adds actual usage', () => {
  let b = newBudget({ tokens: 10_000, money: 1 });
  const r = reserve(b, 't1', { tokens: 5_000, money: 0.5 }, 0);
  assert.ok(r.ok);
  b = reconcile(
    r.state,
    't1',
    usageAmount({ inputTokens: 3_000, outputTokens: 1_000, reasoningTokens: 500, cacheReadTokens: 9_999, cost: 0.2 }),
  );
  assert.deepEqual(b.spent, { tokens: 4_500, money: 0.2 });
  assert.deepEqual(b.reservedTotal, { tokens: 0, money: 0 });
  assert.deepEqual(b.reserved, {});
  assert.equal(remaining(b, 0).tokens, 5_500);
});

test('incremental charges shrink the reservation, settle drops the rest', () => {
  const r = reserve(newBudget({ tokens: 100 }), 't', { tokens: 50, money: 0 }, 0);
  assert.ok(r.ok);
  let b = charge(r.state, 't', { tokens: 20, money: 0 });
  assert.equal(b.spent.tokens, 20);
  assert.equal(b.reserved.t?.tokens, 30);
  assert.equal(b.reservedTotal.tokens, 30);
  b = charge(b, 't', { tokens: 45, money: 0 }); // over its estimate
  assert.equal(b.spent.tokens, 65);
  assert.equal(b.reservedTotal.tokens, 0);
  b = settle(b, 't');
  assert.deepEqual(b.reserved, {});
  assert.equal(b.spent.tokens, 65);
});

test('money crossing and estimates from pricing', () => {
  const est = estimateAmount({ tokens: 2_000_000 }, { moneyPerMillionTokens: 3 });
  assert.deepEqual(est, { tokens: 2_000_000, money: 6 });
  assert.equal(estimateAmount({ tokens: 10 }).money, 0);
  const r = reserve(newBudget({ money: 5 }), 't', est, 0);
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.crossing.limit, 'money');
});

test('wall time: refused once elapsed reaches the limit; clock starts once', () => {
  let b = startClock(newBudget({ wallMs: 1_000 }), 100);
  b = startClock(b, 500);
  assert.equal(b.startedAtMs, 100);
  assert.equal(checkReserve(b, { tokens: 1, money: 0 }, 1_099), undefined);
  const c = checkReserve(b, { tokens: 1, money: 0 }, 1_100);
  assert.equal(c?.limit, 'wallMs');
  assert.equal(c?.used, 1_000);
  assert.equal(overrun(b, 1_100)?.limit, 'wallMs');
});

test('overrun reports actual spending beyond a limit; setLimits raises or removes limits', () => {
  let b = charge(newBudget({ tokens: 100 }), 'x', { tokens: 150, money: 0 });
  assert.equal(overrun(b, 0)?.used, 150);
  b = setLimits(b, { tokens: 1_000 });
  assert.equal(overrun(b, 0), undefined);
  b = setLimits(b, { tokens: undefined });
  assert.equal(b.limits.tokens, undefined);
  assert.equal(remaining(b, 0).tokens, Infinity);
});

test('maxParallel never fails a reservation', () => {
  const r = reserve(newBudget({ maxParallel: 1 }), 'a', { tokens: 1, money: 0 }, 0);
  assert.ok(r.ok);
  assert.ok(reserve(r.state, 'b', { tokens: 1, money: 0 }, 0).ok);
});

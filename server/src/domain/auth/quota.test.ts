import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../errors';
import { changeQuotas, checkCount, grantMoney, grantTokens, runMoney, tokensInWindow } from './quota';

test('a count at the limit passes; one more is refused with limit, in use and requested', () => {
  assert.equal(checkCount('sessions', 2, 1), undefined);
  assert.equal(checkCount('sessions', undefined, 99), undefined);
  const c = checkCount('sessions', 2, 2)!;
  assert.deepEqual([c.quota, c.limit, c.inUse, c.requested], ['sessions', 2, 2, 1]);
  assert.match(c.message, /concurrent sessions.*2 in use \+ 1 requested > 2 limit/);
  assert.equal(checkCount('tasks', 0 + 3, 2, 2)?.limit, 3);
});

test('tokens: a grant is what is left of the window after usage and other grants; nothing left → a crossing', () => {
  assert.deepEqual(grantTokens({}, { used: 10, granted: 0 }, 5), { grant: 5 });
  assert.deepEqual(grantTokens({ tokens: 1000 }, { used: 300, granted: 200 }), { grant: 500 });
  assert.deepEqual(grantTokens({ tokens: 1000 }, { used: 300, granted: 200 }, 100), { grant: 100 });
  const r = grantTokens({ tokens: 1000, windowMs: 3_600_000 }, { used: 900, granted: 100 }, 50);
  assert.ok('crossing' in r);
  assert.deepEqual([r.crossing.limit, r.crossing.inUse, r.crossing.requested], [1000, 1000, 50]);
  assert.match(r.crossing.message, /tokens per 60 min.*1,000 in use \+ 50 requested > 1,000 limit/);
});

test('tokensInWindow counts only entries inside the window', () => {
  const e = [
    { atMs: 1000, tokens: 1 },
    { atMs: 5000, tokens: 10 },
    { atMs: 9000, tokens: 100 },
  ];
  assert.equal(tokensInWindow(e, 5000, 9000), 110);
  assert.equal(tokensInWindow(e, 100_000, 9000), 111);
});

test('changeQuotas sets, removes, and refuses bad values naming the quota', () => {
  assert.deepEqual(changeQuotas(undefined, { sessions: 2, tokens: 500 }), { sessions: 2, tokens: 500 });
  assert.deepEqual(changeQuotas({ sessions: 2, tokens: 500 }, { sessions: null }), { tokens: 500 });
  assert.throws(
    () => changeQuotas({}, { tasks: 0 }),
    (e: unknown) => DomainError.is(e, 'bad_input') && /tasks/.test(e.message),
  );
  assert.throws(() => changeQuotas({}, { windowMs: 1000 }), /windowMs/);
});

test('money: a run costs what its agent reported, else its tokens at the price hint', () => {
  assert.equal(runMoney({ tokens: 1_000_000, cost: 0.25 }, 10), 0.25);
  assert.equal(runMoney({ tokens: 500_000, cost: 0 }, 10), 5);
  assert.equal(runMoney({ tokens: 500_000 }), 0);
});

test('money: with a price hint what is left becomes tokens; without one a money budget; nothing left → a crossing naming the scope', () => {
  assert.deepEqual(grantMoney({}, { used: 5, granted: 0 }), {});
  assert.deepEqual(grantMoney({ money: 1, moneyPerMillionTokens: 10 }, { used: 0.5, granted: 0.25 }), { tokens: 25_000 });
  assert.deepEqual(grantMoney({ money: 1 }, { used: 0.5, granted: 0.25 }), { money: 0.25 });
  const r = grantMoney(
    { money: 0.001, moneyPerMillionTokens: 10, windowMs: 3_600_000 },
    { used: 0.0013, granted: 0 },
    {
      kind: 'user',
      id: 'u_0123456789ab',
      name: 'alice',
    },
  );
  assert.ok('crossing' in r);
  assert.deepEqual(
    [r.crossing.quota, r.crossing.limit, r.crossing.inUse, r.crossing.scope],
    ['money', 0.001, 0.0013, { kind: 'user', id: 'u_0123456789ab' }],
  );
  assert.equal(r.crossing.message, 'user alice quota for money per 60 min is used up: 0.0013 in use ≥ 0.001 limit');
  // Less than one token's worth left is nothing left.
  assert.ok('crossing' in grantMoney({ money: 1, moneyPerMillionTokens: 10 }, { used: 1 - 1e-9, granted: 0 }));
});

test('a crossing names its scope: tenant, user or key', () => {
  assert.match(checkCount('sessions', 1, 1)!.message, /^tenant quota for concurrent sessions/);
  assert.match(checkCount('sessions', 1, 1, 1, { kind: 'user', id: 'u_1', name: 'bob' })!.message, /^user bob quota/);
  assert.match(checkCount('sessions', 1, 1, 1, { kind: 'key', id: 'abc' })!.message, /^key abc quota/);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../errors';
import { changeQuotas, checkCount, grantTokens, tokensInWindow } from './quota';

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

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aggregateUsage, usageLine, usageTable, type UsageLine } from './usageReport';

const day = (d: string, h = 12) => Date.parse(`${d}T${String(h).padStart(2, '0')}:00:00Z`);
const lines: UsageLine[] = [
  {
    atMs: day('2026-12-01'),
    runId: 'r1',
    tokens: 150,
    inputTokens: 100,
    outputTokens: 50,
    cost: 0.5,
    agent: 'opencode',
    model: 'm1',
    userId: 'u1',
    userName: 'alice',
  },
  {
    atMs: day('2026-12-01', 23),
    runId: 'r2',
    tokens: 30,
    inputTokens: 20,
    outputTokens: 10,
    cost: 0.1,
    agent: 'acp-x',
    model: 'm2',
    userId: 'u2',
    userName: 'bob',
  },
  {
    atMs: day('2026-12-02'),
    runId: 'r3',
    tokens: 7,
    inputTokens: 4,
    outputTokens: 2,
    cost: 0,
    agent: 'opencode',
    userId: 'u1',
    userName: 'alice',
  },
  // A line written before the ledger carried who, agent and model.
  { atMs: day('2026-12-03'), runId: 'r0', tokens: 1000 },
];

describe('aggregateUsage', () => {
  it('groups by user, with old lines under unknown and their tokens kept', () => {
    const { rows, total } = aggregateUsage(lines, { groupBy: 'user' });
    assert.deepEqual(
      rows.map((r) => [r.key, r.label, r.runs, r.inputTokens, r.outputTokens, r.tokens]),
      [
        ['u1', 'alice', 2, 104, 52, 157],
        ['u2', 'bob', 1, 20, 10, 30],
        ['unknown', undefined, 1, 0, 0, 1000],
      ],
    );
    assert.deepEqual(total, { inputTokens: 124, outputTokens: 62, tokens: 1187, cost: 0.6, runs: 4 });
  });

  it('groups by agent, model and UTC day', () => {
    assert.deepEqual(
      aggregateUsage(lines, { groupBy: 'agent' }).rows.map((r) => [r.key, r.runs]),
      [
        ['acp-x', 1],
        ['opencode', 2],
        ['unknown', 1],
      ],
    );
    assert.deepEqual(
      aggregateUsage(lines, { groupBy: 'model' }).rows.map((r) => [r.key, r.tokens]),
      [
        ['m1', 150],
        ['m2', 30],
        ['unknown', 1007],
      ],
    );
    assert.deepEqual(
      aggregateUsage(lines, { groupBy: 'day' }).rows.map((r) => [r.key, r.runs, r.cost]),
      [
        ['2026-12-01', 2, 0.6],
        ['2026-12-02', 1, 0],
        ['2026-12-03', 1, 0],
      ],
    );
  });

  it('keeps from inclusive and to exclusive; a bare date is UTC midnight', () => {
    const r = aggregateUsage(lines, { groupBy: 'day', from: '2026-12-02', to: '2026-12-03' });
    assert.deepEqual(
      r.rows.map((x) => x.key),
      ['2026-12-02'],
    );
    const t = aggregateUsage(lines, { groupBy: 'user', from: '2026-12-01T23:00:00Z' });
    assert.equal(t.total.runs, 3);
    const u = aggregateUsage(lines, { groupBy: 'user', to: '2026-12-01T23:00:00Z' });
    assert.deepEqual(
      u.rows.map((x) => [x.key, x.runs]),
      [['u1', 1]],
      'a run ending at to is not in',
    );
  });

  it('filters to one user', () => {
    const r = aggregateUsage(lines, { groupBy: 'agent', userId: 'u2' });
    assert.deepEqual(
      r.rows.map((x) => [x.key, x.runs]),
      [['acp-x', 1]],
    );
    assert.equal(r.total.tokens, 30);
  });

  it('refuses a from after to and a time it cannot read, naming them', () => {
    assert.throws(() => aggregateUsage(lines, { groupBy: 'day', from: '2026-12-03', to: '2026-12-01' }), /from \(2026-12-03\) is after to/);
    assert.throws(() => aggregateUsage(lines, { groupBy: 'day', from: '2026-13-45' }), /from: "2026-13-45" is not an ISO date/);
  });

  it('skips lines without a time', () => {
    const broken = [{ runId: 'x', tokens: 5 } as unknown as UsageLine, ...lines];
    assert.equal(aggregateUsage(broken, { groupBy: 'user' }).total.runs, 4);
  });
});

describe('usageLine', () => {
  it('splits the usage and names agent, model and owner', () => {
    const l = usageLine(
      {
        id: 'r',
        agent: 'opencode',
        model: 'scripted/m',
        sessionId: 's',
        usage: { inputTokens: 3, outputTokens: 2, reasoningTokens: 1, cost: 0.25 },
      },
      42,
      { userId: 'u1', userName: 'alice' },
    );
    assert.deepEqual(l, {
      atMs: 42,
      runId: 'r',
      tokens: 6,
      inputTokens: 3,
      outputTokens: 2,
      cost: 0.25,
      agent: 'opencode',
      model: 'scripted/m',
      sessionId: 's',
      userId: 'u1',
      userName: 'alice',
    });
  });
});

describe('usageTable', () => {
  it('prints a header, a row per group and the total', () => {
    const { rows, total } = aggregateUsage(lines, { groupBy: 'user' });
    const text = usageTable('user', rows, total).split('\n');
    assert.equal(text.length, 5);
    assert.match(text[0], /^user\s+runs\s+input\s+output\s+tokens\s+cost$/);
    assert.match(text[1], /^u1 \(alice\)\s+2\s+104\s+52\s+157\s+0\.5000$/);
    assert.match(text[4], /^total\s+4\s+124\s+62\s+1187\s+0\.6000$/);
  });
});

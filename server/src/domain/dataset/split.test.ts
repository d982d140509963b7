import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupedSplit, type SplitItem } from './split';

const items: SplitItem[] = [];
for (let i = 0; i < 200; i++) items.push({ source: `r${i}`, session: `s${i % 40}`, repo: `repo${i % 13}` });

test('no session and no repository straddles the split', () => {
  const many: SplitItem[] = [];
  for (let i = 0; i < 300; i++) many.push({ source: `r${i}`, session: `s${Math.floor(i / 3)}`, repo: `repo${Math.floor(i / 30)}` });
  const { split, groups } = groupedSplit(many, { validationFraction: 0.2, seed: 'x', groupBy: ['session', 'repo'] });
  assert.equal(groups, 10);
  for (const key of ['session', 'repo'] as const) {
    const sides = new Map<string, Set<string>>();
    for (const it of many) sides.set(it[key], (sides.get(it[key]) ?? new Set()).add(split.get(it.source)!));
    for (const [v, s] of sides) assert.equal(s.size, 1, `${key} ${v} is on one side`);
  }
  const validation = many.filter((it) => split.get(it.source) === 'validation').length;
  assert.equal(validation, 60);
});

test('deterministic from the seed; another seed picks other groups', () => {
  const opts = { validationFraction: 0.25, seed: 'a', groupBy: ['session'] as const };
  const a = groupedSplit(items, opts).split;
  assert.deepEqual(groupedSplit([...items].reverse(), opts).split.get('r5'), a.get('r5'));
  assert.deepEqual([...groupedSplit(items, opts).split], [...a]);
  const b = groupedSplit(items, { ...opts, seed: 'b' }).split;
  assert.ok([...a].some(([k, v]) => b.get(k) !== v));
});

test('one group holding everything gives an empty validation side and says so', () => {
  const r = groupedSplit(items, { validationFraction: 0.1, seed: 'x', groupBy: ['session', 'repo'] });
  assert.equal(r.groups, 1);
  assert.ok([...r.split.values()].every((v) => v === 'train'));
  assert.match(r.warning!, /no validation examples/);
  assert.throws(() => groupedSplit(items, { validationFraction: 1, seed: 'x', groupBy: [] }), /validationFraction/);
});

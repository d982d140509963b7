import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RefusedApplies, refusedAppliesKey, type StateStore } from './refusedApplies';

const memento = (initial: Record<string, unknown> = {}): StateStore & { data: Record<string, unknown> } => {
  const data = { ...initial };
  return {
    data,
    get: <T>(k: string) => data[k] as T | undefined,
    update: (k: string, v: unknown) => {
      data[k] = v;
      return Promise.resolve();
    },
  };
};

test('a refused apply still waits after a reload (a new tracker over the same workspace state)', () => {
  const store = memento();
  const before = new RefusedApplies(store);
  assert.equal(before.add('s1'), true);
  assert.equal(before.add('s1'), false, 'counted once');
  before.add('s2');
  const after = new RefusedApplies(store);
  assert.deepEqual(after.ids().sort(), ['s1', 's2']);
  assert.equal(after.delete('s1'), true);
  assert.deepEqual(new RefusedApplies(store).ids(), ['s2'], 'an apply or delete clears it for good');
});

test('a damaged stored value is ignored, not trusted', () => {
  assert.deepEqual(new RefusedApplies(memento({ [refusedAppliesKey]: 'oops' })).ids(), []);
  assert.deepEqual(new RefusedApplies(memento({ [refusedAppliesKey]: ['s1', 7, null] })).ids(), ['s1']);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { axisTicks, buildTimeline, peak } from './timeline';

test('parallel runs get separate lanes and the peak says how many ran at once', () => {
  const tl = buildTimeline(
    [
      { id: 'a', title: 'A', state: 'succeeded', startedAt: 0, finishedAt: 3000 },
      { id: 'b', title: 'B', state: 'succeeded', startedAt: 1000, finishedAt: 4000 },
      { id: 'c', title: 'C', state: 'succeeded', startedAt: 3000, finishedAt: 5000 },
      { id: 'd', title: 'D', state: 'pending' },
    ],
    10_000,
  );
  assert.deepEqual(
    tl.bars.map((b) => [b.id, b.lane]),
    [
      ['a', 0],
      ['b', 1],
      ['c', 0],
    ],
  );
  assert.equal(tl.lanes, 2);
  assert.equal(tl.peakParallel, 2);
  assert.deepEqual([tl.from, tl.to], [0, 5000]);
});

test('a running task ends at now; a task waiting on a lease shows its wait as its own bar', () => {
  const tl = buildTimeline(
    [
      { id: 'r', title: 'R', state: 'running', startedAt: 1000 },
      { id: 'w', title: 'W', state: 'blocked', blocked: { since: 2000, reason: 'lease a.txt held by r' } },
    ],
    6000,
  );
  const run = tl.bars.find((b) => b.id === 'r')!;
  assert.deepEqual([run.end, run.open, run.kind], [6000, true, 'run']);
  const wait = tl.bars.find((b) => b.id === 'w')!;
  assert.deepEqual([wait.kind, wait.start, wait.end, wait.reason], ['wait', 2000, 6000, 'lease a.txt held by r']);
  assert.equal(tl.peakParallel, 1, 'waiting is not running');
});

test('peak counts touching intervals as sequential', () => {
  assert.equal(
    peak([
      { start: 0, end: 1 },
      { start: 1, end: 2 },
    ]),
    1,
  );
  assert.equal(
    peak([
      { start: 0, end: 2 },
      { start: 1, end: 3 },
      { start: 1, end: 2 },
    ]),
    3,
  );
  assert.equal(peak([]), 0);
});

test('axis ticks use a nice step and stay inside the span', () => {
  assert.deepEqual(axisTicks(0, 10_000, 5), [0, 2000, 4000, 6000, 8000, 10000]);
  const t = axisTicks(0, 73_000);
  assert.ok(t.length <= 9 && t.every((x) => x >= 0 && x <= 73_000));
});

test("a retried task's earlier attempts are closed bars of their own, beside the running attempt", () => {
  const tl = buildTimeline(
    [
      {
        id: 'a',
        title: 'A',
        state: 'running',
        startedAt: 5000,
        earlier: [{ start: 1000, end: 3000, outcome: 'failed', error: 'boom' }],
      },
    ],
    6000,
  );
  const runs = tl.bars.filter((b) => b.id === 'a');
  assert.equal(runs.length, 2);
  assert.deepEqual(
    runs.map((b) => [b.state, b.start, b.end, b.open, b.reason]),
    [
      ['failed', 1000, 3000, false, 'boom'],
      ['running', 5000, 6000, true, undefined],
    ],
  );
  assert.equal(tl.lanes, 1, 'the two attempts do not overlap');
});

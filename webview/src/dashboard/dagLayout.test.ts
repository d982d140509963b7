import assert from 'node:assert/strict';
import { test } from 'node:test';
import { layoutDag, type DagInput } from './dagLayout';

const node = (layout: ReturnType<typeof layoutDag>, id: string) => layout.nodes.find((n) => n.id === id)!;

test('every task sits to the right of all its dependencies, in the column after the deepest one', () => {
  const tasks: DagInput[] = [
    { id: 'd', dependsOn: ['b', 'c'] },
    { id: 'a', dependsOn: [] },
    { id: 'b', dependsOn: ['a'] },
    { id: 'c', dependsOn: ['a', 'b'] },
    { id: 'e', dependsOn: [] },
  ];
  const l = layoutDag(tasks);
  assert.deepEqual(Object.fromEntries(l.nodes.map((n) => [n.id, n.layer])), { a: 0, e: 0, b: 1, c: 2, d: 3 });
  for (const t of tasks) for (const d of t.dependsOn) assert.ok(node(l, d).x + l.nodeWidth < node(l, t.id).x, `${d} left of ${t.id}`);
  assert.equal(l.edges.length, 5);
  assert.deepEqual(l.dropped, []);
});

test('no two tasks overlap, and the canvas holds them all', () => {
  const tasks: DagInput[] = Array.from({ length: 60 }, (_, i) => ({ id: `t${i}`, dependsOn: i ? [`t${Math.floor((i - 1) / 3)}`] : [] }));
  const l = layoutDag(tasks);
  const seen = new Set(l.nodes.map((n) => `${n.x},${n.y}`));
  assert.equal(seen.size, tasks.length);
  for (const n of l.nodes) assert.ok(n.x + l.nodeWidth <= l.width && n.y + l.nodeHeight <= l.height);
});

test('the ordering sweeps remove most of the crossings the plain topological order has', () => {
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  let naive = 0;
  let swept = 0;
  for (let g = 0; g < 40; g++) {
    const tasks: DagInput[] = [];
    for (let i = 0; i < 30; i++) {
      const deps = i < 6 ? [] : Array.from({ length: 1 + Math.floor(rand() * 2) }, () => `t${Math.floor(rand() * i)}`);
      tasks.push({ id: `t${i}`, dependsOn: deps });
    }
    naive += layoutDag(tasks, { sweeps: 0 }).crossings;
    swept += layoutDag(tasks).crossings;
  }
  assert.ok(naive > 100, `the sample has crossings to remove (${naive})`);
  assert.ok(swept < naive * 0.6, `crossings ${naive} → ${swept}`);
});

test('unknown dependencies and cycles are dropped and reported, never looped on', () => {
  const l = layoutDag([
    { id: 'a', dependsOn: ['c', 'ghost'] },
    { id: 'b', dependsOn: ['a'] },
    { id: 'c', dependsOn: ['b'] },
    { id: 'self', dependsOn: ['self'] },
  ]);
  assert.equal(l.nodes.length, 4);
  assert.ok(l.dropped.some((e) => e.from === 'ghost'));
  assert.ok(l.dropped.some((e) => e.from === 'self' && e.to === 'self'));
  assert.equal(l.dropped.length, 3, JSON.stringify(l.dropped));
  for (const e of l.edges) assert.ok(node(l, e.from).layer < node(l, e.to).layer, `${e.from} → ${e.to} goes right`);
});

test('an empty session lays out as nothing', () => {
  const l = layoutDag([]);
  assert.deepEqual([l.nodes, l.edges, l.width, l.height], [[], [], 0, 0]);
});

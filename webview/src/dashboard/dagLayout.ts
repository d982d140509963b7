/**
 * Layered layout of a session's task graph for the dashboard (pure, no DOM): every task sits in the column
 * after its deepest dependency (longest-path layering), tasks inside a column are ordered by the barycenter
 * of their neighbours (a few down/up sweeps, which removes most edge crossings), and each gets x/y in
 * pixels. Linear in tasks + edges per sweep, so a 500-task session lays out in a few milliseconds.
 * Dependencies on unknown ids are dropped; a cycle (never produced by the planner) is cut, not looped on.
 */

export interface DagInput {
  id: string;
  dependsOn: readonly string[];
}

export interface DagNodePosition {
  id: string;
  /** Column (0 = no dependencies). */
  layer: number;
  /** Row inside the column. */
  order: number;
  x: number;
  y: number;
}

export interface DagEdge {
  from: string;
  to: string;
  /** Waypoints (centres of the columns the edge passes) for an edge that spans several columns. */
  via?: { x: number; y: number }[];
}

export interface DagLayout {
  nodes: DagNodePosition[];
  edges: DagEdge[];
  /** Edges dropped because they pointed at an unknown task or closed a cycle. */
  dropped: DagEdge[];
  /** Edge crossings left after ordering (virtual nodes included). */
  crossings: number;
  width: number;
  height: number;
  /** Node box size used for the coordinates. */
  nodeWidth: number;
  nodeHeight: number;
}

export interface DagLayoutOptions {
  nodeWidth?: number;
  nodeHeight?: number;
  columnGap?: number;
  rowGap?: number;
  margin?: number;
  /** Barycenter sweeps (down + up counts as two). */
  sweeps?: number;
  /** Most virtual nodes for long edges (default 2 per task); longer edges beyond it are drawn straight. */
  maxVirtualNodes?: number;
}

export function layoutDag(tasks: readonly DagInput[], opts: DagLayoutOptions = {}): DagLayout {
  const nodeWidth = opts.nodeWidth ?? 168;
  const nodeHeight = opts.nodeHeight ?? 40;
  const columnGap = opts.columnGap ?? 48;
  const rowGap = opts.rowGap ?? 14;
  const margin = opts.margin ?? 8;
  const sweeps = opts.sweeps ?? 4;

  const index = new Map<string, number>();
  tasks.forEach((t, i) => index.set(t.id, i));
  const dropped: DagEdge[] = [];
  const preds: number[][] = tasks.map(() => []);
  const succs: number[][] = tasks.map(() => []);
  for (const [i, t] of tasks.entries()) {
    for (const d of new Set(t.dependsOn)) {
      const j = index.get(d);
      if (j === undefined || j === i) dropped.push({ from: d, to: t.id });
      else {
        preds[i].push(j);
        succs[j].push(i);
      }
    }
  }

  // Kahn's order; what never reaches in-degree 0 is on a cycle: its remaining incoming edges are cut.
  const indegree = preds.map((p) => p.length);
  const topo: number[] = [];
  const queue: number[] = [];
  indegree.forEach((d, i) => d === 0 && queue.push(i));
  for (let q = 0; q < queue.length || topo.length < tasks.length; q++) {
    if (q >= queue.length) {
      // A cycle: release the first unplaced node by cutting its incoming edges from unplaced nodes.
      const placed = new Set(topo);
      const i = indegree.findIndex((d, k) => d > 0 && !placed.has(k));
      for (const j of preds[i].filter((j) => !placed.has(j))) {
        dropped.push({ from: tasks[j].id, to: tasks[i].id });
        succs[j] = succs[j].filter((s) => s !== i);
      }
      preds[i] = preds[i].filter((j) => placed.has(j));
      indegree[i] = 0;
      queue.push(i);
    }
    const i = queue[q];
    topo.push(i);
    for (const s of succs[i]) if (--indegree[s] === 0) queue.push(s);
  }

  const layer = new Array<number>(tasks.length).fill(0);
  for (const i of topo) for (const j of preds[i]) layer[i] = Math.max(layer[i], layer[j] + 1);

  // Sugiyama: an edge spanning several columns gets a virtual node in each column it passes, so every
  // edge joins adjacent columns, barycenters compare like with like, and long edges get a lane of their own.
  const up: number[][] = preds.map(() => []);
  const down: number[][] = preds.map(() => []);
  const chains: { from: number; to: number; via: number[] }[] = [];
  const layerOf = [...layer];
  // Shortest edges first; past the budget a long edge is drawn straight and ignored by the ordering, so a
  // huge plan with many long edges stays fast.
  let budget = opts.maxVirtualNodes ?? Math.max(200, 2 * tasks.length);
  const all = preds.flatMap((p, i) => p.map((j) => ({ i, j, span: layer[i] - layer[j] })));
  all.sort((a, b) => a.span - b.span);
  for (const { i, j, span } of all) {
    if (span > 1 && span - 1 > budget) {
      chains.push({ from: j, to: i, via: [] });
      continue;
    }
    budget -= span - 1;
    const via: number[] = [];
    let prev = j;
    for (let c = layer[j] + 1; c < layer[i]; c++) {
      const v = layerOf.push(c) - 1;
      up.push([prev]);
      down.push([]);
      down[prev].push(v);
      via.push(v);
      prev = v;
    }
    up[i].push(prev);
    down[prev].push(i);
    chains.push({ from: j, to: i, via });
  }
  const columns: number[][] = [];
  for (const i of topo) (columns[layer[i]] ??= []).push(i);
  for (let v = tasks.length; v < layerOf.length; v++) (columns[layerOf[v]] ??= []).push(v);

  const pos = new Array<number>(layerOf.length).fill(0);
  const setPositions = (col: number[]) => col.forEach((i, k) => (pos[i] = k));
  columns.forEach(setPositions);
  const crossingsNow = () => crossingsBetweenColumns(columns, down, pos);
  let best = columns.map((c) => [...c]);
  let bestCrossings = crossingsNow();
  for (let s = 0; s < sweeps && bestCrossings > 0; s++) {
    const goingDown = s % 2 === 0;
    const order = columns.map((_, c) => c);
    const range = goingDown ? order.slice(1) : order.slice(0, -1).reverse();
    const neighbours = goingDown ? up : down;
    for (const c of range) {
      const key = (i: number) => {
        const n = neighbours[i];
        return n.length ? n.reduce((a, j) => a + pos[j], 0) / n.length : pos[i];
      };
      const keyed = columns[c].map((i) => ({ i, k: key(i), p: pos[i] }));
      keyed.sort((a, b) => a.k - b.k || a.p - b.p);
      columns[c] = keyed.map((x) => x.i);
      setPositions(columns[c]);
    }
    const n = crossingsNow();
    if (n < bestCrossings) {
      bestCrossings = n;
      best = columns.map((c) => [...c]);
    }
  }
  best.forEach(setPositions);

  const xOf = (c: number) => margin + c * (nodeWidth + columnGap);
  const yOf = (k: number) => margin + k * (nodeHeight + rowGap);
  const nodes: DagNodePosition[] = [];
  for (const [c, col] of best.entries())
    for (const i of col) if (i < tasks.length) nodes.push({ id: tasks[i].id, layer: c, order: pos[i], x: xOf(c), y: yOf(pos[i]) });
  const edges: DagEdge[] = chains.map((e) => ({
    from: tasks[e.from].id,
    to: tasks[e.to].id,
    via: e.via.map((v) => ({ x: xOf(layerOf[v]) + nodeWidth / 2, y: yOf(pos[v]) + nodeHeight / 2 })),
  }));
  const rows = Math.max(0, ...best.map((c) => c.length));
  return {
    nodes,
    edges,
    dropped,
    crossings: bestCrossings,
    width: best.length ? margin * 2 + best.length * nodeWidth + (best.length - 1) * columnGap : 0,
    height: rows ? margin * 2 + rows * nodeHeight + (rows - 1) * rowGap : 0,
    nodeWidth,
    nodeHeight,
  };
}

/** Pairs of edges between adjacent columns that cross, for the given row positions. */
function crossingsBetweenColumns(columns: readonly number[][], down: readonly number[][], pos: readonly number[]): number {
  let n = 0;
  for (let c = 0; c + 1 < columns.length; c++) {
    const pairs: [number, number][] = [];
    for (const a of columns[c]) for (const b of down[a]) pairs.push([pos[a], pos[b]]);
    pairs.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    // Inversions of the lower ends (merge count): O(E log E) per column pair.
    n += inversions(pairs.map((p) => p[1]));
  }
  return n;
}

function inversions(a: number[]): number {
  if (a.length < 2) return 0;
  const mid = a.length >> 1;
  const left = a.slice(0, mid);
  const right = a.slice(mid);
  let n = inversions(left) + inversions(right);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < left.length && j < right.length) {
    if (left[i] <= right[j]) a[k++] = left[i++];
    else {
      a[k++] = right[j++];
      n += left.length - i;
    }
  }
  while (i < left.length) a[k++] = left[i++];
  while (j < right.length) a[k++] = right[j++];
  return n;
}

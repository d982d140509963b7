/**
 * Dashboard figures for `npm run bench`: the pure render of a 500-task session (DAG layout + graph SVG +
 * timeline SVG), and a whole update (the host's snapshot of 50 sessions plus every region's HTML the
 * webview builds from it), each against JSON.stringify of the same data in the same run (what posting it
 * costs at least). The DOM's own parse of the HTML is not included. Prints one `BENCH_ROWS` JSON line:
 * [name, median, p95, baseline median, what].
 */
import type { SessionView, TaskView } from '../../protocol/session';
import { sessionsSnapshot } from '../../extension/src/webviews/dashboardModel';
import { renderDagSvg, renderTimelineSvg } from '../../webview/src/dashboard/sessionGraph';
import { renderSessionHead, renderSessionList, renderSpend, renderTaskDetail, toGraphTasks } from '../../webview/src/dashboard/sessionView';

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const usage = { inputTokens: 100, outputTokens: 50, reasoningTokens: 0, cacheReadTokens: 0, cost: 0.001 };
const t0 = Date.parse('2026-01-01T00:00:00.000Z');
const iso = (ms: number) => new Date(t0 + ms).toISOString();

/** A deterministic plan: each task depends on up to 3 of the 40 before it; a third have finished, some run, some wait. */
function session(id: string, n: number): SessionView {
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const tasks: TaskView[] = [];
  for (let i = 0; i < n; i++) {
    const deps = new Set<string>();
    for (let k = 0; k < Math.floor(rnd() * 4) && i > 0; k++) deps.add(`${id}:t${Math.max(0, i - 1 - Math.floor(rnd() * 40))}`);
    const state = i < n / 3 ? 'succeeded' : i < n / 3 + 8 ? 'running' : i < n / 3 + 12 ? 'blocked' : 'pending';
    tasks.push({
      id: `${id}:t${i}`,
      planId: `t${i}`,
      title: `Task number ${i} of the benchmark plan`,
      prompt: 'Do the thing. '.repeat(20),
      dependsOn: [...deps],
      expectedFiles: [`src/f${i}.ts`],
      state,
      attempts: state === 'pending' ? 0 : 1,
      maxAttempts: 2,
      agentId: 'opencode',
      routeReason: 'opencode: capable',
      runId: state === 'pending' ? undefined : `r${i}`,
      usage,
      ...(state === 'blocked'
        ? { blocked: { on: 'lease', reason: `lease on src/f${i}.ts overlaps ${id}:t0 (write: src/f${i}.ts)`, since: iso(i * 100) } }
        : {}),
      ...(state !== 'pending' && state !== 'blocked' ? { startedAt: iso(i * 100) } : {}),
      ...(state === 'succeeded' ? { finishedAt: iso(i * 100 + 2000) } : {}),
    });
  }
  return {
    id,
    goal: `Benchmark goal ${id}`,
    cwd: '/repo',
    state: 'running',
    priority: 2,
    tasks,
    budget: { limits: { tokens: 1e6 }, spent: { tokens: 5e5, money: 1 }, reservedTotal: { tokens: 0, money: 0 }, startedAt: iso(0) },
    usage,
    createdAt: iso(Number(id.slice(1)) * 1000),
  };
}

function time(runs: number, fn: () => unknown): number[] {
  for (let i = 0; i < 5; i++) fn(); // warm-up
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    xs.push(performance.now() - t);
  }
  return xs;
}

const big = session('s0', 500);
const others = Array.from({ length: 49 }, (_, i) => session(`s${i + 1}`, 10));
const now = t0 + 60_000;
const render = time(50, () => {
  const g = toGraphTasks(big.tasks);
  return renderDagSvg(g, big.tasks[200].id).length + renderTimelineSvg(g, now, 1200).length;
});
const renderBase = time(50, () => JSON.stringify(big).length);
let seq = 0;
const update = time(50, () => {
  const m = sessionsSnapshot([big, ...others], 's0', ++seq);
  const wire = JSON.parse(JSON.stringify(m)) as typeof m; // what postMessage's structured clone does at least
  const s = wire.selected!;
  const g = toGraphTasks(s.tasks);
  return [
    renderSessionList(wire.sessions, s.id),
    renderSessionHead(s),
    renderSpend(s, now),
    renderDagSvg(g, s.tasks[200].id),
    renderTimelineSvg(g, now, 1200),
    renderTaskDetail(s.tasks[200], undefined, now),
  ].join('').length;
});
const updateBase = time(50, () => JSON.stringify(sessionsSnapshot([big, ...others], 's0', ++seq)).length);

const rows = [
  [
    'dashboard render, 500-task session (layout + SVG)',
    pct(render, 50),
    pct(render, 95),
    pct(renderBase, 50),
    'JSON.stringify of the session (median)',
  ],
  [
    'dashboard update to HTML, 50 sessions / 500 tasks',
    pct(update, 50),
    pct(update, 95),
    pct(updateBase, 50),
    'JSON.stringify of the snapshot (median); goal p95 ≤ 100 ms',
  ],
];
process.stdout.write(`BENCH_ROWS ${JSON.stringify(rows)}\n`);

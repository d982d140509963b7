/**
 * The dashboard's timeline (pure, no DOM): every task that has started becomes a bar on a time axis shared
 * by the whole session, so parallel work shows as overlapping bars and waiting as gaps; a task blocked on a
 * lease shows its wait as a separate segment. Bars are packed into as few lanes as possible (a bar takes the
 * first lane free at its start), which makes the session's actual parallelism visible at a glance.
 */

export interface TimelineInput {
  id: string;
  title: string;
  state: string;
  startedAt?: number;
  finishedAt?: number;
  /** Waiting for a lease or an approval since this time (epoch ms). */
  blocked?: { since: number; reason: string };
  /** Earlier attempts that ended without success (epoch ms): each is its own closed bar. */
  earlier?: { start: number; end: number; outcome: string; error?: string }[];
}

export interface TimelineBar {
  id: string;
  title: string;
  state: string;
  lane: number;
  /** Epoch ms. */
  start: number;
  end: number;
  /** Still running (or waiting): the bar ends at `now`. */
  open: boolean;
  kind: 'run' | 'wait';
  reason?: string;
}

export interface Timeline {
  bars: TimelineBar[];
  lanes: number;
  /** The axis: first start and last end (or now). */
  from: number;
  to: number;
  /** Most bars running at the same moment (the session's peak parallelism). */
  peakParallel: number;
}

export function buildTimeline(tasks: readonly TimelineInput[], nowMs: number): Timeline {
  const spans: Omit<TimelineBar, 'lane'>[] = [];
  for (const t of tasks) {
    for (const a of t.earlier ?? [])
      spans.push({
        id: t.id,
        title: t.title,
        state: a.outcome,
        start: a.start,
        end: Math.max(a.end, a.start),
        open: false,
        kind: 'run',
        ...(a.error ? { reason: a.error } : {}),
      });
    if (t.blocked && t.state === 'blocked')
      spans.push({
        id: t.id,
        title: t.title,
        state: t.state,
        start: t.blocked.since,
        end: nowMs,
        open: true,
        kind: 'wait',
        reason: t.blocked.reason,
      });
    if (t.startedAt === undefined) continue;
    const end = t.finishedAt ?? nowMs;
    spans.push({
      id: t.id,
      title: t.title,
      state: t.state,
      start: t.startedAt,
      end: Math.max(end, t.startedAt),
      open: t.finishedAt === undefined,
      kind: 'run',
    });
  }
  spans.sort((a, b) => a.start - b.start || a.end - b.end || a.id.localeCompare(b.id));
  const laneEnds: number[] = [];
  const bars: TimelineBar[] = [];
  for (const s of spans) {
    let lane = laneEnds.findIndex((e) => e <= s.start);
    if (lane < 0) lane = laneEnds.push(0) - 1;
    laneEnds[lane] = s.end;
    bars.push({ ...s, lane });
  }
  return {
    bars,
    lanes: laneEnds.length,
    from: spans.length ? Math.min(...spans.map((s) => s.start)) : nowMs,
    to: spans.length ? Math.max(...spans.map((s) => s.end)) : nowMs,
    peakParallel: peak(spans.filter((s) => s.kind === 'run')),
  };
}

/** Most intervals open at one moment (an end at t does not overlap a start at t). */
export function peak(spans: readonly { start: number; end: number }[]): number {
  const points: [number, number][] = [];
  for (const s of spans) points.push([s.start, 1], [s.end, -1]);
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let n = 0;
  let best = 0;
  for (const [, d] of points) best = Math.max(best, (n += d));
  return best;
}

/** Ticks for the axis: a "nice" step (1, 2, 5 × 10^k seconds) giving at most `max` ticks. */
export function axisTicks(from: number, to: number, max = 8): number[] {
  const span = Math.max(1, to - from);
  const raw = span / max;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? 10 * pow;
  const ticks: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) ticks.push(t);
  return ticks;
}

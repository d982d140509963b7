/**
 * SVG for the dashboard's session views (pure strings, testable without a browser): the task graph
 * (nodes coloured by state through `state-*` classes that the stylesheet maps to theme colours, edges =
 * dependencies, a task waiting on a lease drawn dashed with the reason in its tooltip) and the timeline
 * (bars on the session's shared time axis). Nodes and bars are focusable (`tabindex`, `role="button"`,
 * `aria-label`) and carry `data-task` so one delegated listener selects a task.
 */
import * as l10n from '@vscode/l10n';
import { layoutDag, type DagInput } from './dagLayout';
import { escapeHtml } from './render';
import { axisTicks, buildTimeline, type TimelineInput } from './timeline';

export interface GraphTask extends DagInput, TimelineInput {
  planId: string;
  agentId?: string;
  attempts?: number;
}

const stateLabel: Record<string, string> = {
  pending: 'waiting for dependencies',
  ready: 'ready to start',
  running: 'running',
  blocked: 'waiting',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  skipped: 'skipped',
  requeued: 'put back in the queue',
};

export const labelOfState = (state: string): string => stateLabel[state] ?? state;

/** A glyph per state, so the state reads without relying on colour alone. */
const stateGlyph: Record<string, string> = {
  pending: '○',
  ready: '○',
  running: '●',
  blocked: '⏸',
  succeeded: '✓',
  failed: '✗',
  cancelled: '⊘',
  skipped: '↷',
};

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function renderDagSvg(tasks: readonly GraphTask[], selectedId?: string): string {
  const layout = layoutDag(tasks);
  if (!layout.nodes.length) return `<p class="empty">${escapeHtml(l10n.t('No tasks yet.'))}</p>`;
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const at = new Map(layout.nodes.map((n) => [n.id, n]));
  const w = layout.nodeWidth;
  const h = layout.nodeHeight;
  const edges = layout.edges
    .map((e) => {
      const a = at.get(e.from)!;
      const b = at.get(e.to)!;
      // Through the virtual nodes' lanes: enter and leave each passed column horizontally.
      const points = [{ x: a.x + w, y: a.y + h / 2 }];
      for (const v of e.via ?? []) points.push({ x: v.x - w / 2, y: v.y }, { x: v.x + w / 2, y: v.y });
      points.push({ x: b.x, y: b.y + h / 2 });
      let d = `M${points[0].x} ${points[0].y}`;
      for (let k = 1; k < points.length; k++) {
        const p = points[k - 1];
        const q = points[k];
        const mx = (p.x + q.x) / 2;
        d += p.y === q.y ? ` L${q.x} ${q.y}` : ` C${mx} ${p.y} ${mx} ${q.y} ${q.x} ${q.y}`;
      }
      return `<path class="edge" d="${d}" />`;
    })
    .join('');
  const nodes = layout.nodes
    .map((n) => {
      const t = byId.get(n.id)!;
      const waiting = t.state === 'blocked' && t.blocked ? ` — ${t.blocked.reason}` : '';
      const label = `${t.planId}: ${t.title} (${labelOfState(t.state)}${waiting})`;
      const classes = ['node', `state-${t.state}`, t.id === selectedId ? 'selected' : '', t.blocked ? 'waiting' : '']
        .filter(Boolean)
        .join(' ');
      return (
        `<g class="${classes}" data-task="${escapeHtml(t.id)}" tabindex="0" role="button" aria-label="${escapeHtml(label)}" transform="translate(${n.x} ${n.y})">` +
        `<title>${escapeHtml(label)}</title>` +
        `<rect width="${w}" height="${h}" rx="4" />` +
        `<text x="8" y="16" class="node-id">${escapeHtml(clip(t.planId, 20))}</text>` +
        `<text x="${w - 8}" y="16" class="node-state" text-anchor="end" aria-hidden="true">${stateGlyph[t.state] ?? ''}</text>` +
        `<text x="8" y="32" class="node-title">${escapeHtml(clip(t.title, 24))}</text>` +
        `</g>`
      );
    })
    .join('');
  return `<svg class="dag" role="group" aria-label="Task graph" width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}">${edges}${nodes}</svg>`;
}

export function renderTimelineSvg(tasks: readonly GraphTask[], nowMs: number, width = 640): string {
  const tl = buildTimeline(tasks, nowMs);
  if (!tl.bars.length) return `<p class="empty">${escapeHtml(l10n.t('Nothing has started yet.'))}</p>`;
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const lane = 22;
  const top = 20;
  const left = 4;
  const span = Math.max(1, tl.to - tl.from);
  const x = (t: number) => left + ((t - tl.from) / span) * (width - 2 * left);
  const height = top + tl.lanes * lane + 4;
  const ticks = axisTicks(0, span)
    .map(
      (t) =>
        `<g class="tick"><line x1="${x(tl.from + t)}" x2="${x(tl.from + t)}" y1="14" y2="${height}" /><text x="${x(tl.from + t) + 2}" y="11">${(t / 1000).toFixed(t % 1000 ? 1 : 0)} s</text></g>`,
    )
    .join('');
  const bars = tl.bars
    .map((b) => {
      const what = b.kind === 'wait' ? `waiting (${b.reason ?? ''})` : `${labelOfState(b.state)}${b.reason ? ` (${b.reason})` : ''}`;
      const label = `${b.title}: ${what}, ${((b.end - b.start) / 1000).toFixed(1)} s${b.open ? ' so far' : ''}`;
      const bw = Math.max(2, x(b.end) - x(b.start));
      const y = top + b.lane * lane;
      // The task's plan id inside its bar when it fits (about 6.5 px a character at 11 px).
      const name = byId.get(b.id)?.planId ?? b.title;
      const text =
        name.length * 6.5 + 8 <= bw
          ? `<text class="bar-label" x="${(x(b.start) + 4).toFixed(1)}" y="${y + 13}">${escapeHtml(name)}</text>`
          : '';
      return (
        `<rect class="bar ${b.kind} state-${b.state}${b.open ? ' open' : ''}" data-task="${escapeHtml(b.id)}" tabindex="0" role="button" ` +
        `aria-label="${escapeHtml(label)}" x="${x(b.start).toFixed(1)}" y="${y}" width="${bw.toFixed(1)}" height="${lane - 4}" rx="2"><title>${escapeHtml(label)}</title></rect>` +
        text
      );
    })
    .join('');
  return `<svg class="timeline" role="group" aria-label="Timeline, peak ${tl.peakParallel} in parallel" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${ticks}${bars}</svg>`;
}

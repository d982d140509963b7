/**
 * What is going on, in two numbers a glance needs: tasks running now, and what waits on the user (plans to
 * approve, sessions paused for a budget crossing or a conflict). Pure: the status bar and the Sessions
 * view's badge render it.
 */
import type { RunView } from '../../../protocol/run';
import type { SessionView } from '../../../protocol/session';

export interface Activity {
  /** Session tasks and single runs running now. */
  running: number;
  /** Sessions that wait on the user: drafts to approve, sessions paused for a budget crossing or a conflict. */
  waiting: number;
  /** Tokens spent by the sessions and single runs the view knows (input + output). */
  tokens: number;
  /** Money spent, when the provider reports it (0 otherwise). */
  cost: number;
}

const waitsOnUser = (s: SessionView) => s.state === 'draft' || s.state === 'awaiting_approval';

export function summarizeActivity(sessions: readonly SessionView[], runs: readonly RunView[]): Activity {
  let running = 0;
  let tokens = 0;
  let cost = 0;
  for (const s of sessions) {
    running += s.tasks.filter((t) => t.state === 'running').length;
    tokens += s.usage.inputTokens + s.usage.outputTokens;
    cost += s.usage.cost;
  }
  for (const r of runs) {
    if (r.sessionId) continue; // counted through its session
    if (r.state === 'running') running++;
    tokens += r.usage.inputTokens + r.usage.outputTokens;
    cost += r.usage.cost;
  }
  return { running, waiting: sessions.filter(waitsOnUser).length, tokens, cost };
}

const compact = (n: number) => (n >= 1_000_000 ? `${(n / 1_000_000).toFixed(1)}M` : n >= 1_000 ? `${(n / 1_000).toFixed(1)}k` : String(n));

/** " · 2 running · 1 waiting · 12.3k tokens · $0.04", empty when nothing ran yet. */
export function activitySuffix(a: Activity): string {
  const parts: string[] = [];
  if (a.running) parts.push(`${a.running} running`);
  if (a.waiting) parts.push(`${a.waiting} waiting`);
  if (a.tokens) parts.push(`${compact(a.tokens)} tokens`);
  if (a.cost > 0) parts.push(`$${a.cost < 1 ? a.cost.toFixed(3) : a.cost.toFixed(2)}`);
  return parts.map((p) => ` · ${p}`).join('');
}

/**
 * What is going on, in two numbers a glance needs: tasks running now, and what waits on the user (plans to
 * approve, sessions paused for a budget crossing or a merge conflict, open permission asks, applies refused
 * over uncommitted edits). Pure: the status bar and the Sessions view's badge render it.
 */
import { errorCodes } from '../../../protocol/errors';
import type { RunView } from '../../../protocol/run';
import type { SessionView } from '../../../protocol/session';

/** What waits on the user that the server's session views do not say: known to the extension only. */
export interface UserWaits {
  /** Permission asks shown and not answered yet. */
  permissionAsks: number;
  /** Sessions whose apply was refused because the user's uncommitted edits overlap (not applied since). */
  applyConflicts: readonly string[];
}

/** What waits on the user, by kind; `Activity.waiting` is their sum. */
export interface WaitingOn {
  /** Drafts whose plan waits for approval, and sessions paused for a decision (budget crossing, merge conflict). */
  approvals: number;
  permissionAsks: number;
  /** Sessions whose apply was refused over overlapping uncommitted edits. */
  applyConflicts: number;
}

export interface Activity {
  /** Session tasks and single runs running now. */
  running: number;
  /** Everything that waits on the user: the sum of `waitingOn`. */
  waiting: number;
  waitingOn: WaitingOn;
  /** Tokens spent by the sessions and single runs the view knows (input + output). */
  tokens: number;
  /** Money spent, when the provider reports it (0 otherwise). */
  cost: number;
}

const waitsOnUser = (s: SessionView) => s.state === 'draft' || s.state === 'awaiting_approval';

const noWaits: UserWaits = { permissionAsks: 0, applyConflicts: [] };

export function summarizeActivity(sessions: readonly SessionView[], runs: readonly RunView[], waits: UserWaits = noWaits): Activity {
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
  const refused = new Set(waits.applyConflicts);
  const waitingOn: WaitingOn = {
    approvals: sessions.filter(waitsOnUser).length,
    permissionAsks: waits.permissionAsks,
    // Only sessions the view still knows and that were not applied since (a later apply or a delete clears them).
    applyConflicts: sessions.filter((s) => refused.has(s.id) && !s.appliedAt).length,
  };
  const waiting = waitingOn.approvals + waitingOn.permissionAsks + waitingOn.applyConflicts;
  return { running, waiting, waitingOn, tokens, cost };
}

/** The files of an apply refused over the user's uncommitted edits (`session/apply` conflict with `data.files`); else undefined. */
export function applyConflictFiles(e: unknown): string[] | undefined {
  if (!e || typeof e !== 'object') return undefined;
  const { code, data } = e as { code?: unknown; data?: { files?: unknown } };
  if (code !== errorCodes.conflict || !Array.isArray(data?.files) || !data.files.length) return undefined;
  return data.files.every((f) => typeof f === 'string') ? (data.files as string[]) : undefined;
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

/**
 * The rules of the tools our MCP server gives agents (`task_context`, `report_progress`, `claim_lease`,
 * `release_lease`, `budget`). Pure: the agent tool service reads the store, calls these, and writes what
 * they return. Nothing the agent sends is trusted: which session, task and worktree a call is about comes
 * from the run's grant, never from the arguments, and every path is normalised here before it reaches
 * the lease table.
 *
 * Rules:
 * - A lease path is relative to the repository: absolute paths (`/x`, `C:\x`, `\\host`), `..` segments,
 *   NUL bytes, empty paths and paths over 1,024 characters are refused with the reason. `./`, duplicate
 *   slashes and backslashes are normalised.
 * - `claim_lease` adds the paths to the task's lease in one all-or-nothing step through `tryAcquire`
 *   (the scheduler's conflict rules). A path held by another task is refused, naming the holder (id and
 *   title) and its globs. Only a running task of a running session may claim; a read-only task may not
 *   claim a write lease.
 * - `release_lease` drops paths the agent claimed. The task's planned paths (`expectedFiles`) stay: the
 *   orchestrator releases them when the task ends. A path the task does not hold is reported, not an error.
 * - `budget` is the session's ledger as `remaining()` computes it; `null` means "no limit".
 * - `report_progress` takes a message (1–500 characters after trimming) and an optional percent (0–100).
 */
import type { BudgetState } from './budget';
import { remaining } from './budget';
import { tryAcquire, leaseOf, release as releaseAll, type Lease, type LeaseMode, type LeaseTable } from './lease';

export const agentToolNames = ['task_context', 'report_progress', 'claim_lease', 'release_lease', 'budget'] as const;
export type AgentToolName = (typeof agentToolNames)[number];

export const maxLeasePathLength = 1024;
export const maxLeasePaths = 100;
export const maxProgressLength = 500;

export type PathCheck = { ok: true; path: string } | { ok: false; reason: string };

/** A lease path from an agent, normalised to repository-relative `a/b/c`, or why it is refused. */
export function normaliseLeasePath(raw: unknown): PathCheck {
  if (typeof raw !== 'string') return { ok: false, reason: 'a path must be a string' };
  const p = raw.trim();
  const shown = JSON.stringify(p.length > 80 ? `${p.slice(0, 80)}…` : p);
  if (!p) return { ok: false, reason: 'an empty path names nothing' };
  if (p.length > maxLeasePathLength) return { ok: false, reason: `${shown} is longer than ${maxLeasePathLength} characters` };
  if (p.includes('\u0000')) return { ok: false, reason: `${shown} contains a NUL byte` };
  if (/^[\\/]/.test(p) || /^[A-Za-z]:/.test(p) || p.startsWith('~'))
    return { ok: false, reason: `${shown} is absolute; name paths relative to the repository` };
  const parts = p.replace(/\\/g, '/').split('/');
  if (parts.includes('..')) return { ok: false, reason: `${shown} climbs out with ".."; name paths inside the repository` };
  const clean = parts.filter((s) => s !== '' && s !== '.').join('/');
  if (!clean) return { ok: false, reason: `${shown} names the repository itself, not a path in it` };
  return { ok: true, path: clean + (/[\\/]$/.test(p) ? '/' : '') };
}

/** Every path normalised, or the reasons of all the refused ones (nothing is taken when one is bad). */
export function normaliseLeasePaths(raw: unknown): { ok: true; paths: string[] } | { ok: false; reason: string } {
  if (!Array.isArray(raw) || raw.length === 0) return { ok: false, reason: 'paths: give a non-empty list of repository-relative paths' };
  if (raw.length > maxLeasePaths) return { ok: false, reason: `paths: at most ${maxLeasePaths} paths per call (got ${raw.length})` };
  const out: string[] = [];
  const bad: string[] = [];
  for (const r of raw) {
    const c = normaliseLeasePath(r);
    if (c.ok) out.push(c.path);
    else bad.push(c.reason);
  }
  if (bad.length) return { ok: false, reason: `paths refused: ${bad.join('; ')}` };
  return { ok: true, paths: [...new Set(out)] };
}

/** What the lease rules need of the task the call is about. */
export interface ToolTask {
  id: string;
  title: string;
  state: string;
  mode: LeaseMode;
  expectedFiles: readonly string[];
}

export interface ClaimInput {
  table: LeaseTable;
  /** The session's repository (the scheduler's lease `repo`). */
  repo: string;
  sessionState: string;
  task: ToolTask;
  /** Titles of the session's tasks by id, to name a holder. */
  titles: ReadonlyMap<string, string>;
  paths: unknown;
  mode?: unknown;
  nowMs: number;
  ttlMs: number;
}

export type ClaimResult =
  | { ok: true; table: LeaseTable; lease: Lease; added: string[] }
  | { ok: false; reason: string; holders: { taskId: string; title?: string; mode: LeaseMode; globs: string[] }[] };

const refused = (reason: string): ClaimResult => ({ ok: false, reason, holders: [] });

export function claimLease(i: ClaimInput): ClaimResult {
  if (i.mode !== undefined && i.mode !== 'write' && i.mode !== 'read') return refused('mode: must be "write" or "read"');
  const norm = normaliseLeasePaths(i.paths);
  if (!norm.ok) return refused(norm.reason);
  if (i.sessionState !== 'running') return refused(`the session is ${i.sessionState}, not running: no lease can be claimed now`);
  if (i.task.state !== 'running') return refused(`task ${i.task.id} is ${i.task.state}, not running: no lease can be claimed now`);
  const held = leaseOf(i.table, i.task.id);
  const mode: LeaseMode = (i.mode as LeaseMode | undefined) ?? held?.mode ?? i.task.mode;
  if (i.task.mode === 'read' && mode === 'write') return refused(`task ${i.task.id} is a read-only task; it may not claim a write lease`);
  // A read lease upgraded to write is checked again for every glob (another reader may hold them).
  const globs = [...new Set([...(held && held.expiresAt > i.nowMs ? held.globs : i.task.expectedFiles), ...norm.paths])];
  const r = tryAcquire(i.table, { taskId: i.task.id, repo: i.repo, globs, mode }, i.nowMs, i.ttlMs);
  if (!r.ok) {
    const holders = r.conflicts.map((c) => ({ ...c, title: i.titles.get(c.taskId) }));
    const named = holders
      .map((h) => `task ${h.taskId}${h.title ? ` "${h.title}"` : ''} (${h.mode} lease on ${h.globs.join(', ')})`)
      .join('; ');
    return {
      ok: false,
      reason: `refused: ${norm.paths.join(', ')} ${holders.length === 1 ? 'is' : 'are'} held by ${named}. Wait for it to finish, or work on other files.`,
      holders,
    };
  }
  const added = norm.paths.filter((p) => !held?.globs.includes(p));
  return { ok: true, table: r.table, lease: r.lease, added };
}

export interface ReleaseInput {
  table: LeaseTable;
  task: ToolTask;
  paths: unknown;
}

export type ReleaseResult =
  | { ok: true; table: LeaseTable; released: string[]; notHeld: string[]; kept: string[]; remaining: string[] }
  | { ok: false; reason: string };

export function releaseLease(i: ReleaseInput): ReleaseResult {
  const norm = normaliseLeasePaths(i.paths);
  if (!norm.ok) return norm;
  const held = leaseOf(i.table, i.task.id);
  const planned = new Set(i.task.expectedFiles);
  const kept = norm.paths.filter((p) => planned.has(p));
  const asked = norm.paths.filter((p) => !planned.has(p));
  const released = asked.filter((p) => held?.globs.includes(p));
  const notHeld = asked.filter((p) => !held?.globs.includes(p));
  if (!held || !released.length) return { ok: true, table: i.table, released, notHeld, kept, remaining: held?.globs ?? [] };
  const rest = held.globs.filter((g) => !released.includes(g));
  const table = rest.length
    ? { leases: i.table.leases.map((l) => (l === held ? { ...l, globs: rest } : l)) }
    : releaseAll(i.table, i.task.id);
  return { ok: true, table, released, notHeld, kept, remaining: rest };
}

export interface BudgetView {
  limits: { tokens: number | null; money: number | null; wallMs: number | null };
  spent: { tokens: number; money: number };
  reserved: { tokens: number; money: number };
  /** Headroom per limit: limit − spent − reserved (wall: limit − elapsed); `null` when there is no limit. */
  remaining: { tokens: number | null; money: number | null; wallMs: number | null };
}

const finite = (n: number | undefined): number | null => (n === undefined || !Number.isFinite(n) ? null : n);

export function budgetView(b: BudgetState, nowMs: number): BudgetView {
  const r = remaining(b, nowMs);
  return {
    limits: { tokens: finite(b.limits.tokens), money: finite(b.limits.money), wallMs: finite(b.limits.wallMs) },
    spent: { ...b.spent },
    reserved: { ...b.reservedTotal },
    remaining: { tokens: finite(r.tokens), money: finite(r.money), wallMs: finite(r.wallMs) },
  };
}

export type ProgressCheck = { ok: true; message: string; percent?: number } | { ok: false; reason: string };

export function checkProgress(message: unknown, percent: unknown): ProgressCheck {
  if (typeof message !== 'string' || !message.trim()) return { ok: false, reason: 'message: say what you are doing (1–500 characters)' };
  const m = message.trim().replace(/\s+/g, ' ');
  if (m.length > maxProgressLength) return { ok: false, reason: `message: at most ${maxProgressLength} characters (got ${m.length})` };
  if (percent === undefined || percent === null) return { ok: true, message: m };
  if (typeof percent !== 'number' || !Number.isFinite(percent) || percent < 0 || percent > 100)
    return { ok: false, reason: 'percent: a number from 0 to 100' };
  return { ok: true, message: m, percent: Math.round(percent) };
}

/** The context a task's agent can read: what the session is for, what the task is, what came before. */
export interface TaskContextView {
  goal: string;
  task: { id: string; title: string; prompt: string; mode: LeaseMode; plannedPaths: string[] };
  dependencies: { id: string; title: string; state: string; summary: string; changedFiles: string[] }[];
  /** Files changed in the task's worktree since it started (committed or not). */
  changedFiles: string[];
  lease: { mode: LeaseMode; paths: string[] } | null;
}

export function taskContextView(i: {
  goal: string;
  task: ToolTask & { prompt: string; dependsOn: readonly string[] };
  tasks: readonly { id: string; title: string; state: string; result?: { summary: string; changedFiles: string[] } }[];
  changedFiles: readonly string[];
  lease: Lease | undefined;
}): TaskContextView {
  const byId = new Map(i.tasks.map((t) => [t.id, t]));
  return {
    goal: i.goal,
    task: { id: i.task.id, title: i.task.title, prompt: i.task.prompt, mode: i.task.mode, plannedPaths: [...i.task.expectedFiles] },
    dependencies: i.task.dependsOn.flatMap((id) => {
      const d = byId.get(id);
      return d
        ? [{ id, title: d.title, state: d.state, summary: d.result?.summary ?? '', changedFiles: [...(d.result?.changedFiles ?? [])] }]
        : [];
    }),
    changedFiles: [...new Set(i.changedFiles)].sort(),
    lease: i.lease ? { mode: i.lease.mode, paths: [...i.lease.globs] } : null,
  };
}

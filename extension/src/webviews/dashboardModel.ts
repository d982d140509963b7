/**
 * What the dashboard host sends and does, without `vscode` (unit-tested): the sessions snapshot built
 * from the sessions the host knows, the mapping of a validated `dashboard/command` to a VS Code command
 * with its arguments, and the throttle that bounds snapshots to one per interval.
 */
import type { SessionView } from '../../../protocol/session';
import type { DashboardCommand, DashboardSessionsMessage, SessionSummary } from '../../../protocol/webview/dashboard';
import { commandIds } from '../commands/ids';

/** The most sessions the list carries (newest first). */
export const maxListedSessions = 200;

/**
 * Task commands added with the `task/retry` and `task/cancel` protocol methods (another branch); they take
 * (sessionId, taskId). Until that branch is merged, running them fails and the dashboard says so in place.
 */
export const taskCommandIds = {
  retryTask: 'orchestrator.retryTask',
  cancelTask: 'orchestrator.cancelTask',
  setTaskPriority: 'orchestrator.setTaskPriority',
} as const;

export function summarize(s: SessionView): SessionSummary {
  return {
    id: s.id,
    goal: s.goal,
    state: s.state,
    tasks: s.tasks.length,
    done: s.tasks.filter((t) => t.state === 'succeeded').length,
    running: s.tasks.filter((t) => t.state === 'running').length,
    createdAt: s.createdAt,
    ...(s.appliedAt ? { appliedAt: s.appliedAt } : {}),
  };
}

/** The complete snapshot: newest first; the selected session in full (the newest when none is chosen or it is gone). */
export function sessionsSnapshot(
  sessions: Iterable<SessionView>,
  selectedId: string | undefined,
  seq: number,
  readOnly = false,
): DashboardSessionsMessage {
  const all = [...sessions].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  const selected = all.find((s) => s.id === selectedId) ?? all[0] ?? null;
  return {
    type: 'dashboard/sessions',
    seq,
    sessions: all.slice(0, maxListedSessions).map(summarize),
    selected,
    ...(readOnly ? { readOnly: true } : {}),
  };
}

/** The VS Code command (and its arguments) a dashboard button stands for. */
export function commandFor(c: DashboardCommand): { id: string; args: unknown[] } {
  switch (c.command) {
    case 'restartServer':
      return { id: commandIds.restartServer, args: [] };
    case 'showLogs':
      return { id: commandIds.showLogs, args: [] };
    case 'approveSession':
      return { id: commandIds.approveSession, args: [c.sessionId] };
    case 'cancelSession':
      return { id: commandIds.cancelSession, args: [c.sessionId] };
    case 'retrySession':
      return { id: commandIds.retrySession, args: [c.sessionId] };
    case 'applySession':
      return { id: commandIds.applySession, args: [c.sessionId] };
    case 'retryTask':
      return { id: taskCommandIds.retryTask, args: [c.sessionId, c.taskId] };
    case 'cancelTask':
      return { id: taskCommandIds.cancelTask, args: [c.sessionId, c.taskId] };
    case 'setTaskPriority':
      return { id: taskCommandIds.setTaskPriority, args: [c.sessionId, c.taskId] };
  }
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Runs `fn` at most once per `intervalMs`: the first request runs at once, requests inside the interval
 * collapse into one run at its end (so the last change is always sent).
 */
export class Throttle {
  private last = -Infinity;
  private timer: unknown;

  constructor(
    private readonly intervalMs: number,
    private readonly fn: () => void,
    private readonly clock: Clock = realClock,
  ) {}

  request(): void {
    if (this.timer !== undefined) return;
    const wait = this.last + this.intervalMs - this.clock.now();
    if (wait <= 0) return this.run();
    this.timer = this.clock.setTimeout(() => this.run(), wait);
  }

  private run(): void {
    this.timer = undefined;
    this.last = this.clock.now();
    this.fn();
  }

  dispose(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * One task inside a running session: retry it, cancel it (and its dependents), set its priority, while
 * the rest of the session goes on. The rules are in domain/orchestration/taskControl.ts; they are checked
 * again inside the store update, on the state written, so a task that ended meanwhile is refused and
 * nothing changes.
 */
import type { SessionView } from '../../../protocol/session';
import { cancelCascade, retryTask } from '../domain/orchestration/dagProgress';
import { isSessionTerminal, transitionSession } from '../domain/orchestration/sessionState';
import { checkCancel, checkPriority, checkRetry, sessionTask } from '../domain/orchestration/taskControl';
import { isActiveTask } from '../domain/orchestration/taskState';
import type { SessionRecords, StoredTask } from './sessionRecords';
import type { SessionRunner } from './sessionRunner';

export interface TaskControlDeps {
  records: SessionRecords;
  runner: SessionRunner;
  now(): number;
  /** Cancels an agent turn (RunService.cancel). */
  cancelRun(runId: string): Promise<unknown>;
}

export class SessionTaskControl {
  constructor(private readonly d: TaskControlDeps) {}

  /** `task/cancel`: the task and its dependents are cancelled; its running turn ends as cancelled (partial output kept). */
  async cancel(sessionId: string, taskId: string): Promise<SessionView> {
    const s = this.d.records.session(sessionId);
    checkCancel(s, sessionTask(sessionId, this.d.records.tasksOf(sessionId), taskId));
    const now = this.d.now();
    let active: StoredTask[] = [];
    // The runner must know before the store says so: a turn that ends now counts as a cancel, not a failure.
    const current = this.d.records.tasksOf(sessionId);
    const cascade = new Set(cancelCascade(current, taskId, now).changed.map((t) => t.id));
    const before = current.filter((t) => cascade.has(t.id) && isActiveTask(t));
    for (const t of before) this.d.runner.requestCancel(t.id);
    try {
      await this.d.records.mutate((st) => {
        const tasks = st.tasksOf(sessionId);
        checkCancel(st.session(sessionId)!, sessionTask(sessionId, tasks, taskId));
        const { changed } = cancelCascade(tasks, taskId, now);
        const ids = new Set(changed.map((t) => t.id));
        active = tasks.filter((t) => ids.has(t.id) && isActiveTask(t));
        st.updateTasksOf(sessionId, () => changed);
      });
    } finally {
      for (const t of before) if (!active.some((a) => a.id === t.id)) this.d.runner.withdrawCancel(t.id);
    }
    this.d.runner.publish(sessionId);
    // Its turn ends as cancelled; the runner then frees the lease and settles the budget.
    await Promise.all(active.filter((t) => t.runId).map((t) => this.d.cancelRun(t.runId!).catch(() => undefined)));
    // A task that was not running ends nothing by itself: the pump finishes a session whose tasks all ended.
    this.d.runner.pump();
    return this.d.records.view(sessionId);
  }

  /** `task/retry`: re-open the task (and the dependents that were skipped or cancelled because of it). */
  retry(sessionId: string, taskId: string, raiseLimit = true): Promise<SessionView> {
    // A finished session may have been archived: bring it back before changing it.
    return this.d.records.holding(sessionId, () => this.retryHeld(sessionId, taskId, raiseLimit));
  }

  private async retryHeld(sessionId: string, taskId: string, raiseLimit: boolean): Promise<SessionView> {
    // A task cancelled while it merged is still ending: its end is recorded before it is re-opened.
    await this.d.runner.endedTasksSettled(sessionId);
    const s = this.d.records.session(sessionId);
    checkRetry(s, this.d.records.tasksOf(sessionId), sessionTask(sessionId, this.d.records.tasksOf(sessionId), taskId), raiseLimit);
    const now = this.d.now();
    let reopenedSession = false;
    await this.d.records.mutate((st) => {
      const tasks = st.tasksOf(sessionId);
      const session = st.session(sessionId)!;
      checkRetry(session, tasks, sessionTask(sessionId, tasks, taskId), raiseLimit);
      reopenedSession = isSessionTerminal(session.state);
      if (reopenedSession) st.updateSession(sessionId, (x) => transitionSession(x, { type: 'retry', nowMs: now }));
      st.updateTasksOf(sessionId, () => retryTask(tasks, taskId, now, { raiseLimit }).changed);
    });
    // A session that had ended lost its integration worktree (or is losing it now); the merges of the retried work need it.
    await this.d.runner.resumeAfterRetry(s, reopenedSession);
    return this.d.records.view(sessionId);
  }

  /** `task/setPriority`: 0 = highest … 4 = lowest; the scheduler uses it the next time it picks. */
  async setPriority(sessionId: string, taskId: string, priority: number): Promise<SessionView> {
    this.d.records.session(sessionId);
    checkPriority(sessionTask(sessionId, this.d.records.tasksOf(sessionId), taskId));
    const now = this.d.now();
    await this.d.records.mutate((st) => {
      checkPriority(sessionTask(sessionId, st.tasksOf(sessionId), taskId));
      st.updateTask(taskId, (t) => ({ ...t, priority, updatedAt: now }));
    });
    this.d.runner.publish(sessionId);
    this.d.runner.pump();
    return this.d.records.view(sessionId);
  }
}

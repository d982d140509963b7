/**
 * The user's control of one task inside a session (`task/retry`, `task/cancel`, `task/setPriority`):
 * which requests apply, with errors that name the field at fault. Pure: the service reads the stored
 * session and tasks, asks these rules (inside the store update, on the state it writes), then applies
 * `retryTask` / `cancelCascade` from dagProgress.ts.
 *
 * - cancel: the session has started and not ended; the task has not ended (its dependents follow);
 * - retry: the session has started and was not applied; the task failed, was cancelled or skipped, and
 *   every task it depends on succeeded (else the dependency is the one to retry: that re-opens this one);
 *   attempts used up need `raiseLimit` (the default for a user retry);
 * - priority: any task that is neither running nor succeeded.
 */
import { DomainError } from '../errors';
import { isSessionTerminal, type Session } from './sessionState';
import { isActiveTask, type Task } from './taskState';

type SessionFacts = Pick<Session, 'id' | 'state' | 'startedAt'> & { applied?: unknown };

const conflict = (field: 'sessionId' | 'taskId' | 'raiseLimit', message: string): DomainError =>
  new DomainError('conflict', `${field}: ${message}`, { field });

/** The task `taskId` of the session, or notFound naming `taskId` (unknown, or a task of another session). */
export function sessionTask<T extends Task>(sessionId: string, tasks: readonly T[], taskId: string): T {
  const t = tasks.find((x) => x.id === taskId && x.sessionId === sessionId);
  if (t) return t;
  const byPlanId = tasks.find((x) => x.planId === taskId && x.sessionId === sessionId);
  const hint = byPlanId ? ` (its plan id ${JSON.stringify(taskId)} is task ${JSON.stringify(byPlanId.id)})` : '';
  throw new DomainError('not_found', `taskId: session ${sessionId} has no task ${JSON.stringify(taskId)}${hint}`, { field: 'taskId' });
}

function started(s: SessionFacts, action: string): void {
  if (s.state === 'draft')
    throw conflict('sessionId', `session ${s.id} is a draft; approve it first (or edit its plan) to ${action} a task`);
}

/** Throws unless `task` can be cancelled now. */
export function checkCancel(s: SessionFacts, task: Task): void {
  started(s, 'cancel');
  if (isSessionTerminal(s.state)) throw conflict('sessionId', `session ${s.id} already ended (${s.state}); there is nothing to cancel`);
  if (task.state === 'succeeded' || task.state === 'failed' || task.state === 'cancelled' || task.state === 'skipped')
    throw conflict('taskId', `task ${task.planId} already ended (${task.state}); there is nothing to cancel`);
}

/** Throws unless `task` can be retried now; `raiseLimit` (default true) allows an attempt beyond maxAttempts. */
export function checkRetry(s: SessionFacts, tasks: readonly Task[], task: Task, raiseLimit = true): void {
  started(s, 'retry');
  if (s.applied) throw conflict('sessionId', `session ${s.id} was already applied to your working tree; start a new session for more work`);
  if (s.state === 'cancelled' && s.startedAt === undefined)
    throw conflict('sessionId', `session ${s.id} was cancelled before it started; start a new session`);
  if (task.state === 'succeeded') throw conflict('taskId', `task ${task.planId} already succeeded; there is nothing to retry`);
  if (task.state !== 'failed' && task.state !== 'cancelled' && task.state !== 'skipped')
    throw conflict('taskId', `task ${task.planId} is ${task.state}, not failed or cancelled; only an ended task is retried`);
  for (const depId of task.dependsOn) {
    const dep = tasks.find((x) => x.id === depId);
    if (dep && dep.state !== 'succeeded')
      throw conflict(
        'taskId',
        `task ${task.planId} depends on ${dep.planId}, which is ${dep.state}; retry ${dep.planId} instead (that re-opens ${task.planId} too)`,
      );
  }
  if (!raiseLimit && task.attempts >= task.maxAttempts)
    throw conflict(
      'raiseLimit',
      `task ${task.planId} used all its attempts (${task.attempts}/${task.maxAttempts}); retry with raiseLimit true for one more`,
    );
}

/** Throws unless `task`'s priority can change. */
export function checkPriority(task: Task): void {
  if (isActiveTask(task)) throw conflict('taskId', `task ${task.planId} is already running; its priority no longer matters`);
  if (task.state === 'succeeded') throw conflict('taskId', `task ${task.planId} already succeeded`);
}

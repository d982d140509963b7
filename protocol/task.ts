/**
 * `task/*`: control of one task (a node of a session's plan, `TaskView` in `session.ts`) while the rest
 * of its session goes on. Each answers the session's full view after the change. Bad input (an unknown
 * session or task, a task of another session, a task in a state the action does not apply to) gets an
 * error naming the field, and nothing changes.
 */
import { z } from 'zod';
import { defineRequest } from './messages';
import { id, type SessionView } from './session';

/**
 * `task/retry` (client → server): re-open a failed or cancelled task of a session that has started (and
 * its dependents that were skipped or cancelled because of it); a session that had ended runs again.
 * `raiseLimit` (default true) grants one attempt beyond `maxAttempts` when they are used up; `false`
 * refuses then. Errors: notFound (sessionId, taskId), conflict (taskId: succeeded, still open, or waiting
 * on a dependency that is not done; sessionId: a draft, or already applied).
 */
export const taskRetry = defineRequest<SessionView>()(
  'task/retry',
  'clientToServer',
  z.object({ sessionId: id, taskId: id, raiseLimit: z.boolean().optional() }).strict(),
);

/**
 * `task/cancel` (client → server): cancel one open task and, as the plan says, every task that depends
 * on it; a running one's turn ends as cancelled (its partial output kept). The other tasks go on; the
 * session ends as usual once every task ended. Errors: notFound (sessionId, taskId), conflict (taskId:
 * already ended; sessionId: a draft, or ended).
 */
export const taskCancel = defineRequest<SessionView>()('task/cancel', 'clientToServer', z.object({ sessionId: id, taskId: id }).strict());

/**
 * `task/setPriority` (client → server): the task's scheduling priority (0 = highest … 4 = lowest), used
 * whenever the scheduler next picks among ready tasks (a running task keeps its turn). Errors: notFound
 * (sessionId, taskId), conflict (taskId: running or succeeded).
 */
export const taskSetPriority = defineRequest<SessionView>()(
  'task/setPriority',
  'clientToServer',
  z.object({ sessionId: id, taskId: id, priority: z.number().int().min(0).max(4) }).strict(),
);

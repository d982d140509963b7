/**
 * How a session's DAG moves on when tasks finish (the scheduler's `onTaskFinished` side):
 * - a task becomes `ready` when every dependency has `succeeded`;
 * - a failed task with attempts left is retried (back to `pending`, then `ready`) after an exponential
 *   backoff (`notBeforeMs`); once it fails finally (or is skipped), its transitive dependents are `skipped`;
 * - cancelling a task cancels its transitive dependents; cancelling a session cancels every open task;
 * - a user retry re-opens the task and the dependents that were skipped or cancelled because of it.
 * Every function takes the session's tasks and returns the new list plus the tasks that changed (to persist
 * and publish in `session/didChange`). Dependents are found through an index, so a cascade is O(tasks + edges).
 */
import { canRetry, isActiveTask, isTaskTerminal, retryBackoffMs, transitionTask, type Task } from './taskState';

export interface Progress {
  tasks: Task[];
  changed: Task[];
}

export interface RetryPolicy {
  /** Retry failed tasks automatically while attempts < maxAttempts (default true). */
  autoRetry?: boolean;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

/** Direct dependents of each task id. */
export function dependentsIndex(tasks: readonly Task[]): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const t of tasks)
    for (const d of t.dependsOn) {
      const list = index.get(d);
      if (list) list.push(t.id);
      else index.set(d, [t.id]);
    }
  return index;
}

/** Every task that depends on `id`, directly or not (breadth-first, each once). */
export function transitiveDependents(id: string, index: ReadonlyMap<string, readonly string[]>): string[] {
  const seen = new Set<string>();
  const queue = [...(index.get(id) ?? [])];
  for (let i = 0; i < queue.length; i++) {
    const d = queue[i] as string;
    if (seen.has(d)) continue;
    seen.add(d);
    queue.push(...(index.get(d) ?? []));
  }
  return [...seen];
}

/** A copy-on-write view over a task list. */
class Work {
  private readonly byId: Map<string, Task>;
  private readonly changedIds = new Set<string>();
  constructor(private readonly original: readonly Task[]) {
    this.byId = new Map(original.map((t) => [t.id, t] as const));
  }
  get(id: string): Task | undefined {
    return this.byId.get(id);
  }
  set(t: Task): void {
    this.byId.set(t.id, t);
    this.changedIds.add(t.id);
  }
  depsSucceeded(t: Task): boolean {
    return t.dependsOn.every((d) => this.byId.get(d)?.state === 'succeeded');
  }
  result(): Progress {
    const tasks = this.original.map((t) => this.byId.get(t.id) as Task);
    return { tasks, changed: tasks.filter((t) => this.changedIds.has(t.id)) };
  }
}

function promote(w: Work, ids: Iterable<string>, nowMs: number): void {
  for (const id of ids) {
    const t = w.get(id);
    if (t?.state === 'pending' && w.depsSucceeded(t)) w.set(transitionTask(t, { type: 'ready', nowMs }));
  }
}

/** Every pending task whose dependencies all succeeded becomes ready (use when a session starts or resumes). */
export function promoteReady(tasks: readonly Task[], nowMs: number): Progress {
  const w = new Work(tasks);
  promote(
    w,
    tasks.map((t) => t.id),
    nowMs,
  );
  return w.result();
}

function skipDependents(w: Work, from: Task, index: Map<string, string[]>, nowMs: number): void {
  const reason = `dependency ${from.planId} ${from.state === 'skipped' ? 'was skipped' : 'failed'}`;
  for (const id of transitiveDependents(from.id, index)) {
    const t = w.get(id);
    if (t && (t.state === 'pending' || t.state === 'ready' || (t.state === 'blocked' && t.blocked?.on === 'lease'))) {
      w.set(transitionTask(t, { type: 'skip', reason, nowMs }));
    }
  }
}

function cancelDependents(w: Work, from: Task, index: Map<string, string[]>, nowMs: number): void {
  for (const id of transitiveDependents(from.id, index)) {
    const t = w.get(id);
    if (t && !isTaskTerminal(t.state))
      w.set(transitionTask(t, { type: 'cancel', reason: `dependency ${from.planId} was cancelled`, nowMs }));
  }
}

/**
 * Apply the consequences of `taskId` reaching a terminal state (call after its own transition):
 * succeeded → dependents whose dependencies all succeeded become ready; failed → automatic retry with
 * backoff while attempts remain, else dependents are skipped; skipped → dependents skipped; cancelled →
 * dependents cancelled.
 */
export function afterTaskFinished(tasks: readonly Task[], taskId: string, nowMs: number, policy: RetryPolicy = {}): Progress {
  const w = new Work(tasks);
  const t = w.get(taskId);
  if (!t || !isTaskTerminal(t.state)) return w.result();
  const index = dependentsIndex(tasks);
  switch (t.state) {
    case 'succeeded':
      promote(w, index.get(t.id) ?? [], nowMs);
      break;
    case 'failed':
      if ((policy.autoRetry ?? true) && canRetry(t)) {
        const notBeforeMs = nowMs + retryBackoffMs(t.attempts, policy.backoffBaseMs, policy.backoffMaxMs);
        w.set(transitionTask(t, { type: 'retry', notBeforeMs, nowMs }));
        promote(w, [t.id], nowMs);
      } else skipDependents(w, t, index, nowMs);
      break;
    case 'skipped':
      skipDependents(w, t, index, nowMs);
      break;
    case 'cancelled':
      cancelDependents(w, t, index, nowMs);
      break;
  }
  return w.result();
}

/** Cancel one task and, transitively, everything that depends on it. */
export function cancelCascade(tasks: readonly Task[], taskId: string, nowMs: number, reason = 'cancelled by the user'): Progress {
  const w = new Work(tasks);
  const t = w.get(taskId);
  if (!t) return w.result();
  const cancelled = isTaskTerminal(t.state) ? t : transitionTask(t, { type: 'cancel', reason, nowMs });
  if (cancelled !== t) w.set(cancelled);
  cancelDependents(w, cancelled, dependentsIndex(tasks), nowMs);
  return w.result();
}

/** Cancel every open task of the session (session cancel). */
export function cancelAll(tasks: readonly Task[], nowMs: number, reason = 'session cancelled'): Progress {
  const w = new Work(tasks);
  for (const t of tasks) if (!isTaskTerminal(t.state)) w.set(transitionTask(t, { type: 'cancel', reason, nowMs }));
  return w.result();
}

/**
 * A user retry: re-open `taskId` (failed, cancelled or skipped; `raiseLimit` grants an attempt beyond
 * maxAttempts) and the transitive dependents that were skipped or cancelled, then promote what is ready.
 */
export function retryTask(tasks: readonly Task[], taskId: string, nowMs: number, opts: { raiseLimit?: boolean } = {}): Progress {
  const w = new Work(tasks);
  const t = w.get(taskId);
  if (!t) return w.result();
  const reopened = [taskId];
  w.set(transitionTask(t, { type: 'retry', nowMs, ...(opts.raiseLimit === undefined ? {} : { raiseLimit: opts.raiseLimit }) }));
  for (const id of transitiveDependents(taskId, dependentsIndex(tasks))) {
    const d = w.get(id);
    if (d && (d.state === 'skipped' || d.state === 'cancelled')) {
      w.set(transitionTask(d, { type: 'retry', raiseLimit: true, nowMs }));
      reopened.push(id);
    }
  }
  promote(w, reopened, nowMs);
  return w.result();
}

/**
 * Crash recovery: tasks that were active when the server died and cannot be re-attached go back to
 * `ready` (the interrupted attempt is refunded). Pass the ids the caller could not re-attach.
 */
export function requeueInterrupted(
  tasks: readonly Task[],
  ids: Iterable<string>,
  nowMs: number,
  reason = 'interrupted by a server restart',
): Progress {
  const w = new Work(tasks);
  for (const id of ids) {
    const t = w.get(id);
    if (t && isActiveTask(t)) w.set(transitionTask(t, { type: 'requeue', reason, nowMs }));
  }
  return w.result();
}

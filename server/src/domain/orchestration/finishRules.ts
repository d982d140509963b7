/**
 * What happens when a session task's agent run ends: the task's new state, its dependents (retry,
 * skip, promote), its lease, its agent's health, the session's budget, usage and state, and the
 * question put to the user after a merge conflict or when the agent cannot start. Pure: the runner
 * does the I/O (commit, merge, store write) and applies the decision in one store update.
 *
 * Rules, in order:
 * - the run failed (or threw): the task fails with the agent's reason and message;
 * - the run succeeded: its work was committed and merged; a conflict (or a failed commit/merge) fails
 *   the task with the files named, keeps its branch, is not retried automatically, and the session waits
 *   for the user (approve to continue without it);
 * - a `cancelled` run counts as a cancel only when someone asked for it; otherwise the agent stopped
 *   without a final answer, which is a failure;
 * - the agent could not start at all (a fatal start failure): not the task's fault; the attempt is
 *   refunded (the task is requeued), its lease and reservation are freed and the session asks the user;
 * - afterwards: a failure with attempts left is retried after a backoff, a final failure skips its
 *   dependents, a success promotes them; the session finishes when every task has ended, unless it waits
 *   for the user (then approving it finishes it).
 */
import { addUsage, emptyUsage, type UsageTotals } from '../agentEvent';
import { isFatalStartFailure } from '../agentAvailability';
import { sessionTaskWarnings } from '../turnOutcome';
import { reconcile, usageAmount } from './budget';
import { afterTaskFinished } from './dagProgress';
import { release, type LeaseTable } from './lease';
import { newAgentHealth, recordOutcome, recordRelease, type AgentHealth } from './routing';
import { deriveSessionOutcome, transitionSession, type Session } from './sessionState';
import { isTaskTerminal, transitionTask, type Task } from './taskState';

/** What the runner knows of the run when it ended (the agent's `TurnResult`, narrowed to what the rules read). */
export interface RunEnd {
  /** Undefined when the run never produced a result (it threw, or was stopped before the agent started). */
  result?: {
    status: 'succeeded' | 'failed' | 'cancelled';
    summary: string;
    usage: UsageTotals;
    warnings?: string[];
    error?: { reason: string; message: string };
  };
  /** The message of an exception thrown while preparing or awaiting the run. */
  failure?: string;
  /** Someone (the user, a session cancel) asked for this task to be cancelled. */
  cancelRequested: boolean;
}

/** The commit and merge of a succeeded run into the integration branch. */
export type MergeOutcome =
  | { kind: 'merged'; changedFiles: string[]; outsideLease: string[] }
  | { kind: 'conflict'; files: string[] }
  | { kind: 'failed'; message: string };

/** Whether the runner should commit and merge the run's work: only a run that succeeded. */
export function needsMerge(run: RunEnd): boolean {
  return run.result?.status === 'succeeded' && run.failure === undefined;
}

export interface FinishInput<S extends Session, T extends Task> {
  session: S;
  /** The session's tasks as stored now. */
  tasks: readonly T[];
  taskId: string;
  /** The task's branch (kept after a conflict). */
  branch: string;
  leases: LeaseTable;
  agentHealth: Readonly<Record<string, AgentHealth>>;
  run: RunEnd;
  /** Present when `needsMerge(run)` and the runner committed and merged. */
  merge?: MergeOutcome;
  /** The question to ask when `agentId` cannot start (from its availability), if known. */
  unavailableQuestion?(agentId: string): string | undefined;
  nowMs: number;
}

export interface FinishDecision<S extends Session, T extends Task> {
  /** `requeued`: the agent could not start; the attempt was refunded and the session asks the user. */
  kind: 'finished' | 'requeued';
  session: S;
  /** The session's tasks after the decision (the same objects when unchanged). */
  tasks: T[];
  leases: LeaseTable;
  agentId: string;
  health: AgentHealth;
  /** Why the task did not succeed, for the log. */
  error?: string;
  /** The task succeeded and its work is merged: its worktree can go. */
  removeWorktree: boolean;
}

/** The approval text after a merge conflict. */
export function conflictQuestion(planId: string, files: readonly string[], branch: string): string {
  return `Task ${planId} conflicts with work already merged (${files.join(', ')}). Its branch ${branch} is kept. Approve to continue without it, or resolve and retry.`;
}

/** The task's error after a merge conflict. */
export function conflictError(files: readonly string[], branch: string): string {
  return `merge conflict with the integration branch in ${files.join(', ') || 'unknown files'}; the task's work is kept on branch ${branch}`;
}

/** Each task of `changed` merged over the task of the same id in `all`. */
function merge<T extends Task>(all: readonly T[], changed: readonly Task[]): T[] {
  if (!changed.length) return [...all];
  const byId = new Map(changed.map((t) => [t.id, t] as const));
  return all.map((t) => {
    const c = byId.get(t.id);
    return c ? { ...t, ...c } : t;
  });
}

export function finishTask<S extends Session, T extends Task>(i: FinishInput<S, T>): FinishDecision<S, T> {
  const current = i.tasks.find((t) => t.id === i.taskId);
  if (!current) throw new Error(`finishTask: task ${i.taskId} is not in session ${i.session.id}`);
  const { run } = i;
  const agentId = current.agentId ?? 'opencode';
  const health = i.agentHealth[agentId] ?? newAgentHealth();
  const leases = release(i.leases, i.taskId);

  let error =
    run.failure ??
    (run.result?.status === 'failed'
      ? `${run.result.error?.reason ?? 'error'}: ${run.result.error?.message ?? 'the agent failed'}`
      : undefined);
  let changedFiles: string[] = [];
  let conflict: string[] | undefined;
  let note = '';
  if (needsMerge(run) && !error && i.merge) {
    if (i.merge.kind === 'merged') {
      changedFiles = i.merge.changedFiles;
      if (i.merge.outsideLease.length) note = ` (touched outside its lease: ${i.merge.outsideLease.join(', ')}; the merge checks them)`;
    } else if (i.merge.kind === 'conflict') {
      conflict = i.merge.files;
      error = conflictError(conflict, i.branch);
    } else error = `commit or merge failed: ${i.merge.message}`;
  }
  const cancelled = run.cancelRequested && (run.result?.status === 'cancelled' || !run.result);
  // A turn that ended "cancelled" without anyone asking (idle without a final answer) is a failure.
  const result = run.result?.status === 'cancelled' && !cancelled ? { ...run.result, status: 'failed' as const } : run.result;
  if (result !== run.result && !error) error = 'the agent stopped without a final answer';

  // The agent could not start at all: not the task's fault and not transient. Ask the user instead of
  // burning attempts (the attempt is refunded, the task waits ready).
  if (!cancelled && isFatalStartFailure(run.result?.error?.reason)) {
    const why = error ?? 'the agent could not start';
    const tasks = isTaskTerminal(current.state)
      ? [...i.tasks]
      : merge(i.tasks, [transitionTask(current, { type: 'requeue', reason: why, nowMs: i.nowMs })]);
    const question = i.unavailableQuestion?.(agentId) ?? `${agentId} cannot start: ${why}. Fix it, then approve to continue.`;
    const budgeted: S = { ...i.session, budget: reconcile(i.session.budget, i.taskId, usageAmount(emptyUsage())) };
    const session =
      budgeted.state === 'running' || budgeted.state === 'awaiting_approval'
        ? transitionSession(budgeted, { type: 'await_approval', approval: { kind: 'other', message: question }, nowMs: i.nowMs })
        : budgeted;
    return {
      kind: 'requeued',
      session,
      tasks,
      leases,
      agentId,
      health: recordRelease(health, i.taskId),
      error: why,
      removeWorktree: false,
    };
  }

  const ok = !error && result?.status === 'succeeded';
  let updated: Task = current;
  if (!isTaskTerminal(current.state)) {
    if (ok) {
      const warnings = sessionTaskWarnings({ mode: current.mode, changedFiles, runWarnings: result.warnings });
      updated = transitionTask(current, {
        type: 'succeed',
        result: { summary: `${result.summary}${note}`, changedFiles, usage: result.usage, ...(warnings.length ? { warnings } : {}) },
        nowMs: i.nowMs,
      });
    } else if (cancelled) updated = transitionTask(current, { type: 'cancel', reason: 'cancelled', nowMs: i.nowMs });
    else updated = transitionTask(current, { type: 'fail', error: error ?? 'failed', nowMs: i.nowMs });
  }
  let tasks = merge(i.tasks, [updated]);
  // A conflict is not retried automatically: the same merge would conflict again.
  tasks = merge(tasks, afterTaskFinished(tasks, i.taskId, i.nowMs, { autoRetry: !conflict }).changed);

  let session: S = { ...i.session, budget: reconcile(i.session.budget, i.taskId, usageAmount(result?.usage ?? emptyUsage())) };
  if (result?.usage) session.usage = addUsage(session.usage, { kind: 'usage', ...result.usage });
  if (conflict && (session.state === 'running' || session.state === 'awaiting_approval')) {
    session = transitionSession(session, {
      type: 'await_approval',
      approval: { kind: 'other', message: conflictQuestion(current.planId, conflict, i.branch) },
      nowMs: i.nowMs,
    });
  }
  const outcome = deriveSessionOutcome(tasks);
  // A session waiting for the user (a conflict, a budget) stays waiting; approving it finishes it.
  if (outcome && session.state === 'running') session = transitionSession(session, { type: 'finish', outcome, nowMs: i.nowMs });

  return {
    kind: 'finished',
    session,
    tasks,
    leases,
    agentId,
    health: cancelled ? recordRelease(health, i.taskId) : recordOutcome(health, { taskId: i.taskId, ok, error }, i.nowMs),
    ...(error ? { error } : {}),
    removeWorktree: !error && run.result?.status === 'succeeded',
  };
}

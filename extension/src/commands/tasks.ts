/**
 * One task inside its session: retry it alone (failed or cancelled), cancel it alone (and, as the plan
 * says, its dependents) while the rest of the session goes on, or change its scheduling priority. Each
 * command takes a Sessions-tree task row, or `(sessionId, taskId)` (the dashboard, automation); `taskId`
 * is `TaskView.id`.
 */
import * as vscode from 'vscode';
import type { SessionView } from '../../../protocol/session';
import { taskCancel, taskRetry, taskSetPriority } from '../../../protocol/methodRefs';
import type { Ctx } from '../ctx';
import { priorityArg, taskPriorities, taskRefOf, type TaskRowArg } from './taskRef';

const noTask = (what: string) =>
  void vscode.window.showWarningMessage(
    vscode.l10n.t('{0}: pick a task row in the Sessions view (or pass a session id and a task id).', what),
  );

export const retryTask =
  (ctx: Ctx) =>
  async (item?: TaskRowArg | string, taskId?: unknown): Promise<SessionView | undefined> => {
    const ref = taskRefOf(item, taskId);
    if (!ref) return noTask(vscode.l10n.t('Retry Task'));
    try {
      return await ctx.request(taskRetry, { sessionId: ref.sessionId, taskId: ref.taskId });
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Could not retry task {0}: {1}', ref.label, (e as Error).message));
      return undefined;
    }
  };

export const cancelTask =
  (ctx: Ctx) =>
  async (item?: TaskRowArg | string, taskId?: unknown): Promise<SessionView | undefined> => {
    const ref = taskRefOf(item, taskId);
    if (!ref) return noTask(vscode.l10n.t('Cancel Task'));
    try {
      return await ctx.request(taskCancel, { sessionId: ref.sessionId, taskId: ref.taskId });
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Could not cancel task {0}: {1}', ref.label, (e as Error).message));
      return undefined;
    }
  };

const priorityLabel = (p: number): string =>
  p === 0 ? vscode.l10n.t('0 · highest') : p === 4 ? vscode.l10n.t('4 · lowest') : p === 2 ? vscode.l10n.t('2 · normal') : String(p);

/** Ask which priority, the task's current one marked; undefined when the user dismisses the pick. */
async function pickPriority(label: string, current: number | undefined): Promise<number | undefined> {
  const items = taskPriorities.map((p) => ({
    label: priorityLabel(p),
    description: p === current ? vscode.l10n.t('current') : undefined,
    priority: p,
  }));
  const pick = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('Set Task Priority: {0}', label),
    placeHolder: vscode.l10n.t('Ready tasks with a higher priority (0) start first; a running task keeps its turn.'),
  });
  return pick?.priority;
}

/**
 * `(row)` asks with a quick pick; `(row, priority)` or `(sessionId, taskId, priority)` (the dashboard,
 * automation) sets it directly. Answers the session after the change; undefined when refused or dismissed.
 */
export const setTaskPriority =
  (ctx: Ctx) =>
  async (item?: TaskRowArg | string, taskIdOrPriority?: unknown, priority?: unknown): Promise<SessionView | undefined> => {
    const ref = taskRefOf(item, taskIdOrPriority);
    if (!ref) return noTask(vscode.l10n.t('Set Task Priority'));
    // A tree row's second argument is the selection (an array): not a priority.
    const explicit = typeof item === 'string' ? priority : Array.isArray(taskIdOrPriority) ? undefined : taskIdOrPriority;
    const given = priorityArg(explicit);
    if (explicit !== undefined && given === undefined) {
      void vscode.window.showErrorMessage(
        vscode.l10n.t('Set Task Priority: priority must be an integer from 0 (highest) to 4 (lowest), not {0}.', JSON.stringify(explicit)),
      );
      return undefined;
    }
    const current = typeof item === 'string' ? undefined : item?.task?.priority;
    const chosen = given ?? (await pickPriority(ref.label, current));
    if (chosen === undefined) return undefined;
    try {
      return await ctx.request(taskSetPriority, { sessionId: ref.sessionId, taskId: ref.taskId, priority: chosen });
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Could not set the priority of task {0}: {1}', ref.label, (e as Error).message));
      return undefined;
    }
  };

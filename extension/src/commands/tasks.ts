/**
 * One task inside its session: retry it alone (failed or cancelled), cancel it alone (and, as the plan
 * says, its dependents) while the rest of the session goes on. Each command takes a Sessions-tree task
 * row, or `(sessionId, taskId)` (the dashboard, automation); `taskId` is `TaskView.id`.
 */
import * as vscode from 'vscode';
import type { SessionView } from '../../../protocol/session';
import { taskCancel, taskRetry } from '../../../protocol/task';
import type { Ctx } from '../ctx';
import { taskRefOf, type TaskRowArg } from './taskRef';

const noTask = (what: string) =>
  void vscode.window.showWarningMessage(`${what}: pick a task row in the Sessions view (or pass a session id and a task id).`);

export const retryTask =
  (ctx: Ctx) =>
  async (item?: TaskRowArg | string, taskId?: unknown): Promise<SessionView | undefined> => {
    const ref = taskRefOf(item, taskId);
    if (!ref) return noTask('Retry Task');
    try {
      return await ctx.request(taskRetry, { sessionId: ref.sessionId, taskId: ref.taskId });
    } catch (e) {
      void vscode.window.showErrorMessage(`Could not retry task ${ref.label}: ${(e as Error).message}`);
      return undefined;
    }
  };

export const cancelTask =
  (ctx: Ctx) =>
  async (item?: TaskRowArg | string, taskId?: unknown): Promise<SessionView | undefined> => {
    const ref = taskRefOf(item, taskId);
    if (!ref) return noTask('Cancel Task');
    try {
      return await ctx.request(taskCancel, { sessionId: ref.sessionId, taskId: ref.taskId });
    } catch (e) {
      void vscode.window.showErrorMessage(`Could not cancel task ${ref.label}: ${(e as Error).message}`);
      return undefined;
    }
  };

/** Task commands: run one agent task in the workspace, cancel a running one. */
import * as vscode from 'vscode';
import { taskCancel, taskRun, type TaskView } from '../../../protocol/task';
import type { Ctx } from '../ctx';
import { workspaceRoot } from './workspace';

export interface RunTaskArgs {
  prompt?: string;
  cwd?: string;
  model?: string;
}

export const runTask =
  (ctx: Ctx) =>
  async (args?: RunTaskArgs): Promise<{ taskId: string } | undefined> => {
    const cwd = args?.cwd ?? workspaceRoot();
    if (!cwd) {
      void vscode.window.showErrorMessage('Open a folder (a git repository) first: agent tasks run inside a workspace folder.');
      return undefined;
    }
    const prompt =
      args?.prompt ??
      (await vscode.window.showInputBox({
        title: 'Run Agent Task',
        prompt: `What should the agent do in ${cwd}?`,
        placeHolder: 'e.g. Create a file named notes.txt containing hello',
        ignoreFocusOut: true,
      }));
    if (!prompt?.trim()) return undefined;
    try {
      const r = await ctx.request(taskRun, { agent: 'opencode', cwd, prompt, model: args?.model });
      void vscode.commands.executeCommand('orchestrator.sessions.focus');
      return { taskId: r.taskId };
    } catch (e) {
      void vscode.window.showErrorMessage(`Could not start the task: ${(e as Error).message}`);
      return undefined;
    }
  };

export const cancelTask =
  (ctx: Ctx) =>
  async (item?: { id?: string } | string): Promise<TaskView | undefined> => {
    const taskId = typeof item === 'string' ? item : item?.id;
    if (!taskId) return undefined;
    return ctx.request(taskCancel, { taskId });
  };

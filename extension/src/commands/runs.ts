/** Run commands: one agent run in the workspace (`run/start`), cancel a running one. */
import * as vscode from 'vscode';
import type { RunView } from '../../../protocol/run';
import { runCancel, runStart } from '../../../protocol/methodRefs';
import type { Ctx } from '../ctx';
import { workspaceRoot } from './workspace';

export interface StartRunArgs {
  prompt?: string;
  cwd?: string;
  model?: string;
}

export const startRun =
  (ctx: Ctx) =>
  async (args?: StartRunArgs): Promise<{ runId: string } | undefined> => {
    const cwd = args?.cwd ?? workspaceRoot();
    if (!cwd) {
      void vscode.window.showErrorMessage(
        vscode.l10n.t('Open a folder (a git repository) first: agent runs happen inside a workspace folder.'),
      );
      return undefined;
    }
    const prompt =
      args?.prompt ??
      (await vscode.window.showInputBox({
        title: vscode.l10n.t('Run Agent'),
        prompt: vscode.l10n.t('What should the agent do in {0}?', cwd),
        placeHolder: vscode.l10n.t('e.g. Create a file named notes.txt containing hello'),
        ignoreFocusOut: true,
      }));
    if (!prompt?.trim()) return undefined;
    try {
      const r = await ctx.request(runStart, { agent: 'opencode', cwd, prompt, model: args?.model });
      void vscode.commands.executeCommand('orchestrator.sessions.focus');
      return { runId: r.runId };
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Could not start the run: {0}', (e as Error).message));
      return undefined;
    }
  };

export const cancelRun =
  (ctx: Ctx) =>
  async (item?: { id?: string } | string): Promise<RunView | undefined> => {
    const runId = typeof item === 'string' ? item : item?.id;
    if (!runId) return undefined;
    return ctx.request(runCancel, { runId });
  };

/** "Orchestrator: Get Started": opens the walkthrough contributed in package.json `contributes.walkthroughs`. */
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';

/** The walkthrough's `id` in package.json. */
export const walkthroughId = 'getStarted';

export const getStarted = (ctx: Ctx) => async (): Promise<void> => {
  await vscode.commands.executeCommand('workbench.action.openWalkthrough', `${ctx.extension.extension.id}#${walkthroughId}`, false);
};

/** Session commands: plan a goal, review and run the plan, cancel, apply the result. */
import * as vscode from 'vscode';
import { sessionApply, sessionApprove, sessionCancel, sessionStart, type SessionView } from '../../../protocol/session';
import type { Ctx } from '../ctx';
import { workspaceRoot } from './workspace';

export interface StartSessionArgs {
  goal?: string;
  cwd?: string;
  /** Skip the review prompt (tests, automation). */
  approve?: boolean;
  planner?: 'template' | 'llm';
}

const idOf = (item?: { id?: string; sessionId?: string } | string) => (typeof item === 'string' ? item : item?.sessionId ?? item?.id);

export const startSession = (ctx: Ctx) => async (args?: StartSessionArgs): Promise<SessionView | undefined> => {
  const cwd = args?.cwd ?? workspaceRoot();
  if (!cwd) {
    void vscode.window.showErrorMessage('Open a folder (a git repository) first: sessions run on a workspace folder.');
    return undefined;
  }
  const goal = args?.goal ?? (await vscode.window.showInputBox({
    title: 'Start Session',
    prompt: 'State the goal. The orchestrator plans it into tasks you review before anything runs.',
    placeHolder: 'e.g. add a --verbose flag with tests and docs',
    ignoreFocusOut: true,
  }));
  if (!goal?.trim()) return undefined;
  try {
    const draft = await ctx.request(sessionStart, { goal, cwd, planner: args?.planner });
    let run = args?.approve === true;
    if (args?.approve === undefined) {
      const detail = draft.tasks.map((t) => `• [${t.planId}] ${t.title}${t.dependsOn.length ? ` (after ${t.dependsOn.map((d) => d.slice(d.lastIndexOf(':') + 1)).join(', ')})` : ''}`).join('\n');
      run = (await vscode.window.showInformationMessage(`Plan: ${draft.tasks.length} task(s). Run it?`, { modal: true, detail }, 'Run Plan')) === 'Run Plan';
    }
    if (!run) return draft;
    return await ctx.request(sessionApprove, { sessionId: draft.id });
  } catch (e) {
    void vscode.window.showErrorMessage(`Could not start the session: ${(e as Error).message}`);
    return undefined;
  }
};

export const approveSession = (ctx: Ctx) => async (item?: { sessionId?: string } | string) => {
  const sessionId = idOf(item);
  return sessionId ? ctx.request(sessionApprove, { sessionId }) : undefined;
};

export const cancelSession = (ctx: Ctx) => async (item?: { sessionId?: string } | string) => {
  const sessionId = idOf(item);
  return sessionId ? ctx.request(sessionCancel, { sessionId }) : undefined;
};

export const applySession = (ctx: Ctx) => async (item?: { sessionId?: string } | string) => {
  const sessionId = idOf(item);
  if (!sessionId) return undefined;
  try {
    const r = await ctx.request(sessionApply, { sessionId });
    void vscode.window.showInformationMessage(`Applied ${r.applied.length} file(s) to your working tree.`);
    return r;
  } catch (e) {
    void vscode.window.showErrorMessage(`Could not apply the session: ${(e as Error).message}`);
    return undefined;
  }
};

/**
 * Review Changes: every file a session (or one of its tasks) changed, in VS Code's multi-file changes
 * editor (`vscode.changes`), base on the left and the result on the right, both read-only
 * `orchestrator-review:` documents. Where that editor is missing, a quick pick of the files opens each in
 * the diff editor (`vscode.diff`). Apply Session in the editor title applies the session from there.
 */
import * as vscode from 'vscode';
import type { DiffFile, SessionView } from '../../../protocol/session';
import { sessionDiff, sessionGet, sessionList } from '../../../protocol/methodRefs';
import type { Ctx } from '../ctx';
import { reviewUri } from '../review/reviewProvider';
import { reviewTitle } from '../review/reviewRef';
import { taskRefOf, type TaskRowArg } from './taskRef';

/** What Review Changes opened (for tests and automation). */
export interface ReviewOpened {
  sessionId: string;
  taskId?: string;
  title: string;
  files: DiffFile[];
  /** `changes`: the multi-file changes editor; `diff`: one file in the diff editor (the fallback). */
  editor: 'changes' | 'diff';
}

type ReviewArg = TaskRowArg | { sessionId?: string; session?: SessionView } | string;

/** The session and task a call names: a task row, a session row, `(sessionId, taskId?)`; else the user picks a session. */
async function targetOf(ctx: Ctx, item?: ReviewArg, taskId?: unknown): Promise<{ sessionId: string; taskId?: string } | undefined> {
  const task =
    typeof item === 'object' && 'taskId' in item ? taskRefOf(item) : typeof item === 'string' ? taskRefOf(item, taskId) : undefined;
  if (task) return { sessionId: task.sessionId, taskId: task.taskId };
  if (typeof item === 'string') return { sessionId: item };
  if (item?.sessionId) return { sessionId: item.sessionId };
  const sessions = (await ctx.request(sessionList, { limit: 50 })).filter((s) => s.integrationBranch);
  if (!sessions.length) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No session has changes to review yet.'));
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    sessions.map((s) => ({ label: reviewTitle(s.goal).slice('Review: '.length), description: s.state, sessionId: s.id })),
    { title: vscode.l10n.t('Review Changes'), placeHolder: vscode.l10n.t('Which session?') },
  );
  return pick ? { sessionId: pick.sessionId } : undefined;
}

const uris = (sessionId: string, taskId: string | undefined, f: DiffFile) => ({
  base: f.status === 'added' ? undefined : reviewUri({ sessionId, taskId, side: 'base', path: f.path }),
  result: f.status === 'deleted' ? undefined : reviewUri({ sessionId, taskId, side: 'result', path: f.path }),
  label: reviewUri({ sessionId, taskId, side: 'result', path: f.path }),
});

async function openChanges(title: string, sessionId: string, taskId: string | undefined, files: DiffFile[]): Promise<boolean> {
  if (!(await vscode.commands.getCommands(true)).includes('vscode.changes')) return false;
  const list = files.map((f) => {
    const u = uris(sessionId, taskId, f);
    return [u.label, u.base, u.result];
  });
  await vscode.commands.executeCommand('vscode.changes', title, list);
  return true;
}

async function openOneDiff(title: string, sessionId: string, taskId: string | undefined, files: DiffFile[]): Promise<boolean> {
  const pick =
    files.length === 1
      ? files[0]
      : (
          await vscode.window.showQuickPick(
            files.map((f) => ({ label: f.path, description: f.status, file: f })),
            { title, placeHolder: vscode.l10n.t('Which file?') },
          )
        )?.file;
  if (!pick) return false;
  // The diff editor needs both sides: a side where the file does not exist shows empty.
  const base = reviewUri({ sessionId, taskId, side: 'base', path: pick.path });
  const result = reviewUri({ sessionId, taskId, side: 'result', path: pick.path });
  await vscode.commands.executeCommand('vscode.diff', base, result, `${pick.path} (${title})`, { preview: false });
  return true;
}

export const reviewChanges =
  (ctx: Ctx) =>
  async (item?: ReviewArg, taskId?: unknown, opts?: { editor?: 'diff' }): Promise<ReviewOpened | undefined> => {
    try {
      const target = await targetOf(ctx, item, taskId);
      if (!target) return undefined;
      const session = await ctx.request(sessionGet, { sessionId: target.sessionId });
      const task = target.taskId ? session.tasks.find((t) => t.id === target.taskId) : undefined;
      const { files } = await ctx.request(sessionDiff, target);
      const title = reviewTitle(session.goal, task);
      if (!files.length) {
        void vscode.window.showInformationMessage(
          task ? vscode.l10n.t('Task [{0}] changed no files (yet).', task.planId) : vscode.l10n.t('This session changed no files (yet).'),
        );
        return undefined;
      }
      const opened: ReviewOpened = { ...target, title, files, editor: 'changes' };
      if (opts?.editor !== 'diff') {
        const ok = await openChanges(title, target.sessionId, target.taskId, files).catch((e: unknown) => {
          ctx.log.warn(`the changes editor could not open (${(e as Error).message}); falling back to the diff editor`);
          return false;
        });
        if (ok) return opened;
      }
      return (await openOneDiff(title, target.sessionId, target.taskId, files)) ? { ...opened, editor: 'diff' } : undefined;
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Could not review the changes: {0}', (e as Error).message));
      return undefined;
    }
  };

/**
 * Answers the server's `permission/request`: the user picks "Allow once", "Always for this session" (or
 * "… for this run") or "Deny"; "Details…" opens the whole ask as a read-only document and offers the answers
 * again. No answer before the deadline (a little under the server's) denies.
 */
import * as vscode from 'vscode';
import type { PermissionAnswer, PermissionAsk } from '../../protocol/run';
import { PermissionDetailsDocs } from './permissionDetails';
import {
  allowOnce,
  answerFor,
  clientDeadlineMs,
  deny,
  details,
  permissionChoices,
  permissionDetails,
  permissionQuestion,
} from './permissionWording';
import type { UserWaitsTracker } from './userWaits';

export const permissionScheme = 'orchestrator-permission';

/** The buttons as shown (localised); the answer is decided on the English choice (`permissionWording.ts`). */
const shownChoices = (): Record<string, string> => ({
  [allowOnce]: vscode.l10n.t('Allow once'),
  'Always for this session': vscode.l10n.t('Always for this session'),
  'Always for this run': vscode.l10n.t('Always for this run'),
  [deny]: vscode.l10n.t('Deny'),
  [details]: vscode.l10n.t('Details…'),
});

/** Asks the user; serves the read-only details documents (`orchestrator-permission:` URIs) while their ask is open. */
export class PermissionPrompt implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly docs = new PermissionDetailsDocs();
  private readonly subs: vscode.Disposable[];

  /** `waits` counts the asks open (the Sessions view's badge, the status bar). */
  constructor(private readonly waits?: UserWaitsTracker) {
    this.subs = [
      vscode.workspace.registerTextDocumentContentProvider(permissionScheme, this),
      vscode.workspace.onDidCloseTextDocument((d) => d.uri.scheme === permissionScheme && this.docs.closed(d.uri.path)),
    ];
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.docs.content(uri.path);
  }

  async ask(ask: PermissionAsk): Promise<PermissionAnswer> {
    const ms = clientDeadlineMs(ask);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
    const where = ask.taskId
      ? vscode.l10n.t('task {0} of session {1}', ask.taskId, ask.sessionId ?? '')
      : vscode.l10n.t('run {0}', ask.runId);
    const shown = shownChoices();
    const choices = [...permissionChoices(ask), details];
    const answered = this.waits?.askOpened();
    try {
      const pick = await this.docs.ask(
        ask.permission,
        details,
        permissionDetails(ask),
        {
          pick: async () => {
            const label = await vscode.window.showWarningMessage(
              permissionQuestion(ask),
              { detail: vscode.l10n.t('{0} in {1}', where, ask.cwd) },
              ...choices.map((c) => shown[c] ?? c),
            );
            return choices.find((c) => (shown[c] ?? c) === label);
          },
          open: async (path) => {
            const doc = await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: permissionScheme, path }));
            await vscode.window.showTextDocument(doc, { preview: true, preserveFocus: false });
          },
        },
        late,
      );
      return answerFor(ask, pick);
    } finally {
      answered?.();
      clearTimeout(timer);
    }
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}

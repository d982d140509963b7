/**
 * Answers the server's `permission/request`: the user picks "Allow once", "Always for this session" (or
 * "… for this run") or "Deny"; "Details…" opens the whole ask as a read-only document and offers the answers
 * again. No answer before the deadline (a little under the server's) denies.
 */
import * as vscode from 'vscode';
import type { PermissionAnswer, PermissionAsk } from '../../protocol/run';
import type { UserWaitsTracker } from './userWaits';
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

export const permissionScheme = 'orchestrator-permission';

/** The buttons as shown (localised); the answer is decided on the English choice (`permissionWording.ts`). */
const shownChoices = (): Record<string, string> => ({
  [allowOnce]: vscode.l10n.t('Allow once'),
  'Always for this session': vscode.l10n.t('Always for this session'),
  'Always for this run': vscode.l10n.t('Always for this run'),
  [deny]: vscode.l10n.t('Deny'),
  [details]: vscode.l10n.t('Details…'),
});

/** Asks the user; owns the read-only details documents (`orchestrator-permission:` URIs). */
export class PermissionPrompt implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly docs = new Map<string, string>();
  private readonly registration: vscode.Disposable;
  private count = 0;

  /** `waits` counts the asks open (the Sessions view's badge, the status bar). */
  constructor(private readonly waits?: UserWaitsTracker) {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(permissionScheme, this);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.docs.get(uri.path) ?? 'This permission ask is no longer open.';
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
    const path = `/permission-${++this.count}-${ask.permission}.md`;
    const answered = this.waits?.askOpened();
    try {
      for (;;) {
        const label = await Promise.race([
          vscode.window.showWarningMessage(
            permissionQuestion(ask),
            { detail: vscode.l10n.t('{0} in {1}', where, ask.cwd) },
            ...choices.map((c) => shown[c] ?? c),
          ),
          late,
        ]);
        const pick = choices.find((c) => (shown[c] ?? c) === label);
        if (pick !== details) return answerFor(ask, pick);
        this.docs.set(path, permissionDetails(ask));
        const doc = await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: permissionScheme, path }));
        await vscode.window.showTextDocument(doc, { preview: true, preserveFocus: false });
      }
    } finally {
      answered?.();
      clearTimeout(timer);
    }
  }

  dispose(): void {
    this.registration.dispose();
    this.docs.clear();
  }
}

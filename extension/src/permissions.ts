/**
 * Answers the server's `permission/request`: the user picks "Allow once", "Always for this session" (or
 * "… for this run") or "Deny"; "Details…" opens the whole ask as a read-only document and offers the answers
 * again. No answer before the deadline (a little under the server's) denies.
 */
import * as vscode from 'vscode';
import type { PermissionAnswer, PermissionAsk } from '../../protocol/run';
import type { UserWaitsTracker } from './userWaits';
import { answerFor, clientDeadlineMs, details, permissionChoices, permissionDetails, permissionQuestion } from './permissionWording';

export const permissionScheme = 'orchestrator-permission';

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
    const where = ask.taskId ? `task ${ask.taskId} of session ${ask.sessionId}` : `run ${ask.runId}`;
    const path = `/permission-${++this.count}-${ask.permission}.md`;
    const answered = this.waits?.askOpened();
    try {
      for (;;) {
        const pick = await Promise.race([
          vscode.window.showWarningMessage(
            permissionQuestion(ask),
            { detail: `${where} in ${ask.cwd}` },
            ...permissionChoices(ask),
            details,
          ),
          late,
        ]);
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

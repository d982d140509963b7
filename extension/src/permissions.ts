/**
 * Answers the server's `permission/request`: the user picks "Allow once", "Always for this session" (or
 * "… for this run") or "Deny"; "Details…" opens the whole ask as a read-only document and offers the answers
 * again. No answer before the deadline (a little under the server's) denies.
 */
import * as vscode from 'vscode';
import type { PermissionAnswer, PermissionAsk } from '../../protocol/run';
import { PermissionDetailsDocs } from './permissionDetails';
import { answerFor, clientDeadlineMs, details, permissionChoices, permissionDetails, permissionQuestion } from './permissionWording';

export const permissionScheme = 'orchestrator-permission';

/** Asks the user; serves the read-only details documents (`orchestrator-permission:` URIs) while their ask is open. */
export class PermissionPrompt implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly docs = new PermissionDetailsDocs();
  private readonly subs: vscode.Disposable[];

  constructor() {
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
    const where = ask.taskId ? `task ${ask.taskId} of session ${ask.sessionId}` : `run ${ask.runId}`;
    try {
      const pick = await this.docs.ask(
        ask.permission,
        details,
        permissionDetails(ask),
        {
          pick: () =>
            vscode.window.showWarningMessage(
              permissionQuestion(ask),
              { detail: `${where} in ${ask.cwd}` },
              ...permissionChoices(ask),
              details,
            ),
          open: async (path) => {
            const doc = await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: permissionScheme, path }));
            await vscode.window.showTextDocument(doc, { preview: true, preserveFocus: false });
          },
        },
        late,
      );
      return answerFor(ask, pick);
    } finally {
      clearTimeout(timer);
    }
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}

/** The folder agent work runs in: the first workspace folder. */
import * as vscode from 'vscode';

export function workspaceRoot(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

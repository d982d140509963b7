/**
 * Writing a goal in an editor: an untitled Markdown document (seeded with the active editor's
 * selection) that the user confirms with "Plan Session from This Goal" in the editor title. The quick
 * input keeps serving one-line goals; task lists (`- [id] Title: prompt`, one per line) need lines.
 */
import * as vscode from 'vscode';
import { goalHelp } from './goalText';

/** Context key that shows the confirm button in the editor title of a goal document. */
export const goalEditorContextKey = 'orchestrator.goalEditor';

/** Tracks which untitled documents are goal documents and keeps the context key in step with the active editor. */
export class GoalEditors implements vscode.Disposable {
  private readonly docs = new Set<string>();
  private readonly subs: vscode.Disposable[];

  constructor() {
    this.subs = [
      vscode.window.onDidChangeActiveTextEditor((e) => this.updateContext(e)),
      vscode.workspace.onDidCloseTextDocument((d) => this.docs.delete(d.uri.toString())),
    ];
  }

  async open(seed: string): Promise<vscode.TextEditor> {
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: `${goalHelp}${seed}` });
    this.docs.add(doc.uri.toString());
    const editor = await vscode.window.showTextDocument(doc, { preview: false });
    const end = doc.lineAt(doc.lineCount - 1).range.end;
    editor.selection = new vscode.Selection(end, end);
    this.updateContext(editor);
    return editor;
  }

  isGoal(doc: vscode.TextDocument | undefined): boolean {
    return !!doc && this.docs.has(doc.uri.toString());
  }

  private updateContext(e: vscode.TextEditor | undefined): void {
    void vscode.commands.executeCommand('setContext', goalEditorContextKey, this.isGoal(e?.document));
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}

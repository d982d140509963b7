/**
 * Code actions that hand editor code to an agent: on a selection "Send Selection to Agent…", "Write Tests
 * for This", "Explain This"; on a diagnostic "Ask an Agent to Fix: …". Each runs the command
 * `orchestrator.sendSelectionToAgent` with the file, range, text and diagnostic; that command starts one
 * agent run in the file's workspace folder (the agent edits the working tree, as Run Agent does).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunView } from '../../../protocol/run';
import { runStart } from '../../../protocol/methodRefs';
import { commandIds } from '../commands/ids';
import type { Ctx } from '../ctx';
import { fixTitle, selectionPrompt, type SelectionDiagnostic, type SelectionIntent } from './selectionPrompt';

/** The arguments of `orchestrator.sendSelectionToAgent` (all optional: the active editor's selection otherwise). */
export interface SendSelectionArgs {
  intent?: SelectionIntent;
  uri?: vscode.Uri | string;
  range?: vscode.Range;
  diagnostic?: vscode.Diagnostic;
  /** Send to Agent: what to do (asked when absent). */
  instruction?: string;
}

const kind = vscode.CodeActionKind.RefactorRewrite.append('orchestrator');
const maxFixes = 3;

export class AgentCodeActions implements vscode.CodeActionProvider {
  static readonly kinds = [kind, vscode.CodeActionKind.QuickFix];

  provideCodeActions(
    doc: vscode.TextDocument,
    range: vscode.Range | vscode.Selection,
    context: vscode.CodeActionContext,
  ): vscode.CodeAction[] {
    if (!vscode.workspace.getWorkspaceFolder(doc.uri)) return [];
    const actions: vscode.CodeAction[] = [];
    for (const d of context.diagnostics.slice(0, maxFixes)) {
      const a = new vscode.CodeAction(fixTitle(d.message), vscode.CodeActionKind.QuickFix);
      a.diagnostics = [d];
      a.command = action('Ask an agent to fix this', { intent: 'fix', uri: doc.uri, range: d.range, diagnostic: d });
      actions.push(a);
    }
    if (!range.isEmpty) {
      const items: [string, SelectionIntent][] = [
        ['Send Selection to Agent…', 'send'],
        ['Write Tests for This (agent)', 'tests'],
        ['Explain This (agent)', 'explain'],
      ];
      for (const [title, intent] of items) {
        const a = new vscode.CodeAction(title, kind);
        a.command = action(title, { intent, uri: doc.uri, range });
        actions.push(a);
      }
    }
    return actions;
  }
}

function action(title: string, args: SendSelectionArgs): vscode.Command {
  return { title, command: commandIds.sendSelectionToAgent, arguments: [args] };
}

const severities: Record<vscode.DiagnosticSeverity, SelectionDiagnostic['severity']> = {
  [vscode.DiagnosticSeverity.Error]: 'error',
  [vscode.DiagnosticSeverity.Warning]: 'warning',
  [vscode.DiagnosticSeverity.Information]: 'information',
  [vscode.DiagnosticSeverity.Hint]: 'hint',
};

function diagnosticOf(d: vscode.Diagnostic | undefined): SelectionDiagnostic | undefined {
  if (!d) return undefined;
  const code = typeof d.code === 'object' ? String(d.code.value) : d.code === undefined ? undefined : String(d.code);
  return { message: d.message, severity: severities[d.severity], source: d.source, code };
}

/** `orchestrator.sendSelectionToAgent`: returns the started run's id (undefined when the user backed out). */
export const sendSelectionToAgent =
  (ctx: Ctx) =>
  async (args?: SendSelectionArgs): Promise<{ runId: string } | undefined> => {
    const intent = args?.intent ?? 'send';
    const uri = typeof args?.uri === 'string' ? vscode.Uri.parse(args.uri) : (args?.uri ?? vscode.window.activeTextEditor?.document.uri);
    if (!uri) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Open a file and select the code to send to an agent.'));
      return undefined;
    }
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (!folder) {
      void vscode.window.showErrorMessage(
        vscode.l10n.t('{0} is not inside an open workspace folder: agents run on a workspace folder.', uri.fsPath),
      );
      return undefined;
    }
    const doc = await vscode.workspace.openTextDocument(uri);
    const active = vscode.window.activeTextEditor?.document.uri.toString() === uri.toString() ? vscode.window.activeTextEditor : undefined;
    let range: vscode.Range = args?.range ?? args?.diagnostic?.range ?? active?.selection ?? new vscode.Range(0, 0, 0, 0);
    // Nothing selected: the whole line the cursor (or the diagnostic) is on.
    if (range.isEmpty) range = doc.lineAt(range.start.line).rangeIncludingLineBreak;
    let instruction = args?.instruction;
    if (intent === 'send' && !instruction?.trim()) {
      instruction = await vscode.window.showInputBox({
        title: vscode.l10n.t('Send Selection to Agent'),
        prompt: range.isSingleLine
          ? vscode.l10n.t('What should the agent do with {0}, line {1}?', path.basename(uri.fsPath), range.start.line + 1)
          : vscode.l10n.t(
              'What should the agent do with {0}, lines {1}–{2}?',
              path.basename(uri.fsPath),
              range.start.line + 1,
              range.end.line + 1,
            ),
        placeHolder: vscode.l10n.t('e.g. handle the empty list case'),
        ignoreFocusOut: true,
      });
      if (!instruction?.trim()) return undefined;
    }
    const prompt = selectionPrompt(intent, {
      file: path.relative(folder.uri.fsPath, uri.fsPath).split(path.sep).join('/'),
      languageId: doc.languageId,
      start: range.start,
      end: range.end,
      text: doc.getText(range),
      diagnostic: diagnosticOf(args?.diagnostic),
      instruction,
    });
    try {
      const r = await ctx.request(runStart, { agent: 'opencode', cwd: folder.uri.fsPath, prompt });
      if (intent === 'explain') showAnswerWhenDone(ctx, r.runId);
      void vscode.commands.executeCommand('orchestrator.sessions.focus');
      return { runId: r.runId };
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Could not start the agent: {0}', (e as Error).message));
      return undefined;
    }
  };

/** Explain: the agent's answer opens as a Markdown document when its run ends (or why it did not). */
function showAnswerWhenDone(ctx: Ctx, runId: string): void {
  // The listener goes when the run ends; a run that never reports again is dropped after an hour.
  const stop = setTimeout(() => sub.dispose(), 3_600_000);
  const sub = ctx.onDidUpdateRun((run: RunView) => {
    if (run.id !== runId || run.state === 'running' || run.state === 'pending') return;
    clearTimeout(stop);
    sub.dispose();
    const body =
      run.state === 'succeeded'
        ? (run.summary ?? '(the agent gave no answer)')
        : `The agent did not answer: ${run.error?.message ?? run.state}`;
    void vscode.workspace
      .openTextDocument({ language: 'markdown', content: `# Explanation\n\n${body}\n` })
      .then((d) => vscode.window.showTextDocument(d, { preview: true, viewColumn: vscode.ViewColumn.Beside }));
  });
}

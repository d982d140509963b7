// Code actions in the real VS Code extension host: the lightbulb's agent actions carry the file, the
// range, the text and the diagnostic into the agent's prompt, and the agent's edit lands in the file.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OrchestratorApi } from '../../extension/src/api';
import type { RunView } from '../../protocol/run';

const extensionId = 'industrial-orchestrator.industrial-orchestrator';

async function until<T>(what: string, ms: number, probe: () => T | undefined): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

describe('code actions hand editor code to an agent', () => {
  let api: OrchestratorApi;
  let folder: string;
  const diagnostics = vscode.languages.createDiagnosticCollection('orchestrator-test');

  before(async () => {
    api = await vscode.extensions.getExtension<OrchestratorApi>(extensionId)!.activate();
    folder = vscode.workspace.workspaceFolders![0].uri.fsPath;
  });
  after(() => diagnostics.dispose());

  async function actionsAt(uri: vscode.Uri, range: vscode.Range): Promise<vscode.CodeAction[]> {
    return (await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, range)) ?? [];
  }

  async function finished(runId: string): Promise<RunView> {
    return until(`run ${runId} to end`, 120_000, () => {
      const r = api.runs().find((x) => x.id === runId);
      return r && r.state !== 'running' && r.state !== 'pending' ? r : undefined;
    });
  }

  it('a diagnostic quick fix carries the diagnostic, the file and the line; the fix is applied', async () => {
    const file = path.join(folder, 'calc.js');
    fs.writeFileSync(file, 'function add(a, b) {\n  return a-b;\n}\nmodule.exports = { add };\n');
    const uri = vscode.Uri.file(file);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const line = doc.lineAt(1).range;
    const message = '[[script:edit_file calc.js a-b a+b]] add subtracts instead of adding';
    const diagnostic = new vscode.Diagnostic(line, message, vscode.DiagnosticSeverity.Error);
    diagnostic.source = 'checker';
    diagnostics.set(uri, [diagnostic]);

    const fix = (await actionsAt(uri, line)).find((a) => a.title.startsWith('Ask an Agent to Fix: '));
    assert.ok(fix?.command, 'the quick fix is offered on the diagnostic');
    assert.ok(fix.kind && vscode.CodeActionKind.QuickFix.contains(fix.kind));
    const started = await vscode.commands.executeCommand<{ runId: string }>(fix.command.command, ...(fix.command.arguments ?? []));
    assert.ok(started?.runId);
    const run = await finished(started.runId);
    assert.equal(run.state, 'succeeded', JSON.stringify(run.error));
    assert.match(run.prompt, /^File: calc\.js \(line 2/m);
    assert.ok(run.prompt.includes(`Diagnostic (error, checker): ${message}`), run.prompt);
    assert.ok(run.prompt.includes('  return a-b;'), 'the line under the diagnostic is in the prompt');
    assert.equal(fs.readFileSync(file, 'utf8').split('\n')[1], '  return a+b;', 'the agent fixed the file');
  }).timeout(180_000);

  it('a selection offers Send / Write Tests / Explain; Send carries the range, the text and the instruction', async () => {
    const file = path.join(folder, 'list.py');
    fs.writeFileSync(file, 'def first(xs):\n    return xs[0]\n\n\ndef last(xs):\n    return xs[-1]\n');
    const uri = vscode.Uri.file(file);
    const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const selection = new vscode.Selection(0, 0, 2, 0);
    editor.selection = selection;
    const titles = (await actionsAt(uri, selection)).map((a) => a.title);
    for (const t of ['Send Selection to Agent…', 'Write Tests for This (agent)', 'Explain This (agent)'])
      assert.ok(titles.includes(t), `${t} is offered (got ${JSON.stringify(titles)})`);
    assert.ok(
      !(await actionsAt(uri, new vscode.Range(0, 0, 0, 0))).some((a) => a.title.startsWith('Send')),
      'nothing selected: no selection actions',
    );

    // The command with no arguments takes the active editor's selection (the palette / context-menu path).
    const started = await vscode.commands.executeCommand<{ runId: string }>('orchestrator.sendSelectionToAgent', {
      instruction: '[[script:write_file notes.txt]] first() fails on an empty list',
    });
    assert.ok(started?.runId);
    const run = await finished(started.runId);
    assert.equal(run.state, 'succeeded', JSON.stringify(run.error));
    assert.match(run.prompt, /^File: list\.py \(lines 1–2\)$/m);
    assert.ok(run.prompt.includes('```python\ndef first(xs):\n    return xs[0]\n'), run.prompt);
    assert.match(run.prompt, /Instruction: \[\[script:write_file notes\.txt\]\] first\(\) fails on an empty list$/);
    assert.equal(fs.readFileSync(path.join(folder, 'notes.txt'), 'utf8'), 'first() fails on an empty list\n');
  }).timeout(180_000);

  it("Explain opens the agent's answer as a Markdown document and changes no file", async () => {
    const file = path.join(folder, 'explain.js');
    fs.writeFileSync(
      file,
      '// [[script:text]] It returns the sum of its arguments.\nconst sum = (...xs) => xs.reduce((a, b) => a + b, 0);\n',
    );
    const uri = vscode.Uri.file(file);
    const doc = await vscode.workspace.openTextDocument(uri);
    const opened = new Promise<vscode.TextDocument>((resolve) => {
      const sub = vscode.workspace.onDidOpenTextDocument((d) => {
        if (d.languageId === 'markdown' && d.isUntitled) {
          sub.dispose();
          resolve(d);
        }
      });
    });
    const started = await vscode.commands.executeCommand<{ runId: string }>('orchestrator.sendSelectionToAgent', {
      intent: 'explain',
      uri,
      range: doc.lineAt(0).range,
    });
    assert.ok(started?.runId);
    const run = await finished(started.runId);
    assert.equal(run.state, 'succeeded', JSON.stringify(run.error));
    assert.match(run.prompt, /Do not change any file\./);
    const answer = await Promise.race([
      opened,
      new Promise<never>((_, no) => setTimeout(() => no(new Error('no Markdown answer within 10 s')), 10_000)),
    ]);
    assert.match(answer.getText(), /^# Explanation\n\n.*It returns the sum of its arguments\./s);
    assert.equal(fs.readFileSync(file, 'utf8').split('\n')[1], 'const sum = (...xs) => xs.reduce((a, b) => a + b, 0);');
  }).timeout(180_000);
});

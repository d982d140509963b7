// Review and Edit Plan in the real VS Code extension host: a draft's plan opens as a document, edits are
// checked as the user types (every reason a diagnostic on its line), a refused plan changes nothing on the
// server, an approved edit replaces the plan and runs it. The real server, OpenCode, git; the demo model.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OrchestratorApi } from '../../extension/src/api';
import { commandIds } from '../../extension/src/commands/ids';
import type { SessionView } from '../../protocol/session';

const extensionId = 'industrial-orchestrator.industrial-orchestrator';
const endedStates = ['completed', 'partially_completed', 'failed', 'cancelled', 'timed_out'];

async function until<T>(what: string, ms: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

function tempRepo(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-vscode-plan-'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'pipe', timeout: 20_000 });
  git('init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(dir, 'README.md'), '# plan review\n');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'init');
  return dir;
}

/** Our diagnostics on the document (the JSON language service may add its own). */
const planProblems = (uri: vscode.Uri) => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'orchestrator plan');

/** Replace the first `from` in the document with `to`, as an edit the user makes. */
async function replaceIn(doc: vscode.TextDocument, from: string, to: string): Promise<void> {
  const at = doc.getText().indexOf(from);
  assert.ok(at >= 0, `the plan document contains ${from}`);
  const edit = new vscode.WorkspaceEdit();
  edit.replace(doc.uri, new vscode.Range(doc.positionAt(at), doc.positionAt(at + from.length)), to);
  assert.ok(await vscode.workspace.applyEdit(edit), 'the edit applied');
}

describe('Review and Edit Plan in the real VS Code extension host', () => {
  let api: OrchestratorApi;

  before(async () => {
    api = await vscode.extensions.getExtension<OrchestratorApi>(extensionId)!.activate();
  });

  it('a refused edit shows every reason on its line and changes nothing; an approved edit replaces the plan and runs it', async () => {
    const cwd = tempRepo();
    const goal = [
      '- [one] One {files: one.txt}: [[script:write_file one.txt]] first',
      '- [two] Two {files: two.txt}: [[script:write_file two.txt]] second',
    ].join('\n');
    const draft = await vscode.commands.executeCommand<SessionView>(commandIds.startSession, { goal, cwd, approve: false });
    assert.equal(draft?.state, 'draft');

    const uri = await vscode.commands.executeCommand<string>(commandIds.reviewPlan, { sessionId: draft.id });
    assert.ok(uri, 'the review opened');
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri)!;
    assert.equal(vscode.window.activeTextEditor?.document, doc, 'the plan is the active editor');
    assert.ok(doc.getText().includes('"prompt": "[[script:write_file two.txt]] second"'), doc.getText());

    // An empty title and a dependency on an unknown task: both reasons, each on its own line, as the user types.
    await replaceIn(doc, '"title": "One"', '"title": ""');
    await replaceIn(doc, '"dependsOn": []', '"dependsOn": ["ghost"]');
    const lineOf = (needle: string) =>
      doc
        .getText()
        .split('\n')
        .findIndex((l) => l.includes(needle));
    const live = await until('two diagnostics from the live check', 15_000, () => {
      const d = planProblems(doc.uri);
      return d.length === 2 ? d : undefined;
    });
    const shown = live.map((d) => [d.range.start.line, d.message]).sort();
    assert.deepEqual(
      shown,
      [
        [lineOf('"title": ""'), 'tasks[0].title: must not be empty'],
        [lineOf('"ghost"'), 'tasks[0].dependsOn[0]: unknown task "ghost"'],
      ].sort(),
    );

    // Approving the refused plan changes nothing: still a draft with its old plan; the reasons stay.
    assert.equal(await vscode.commands.executeCommand(commandIds.approvePlan, doc.uri), undefined);
    const kept = await api.session(draft.id);
    assert.equal(kept.state, 'draft');
    assert.deepEqual(
      kept.tasks.map((t) => [t.planId, t.title, t.dependsOn]),
      [
        ['one', 'One', []],
        ['two', 'Two', []],
      ],
    );
    assert.equal(planProblems(doc.uri).length, 2, 'the reasons stay on the document');
    assert.ok(!doc.isClosed, 'the document stays open');

    // Fixed, plus the prompt of task two edited: approved, the document closes, the edited prompt runs.
    await replaceIn(doc, '"title": ""', '"title": "One"');
    await replaceIn(doc, '"dependsOn": ["ghost"]', '"dependsOn": []');
    await replaceIn(doc, '[[script:write_file two.txt]] second', '[[script:write_file two.txt]] edited in review');
    await until('the live check to clear', 15_000, () => (planProblems(doc.uri).length === 0 ? true : undefined));
    // A double click: both clicks arrive before the first answer; the plan is approved (and runs) once.
    const clicks = await Promise.all([
      vscode.commands.executeCommand<SessionView>(commandIds.approvePlan, doc.uri),
      vscode.commands.executeCommand<SessionView>(commandIds.approvePlan, doc.uri),
    ]);
    const running = clicks.find((c) => c !== undefined);
    assert.equal(running?.state, 'running');
    assert.equal(clicks.filter((c) => c === undefined).length, 1, 'the second click approved nothing');
    const onServer = await api.session(draft.id);
    assert.equal(onServer.tasks.find((t) => t.planId === 'two')?.prompt, '[[script:write_file two.txt]] edited in review');
    assert.equal(onServer.planner, 'user');
    await until('the plan document to close', 10_000, () =>
      vscode.window.visibleTextEditors.some((e) => e.document.uri.toString() === uri) ? undefined : true,
    );

    const done = await until('the session to end', 180_000, async () => {
      const s = await api.session(draft.id);
      return endedStates.includes(s.state) ? s : undefined;
    });
    assert.equal(done.state, 'completed', JSON.stringify(done.tasks.map((t) => [t.planId, t.state, t.lastError])));
    assert.deepEqual(
      done.tasks.map((t) => t.attempts),
      [1, 1],
      'every task ran once',
    );
    const applied = await vscode.commands.executeCommand<{ applied: string[] }>(commandIds.applySession, draft.id);
    assert.deepEqual(applied?.applied.sort(), ['one.txt', 'two.txt']);
    assert.equal(fs.readFileSync(path.join(cwd, 'two.txt'), 'utf8').split('\n')[0], 'edited in review');
  }).timeout(300_000);
});

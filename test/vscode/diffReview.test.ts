// Diff review in the real VS Code extension host: a session completed in a temp repository is reviewed in
// VS Code's multi-file changes editor (and one task alone, in the diff editor), its read-only
// orchestrator-review: documents hold the base and result text, Apply Session from the review writes the
// files, and an uncommitted edit to the same file makes apply refuse, naming it, with the workspace untouched.
// The real server, the real OpenCode binary, real git; the scripted model writes the files.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OrchestratorApi } from '../../extension/src/api';
import { commandIds } from '../../extension/src/commands/ids';
import type { ReviewOpened } from '../../extension/src/commands/review';
import type { SessionView } from '../../protocol/session';

const extensionId = 'industrial-orchestrator.industrial-orchestrator';
const endedStates = ['completed', 'partially_completed', 'failed', 'cancelled', 'timed_out'];
const scheme = 'orchestrator-review';

async function until<T>(what: string | (() => string), ms: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}`);
}

function tempRepo(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-vscode-review-'));
  const git = (...a: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { cwd: d, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(d, 'notes.txt'), 'old line\n');
  git('add', '-A');
  git('commit', '-qm', 'init');
  return d;
}

type Pair = { original?: vscode.Uri; modified?: vscode.Uri };
/** The (original, modified) pairs of a diff tab or of a multi-file changes tab (`TabInputTextMultiDiff.textDiffs`). */
function pairsOf(tab: vscode.Tab): Pair[] {
  const input = tab.input;
  if (input instanceof vscode.TabInputTextDiff) return [input];
  return (input as { textDiffs?: Pair[] } | undefined)?.textDiffs ?? [];
}
const allTabs = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs);
/** The open tabs, for failure messages. */
const describeTabs = () =>
  `; tabs: ${JSON.stringify(allTabs().map((t) => ({ label: t.label, input: t.input === undefined ? 'none' : Object.keys(t.input as object), pairs: pairsOf(t).map((p) => [p.original?.toString(), p.modified?.toString()]) })))}`;
const textOf = async (u: vscode.Uri | undefined) => (u ? (await vscode.workspace.openTextDocument(u)).getText() : undefined);
const fileOf = (u: vscode.Uri | undefined) => u?.path.slice(1);

describe('diff review in the real VS Code extension host', () => {
  let api: OrchestratorApi;
  const ended = (id: string) => {
    const s = api.sessions().find((x) => x.id === id);
    return s && endedStates.includes(s.state) ? s : undefined;
  };
  const goal = [
    '- [mod] Modify {files: notes.txt}: [[script:write_file notes.txt]] new line',
    '- [add] Add {files: added.txt}: [[script:write_file added.txt]] fresh file',
  ].join('\n');

  before(async () => {
    api = await vscode.extensions.getExtension<OrchestratorApi>(extensionId)!.activate();
  });

  it('Review Changes opens base ↔ result per session and per task; Apply from the review; an overlapping edit is refused', async () => {
    const [repoA, repoB] = [tempRepo(), tempRepo()];
    const [a, b] = await Promise.all(
      [repoA, repoB].map((cwd) => vscode.commands.executeCommand<SessionView>(commandIds.startSession, { goal, cwd, approve: true })),
    );
    assert.ok(a?.id && b?.id, 'two sessions came back');
    for (const s of [a, b]) {
      const done = await until(`session ${s.id} to end`, 240_000, () => ended(s.id));
      assert.equal(done.state, 'completed', JSON.stringify(done.tasks.map((t) => [t.planId, t.state, t.lastError])));
    }

    // The whole session in the multi-file changes editor.
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const opened = await vscode.commands.executeCommand<ReviewOpened>(commandIds.reviewChanges, a.id);
    assert.equal(opened?.editor, 'changes', 'vscode.changes exists on this engine');
    assert.match(opened.title, /^Review: - \[mod\] Modify/);
    // The tab input lists the pairs with both sides; an added file (no base side) shows in the editor only.
    const tab = await until(
      () => `the review tab${describeTabs()}`,
      20_000,
      () => allTabs().find((t) => t.label.startsWith(opened.title) && pairsOf(t).some((p) => p.modified?.scheme === scheme)),
    );
    assert.match(tab.label, /\(2 files\)$/, 'the changes editor holds both files');
    const notes = pairsOf(tab).find((p) => fileOf(p.modified) === 'notes.txt')!;
    assert.ok(notes, 'notes.txt is in the review');
    assert.equal(notes.original?.scheme, scheme);
    assert.equal(notes.modified?.scheme, scheme);
    assert.equal(new URLSearchParams(notes.original?.query).get('side'), 'base');
    assert.equal(await textOf(notes.original), 'old line\n', 'the base side is the file before the session');
    assert.equal(await textOf(notes.modified), 'new line\n', 'the result side is what the session wrote');
    const added = await until("the added file's result document", 20_000, () =>
      vscode.workspace.textDocuments.find((d) => d.uri.scheme === scheme && fileOf(d.uri) === 'added.txt'),
    );
    assert.equal(new URLSearchParams(added.uri.query).get('side'), 'result');
    assert.equal(added.getText(), 'fresh file\n');
    assert.equal(fs.readFileSync(path.join(repoA, 'notes.txt'), 'utf8'), 'old line\n', 'reviewing changes nothing in the workspace');

    // One task alone, from its tree row, in the diff editor (the fallback where vscode.changes is missing).
    const row = await until('the add task row', 10_000, () => api.taskRow(a.id, 'add'));
    const one = await vscode.commands.executeCommand<ReviewOpened>(commandIds.reviewChanges, row, undefined, { editor: 'diff' });
    assert.equal(one?.editor, 'diff');
    assert.deepEqual(
      one.files.map((f) => [f.path, f.status]),
      [['added.txt', 'added']],
      'the task review lists only its own file',
    );
    const diffTab = await until('the task diff tab', 20_000, () => {
      const t = vscode.window.tabGroups.activeTabGroup.activeTab;
      return t?.input instanceof vscode.TabInputTextDiff && t.input.modified.scheme === scheme ? t.input : undefined;
    });
    assert.equal(new URLSearchParams(diffTab.modified.query).get('task'), row.taskId);
    assert.equal(await textOf(diffTab.original), '', 'absent on the base side: empty');
    assert.equal(await textOf(diffTab.modified), 'fresh file\n');

    // Apply Session is in the editor title of a review.
    const manifest = JSON.parse(
      fs.readFileSync(path.join(vscode.extensions.getExtension(extensionId)!.extensionPath, 'package.json'), 'utf8'),
    );
    assert.ok(
      (manifest.contributes.menus['editor/title'] as { command: string; when: string }[]).some(
        (m) => m.command === commandIds.applySession && m.when.includes(`resourceScheme == ${scheme}`),
      ),
    );

    // B: an uncommitted edit to notes.txt in the workspace. Apply from B's review is refused, naming the file.
    fs.writeFileSync(path.join(repoB, 'notes.txt'), 'my own edit\n');
    const openedB = await vscode.commands.executeCommand<ReviewOpened>(commandIds.reviewChanges, b.id);
    assert.equal(openedB?.editor, 'changes');
    await until("B's review to be the active tab", 20_000, () =>
      pairsOf(vscode.window.tabGroups.activeTabGroup.activeTab!).some((p) => new URLSearchParams(p.modified?.query).get('session') === b.id)
        ? true
        : undefined,
    );
    const refused = await vscode.commands.executeCommand(commandIds.applySession);
    assert.equal(refused, undefined, 'apply was refused');
    const message = await until('the refusal in the log', 10_000, () =>
      api.logLines().find((l) => l.includes(`Could not apply session ${b.id}`)),
    );
    assert.match(message, /uncommitted changes to notes\.txt/);
    assert.equal(fs.readFileSync(path.join(repoB, 'notes.txt'), 'utf8'), 'my own edit\n', 'the edit is untouched');
    assert.equal(fs.existsSync(path.join(repoB, 'added.txt')), false, 'nothing was applied');
    // The refused apply waits on the user: the Sessions view's badge counts it and says why.
    assert.equal(api.waiting().applyConflicts, 1);
    assert.match(api.sessionsBadge()?.tooltip ?? '', /1 apply refused over your uncommitted edits/);

    // A: Apply from its review (the review's result document, as the editor title passes it).
    const applied = await vscode.commands.executeCommand<{ applied: string[] }>(commandIds.applySession, notes.modified);
    assert.deepEqual(applied?.applied.sort(), ['added.txt', 'notes.txt']);
    assert.equal(fs.readFileSync(path.join(repoA, 'notes.txt'), 'utf8'), 'new line\n');
    assert.equal(fs.readFileSync(path.join(repoA, 'added.txt'), 'utf8'), 'fresh file\n');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  }).timeout(480_000);
});

// The Get Started walkthrough in the real VS Code extension host (installed from the .vsix): every command a step
// links to or completes on is one the extension contributes (or a view's focus command), every step's media file
// is in the installed package, and "Orchestrator: Get Started" opens it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OrchestratorApi } from '../../extension/src/api';
import { commandIds } from '../../extension/src/commands/ids';
import { walkthroughId } from '../../extension/src/commands/walkthrough';

const extensionId = 'industrial-orchestrator.industrial-orchestrator';

interface Step {
  id: string;
  title: string;
  description: string;
  media: { markdown?: string; image?: string };
  completionEvents?: string[];
}

/** The command ids a step's description links to (`[Label](command:id?args)`), with their arguments decoded. */
function links(description: string): { id: string; args?: unknown }[] {
  return [...description.matchAll(/\]\(command:([^)?\s]+)(?:\?([^)\s]*))?\)/g)].map((m) => ({
    id: m[1],
    args: m[2] === undefined ? undefined : JSON.parse(decodeURIComponent(m[2])),
  }));
}

describe('the Get Started walkthrough in the real VS Code extension host', () => {
  let root: string;
  let manifest: {
    contributes: {
      walkthroughs: { id: string; steps: Step[] }[];
      commands: { command: string }[];
      views: Record<string, { id: string }[]>;
    };
  };
  before(async () => {
    await vscode.extensions.getExtension<OrchestratorApi>(extensionId)!.activate();
    root = vscode.extensions.getExtension(extensionId)!.extensionPath;
    // The manifest as VS Code shows it: `%key%` placeholders resolved from package.nls.json (English).
    const nls: Record<string, string> = JSON.parse(fs.readFileSync(path.join(root, 'package.nls.json'), 'utf8'));
    manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'), (_k, v: unknown) =>
      typeof v === 'string' && /^%[^%\s]+%$/.test(v) ? (nls[v.slice(1, -1)] ?? v) : v,
    );
  });

  it('every step links and completes on commands that exist, and its media file is in the package', async () => {
    const walkthrough = manifest.contributes.walkthroughs.find((w) => w.id === walkthroughId);
    assert.ok(walkthrough, `a walkthrough "${walkthroughId}" is contributed`);
    assert.deepEqual(
      walkthrough.steps.map((s) => s.title),
      [
        'Choose a model (or keep the demo model)',
        'Run a first session on the open folder',
        'Watch it in the dashboard',
        'Review and apply',
      ],
    );
    const ours = new Set<string>(Object.values(commandIds));
    const contributed = new Set(manifest.contributes.commands.map((c) => c.command));
    const viewFocus = new Set(Object.values(manifest.contributes.views).flatMap((vs) => vs.map((v) => `${v.id}.focus`)));
    const registered = new Set(await vscode.commands.getCommands(true));
    const known = (id: string) => (ours.has(id) && contributed.has(id) && registered.has(id)) || (viewFocus.has(id) && registered.has(id));
    for (const step of walkthrough.steps) {
      const linked = links(step.description);
      assert.ok(linked.length > 0, `${step.id} offers at least one button`);
      for (const l of linked) assert.ok(known(l.id), `${step.id} links to ${l.id}, which is not a command of the extension`);
      const events = step.completionEvents ?? [];
      assert.ok(events.length > 0, `${step.id} has completion events`);
      for (const e of events) {
        const [kind, what] = [e.slice(0, e.indexOf(':')), e.slice(e.indexOf(':') + 1)];
        assert.ok(['onCommand', 'onSettingChanged', 'onContext', 'onView'].includes(kind), `${step.id}: unknown completion event ${e}`);
        if (kind === 'onCommand') assert.ok(known(what), `${step.id} completes on ${what}, which is not a command of the extension`);
        if (kind === 'onSettingChanged')
          assert.ok(vscode.workspace.getConfiguration().inspect(what), `${step.id} completes on setting ${what}, which is not declared`);
      }
      const media = step.media.markdown ?? step.media.image;
      assert.ok(media, `${step.id} has media`);
      const file = path.join(root, media);
      assert.ok(fs.existsSync(file), `${step.id}: ${media} is in the installed package`);
      assert.match(fs.readFileSync(file, 'utf8'), /^# \S/, `${media} is a markdown page with a heading`);
    }
    // "keep the demo model" passes the demo model to Select Default Model.
    const keep = links(walkthrough.steps[0].description).find((l) => l.args !== undefined);
    assert.deepEqual(keep, { id: commandIds.selectDefaultModel, args: [{ model: 'demo/scripted' }] });
  });

  it('Orchestrator: Get Started opens the walkthrough', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand(commandIds.getStarted);
    const end = Date.now() + 15_000;
    let labels: string[] = [];
    while (Date.now() < end) {
      labels = vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => t.label));
      if (labels.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(
      labels.some((l) => /welcome|walkthrough|get started/i.test(l)),
      `a walkthrough editor is open (tabs: ${JSON.stringify(labels)})`,
    );
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});

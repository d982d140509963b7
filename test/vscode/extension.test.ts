// Runs inside the real VS Code extension host (code-server + headless Chromium).
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OrchestratorApi } from '../../extension/src/api';
import { commandIds } from '../../extension/src/commands/ids';
import type { SessionView } from '../../protocol/session';
import type { DashboardToHost } from '../../protocol/webview/dashboard';

const extensionId = 'industrial-orchestrator.industrial-orchestrator';

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const end = Date.now() + ms;
  let lastError: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
}

function nextDashboardMessage(api: OrchestratorApi, type: DashboardToHost['type'], ms: number): Promise<DashboardToHost> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`no ${type} from the dashboard within ${ms} ms`));
    }, ms);
    const sub = api.onDashboardMessage((m) => {
      if (m.type !== type) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(m);
    });
  });
}

describe('Industrial Orchestrator in the real VS Code extension host', () => {
  let api: OrchestratorApi;

  before(async () => {
    const ext = vscode.extensions.getExtension<OrchestratorApi>(extensionId);
    assert.ok(ext, `extension ${extensionId} is installed`);
    api = await ext.activate();
    console.log(
      `vscode ${vscode.version} (${vscode.env.appName}), activation ${api.activationMs} ms (own ${api.ownActivationMs} ms) (module ${api.moduleLoadMs ?? NaN} ms)`,
    );
  });

  it('activates and the separate server process reports healthy status', async () => {
    const s = await api.status();
    assert.equal(s.health, 'ok', s.message);
    assert.equal(s.mode, 'stdio');
    assert.notEqual(s.pid, api.extensionHostPid, 'the server runs in its own process');
    assert.ok(fs.existsSync(s.store.path), `store file ${s.store.path} exists`);
    const pushed = await until('server/didChangeStatus', 10_000, () => api.snapshot().status ?? undefined);
    assert.equal(pushed.pid, s.pid, 'the pushed status comes from the same server');
    const agents = await until('the Agents view to list OpenCode', 10_000, () => (api.agents().length ? api.agents() : undefined));
    assert.deepEqual(agents, ['OpenCode']);
  });

  it("the Agents view says whether agents' commands are sandboxed, and why", async () => {
    const s = await api.status();
    assert.ok(s.sandbox, 'the server status carries the sandbox state');
    const [row] = await until('the Agents view row', 10_000, () => (api.agentRows().length ? api.agentRows() : undefined));
    assert.match(row.description, s.sandbox.enabled ? / · sandboxed$/ : / · not sandboxed$/);
    assert.ok(row.tooltip.includes(`Sandboxed: ${s.sandbox.enabled ? 'yes' : 'no'}. ${s.sandbox.reason}`), row.tooltip);
    // This machine (and CI, after tools/ensureSandbox.mjs) has bubblewrap.
    if (process.platform === 'linux' && fs.existsSync('/usr/bin/bwrap')) assert.equal(s.sandbox.enabled, true, s.sandbox.reason);
  });

  it('contributes exactly the commands of the command table', async () => {
    const manifest = JSON.parse(
      fs.readFileSync(path.join(vscode.extensions.getExtension(extensionId)!.extensionPath, 'package.json'), 'utf8'),
    );
    const contributed = (manifest.contributes.commands as { command: string }[]).map((c) => c.command).sort();
    assert.deepEqual(contributed, Object.values(commandIds).sort());
    const registered = await vscode.commands.getCommands(true);
    for (const id of contributed) assert.ok(registered.includes(id), `${id} is registered`);
  });

  it('Show Server Status returns the status through the command', async () => {
    const s = await vscode.commands.executeCommand<{ health: string; pid: number }>(commandIds.showStatus);
    assert.equal(s.health, 'ok');
  });

  it('opens the dashboard webview, which completes the ready handshake and renders live status', async () => {
    const rendered = nextDashboardMessage(api, 'dashboard/didRender', 30_000);
    const ready = nextDashboardMessage(api, 'webview/ready', 30_000);
    await vscode.commands.executeCommand(commandIds.openDashboard);
    assert.equal((await ready).type, 'webview/ready');
    const r = await rendered;
    assert.ok(r.type === 'dashboard/didRender');
    assert.equal(r.health, 'ok');
    assert.equal(r.pid, (await api.status()).pid);
  });

  it('Run Agent runs OpenCode on the workspace with the demo model and the Sessions view follows it', async () => {
    const folder = vscode.workspace.workspaceFolders![0].uri.fsPath;
    const started = await vscode.commands.executeCommand<{ runId: string }>(commandIds.startRun, {
      prompt: 'Create a file named from-vscode.txt containing made in VS Code',
    });
    assert.ok(started?.runId, 'a run id came back');
    const done = await until('the run to succeed in the Sessions view', 90_000, () => {
      const t = api.runs().find((x) => x.id === started.runId);
      return t && t.state !== 'running' ? t : undefined;
    });
    assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
    assert.equal(fs.readFileSync(path.join(folder, 'from-vscode.txt'), 'utf8'), 'made in VS Code\n');
    assert.ok(done.usage.inputTokens > 0);
  }).timeout(180_000); // agent turns on a loaded machine: the inner waits have their own deadlines

  it('Start Session plans a goal into a task graph, runs it in parallel worktrees and the Sessions view follows', async () => {
    const goal =
      '- [one] One {files: one.txt}: [[script:write_file one.txt]] first\n- [two] Two {files: two.txt}: [[script:write_file two.txt]] second\n- [three] Three (after: one, two) {files: three.txt}: [[script:write_file three.txt]] third';
    const started = await vscode.commands.executeCommand<{ id: string; state: string }>(commandIds.startSession, { goal, approve: true });
    assert.ok(started?.id, 'a session came back');
    const done = await until('the session to complete in the Sessions view', 120_000, () => {
      const s = api.sessions().find((x) => x.id === started.id);
      return s && ['completed', 'partially_completed', 'failed', 'cancelled'].includes(s.state) ? s : undefined;
    });
    assert.equal(done.state, 'completed', JSON.stringify(done.tasks.map((t) => [t.planId, t.state, t.lastError])));
    assert.deepEqual(
      done.tasks.map((t) => t.state),
      ['succeeded', 'succeeded', 'succeeded'],
    );
    const applied = await vscode.commands.executeCommand<{ applied: string[] }>(commandIds.applySession, started.id);
    assert.deepEqual(applied.applied.sort(), ['one.txt', 'three.txt', 'two.txt']);
    const folder = vscode.workspace.workspaceFolders![0].uri.fsPath;
    assert.equal(fs.readFileSync(path.join(folder, 'two.txt'), 'utf8').split('\n')[0], 'second');
    // Agent health arrives as agent/didChange (nothing asks agent/list back): the row counts the successes.
    await until('the Agents view to count the successes', 10_000, () =>
      /✓[1-9]/.test(api.agentRows()[0]?.description ?? '') ? true : undefined,
    );
  }).timeout(180_000); // agent turns on a loaded machine: the inner waits have their own deadlines

  it('the Sessions view shows the tool a running session task is in', async () => {
    const goal = '- [slow] Slow {files: slow.txt}: [[script:slow_write slow.txt 500]] written slowly';
    const started = await vscode.commands.executeCommand<{ id: string }>(commandIds.startSession, { goal, approve: true });
    assert.ok(started?.id, 'a session came back');
    const row = await until('a task row that names its tool in progress', 60_000, () =>
      api
        .sessionRows()
        .flatMap((r) => r.children ?? [])
        .find((c) => c.label.startsWith('[slow] Slow') && / · tool: \S/.test(c.description)),
    );
    assert.match(row.label, /^\[slow\] Slow/);
    assert.match(row.description, /^running · tool: write/);
    const done = await until('the session to end', 120_000, () => {
      const s = api.sessions().find((x) => x.id === started.id);
      return s && ['completed', 'partially_completed', 'failed', 'cancelled'].includes(s.state) ? s : undefined;
    });
    assert.equal(done.state, 'completed');
    assert.equal(done.tasks[0].currentTool, undefined, 'a finished task shows no tool');
  }).timeout(180_000);

  it('a three-item task list typed into Start Session from Editor gives three tasks (a title may hold "()")', async () => {
    await vscode.commands.executeCommand(commandIds.startSessionFromEditor);
    const editor = await until('the goal editor', 10_000, () =>
      vscode.window.activeTextEditor?.document.isUntitled ? vscode.window.activeTextEditor : undefined,
    );
    assert.match(editor.document.getText(), /^<!--/, 'the goal editor starts with its help');
    const lines = [
      '- [fix] Fix add() in src/math.js {files: src/math.js}',
      '- [docs] Document add {files: README.md}',
      '- [check] Check both (after: fix, docs) {mode: read}',
    ];
    for (const [i, line] of lines.entries())
      await vscode.commands.executeCommand('type', { text: `${line}${i < lines.length - 1 ? '\n' : ''}` });
    assert.ok(
      editor.document.getText().endsWith(lines.join('\n')),
      `typed as three lines: ${JSON.stringify(editor.document.getText().slice(-300))}`,
    );
    const draft = await vscode.commands.executeCommand<SessionView>(commandIds.submitSessionGoal, { approve: false });
    assert.ok(draft, 'the goal was planned');
    assert.equal(draft.state, 'draft');
    assert.deepEqual(
      draft.tasks.map((t) => [t.planId, t.title]),
      [
        ['fix', 'Fix add() in src/math.js'],
        ['docs', 'Document add'],
        ['check', 'Check both'],
      ],
    );
    assert.deepEqual(draft.tasks.find((t) => t.planId === 'check')!.dependsOn.length, 2);
    await until('the Sessions view to show the draft', 10_000, () => api.sessions().find((x) => x.id === draft.id && x.tasks.length === 3));
    assert.ok(
      !vscode.workspace.textDocuments.some(
        (d) => d === editor.document && !d.isClosed && vscode.window.visibleTextEditors.some((e) => e.document === d),
      ),
      'the goal editor closed',
    );
    await vscode.commands.executeCommand(commandIds.deleteSession, { sessionId: draft.id }, { confirmed: true });
  });

  it('Delete Session from the Sessions view removes it and its branches and worktrees from the repository', async () => {
    const folder = vscode.workspace.workspaceFolders![0].uri.fsPath;
    const repo = () => ({
      worktrees: execFileSync('git', ['worktree', 'list'], { cwd: folder, encoding: 'utf8' }),
      branches: execFileSync('git', ['branch', '--list', 'orchestrator/*'], { cwd: folder, encoding: 'utf8' }),
    });
    const before = repo();
    const started = await vscode.commands.executeCommand<SessionView>(commandIds.startSession, {
      goal: '- [d] D {files: deleted.txt}: [[script:write_file deleted.txt]] gone',
      approve: true,
    });
    const done = await until('the session to end', 120_000, () => {
      const s = api.sessions().find((x) => x.id === started.id);
      return s && ['completed', 'partially_completed', 'failed', 'cancelled'].includes(s.state) ? s : undefined;
    });
    assert.equal(done.state, 'completed');
    assert.match(repo().branches, new RegExp(`orchestrator/${started.id}/integration`), 'the unapplied result waits on its branch');
    // What the tree's trash button passes: the session item (it carries sessionId).
    const r = await vscode.commands.executeCommand<{ removedBranches: string[] }>(
      commandIds.deleteSession,
      { sessionId: started.id, session: done },
      { confirmed: true },
    );
    assert.ok(r?.removedBranches.length, 'branches were removed');
    assert.ok(!api.sessions().some((x) => x.id === started.id), 'the Sessions view no longer lists it');
    assert.deepEqual(repo(), before, 'git worktree list and the orchestrator/* branches are as before');
    assert.ok(!fs.existsSync(path.join(folder, 'deleted.txt')), 'nothing was applied');
  }).timeout(180_000); // agent turns on a loaded machine: the inner waits have their own deadlines

  it('restarts the server after kill -9 and returns to healthy', async () => {
    const before = await api.status();
    process.kill(before.pid, 'SIGKILL');
    const after = await until('a new healthy server', 30_000, async () => {
      const s = await api.status();
      return s.pid !== before.pid && s.health === 'ok' ? s : undefined;
    });
    assert.notEqual(after.pid, before.pid);
    const pushed = await until('the new server to push its status', 10_000, () =>
      api.snapshot().status?.pid === after.pid ? api.snapshot() : undefined,
    );
    assert.equal(pushed.clientState, 'running');
  });

  it('Restart Server starts a fresh server process', async () => {
    const before = await api.status();
    await vscode.commands.executeCommand(commandIds.restartServer);
    const after = await until('restarted server', 30_000, async () => {
      const s = await api.status();
      return s.pid !== before.pid ? s : undefined;
    });
    assert.equal(after.health, 'ok');
  });

  it('gives up after 5 crashes in 3 minutes, says so, and Restart Server brings it back', async () => {
    // The previous test's manual restart reset the crash history.
    let pid = (await api.status()).pid;
    for (let crash = 1; crash <= 5; crash++) {
      process.kill(pid, 'SIGKILL');
      if (crash === 5) break;
      pid = await until(`restart after crash ${crash}`, 30_000, async () => {
        const s = await api.status();
        return s.pid !== pid ? s.pid : undefined;
      });
    }
    const stopped = await until('the client to stop restarting', 30_000, () =>
      api.snapshot().clientState === 'stopped' ? api.snapshot() : undefined,
    );
    assert.match(stopped.stoppedReason ?? '', /crashed 5 times in 3 minutes/);
    await assert.rejects(api.status(), 'no server answers while stopped');
    await vscode.commands.executeCommand(commandIds.restartServer);
    const back = await until('a healthy server after Restart Server', 30_000, async () => {
      const s = await api.status();
      return s.health === 'ok' ? s : undefined;
    });
    assert.notEqual(back.pid, pid);
  });
});

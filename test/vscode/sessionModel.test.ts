// Start Session with a model of its own in the real VS Code extension host: automation passes `model`, the
// session reaches the real server with it (session/get says so) and no quick pick is shown. A model that is not
// configured is refused by the server and no session appears.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { OrchestratorApi } from '../../extension/src/api';
import { commandIds } from '../../extension/src/commands/ids';
import type { SessionView } from '../../protocol/session';

const extensionId = 'industrial-orchestrator.industrial-orchestrator';

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

describe('Start Session with a chosen model in the real VS Code extension host', () => {
  let api: OrchestratorApi;
  before(async () => {
    api = await vscode.extensions.getExtension<OrchestratorApi>(extensionId)!.activate();
    await until('the server to be healthy', 120_000, async () =>
      (await api.status().catch(() => undefined))?.health === 'ok' ? true : undefined,
    );
  });

  it('startSession with {model} starts the session on that model', async () => {
    const started = await vscode.commands.executeCommand<SessionView | undefined>(commandIds.startSession, {
      goal: '- [a] A {files: a.txt}: [[script:slow_write a.txt 100]] alpha',
      model: 'demo/scripted',
      approve: false,
    });
    assert.ok(started?.id, 'a session came back');
    assert.equal(started.state, 'draft');
    const fromServer = await api.session(started.id);
    assert.equal(fromServer.model, 'demo/scripted', 'session/get shows the chosen model');
    await vscode.commands.executeCommand(commandIds.deleteSession, started.id, { confirmed: true });
  });

  it('a model that is not configured is refused and creates nothing', async () => {
    const before = api.sessions().length;
    const started = await vscode.commands.executeCommand<SessionView | undefined>(commandIds.startSession, {
      goal: '- [a] A: alpha',
      model: 'nope/none',
      approve: false,
    });
    assert.equal(started, undefined, 'no session came back');
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(api.sessions().length, before, 'no session appeared in the Sessions view');
  });
});

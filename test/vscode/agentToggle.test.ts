// Enable / disable an agent from the Agents view in the real VS Code extension host: the row shows health, the tasks
// running on it and its model; Disable Agent (inline) writes orchestrator.agents.disabled, the server restarts with
// it, the row says "disabled" and offers Enable Agent, and a session's task is routed to no agent (it fails saying
// which agent is disabled). Enable Agent brings the row back.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OrchestratorApi } from '../../extension/src/api';
import { commandIds } from '../../extension/src/commands/ids';
import type { SessionView } from '../../protocol/session';

const extensionId = 'industrial-orchestrator.industrial-orchestrator';
const endedStates = ['completed', 'partially_completed', 'failed', 'cancelled', 'timed_out'];

async function until<T>(what: string, ms: number, probe: () => T | undefined, last?: () => unknown): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last: ${JSON.stringify(last())})` : ''}`);
}

/** The inline actions the manifest shows on an Agents-view row with this `contextValue`. */
function inlineActions(contextValue: string): string[] {
  const manifest = JSON.parse(
    fs.readFileSync(path.join(vscode.extensions.getExtension(extensionId)!.extensionPath, 'package.json'), 'utf8'),
  );
  const items = manifest.contributes.menus['view/item/context'] as { command: string; when: string; group?: string }[];
  return items
    .filter((m) => m.group === 'inline' && m.when.includes('view == orchestrator.agents'))
    .filter((m) => /viewItem == (\S+)/.exec(m.when)?.[1] === contextValue)
    .map((m) => m.command);
}

const disabledSetting = () => vscode.workspace.getConfiguration('orchestrator').get<string[]>('agents.disabled', []);

describe('enable / disable an agent from the Agents view in the real VS Code extension host', () => {
  let api: OrchestratorApi;
  const row = () => api.agentRows().find((r) => r.id === 'opencode');
  before(async () => {
    api = await vscode.extensions.getExtension<OrchestratorApi>(extensionId)!.activate();
  });
  after(async () => {
    await vscode.workspace.getConfiguration('orchestrator').update('agents.disabled', undefined, vscode.ConfigurationTarget.Global);
  });

  it('the row shows health, running count and model; Disable Agent makes it "disabled" and routes nothing to it', async () => {
    const enabled = await until('the OpenCode row ready', 120_000, () => (row()?.description.startsWith('ready') ? row() : undefined), row);
    assert.match(enabled.description, /^ready · \d+ running · [^\s/]+\/\S+ · ✓\d+ ✗\d+ · (not )?sandboxed$/);
    assert.equal(enabled.contextValue, 'agent.enabled');
    assert.deepEqual(inlineActions(enabled.contextValue), [commandIds.disableAgent]);

    assert.deepEqual(await vscode.commands.executeCommand(commandIds.disableAgent, { id: 'opencode' }), ['opencode']);
    assert.deepEqual(disabledSetting(), ['opencode']);
    const off = await until(
      'the row to say disabled',
      120_000,
      () => (row()?.description.startsWith('disabled ·') ? row() : undefined),
      row,
    );
    assert.equal(off.contextValue, 'agent.disabled');
    assert.deepEqual(inlineActions(off.contextValue), [commandIds.enableAgent]);
    assert.match(off.tooltip, /Disabled/);

    await until('the server to be healthy after the restart', 120_000, () => (api.snapshot().status?.health === 'ok' ? true : undefined));
    const started = await vscode.commands.executeCommand<SessionView>(commandIds.startSession, {
      goal: '- [a] A {files: a.txt}: [[script:slow_write a.txt 100]] alpha',
      approve: true,
    });
    assert.ok(started?.id, 'a session came back');
    const done = await until('the session to end', 60_000, () => {
      const s = api.sessions().find((x) => x.id === started.id);
      return s && endedStates.includes(s.state) ? s : undefined;
    });
    const task = done.tasks.find((t) => t.planId === 'a')!;
    assert.equal(task.state, 'failed');
    assert.match(task.lastError ?? '', /disabled: opencode/);
    assert.equal(task.runId, undefined, 'no agent turn ran');
    await vscode.commands.executeCommand(commandIds.deleteSession, started.id, { confirmed: true });
  });

  it('Enable Agent brings the row back; an unknown agent id changes nothing', async () => {
    assert.equal(await vscode.commands.executeCommand(commandIds.enableAgent, 'no-such-agent'), undefined);
    assert.deepEqual(disabledSetting(), ['opencode'], 'an unknown id changed nothing');
    assert.deepEqual(await vscode.commands.executeCommand(commandIds.enableAgent, { id: 'opencode' }), []);
    const on = await until('the row to leave "disabled"', 120_000, () => (row()?.description.startsWith('ready') ? row() : undefined), row);
    assert.equal(on.contextValue, 'agent.enabled');
  });
});

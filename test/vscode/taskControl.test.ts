// Per-task control in the real VS Code extension host: a failed task is retried alone from its Sessions
// tree row, a running task is cancelled alone by (sessionId, taskId), the rest of each session goes on.
// The real server, the real OpenCode binary, real git; the scripted model fails the flaky task's turns.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OrchestratorApi, TaskTreeRow } from '../../extension/src/api';
import { commandIds } from '../../extension/src/commands/ids';
import type { SessionView } from '../../protocol/session';

const extensionId = 'industrial-orchestrator.industrial-orchestrator';
const endedStates = ['completed', 'partially_completed', 'failed', 'cancelled', 'timed_out'];

async function until<T>(what: string, ms: number, probe: () => T | undefined): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** The inline actions the manifest shows on a Sessions-tree row with this `contextValue`. */
function inlineActions(contextValue: string): string[] {
  const manifest = JSON.parse(
    fs.readFileSync(path.join(vscode.extensions.getExtension(extensionId)!.extensionPath, 'package.json'), 'utf8'),
  );
  const items = manifest.contributes.menus['view/item/context'] as { command: string; when: string; group?: string }[];
  return items
    .filter((m) => m.group === 'inline' && m.when.includes('view == orchestrator.sessions'))
    .filter((m) => {
      const re = /viewItem =~ \/(.+)\/$/.exec(m.when)?.[1];
      const eq = /viewItem == (\S+)/.exec(m.when)?.[1];
      return re ? new RegExp(re).test(contextValue) : eq === contextValue;
    })
    .map((m) => m.command);
}

const textOf = (v: string | vscode.MarkdownString | undefined) => (typeof v === 'string' ? v : (v?.value ?? ''));

describe('per-task control from the Sessions tree in the real VS Code extension host', () => {
  let api: OrchestratorApi;
  const session = (id: string) => api.sessions().find((x) => x.id === id);
  const ended = (id: string) => {
    const s = session(id);
    return s && endedStates.includes(s.state) ? s : undefined;
  };
  const task = (s: SessionView, planId: string) => s.tasks.find((t) => t.planId === planId)!;

  before(async () => {
    api = await vscode.extensions.getExtension<OrchestratorApi>(extensionId)!.activate();
  });

  it('a failed task is retried alone from its tree row: it runs again and the session completes', async () => {
    const counter = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'orch-vscode-fail-')), 'count');
    const goal = [
      `- [flaky] Flaky {files: flaky.txt}: [[script:fail_times ${counter} 3 flaky.txt]] flaky at last`,
      '- [steady] Steady {files: steady.txt}: [[script:slow_write steady.txt 300]] steady',
    ].join('\n');
    const started = await vscode.commands.executeCommand<SessionView>(commandIds.startSession, { goal, approve: true });
    assert.ok(started?.id, 'a session came back');
    const first = await until('the session to end with the flaky task failed', 180_000, () => ended(started.id));
    assert.equal(first.state, 'partially_completed', JSON.stringify(first.tasks.map((t) => [t.planId, t.state, t.lastError])));
    assert.deepEqual([task(first, 'flaky').state, task(first, 'flaky').attempts], ['failed', 3]);

    // The failed row says why, and offers Retry Task (not Cancel Task).
    const row = await until('the failed task row', 10_000, () => {
      const r = api.taskRow(started.id, 'flaky');
      return r?.contextValue === 'sessionTask.failed' ? r : undefined;
    });
    assert.equal(row.sessionId, started.id);
    assert.equal(row.taskId, task(first, 'flaky').id);
    assert.match(String(row.description), /scripted failure 3 of 3/, 'the row shows the error');
    assert.match(textOf(row.tooltip), /scripted failure 3 of 3/, 'the tooltip shows the error');
    assert.deepEqual(inlineActions(row.contextValue!), [commandIds.retryTask]);
    assert.deepEqual(inlineActions(api.taskRow(started.id, 'steady')!.contextValue!), [], 'a succeeded row offers neither');

    // A succeeded task is refused: nothing changes (the error goes to a notification).
    const steady = task(first, 'steady');
    assert.equal(await vscode.commands.executeCommand(commandIds.retryTask, started.id, steady.id), undefined);
    assert.equal(session(started.id)?.state, 'partially_completed');

    const reopened = await vscode.commands.executeCommand<SessionView>(commandIds.retryTask, row as TaskTreeRow);
    assert.equal(reopened?.state, 'running', 'the session runs again');
    // Three failures in a row may have opened the agent's circuit: it takes a probe task within a minute.
    // The view's copy updates from session/didChange: wait for the fourth attempt to have ended.
    const done = await until('the session to end after the retry', 240_000, () => {
      const s = ended(started.id);
      return s && task(s, 'flaky').attempts === 4 ? s : undefined;
    });
    assert.equal(done.state, 'completed', JSON.stringify(done.tasks.map((t) => [t.planId, t.state, t.lastError])));
    assert.deepEqual(
      done.tasks.map((t) => [t.planId, t.state, t.attempts]),
      [
        ['flaky', 'succeeded', 4],
        ['steady', 'succeeded', 1],
      ],
      'only the flaky task ran again',
    );
    assert.equal(task(done, 'steady').runId, steady.runId);
    assert.equal(api.taskRow(started.id, 'flaky')?.contextValue, 'sessionTask.succeeded');
  }).timeout(480_000);

  it('a running task is cancelled alone by (sessionId, taskId): its sibling completes', async () => {
    const goal = [
      '- [long] Long {files: long.txt}: [[script:slow 120 500]]',
      '- [quick] Quick {files: quick.txt}: [[script:slow_write quick.txt 300]] quick',
    ].join('\n');
    const started = await vscode.commands.executeCommand<SessionView>(commandIds.startSession, { goal, approve: true });
    assert.ok(started?.id, 'a session came back');
    const row = await until('the long task row to run', 120_000, () => {
      const r = api.taskRow(started.id, 'long');
      return r?.contextValue === 'sessionTask.running' ? r : undefined;
    });
    assert.deepEqual(inlineActions(row.contextValue!), [commandIds.cancelTask]);
    const t0 = Date.now();
    const after = await vscode.commands.executeCommand<SessionView>(commandIds.cancelTask, row.sessionId, row.taskId);
    assert.equal(after && task(after, 'long').state, 'cancelled');
    const done = await until('the session to end', 120_000, () => ended(started.id));
    assert.ok(Date.now() - t0 < 60_000, "the long task's 60 s turn did not run to its end");
    assert.equal(done.state, 'partially_completed');
    assert.deepEqual(
      done.tasks.map((t) => [t.planId, t.state]),
      [
        ['long', 'cancelled'],
        ['quick', 'succeeded'],
      ],
    );
    const cancelledRow = await until('the cancelled row', 10_000, () => {
      const r = api.taskRow(started.id, 'long');
      return r?.contextValue === 'sessionTask.cancelled' ? r : undefined;
    });
    assert.deepEqual(inlineActions(cancelledRow.contextValue!), [commandIds.retryTask], 'a cancelled row offers Retry Task');
  }).timeout(300_000);
});

// Task priority from the Sessions tree in the real VS Code extension host: the priority set on a draft's
// task rows reaches the server and decides which ready task starts first (one task at a time). The draft
// waiting for approval is counted in the Sessions view's badge. The real server, OpenCode and git.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OrchestratorApi } from '../../extension/src/api';
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

/** The commands the manifest offers on a Sessions-tree row with this `contextValue` (inline or in its context menu). */
function rowCommands(contextValue: string): string[] {
  const manifest = JSON.parse(
    fs.readFileSync(path.join(vscode.extensions.getExtension(extensionId)!.extensionPath, 'package.json'), 'utf8'),
  );
  const items = manifest.contributes.menus['view/item/context'] as { command: string; when: string }[];
  return items
    .filter((m) => m.when.includes('view == orchestrator.sessions'))
    .filter((m) => {
      const re = /viewItem =~ \/(.+)\/$/.exec(m.when)?.[1];
      const eq = /viewItem == (\S+)/.exec(m.when)?.[1];
      return re ? new RegExp(re).test(contextValue) : eq === contextValue;
    })
    .map((m) => m.command);
}

describe('task priority from the Sessions tree in the real VS Code extension host', () => {
  let api: OrchestratorApi;

  before(async () => {
    api = await vscode.extensions.getExtension<OrchestratorApi>(extensionId)!.activate();
  });

  it('priorities set on task rows reach the server and decide which ready task starts first', async () => {
    const goal = [
      '- [first] First {files: first.txt}: [[script:slow_write first.txt 300]] first',
      '- [second] Second {files: second.txt}: [[script:slow_write second.txt 300]] second',
      '- [third] Third {files: third.txt}: [[script:slow_write third.txt 300]] third',
    ].join('\n');
    const approvalsBefore = api.waiting().approvals;
    const draft = await vscode.commands.executeCommand<SessionView>(commandIds.startSession, { goal, approve: false });
    assert.equal(draft?.state, 'draft');

    // The draft waits for the user: the badge counts it and says why.
    const badge = await until('the badge to count the draft', 10_000, () => {
      const b = api.sessionsBadge();
      return b && api.waiting().approvals === approvalsBefore + 1 ? b : undefined;
    });
    assert.ok(badge.value >= 1);
    assert.match(badge.tooltip, /session\(s\) to approve or decide on/);

    const third = await until('the draft task rows', 10_000, () => api.taskRow(draft.id, 'third'));
    assert.equal(third.contextValue, 'sessionTask.pending');
    assert.ok(rowCommands(third.contextValue!).includes(commandIds.setTaskPriority), 'the row offers Set Task Priority…');

    // Bad input changes nothing: the server's task keeps no priority.
    assert.equal(await vscode.commands.executeCommand(commandIds.setTaskPriority, draft.id, third.taskId, 9), undefined);
    const unchanged = await api.session(draft.id);
    assert.equal(unchanged.tasks.find((t) => t.planId === 'third')?.priority, undefined);

    // From the row (as its menu passes it) and by (sessionId, taskId): third highest, first lowest.
    const afterThird = await vscode.commands.executeCommand<SessionView>(commandIds.setTaskPriority, third, 0);
    assert.equal(afterThird?.tasks.find((t) => t.planId === 'third')?.priority, 0);
    const firstId = draft.tasks.find((t) => t.planId === 'first')!.id;
    await vscode.commands.executeCommand<SessionView>(commandIds.setTaskPriority, draft.id, firstId, 4);
    const onServer = await api.session(draft.id);
    assert.deepEqual(
      onServer.tasks.map((t) => [t.planId, t.priority]),
      [
        ['first', 4],
        ['second', undefined],
        ['third', 0],
      ],
    );
    await until("the row's tooltip to show the priority", 10_000, () => {
      const tip = api.taskRow(draft.id, 'third')?.tooltip;
      return (typeof tip === 'string' ? tip : tip?.value)?.includes('priority 0') ? true : undefined;
    });

    // One task at a time: they start in priority order, not plan order.
    const running = await vscode.commands.executeCommand<SessionView>(commandIds.approveSession, draft.id, { maxParallel: 1 });
    assert.equal(running?.state, 'running');
    const done = await until('the session to end', 240_000, () => {
      const s = api.sessions().find((x) => x.id === draft.id);
      return s && endedStates.includes(s.state) ? s : undefined;
    });
    assert.equal(done.state, 'completed', JSON.stringify(done.tasks.map((t) => [t.planId, t.state, t.lastError])));
    const order = [...done.tasks].sort((a, b) => a.startedAt!.localeCompare(b.startedAt!)).map((t) => t.planId);
    assert.deepEqual(order, ['third', 'second', 'first']);
    assert.equal(api.waiting().approvals, approvalsBefore, 'the approved session no longer waits');
  }).timeout(360_000);
});

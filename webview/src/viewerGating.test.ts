/**
 * A read-only snapshot (a viewer on a team server) draws no mutating button: the dashboard's session and
 * task actions, the marketplace's install / enable / disable / uninstall, and a note in the curator where
 * export and fine-tune would be (its forms are hidden by `main.ts`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MarketplaceDetails } from '../../protocol/marketplace';
import type { SessionView, TaskView } from '../../protocol/session';
import { renderReadOnlyNote } from './curator/render';
import { renderSessionHead, renderTaskActions } from './dashboard/sessionView';
import { actionButtons } from './marketplace/render';

const session = (state: SessionView['state']) =>
  ({
    id: 's1',
    goal: 'g',
    cwd: '/r',
    state,
    priority: 2,
    tasks: [],
    budget: { limits: {}, spent: { tokens: 0, money: 0 }, reservedTotal: { tokens: 0, money: 0 } },
    usage: { inputTokens: 0, outputTokens: 0, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 },
    createdAt: '2026-01-01T00:00:00.000Z',
  }) as unknown as SessionView;
const task = (state: TaskView['state']) =>
  ({ id: 's1:a', planId: 'a', title: 'A', prompt: 'p', dependsOn: [], expectedFiles: [], state, attempts: 1, maxAttempts: 2 }) as TaskView;

test('dashboard: a read-only view has no session or task action, the same states otherwise have some', () => {
  for (const st of ['draft', 'running', 'partially_completed', 'failed'] as const) {
    assert.match(renderSessionHead(session(st)), /data-command=/, st);
    assert.doesNotMatch(renderSessionHead(session(st), true), /data-command=|vscode-button/, st);
  }
  for (const st of ['failed', 'running', 'ready'] as const) {
    assert.match(renderTaskActions(task(st)), /data-command=/, st);
    assert.equal(renderTaskActions(task(st), true), '', st);
  }
});

test('marketplace: a read-only view draws no install, enable, disable or uninstall, and says who may', () => {
  const d = {
    id: 'x',
    name: 'X',
    version: '1.0.0',
    description: '',
    source: { kind: 'file', label: '/i.json' },
    distributions: ['npx'],
    capabilities: [],
    updateAvailable: false,
    plan: { kind: 'npx', version: '1.0.0', steps: [], command: '/bin/x', args: [], env: { set: [], passed: [], required: [] } },
    consentToken: 't',
  } as unknown as MarketplaceDetails;
  const installed = { ...d, installed: { version: '1.0.0', kind: 'npx' as const, enabled: true, installedAt: 'x' } };
  assert.match(actionButtons(d, undefined), /data-action="install"/);
  assert.match(actionButtons(installed, undefined), /data-action="uninstall"/);
  for (const x of [d, installed]) {
    const b = actionButtons(x, undefined, true);
    assert.doesNotMatch(b, /data-action|vscode-button/);
    assert.match(b, /Only an admin/);
  }
});

test('curator: a read-only view gets a note instead of the export and fine-tune forms', () => {
  assert.equal(renderReadOnlyNote({}), '');
  assert.match(renderReadOnlyNote({ readOnly: true }), /viewer role: exporting datasets and fine-tuning need a developer/);
});

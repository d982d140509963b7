/**
 * A viewer on a team server sees no mutating action in the webviews: the hosts mark their snapshots
 * `readOnly` (dashboard and curator for viewers; the marketplace for anyone but an admin or the local user).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyCuratorQuery } from '../../../protocol/webview/curator';
import { emptyQuery } from '../../../protocol/webview/marketplace';
import type { SessionView } from '../../../protocol/session';
import { curatorSnapshot } from './curatorModel';
import { sessionsSnapshot } from './dashboardModel';
import { mayManageAgents, viewSnapshot } from './marketplaceModel';

const session = {
  id: 's1',
  goal: 'g',
  cwd: '/r',
  state: 'draft',
  priority: 2,
  tasks: [],
  budget: { limits: {}, spent: { tokens: 0, money: 0 }, reservedTotal: { tokens: 0, money: 0 } },
  usage: { inputTokens: 0, outputTokens: 0, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 },
  createdAt: '2026-01-01T00:00:00.000Z',
} as unknown as SessionView;

test('the dashboard snapshot says readOnly only when asked', () => {
  assert.equal(sessionsSnapshot([session], undefined, 1).readOnly, undefined);
  assert.equal(sessionsSnapshot([session], undefined, 2, true).readOnly, true);
});

test('the curator snapshot says readOnly only when asked', () => {
  const state = {
    query: emptyCuratorQuery,
    agents: [],
    models: [],
    rows: [],
    selected: null,
    stats: null,
    warnings: [],
    busy: null,
    exported: null,
    job: null,
  };
  assert.ok(!('readOnly' in curatorSnapshot(state, 1)));
  assert.equal(curatorSnapshot(state, 2, true).readOnly, true);
});

test('the marketplace changes agents only for the local user and a team admin', () => {
  assert.deepEqual(['local', 'admin', 'developer', 'viewer'].map(mayManageAgents), [true, true, false, false]);
  const state = { query: emptyQuery, entries: [], problems: [], selected: undefined, busy: new Map(), errors: new Map(), loading: false };
  assert.ok(!('readOnly' in viewSnapshot(state, 1)));
  assert.equal(viewSnapshot(state, 2, true).readOnly, true);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServerStatus } from '../../../protocol/server';
import { formatUptime, healthLabel, renderStatus } from './render';

const status: ServerStatus = {
  health: 'ok',
  message: 'fine <b>',
  version: '0.1.0',
  pid: 42,
  node: 'v24',
  mode: 'stdio',
  startedAt: new Date(0).toISOString(),
  uptimeMs: 0,
  dataDir: '/d',
  store: { kind: 'lowdb', path: '/d/store.json', schemaVersion: 1, state: 'ok' },
  agents: [],
};

test('renders health, pid and escapes text from the host', () => {
  const html = renderStatus({ type: 'dashboard/status', clientState: 'running', status }, 65_000, true);
  assert.match(html, /data-health="ok"/);
  assert.match(html, /pid 42/);
  assert.match(html, /1m 5s/);
  assert.match(html, /fine &lt;b&gt;/);
  assert.match(html, /vscode-collapsible id="details" title="Server details" open/);
});

test('labels the client states', () => {
  assert.equal(healthLabel(undefined), 'connecting');
  assert.equal(healthLabel({ type: 'dashboard/status', clientState: 'starting', status: null }), 'starting');
  assert.equal(healthLabel({ type: 'dashboard/status', clientState: 'stopped', status, stoppedReason: 'gave up' }), 'stopped');
  assert.equal(formatUptime(3_723_000), '1h 2m 3s');
});

test('server details start collapsed unless the user opened them', () => {
  const html = renderStatus({ type: 'dashboard/status', clientState: 'running', status }, 0, false);
  assert.match(html, /vscode-collapsible id="details" title="Server details" >/);
  assert.match(html, /<vscode-button id="restart"/);
});

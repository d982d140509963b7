import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MarketplaceDetails } from '../../../protocol/marketplace';
import { emptyQuery, type MarketplaceViewMessage } from '../../../protocol/webview/marketplace';
import { actionButtons, capabilityText, renderDetails, renderList, renderProblems } from './render';

const d: MarketplaceDetails = {
  id: 'fixture-npx',
  name: 'Fixture <agent>',
  version: '1.1.0',
  description: 'A fixture & more',
  license: 'MIT',
  authors: ['Ann', 'Bob'],
  repository: 'javascript:alert(1)',
  source: { kind: 'file', label: '/idx.json' },
  distributions: ['npx'],
  capabilities: ['fixture'],
  updateAvailable: false,
  plan: {
    kind: 'npx',
    version: '1.1.0',
    steps: ['npm install x'],
    command: '/bin/x',
    args: [],
    env: { set: [], passed: [], required: [] },
  },
  consentToken: 't',
};
const view = (over: Partial<MarketplaceViewMessage> = {}): MarketplaceViewMessage => ({
  type: 'marketplace/view',
  seq: 1,
  query: emptyQuery,
  entries: [d],
  total: 3,
  capabilities: ['fixture'],
  problems: [],
  selected: { details: d, runs: "/bin/x --acp 'a b'", env: ['set: HOME'] },
  busy: {},
  errors: {},
  loading: false,
  ...over,
});

test('the list escapes host text, marks the selected entry, and shows progress and errors in place', () => {
  const html = renderList(view({ busy: { 'fixture-npx': 'install' }, errors: { 'fixture-npx': 'npm <failed>\nnpm error code ENOENT' } }));
  assert.match(html, /Fixture &lt;agent&gt;/);
  assert.match(html, /data-id="fixture-npx" aria-selected="true"/);
  assert.match(html, /<vscode-progress-ring><\/vscode-progress-ring>Installing…/);
  assert.match(html, /role="alert">npm &lt;failed&gt;<\/div>/, 'the list shows the first line; the details show it all');
  assert.match(renderList(view({ entries: [] })), /No agent matches these filters/);
  assert.match(renderList(view({ entries: [], total: 0 })), /lists no agents/);
  assert.match(renderList(view({ listError: 'server down' })), /Could not read the marketplace: server down/);
});

test('details show the facts, the exact command line and environment names; a non-http repository is not a link', () => {
  const html = renderDetails(view());
  assert.match(html, /<th>License<\/th><td>MIT<\/td>/);
  assert.match(html, /<th>Authors<\/th><td>Ann, Bob<\/td>/);
  assert.doesNotMatch(html, /href="javascript/);
  assert.match(html, /<pre class="cmd"[^>]*>\/bin\/x --acp &#39;a b&#39;<\/pre>/);
  assert.match(html, /<li>set: HOME<\/li>/);
  assert.match(html, /<li>npm install x<\/li>/);
  assert.match(renderDetails(view({ selected: null })), /Choose an agent/);
});

test('the buttons follow the entry state and are disabled while busy', () => {
  assert.match(actionButtons(d, undefined), /data-action="install"[^>]*>Install</);
  const inst = { ...d, installed: { version: '1.0.0', kind: 'npx' as const, enabled: true, installedAt: 'x' }, updateAvailable: true };
  const b = actionButtons(inst, undefined);
  assert.match(b, /data-action="install"[^>]*>Update to 1\.1\.0</);
  assert.match(b, /data-action="disable"/);
  assert.match(b, /data-action="uninstall"/);
  assert.match(actionButtons({ ...inst, installed: { ...inst.installed, enabled: false } }, undefined), /data-action="enable"/);
  assert.match(actionButtons(inst, 'uninstall'), /data-action="uninstall"[^>]* disabled/);
  assert.equal(actionButtons({ ...d, plan: undefined }, undefined), '', 'nothing to install without a plan');
});

test('problems name the source, the entry and the message', () => {
  assert.equal(renderProblems([]), '');
  assert.match(
    renderProblems([{ source: '/i.json', id: 'bad', message: 'version: bad', fields: ['version'] }]),
    /<code>\/i\.json<\/code> <b>bad<\/b>: version: bad/,
  );
});

test('a generalist capability reads "any task"', () => {
  assert.equal(capabilityText(['*']), 'any task');
  assert.equal(capabilityText(['code', 'docs']), 'code, docs');
});

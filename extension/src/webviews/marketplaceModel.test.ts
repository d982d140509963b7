import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MarketplaceDetails, MarketplaceEntry } from '../../../protocol/marketplace';
import { emptyQuery } from '../../../protocol/webview/marketplace';
import { capabilitiesOf, consentText, filterEntries, selectedView, sortEntries, viewSnapshot } from './marketplaceModel';

const entry = (id: string, over: Partial<MarketplaceEntry> = {}): MarketplaceEntry => ({
  id,
  name: id.toUpperCase(),
  version: '1.0.0',
  description: `the ${id} agent`,
  source: { kind: 'bundled', label: 'bundled snapshot' },
  distributions: ['npx'],
  capabilities: [],
  updateAvailable: false,
  ...over,
});

const entries = [
  entry('gemini', { description: 'Google Gemini CLI', capabilities: ['code', 'docs'] }),
  entry('goose', { distributions: ['binary'], capabilities: ['*'] }),
  entry('fixture', {
    distributions: ['npx'],
    capabilities: ['fixture'],
    installed: { version: '1.0.0', kind: 'npx', enabled: true, installedAt: '2026-01-01T00:00:00Z' },
  }),
  entry('uv-thing', { distributions: ['uvx'], capabilities: ['docs'] }),
];
const ids = (es: MarketplaceEntry[]) => es.map((e) => e.id);

test('search matches id, name and description, case-insensitive, every word', () => {
  assert.deepEqual(ids(filterEntries(entries, { ...emptyQuery, search: 'GOOGLE' })), ['gemini']);
  assert.deepEqual(ids(filterEntries(entries, { ...emptyQuery, search: 'the agent' })), ['goose', 'fixture', 'uv-thing']);
  assert.deepEqual(ids(filterEntries(entries, { ...emptyQuery, search: 'gemini nothing' })), []);
  assert.deepEqual(ids(filterEntries(entries, emptyQuery)), ids(entries));
});

test('filters combine with AND; a capability matches generalists (*) too', () => {
  assert.deepEqual(ids(filterEntries(entries, { ...emptyQuery, installed: true })), ['fixture']);
  assert.deepEqual(ids(filterEntries(entries, { ...emptyQuery, capability: 'docs' })), ['gemini', 'goose', 'uv-thing']);
  assert.deepEqual(ids(filterEntries(entries, { ...emptyQuery, distribution: 'binary' })), ['goose']);
  assert.deepEqual(ids(filterEntries(entries, { ...emptyQuery, capability: 'docs', distribution: 'uvx' })), ['uv-thing']);
  assert.deepEqual(ids(filterEntries(entries, { ...emptyQuery, capability: 'docs', installed: true })), []);
});

test('installed first, then by name; capabilities sorted without *', () => {
  assert.deepEqual(ids(sortEntries(entries)), ['fixture', 'gemini', 'goose', 'uv-thing']);
  assert.deepEqual(capabilitiesOf(entries), ['code', 'docs', 'fixture']);
});

const details: MarketplaceDetails = {
  ...entry('fixture-npx', { name: 'Fixture agent (npm)' }),
  plan: {
    kind: 'npx',
    version: '1.0.0',
    installDir: '/data/marketplace/agents/fixture-npx/1.0.0',
    steps: ['npm install --ignore-scripts=false fixture-acp-agent@1.0.0'],
    command: '/data/marketplace/agents/fixture-npx/1.0.0/node_modules/.bin/fixture-acp-agent',
    args: ['--acp', 'two words'],
    env: { set: ['HOME', 'FIXTURE_DIST_ENV'], passed: ['PATH'], required: [] },
  },
  consentToken: 'tok',
};

test('the consent text names every install step, the folder, the exact command line and the environment names', () => {
  const c = consentText(details);
  assert.ok(c);
  assert.equal(c.message, 'Install Fixture agent (npm) 1.0.0? It will run on this machine as an agent.');
  assert.match(c.detail, /• npm install --ignore-scripts=false fixture-acp-agent@1\.0\.0/);
  assert.match(c.detail, /Into: \/data\/marketplace\/agents\/fixture-npx\/1\.0\.0/);
  assert.match(c.detail, /\.bin\/fixture-acp-agent --acp 'two words'\n/);
  assert.match(c.detail, /set: FIXTURE_DIST_ENV, HOME\n {2}copied from your environment when present: PATH$/);
  assert.equal(consentText({ ...details, plan: undefined }), undefined, 'no plan, nothing to consent to');
  const bare = consentText({
    ...details,
    plan: { ...details.plan!, steps: [], installDir: undefined, env: { set: [], passed: [], required: [] } },
  });
  assert.equal(bare?.detail, `Then it runs:\n  ${details.plan!.command} --acp 'two words'\n\nWith no environment variables of yours.`);
});

test('the selected view shows the installed command line once installed, else the plan', () => {
  assert.equal(selectedView(details).runs, `${details.plan!.command} --acp 'two words'`);
  const installed = selectedView({
    ...details,
    installed: { version: '1.0.0', kind: 'npx', enabled: true, installedAt: 'x' },
    runs: { command: '/bin/agent', args: ['x'] },
  });
  assert.equal(installed.runs, '/bin/agent x');
  assert.deepEqual(installed.env, ['set: FIXTURE_DIST_ENV, HOME', 'copied from your environment when present: PATH']);
  assert.equal(selectedView({ ...details, plan: undefined }).runs, undefined);
});

test('the snapshot carries the filtered, sorted list, the total, busy and errors', () => {
  const v = viewSnapshot(
    {
      query: { ...emptyQuery, capability: 'docs' },
      entries,
      problems: [],
      selected: details,
      busy: new Map([['goose', 'install']]),
      errors: new Map([['gemini', 'npm failed']]),
      loading: false,
    },
    7,
  );
  assert.equal(v.seq, 7);
  assert.deepEqual(ids(v.entries), ['gemini', 'goose', 'uv-thing']);
  assert.equal(v.total, 4);
  assert.deepEqual(v.busy, { goose: 'install' });
  assert.deepEqual(v.errors, { gemini: 'npm failed' });
  assert.equal(v.selected?.details.id, 'fixture-npx');
  assert.equal('listError' in v, false);
});

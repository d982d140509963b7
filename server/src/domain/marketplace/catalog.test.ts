import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAgentDescriptor } from '../agentDescriptor';
import { buildCatalog, compareVersions, customDescriptor, entryView, filterEntries } from './catalog';

const entry = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: id.toUpperCase(),
  version: '1.0.0',
  description: `the ${id} agent`,
  distribution: { npx: { package: `${id}@1.0.0` } },
  ...extra,
});

test('a later source replaces an id; bad entries and unreadable sources are problems naming source, id and field', () => {
  const c = buildCatalog([
    { kind: 'bundled', label: 'bundled snapshot', raw: { agents: [entry('a'), entry('b')] } },
    { kind: 'file', label: '/idx.json', raw: { agents: [entry('b', { version: '2.0.0' }), { ...entry('c'), license_url: 'nope' }] } },
    { kind: 'url', label: 'http://127.0.0.1/x', error: 'answered HTTP 404' },
    { kind: 'file', label: '/not-an-index.json', raw: { agents: 'x' } },
  ]);
  assert.deepEqual([...c.entries.keys()].sort(), ['a', 'b']);
  assert.equal(c.entries.get('b')?.descriptor.version, '2.0.0');
  assert.equal(c.entries.get('b')?.source.label, '/idx.json');
  const bad = c.problems.find((p) => p.id === 'c');
  assert.equal(bad?.source, '/idx.json');
  assert.deepEqual(bad?.fields, ['license_url']);
  assert.match(bad?.message ?? '', /^\/idx\.json: agents\[1\] "c": license_url:/);
  assert.ok(c.problems.some((p) => p.message === 'http://127.0.0.1/x: answered HTTP 404'));
  assert.ok(c.problems.some((p) => p.source === '/not-an-index.json' && p.fields[0] === 'agents'));
});

test('packageSource is honoured only in a local index file', () => {
  const withSource = entry('p', { _meta: { orchestrator: { packageSource: '/tmp/p.tgz' } } });
  const fromFile = buildCatalog([{ kind: 'file', label: '/i.json', raw: [withSource] }]);
  assert.ok(fromFile.entries.has('p'));
  const fromUrl = buildCatalog([{ kind: 'url', label: 'http://h/i.json', raw: [withSource] }]);
  assert.equal(fromUrl.entries.size, 0);
  assert.deepEqual(fromUrl.problems[0].fields, ['_meta.orchestrator.packageSource']);
});

test('custom entries become command descriptors; a bad one is named', () => {
  const d = parseAgentDescriptor(customDescriptor({ id: 'mine', name: 'Mine', command: '/bin/agent', args: ['--acp'], env: { X: '1' } }));
  assert.deepEqual(d._meta?.orchestrator?.command, { path: '/bin/agent', args: ['--acp'] });
  assert.deepEqual(d._meta?.orchestrator?.env?.set, { X: '1' });
  const c = buildCatalog([
    { kind: 'custom', label: 'custom entries', raw: { agents: [customDescriptor({ id: 'Bad Id', name: 'x', command: 'y' })] } },
  ]);
  assert.equal(c.problems[0].id, 'Bad Id');
  assert.deepEqual(c.problems[0].fields, ['id']);
});

test('views: update available when the index version is newer; filters combine; installed first', () => {
  const idx = parseAgentDescriptor(entry('a', { version: '1.2.0', _meta: { orchestrator: { capabilities: ['docs'] } } }));
  const record = {
    id: 'a',
    tenantId: 'local',
    version: '1.0.0',
    installed: { descriptor: {}, source: 'x', kind: 'npx' as const, enabled: true, installedAt: '2026-01-01T00:00:00.000Z' },
  };
  const a = entryView({ entry: { descriptor: idx, source: { kind: 'file', label: 'i' } }, record, descriptor: idx }, 'linux-x86_64');
  assert.equal(a.updateAvailable, true);
  assert.equal(a.installed?.version, '1.0.0');
  const bin = parseAgentDescriptor({
    ...entry('z'),
    distribution: { binary: { 'darwin-aarch64': { archive: 'https://h/z.tgz', cmd: './z' } } },
  });
  const z = entryView({ descriptor: bin }, 'linux-x86_64');
  assert.match(z.unavailable ?? '', /no distribution runs on linux-x86_64 \(binaries for darwin-aarch64\)/);
  assert.deepEqual(
    filterEntries([z, a], {}).map((e) => e.id),
    ['a', 'z'],
  );
  assert.deepEqual(
    filterEntries([z, a], { capability: 'docs', installed: true }).map((e) => e.id),
    ['a'],
  );
  // A generalist (`*`, every registry entry without our _meta) offers every capability.
  assert.deepEqual(
    filterEntries([z, a], { capability: 'docs' }).map((e) => e.id),
    ['a', 'z'],
  );
  assert.deepEqual(
    filterEntries([z, a], { search: 'THE Z', distribution: 'binary', installed: false }).map((e) => e.id),
    ['z'],
  );
  assert.equal(compareVersions('1.10.0', '1.9.3') > 0, true);
  assert.equal(compareVersions('2.0.0', '2.0.0'), 0);
});

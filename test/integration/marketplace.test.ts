/**
 * The agent marketplace through the real server process: a local index file (mixed good and bad entries), the
 * project's fixture ACP agent packed as a real npm tarball (installed with the real npm at its pinned version into
 * the managed folder), binaries served from a 127.0.0.1 HTTP server (sha256 checked), the real store across a
 * restart, and a real session task on the installed agent. No network beyond loopback.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { agentList } from '../../protocol/agent';
import { errorCodes } from '../../protocol/errors';
import {
  marketplaceGet,
  marketplaceInstall,
  marketplaceList,
  marketplaceSetEnabled,
  marketplaceUninstall,
  type MarketplaceDetails,
} from '../../protocol/marketplace';
import { sessionApply, sessionApprove, sessionStart } from '../../protocol/session';
import { startServer, tempDir, withDeadline, type ServerHandle } from './serverProcess';
import { ended, sampleRepo, task, waitSession } from './sessionHelpers';

const fixture = path.resolve(__dirname, '../fixtures/acp/fixtureAgent.mjs');
const platform = `${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch === 'x64' ? 'x86_64' : 'aarch64'}`;
let tmp: string;
let dataDir: string;
let indexFile: string;
let server: ServerHandle;
let http127: http.Server;
let base: string;
const served = new Map<string, Buffer>();

/** A real npm tarball whose bin starts the fixture ACP agent. */
function packFixture(version: string): string {
  const dir = path.join(tmp, `pkg-${version}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({
      name: 'fixture-acp-agent',
      version,
      bin: { 'fixture-acp-agent': 'bin.mjs' },
      license: 'MIT',
      // Records which environment names the package's install script saw.
      scripts: { postinstall: `node -e "require('fs').writeFileSync('install-env.json', JSON.stringify(Object.keys(process.env)))"` },
    }),
  );
  fs.writeFileSync(path.join(dir, 'bin.mjs'), `#!/usr/bin/env node\nawait import(${JSON.stringify(pathToFileURL(fixture).href)});\n`, {
    mode: 0o755,
  });
  const name = execFileSync('npm', ['pack', dir, '--pack-destination', tmp, '--silent'], { cwd: tmp, encoding: 'utf8' }).trim();
  return path.basename(name.split('\n').pop()!);
}

/** A tar.gz holding `agent`, a shell script that starts the fixture agent. */
function binaryArchive(): Buffer {
  const dir = path.join(tmp, 'bin-src');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'agent'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(fixture)}\n`, {
    mode: 0o755,
  });
  execFileSync('tar', ['-czf', path.join(tmp, 'agent.tar.gz'), '-C', dir, 'agent']);
  return fs.readFileSync(path.join(tmp, 'agent.tar.gz'));
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function npxEntry(version: string, tarball: string) {
  return {
    id: 'fixture-npx',
    name: 'Fixture agent (npm)',
    version,
    description: 'The project fixture ACP agent, installed from a local npm tarball',
    license: 'MIT',
    authors: ['Industrial Orchestrator'],
    distribution: { npx: { package: `fixture-acp-agent@${version}`, env: { FIXTURE_DIST_ENV: '1' } } },
    _meta: { orchestrator: { packageSource: `./${tarball}`, capabilities: ['fixture'], maxConcurrency: 1 } },
  };
}

function writeIndex(npxVersion: string, tarball: string): void {
  const archive = served.get('/agent.tar.gz')!;
  const agents = [
    npxEntry(npxVersion, tarball),
    // A malformed descriptor: its version is no semantic version, its distribution is empty.
    { id: 'broken-agent', name: 'Broken', version: 'one', description: 'bad', distribution: {} },
    // Not even an id.
    { name: 'Nameless' },
    {
      id: 'good-binary',
      name: 'Fixture agent (binary)',
      version: '2.0.0',
      description: 'The fixture agent as a downloaded binary',
      distribution: { binary: { [platform]: { archive: `${base}/agent.tar.gz`, cmd: './agent', sha256: sha256(archive) } } },
      _meta: { orchestrator: { capabilities: ['binary-fixture'] } },
    },
    {
      id: 'tampered-binary',
      name: 'Tampered binary',
      version: '1.0.0',
      description: 'Its archive does not match its sha256',
      distribution: { binary: { [platform]: { archive: `${base}/agent.tar.gz`, cmd: './agent', sha256: 'ab'.repeat(32) } } },
    },
    {
      id: 'uv-agent',
      name: 'A uvx agent',
      version: '0.1.0',
      description: 'Needs uv',
      distribution: { uvx: { package: 'uv-agent@0.1.0' } },
    },
  ];
  fs.writeFileSync(indexFile, JSON.stringify({ version: '1.0.0', agents }, null, 2));
}

const settings = () => ({
  agents: {
    marketplace: {
      indexes: [indexFile, `${base}/index.json`, `${base}/missing.json`],
      custom: [{ id: 'my-local', name: 'My local agent', command: process.execPath, args: [fixture], capabilities: ['local'] }],
    },
  },
});

/** The index a URL serves: one usable entry, one that asks for a local package source (only allowed in a file). */
function urlIndex(): Buffer {
  const remote = { ...npxEntry('3.0.0', 'x.tgz'), id: 'remote-npx', name: 'Remote npm agent' };
  const plain = {
    id: 'url-agent',
    name: 'URL agent',
    version: '0.2.0',
    description: 'From an index URL',
    distribution: { npx: { package: 'url-agent@0.2.0' } },
  };
  return Buffer.from(JSON.stringify({ agents: [plain, remote] }));
}

async function install(id: string, s = server): Promise<MarketplaceDetails> {
  const shown = await s.request(marketplaceGet, { id });
  return withDeadline(
    s.connection.sendRequest(marketplaceInstall.method, { id, consent: true, consentToken: shown.consentToken }),
    120_000,
    `install ${id}`,
  ) as Promise<MarketplaceDetails>;
}

async function refused(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  const e = await p.then(
    () => assert.fail('expected the request to be refused'),
    (err: unknown) => err as { code: number; message: string },
  );
  return e;
}

before(async () => {
  tmp = tempDir('orch-market-');
  dataDir = path.join(tmp, 'data');
  indexFile = path.join(tmp, 'index.json');
  served.set('/agent.tar.gz', binaryArchive());
  http127 = http.createServer((req, res) => {
    const body = served.get(req.url ?? '');
    res.writeHead(body ? 200 : 404).end(body ?? 'not found');
  });
  await new Promise<void>((r) => http127.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(http127.address() as AddressInfo).port}`;
  served.set('/index.json', urlIndex());
  writeIndex('1.0.0', packFixture('1.0.0'));
  // A provider key in the server's environment must not reach npm or the package's install scripts.
  process.env.ORCH_KEY_MARKET_TEST = 'sk-market-secret';
  server = await startServer(dataDir, settings());
  delete process.env.ORCH_KEY_MARKET_TEST;
});

after(async () => {
  await server?.stop();
  await new Promise((r) => http127?.close(r));
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('a mixed index: bad entries are problems naming the entry and field, the good ones and the bundled snapshot stay usable', async () => {
  const { entries, problems } = await server.request(marketplaceList, {});
  const broken = problems.find((p) => p.id === 'broken-agent');
  assert.ok(broken, JSON.stringify(problems));
  assert.equal(broken.source, indexFile);
  assert.ok(broken.fields.includes('version') && broken.fields.includes('distribution'), broken.message);
  assert.match(broken.message, /"broken-agent".*version: must start with a semantic version/);
  const nameless = problems.find((p) => p.source === indexFile && p.index === 2);
  assert.ok(nameless?.fields.includes('id'), JSON.stringify(nameless));
  const remote = problems.find((p) => p.id === 'remote-npx');
  assert.equal(remote?.source, `${base}/index.json`);
  assert.match(remote?.message ?? '', /packageSource: only allowed in a local index file/);
  assert.ok(problems.some((p) => p.source === `${base}/missing.json` && /answered HTTP 404/.test(p.message)));
  assert.deepEqual(entries.find((e) => e.id === 'url-agent')?.source, { kind: 'url', label: `${base}/index.json` });
  assert.deepEqual(entries.find((e) => e.id === 'my-local')?.distributions, ['command']);
  const ids = entries.map((e) => e.id);
  for (const id of ['fixture-npx', 'good-binary', 'tampered-binary', 'uv-agent', 'goose', 'opencode']) assert.ok(ids.includes(id), id);
  assert.ok(!ids.includes('broken-agent'));
  const found = await server.request(marketplaceList, { search: 'FIXTURE', distribution: 'npx' });
  assert.deepEqual(
    found.entries.map((e) => e.id),
    ['fixture-npx'],
  );
  const byCap = await server.request(marketplaceList, { capability: 'binary-fixture', installed: false });
  assert.ok(byCap.entries.some((e) => e.id === 'good-binary') && !byCap.entries.some((e) => e.id === 'fixture-npx'));
});

test('install without consent, or with a token for another plan, is refused and installs nothing', async () => {
  const noConsent = await refused(server.request(marketplaceInstall, { id: 'fixture-npx' }));
  assert.equal(noConsent.code, errorCodes.invalidParams);
  assert.match(noConsent.message, /consent: must be true/);
  const shown = await server.request(marketplaceGet, { id: 'fixture-npx' });
  const badToken = await refused(server.request(marketplaceInstall, { id: 'fixture-npx', consent: true, consentToken: 'not-it' }));
  assert.match(badToken.message, /consentToken: does not match/);
  assert.ok(shown.consentToken && shown.consentToken !== 'not-it');
  assert.equal((await server.request(marketplaceList, { installed: true })).entries.length, 0);
  assert.ok(!(await server.request(agentList, {})).some((a) => a.id === 'fixture-npx'));
  assert.ok(!fs.existsSync(path.join(dataDir, 'marketplace', 'agents', 'fixture-npx')));
});

test('get shows exactly what will run: the npm command line, the program, the environment names', async () => {
  const d = await server.request(marketplaceGet, { id: 'fixture-npx' });
  assert.equal(d.plan?.kind, 'npx');
  const dir = path.join(dataDir, 'marketplace', 'agents', 'fixture-npx', '1.0.0');
  assert.equal(d.plan?.installDir, dir);
  assert.equal(d.plan?.steps[0], `npm install --prefix ${dir} ${path.join(tmp, 'fixture-acp-agent-1.0.0.tgz')}`);
  assert.ok(d.plan?.env.set.includes('FIXTURE_DIST_ENV') && d.plan.env.set.includes('HOME'));
  assert.ok(d.plan?.env.passed.includes('PATH'));
  assert.equal(d.installed, undefined);
});

test('sha256 mismatch: refused, the download removed, nothing installed', async () => {
  const shown = await server.request(marketplaceGet, { id: 'tampered-binary' });
  const e = await refused(server.request(marketplaceInstall, { id: 'tampered-binary', consent: true, consentToken: shown.consentToken }));
  assert.equal(e.code, errorCodes.agentUnavailable);
  assert.match(e.message, /sha256 mismatch for .*agent\.tar\.gz: expected abab.*, got [0-9a-f]{64}; the download was removed/);
  assert.ok(!fs.existsSync(path.join(dataDir, 'marketplace', 'agents', 'tampered-binary')), 'no folder, no download left');
  assert.ok(!(await server.request(agentList, {})).some((a) => a.id === 'tampered-binary'));
  const entry = (await server.request(marketplaceList, { search: 'tampered' })).entries[0];
  assert.equal(entry.installed, undefined);
});

test('uvx without uv on PATH: a clear message, nothing installed', async () => {
  const shown = await server.request(marketplaceGet, { id: 'uv-agent' });
  const e = await refused(server.request(marketplaceInstall, { id: 'uv-agent', consent: true, consentToken: shown.consentToken }));
  assert.match(e.message, /uv is not installed/);
  assert.equal((await server.request(marketplaceList, { installed: true })).entries.length, 0);
});

test('a verified binary installs, runs from its folder and appears in agent/list', async () => {
  const d = await install('good-binary');
  assert.equal(d.installed?.kind, 'binary');
  assert.equal(d.runs?.command, path.join(dataDir, 'marketplace', 'agents', 'good-binary', '2.0.0', 'agent'));
  assert.ok(fs.existsSync(d.runs!.command));
  assert.ok(!fs.existsSync(path.join(dataDir, 'marketplace', 'agents', 'good-binary', '2.0.0', 'agent.tar.gz')), 'archive removed');
  const a = (await server.request(agentList, {})).find((x) => x.id === 'good-binary');
  assert.equal(a?.availability.state, 'ready');
  await server.request(marketplaceUninstall, { id: 'good-binary' });
});

test('a local custom entry installs as its command and is routable', async () => {
  const d = await install('my-local');
  assert.deepEqual(d.runs, { command: process.execPath, args: [fixture] });
  assert.equal(d.source.kind, 'custom');
  const a = (await server.request(agentList, {})).find((x) => x.id === 'my-local');
  assert.deepEqual(a?.capabilities, ['local']);
  assert.equal(a?.availability.state, 'ready');
  await server.request(marketplaceUninstall, { id: 'my-local' });
  assert.ok(!(await server.request(agentList, {})).some((x) => x.id === 'my-local'));
});

test('npx install from the local index → agent/list → a session task writes a file → survives a restart → update → disable → uninstall', async () => {
  const d = await install('fixture-npx');
  assert.equal(d.installed?.version, '1.0.0');
  assert.equal(d.installed?.enabled, true);
  assert.equal(
    d.runs?.command,
    path.join(dataDir, 'marketplace', 'agents', 'fixture-npx', '1.0.0', 'node_modules', '.bin', 'fixture-acp-agent'),
  );
  const seen = JSON.parse(
    fs.readFileSync(
      path.join(dataDir, 'marketplace', 'agents', 'fixture-npx', '1.0.0', 'node_modules', 'fixture-acp-agent', 'install-env.json'),
      'utf8',
    ),
  ) as string[];
  assert.ok(seen.includes('PATH') && !seen.includes('ORCH_KEY_MARKET_TEST'), `install scripts saw ${seen.join(' ')}`);
  let agent = (await server.request(agentList, {})).find((a) => a.id === 'fixture-npx');
  assert.ok(agent, 'installed agent is listed');
  assert.deepEqual(agent.capabilities, ['fixture']);
  assert.equal(agent.availability.state, 'ready');

  const cwd = sampleRepo();
  const draft = await server.request(sessionStart, {
    goal: 'One file\n- [m] Market {files: m.txt} {caps: fixture}: WRITE m.txt from the marketplace',
    cwd,
  });
  await server.request(sessionApprove, { sessionId: draft.id });
  const v = await waitSession(server, draft.id, ended);
  assert.equal(v.state, 'completed', JSON.stringify(v.tasks.map((t) => [t.planId, t.state, t.agentId, t.lastError])));
  assert.equal(task(v, 'm').agentId, 'fixture-npx');
  await server.request(sessionApply, { sessionId: draft.id });
  assert.equal(fs.readFileSync(path.join(cwd, 'm.txt'), 'utf8'), 'from the marketplace\n');

  // The store keeps it: a new server process on the same data folder routes to it again.
  await server.stop();
  server = await startServer(dataDir, settings());
  agent = (await server.request(agentList, {})).find((a) => a.id === 'fixture-npx');
  assert.equal(agent?.availability.state, 'ready', 'installed agent registered after a restart');

  // The index moves to 1.1.0: an update is offered, installing replaces the old version and its folder.
  writeIndex('1.1.0', packFixture('1.1.0'));
  const listed = (await server.request(marketplaceList, { installed: true })).entries;
  assert.deepEqual(
    listed.map((e) => [e.id, e.version, e.installed?.version, e.updateAvailable]),
    [['fixture-npx', '1.1.0', '1.0.0', true]],
  );
  const updated = await install('fixture-npx');
  assert.equal(updated.installed?.version, '1.1.0');
  assert.equal(updated.updateAvailable, false);
  assert.ok(!fs.existsSync(path.join(dataDir, 'marketplace', 'agents', 'fixture-npx', '1.0.0')), 'old version removed');

  const off = await server.request(marketplaceSetEnabled, { id: 'fixture-npx', enabled: false });
  assert.equal(off.installed?.enabled, false);
  assert.equal((await server.request(agentList, {})).find((a) => a.id === 'fixture-npx')?.disabled, true);

  assert.deepEqual(await server.request(marketplaceUninstall, { id: 'fixture-npx' }), { id: 'fixture-npx', removed: true });
  assert.ok(!(await server.request(agentList, {})).some((a) => a.id === 'fixture-npx'), 'gone from agent/list');
  assert.ok(!fs.existsSync(path.join(dataDir, 'marketplace', 'agents', 'fixture-npx', '1.1.0')));
  assert.equal((await server.request(marketplaceList, { installed: true })).entries.length, 0);
});

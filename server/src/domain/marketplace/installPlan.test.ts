import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAgentDescriptor } from '../agentDescriptor';
import { archiveKindOf, consentToken, installPlan, parsePackageSpec, runnableDescriptor, type InstallPlan } from './installPlan';

const o = { platform: 'linux-x86_64' as const, installRoot: '/data/marketplace/agents/' };

test('npx: pinned to the exact version of the spec, else the entry version; env names only', () => {
  const d = parseAgentDescriptor({
    id: 'gem',
    name: 'Gem',
    version: '0.37.1',
    description: 'd',
    distribution: { npx: { package: '@google/gemini-cli@latest', args: ['--acp'], env: { GEMINI_API_KEY: 'secret-value' } } },
    _meta: { orchestrator: { env: { pass: ['GOOGLE_GEMINI_BASE_URL'], required: ['NEEDED'] } } },
  });
  const p = installPlan(d, o) as InstallPlan;
  assert.equal(p.kind, 'npx');
  assert.deepEqual(p.npm, { name: '@google/gemini-cli', version: '0.37.1', spec: '@google/gemini-cli@0.37.1' });
  assert.equal(p.installDir, '/data/marketplace/agents/gem/0.37.1');
  assert.deepEqual(p.args, ['--acp']);
  assert.ok(p.env.set.includes('GEMINI_API_KEY') && p.env.passed.includes('GOOGLE_GEMINI_BASE_URL'));
  assert.deepEqual(p.env.required, ['NEEDED']);
  assert.ok(!JSON.stringify(p).includes('secret-value'), 'no environment value in a plan');
  assert.deepEqual(parsePackageSpec('@opencode/cli@2.0.23'), { name: '@opencode/cli', version: '2.0.23' });
  assert.deepEqual(parsePackageSpec('cline'), { name: 'cline' });
  // The distribution's fixed environment is kept for the installed agent (it runs its bin, not npx).
  assert.equal(runnableDescriptor(d, p, 'linux-x86_64')._meta?.orchestrator?.env?.set?.GEMINI_API_KEY, 'secret-value');
});

test('binary: the platform archive with its sha256, kind by extension; no platform → unavailable', () => {
  const d = parseAgentDescriptor({
    id: 'bin',
    name: 'Bin',
    version: '1.0.0',
    description: 'd',
    distribution: { binary: { 'linux-x86_64': { archive: 'https://h/a/bin-1.0.0.tar.gz?x=1', cmd: './bin', sha256: 'AB'.repeat(32) } } },
  });
  const p = installPlan(d, o) as InstallPlan;
  assert.deepEqual(p.binary, {
    url: 'https://h/a/bin-1.0.0.tar.gz?x=1',
    sha256: 'ab'.repeat(32),
    cmd: 'bin',
    archive: 'tar',
    fileName: 'bin-1.0.0.tar.gz',
  });
  assert.equal(p.command, '/data/marketplace/agents/bin/1.0.0/bin');
  assert.deepEqual(installPlan(d, { ...o, platform: 'darwin-aarch64' }), {
    unavailable: 'no distribution runs on darwin-aarch64 (binaries for linux-x86_64)',
  });
  assert.equal(archiveKindOf('https://h/x.zip'), 'zip');
  assert.equal(archiveKindOf('https://h/agent'), 'raw');
});

test('the consent token changes with anything shown: version, command, args, environment names', () => {
  const base = { id: 'c', name: 'C', version: '1.0.0', description: 'd' };
  const token = (meta: Record<string, unknown>, version = '1.0.0') =>
    consentToken(installPlan(parseAgentDescriptor({ ...base, version, _meta: { orchestrator: meta } }), o) as InstallPlan);
  const t = token({ command: { path: '/bin/a', args: ['x'] } });
  assert.match(t, /^[0-9a-f]{16}$/);
  assert.equal(token({ command: { path: '/bin/a', args: ['x'] } }), t);
  assert.notEqual(token({ command: { path: '/bin/a', args: ['y'] } }), t);
  assert.notEqual(token({ command: { path: '/bin/b', args: ['x'] } }), t);
  assert.notEqual(token({ command: { path: '/bin/a', args: ['x'] } }, '1.0.1'), t);
  assert.notEqual(token({ command: { path: '/bin/a', args: ['x'] }, env: { pass: ['TOKEN'] } }), t);
});

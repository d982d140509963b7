import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  agentEnvironment,
  DescriptorError,
  launchPlan,
  parseAgentDescriptor,
  parseAgentIndex,
  platformKeyOf,
  routingProfileOf,
} from './agentDescriptor';

const base = { id: 'demo-agent', name: 'Demo', version: '1.2.3', description: 'A demo agent' };
const sha = 'a'.repeat(64);

function errorOf(raw: unknown): DescriptorError {
  try {
    parseAgentDescriptor(raw);
  } catch (e) {
    assert.ok(e instanceof DescriptorError);
    return e;
  }
  assert.fail('expected a DescriptorError');
}

test('a registry entry with npx, uvx and binary distributions parses', () => {
  const d = parseAgentDescriptor({
    ...base,
    repository: 'https://example.invalid/repo',
    authors: ['Someone'],
    license: 'MIT',
    distribution: {
      npx: { package: 'demo-agent@1.2.3', args: ['--acp'], env: { DEMO_MODE: '1' } },
      uvx: { package: 'demo-agent==1.2.3' },
      binary: { 'linux-x86_64': { archive: 'https://example.invalid/a.tar.gz', cmd: './demo', args: ['acp'], sha256: sha } },
    },
    preview: { anything: true },
  });
  assert.equal(d.id, 'demo-agent');
});

test('bad descriptors: every error names its field', () => {
  const cases: [unknown, RegExp, string][] = [
    [{ ...base, id: 'Bad_Id', distribution: { npx: { package: 'x' } } }, /id: must be lowercase/, 'id'],
    [{ ...base, version: 'latest', distribution: { npx: { package: 'x' } } }, /version: must start with a semantic version/, 'version'],
    [{ ...base, description: '', distribution: { npx: { package: 'x' } } }, /description: /, 'description'],
    [{ ...base }, /distribution: required \(or _meta.orchestrator.command for a local agent\)/, 'distribution'],
    [{ ...base, distribution: {} }, /distribution: must have at least one of binary, npx, uvx/, 'distribution'],
    [{ ...base, distribution: { pip: { package: 'x' } } }, /distribution: .*\(pip\)/, 'distribution'],
    [{ ...base, distribution: { npx: { package: '' } } }, /distribution.npx.package/, 'distribution.npx.package'],
    [
      { ...base, distribution: { binary: { 'linux-x86_64': { archive: 'https://e.invalid/a', cmd: 'x', sha256: 'abc' } } } },
      /distribution.binary.linux-x86_64.sha256: must be 64 hex characters/,
      'distribution.binary.linux-x86_64.sha256',
    ],
    [
      { ...base, distribution: { binary: { 'amiga-m68k': { archive: 'https://e.invalid/a', cmd: 'x' } } } },
      /distribution.binary/,
      'distribution.binary',
    ],
    [
      { ...base, distribution: { npx: { package: 'x' } }, _meta: { orchestrator: { maxConcurency: 2 } } },
      /_meta.orchestrator: .*\(maxConcurency\)/,
      '_meta.orchestrator',
    ],
    [
      { ...base, distribution: { npx: { package: 'x' } }, _meta: { orchestrator: { env: { pass: ['NOT A NAME'] } } } },
      /_meta.orchestrator.env.pass.0: must be an environment variable name/,
      '_meta.orchestrator.env.pass.0',
    ],
    [{ ...base, authors: [{ name: 'x' }], distribution: { npx: { package: 'x' } } }, /authors.0: /, 'authors.0'],
  ];
  for (const [raw, re, field] of cases) {
    const e = errorOf(raw);
    assert.match(e.message, re, e.message);
    assert.match(e.message, /^agent descriptor/);
    assert.ok(e.fields.includes(field), `${e.fields.join(',')} includes ${field}`);
  }
});

test('an index with some bad entries: errors for those (with position and id), the rest usable', () => {
  const good = (id: string) => ({ ...base, id, distribution: { npx: { package: `${id}@1.0.0` } } });
  const { agents, errors } = parseAgentIndex({
    version: '1.0.0',
    agents: [good('one'), { ...good('two'), version: 'x' }, 42, good('three'), good('one')],
  });
  assert.deepEqual(
    agents.map((a) => a.id),
    ['one', 'three'],
  );
  assert.deepEqual(
    errors.map((e) => [e.index, e.id, e.fields]),
    [
      [1, 'two', ['version']],
      [2, undefined, ['(entry)']],
      [4, 'one', ['id']],
    ],
  );
  assert.match(errors[0].message, /^agents\[1\] "two": version:/);
  assert.match(errors[2].message, /repeats an earlier entry/);
  assert.throws(() => parseAgentIndex({ agents: 'nope' }), /agent index: agents: must be an array/);
  assert.equal(parseAgentIndex([good('bare')]).agents.length, 1);
});

test('launch plans: local command, platform binary (needs its install folder), npx, uvx', () => {
  const local = parseAgentDescriptor({ ...base, _meta: { orchestrator: { command: { path: '/opt/agent', args: ['acp'] } } } });
  assert.deepEqual(launchPlan(local, { platform: 'linux-x86_64' }), { kind: 'command', command: '/opt/agent', args: ['acp'], env: {} });
  const multi = parseAgentDescriptor({
    ...base,
    distribution: {
      binary: { 'linux-x86_64': { archive: 'https://e.invalid/a.tgz', cmd: './bin/agent', args: ['acp'], env: { A: '1' } } },
      npx: { package: 'agent@1.0.0', args: ['--acp'] },
    },
  });
  assert.deepEqual(launchPlan(multi, { platform: 'linux-x86_64', installDir: '/inst/agent/' }), {
    kind: 'binary',
    command: '/inst/agent/bin/agent',
    args: ['acp'],
    env: { A: '1' },
  });
  assert.throws(() => launchPlan(multi, { platform: 'linux-x86_64' }), /distribution.binary.linux-x86_64: not installed/);
  assert.deepEqual(launchPlan(multi, { platform: 'darwin-aarch64' }).args, ['--yes', 'agent@1.0.0', '--acp']);
  const uvx = parseAgentDescriptor({ ...base, distribution: { uvx: { package: 'agent==2' } } });
  assert.deepEqual(launchPlan(uvx, { platform: 'linux-x86_64' }), { kind: 'uvx', command: 'uvx', args: ['agent==2'], env: {} });
  const binOnly = parseAgentDescriptor({
    ...base,
    distribution: { binary: { 'darwin-aarch64': { archive: 'https://e.invalid/a', cmd: 'x' } } },
  });
  assert.throws(() => launchPlan(binOnly, { platform: 'linux-x86_64' }), /nothing runs on linux-x86_64 \(binary for darwin-aarch64\)/);
  assert.equal(launchPlan(multi, { platform: 'linux-x86_64', commandPath: '/found/agent' }).command, '/found/agent');
});

test('agent environment: base names, isolated home, distribution values, then only what _meta names', () => {
  const d = parseAgentDescriptor({
    ...base,
    distribution: { npx: { package: 'a@1.0.0', env: { FIXED: 'yes' } } },
    _meta: {
      orchestrator: {
        env: { pass: ['MODEL_URL', 'OPTIONAL'], required: ['NEEDED'], set: { CFG: '{home}/cfg' }, home: ['AGENT_HOME'] },
        auth: { methodId: 'key', env: ['API_KEY'] },
      },
    },
  });
  const plan = launchPlan(d, { platform: 'linux-x86_64' });
  const { env, missing } = agentEnvironment(d, plan, {
    home: '/h',
    source: { PATH: '/bin', MODEL_URL: 'http://127.0.0.1:1', SECRET: 's', HOME: '/root' },
  });
  assert.deepEqual(missing, ['NEEDED', 'API_KEY']);
  assert.equal(env.HOME, '/h');
  assert.equal(env.XDG_CONFIG_HOME, '/h/.config');
  assert.equal(env.FIXED, 'yes');
  assert.equal(env.CFG, '/h/cfg');
  assert.equal(env.AGENT_HOME, '/h');
  assert.equal(env.MODEL_URL, 'http://127.0.0.1:1');
  assert.equal(env.SECRET, undefined);
  assert.equal(env.OPTIONAL, undefined);
});

test('routing profile defaults and platform keys', () => {
  const d = parseAgentDescriptor({ ...base, distribution: { npx: { package: 'a' } } });
  assert.deepEqual(routingProfileOf(d), { id: 'demo-agent', capabilities: ['*'], maxConcurrency: 2 });
  const e = parseAgentDescriptor({
    ...base,
    distribution: { npx: { package: 'a' } },
    _meta: { orchestrator: { capabilities: ['code', 'docs'], maxConcurrency: 3, costHint: 0.5 } },
  });
  assert.deepEqual(routingProfileOf(e), { id: 'demo-agent', capabilities: ['code', 'docs'], maxConcurrency: 3, costHint: 0.5 });
  assert.equal(platformKeyOf('linux', 'x64'), 'linux-x86_64');
  assert.equal(platformKeyOf('darwin', 'arm64'), 'darwin-aarch64');
  assert.equal(platformKeyOf('win32', 'x64'), 'windows-x86_64');
  assert.equal(platformKeyOf('aix', 'ppc64'), undefined);
});

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DomainError } from './domain/errors';
import { agentSettingsOf, checkModelChoice, cliConfigSchema, defaultConfigPath, loadCliConfig } from './cliConfig';

const dir = () => mkdtempSync(path.join(os.tmpdir(), 'orch-cfg-'));
const provider = { id: 'local', baseURL: 'http://127.0.0.1:9/v1', apiKey: '{env:LOCAL_KEY}', models: { m1: {}, m2: { context: 8000 } } };

function write(config: unknown): string {
  const f = path.join(dir(), 'config.json');
  writeFileSync(f, typeof config === 'string' ? config : JSON.stringify(config));
  return f;
}

async function rejects(p: Promise<unknown>, file: string, field: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(DomainError.is(e, 'bad_input'), String(e));
    assert.equal(e.data?.field, field);
    assert.ok(e.message.startsWith(`${file}: ${field}: `), e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

test('the default path follows XDG_CONFIG_HOME, else ~/.config; absent there it is optional', async () => {
  assert.equal(defaultConfigPath({ XDG_CONFIG_HOME: '/x' }), '/x/industrial-orchestrator/config.json');
  assert.equal(defaultConfigPath({}), path.join(os.homedir(), '.config', 'industrial-orchestrator', 'config.json'));
  const empty = dir();
  assert.deepEqual(await loadCliConfig(undefined, { XDG_CONFIG_HOME: empty }), { config: {}, warnings: [] });
  const f = path.join(dir(), 'missing.json');
  await rejects(loadCliConfig(f, {}), f, '--config', /no such file/);
});

test("a good file: the extension's agent settings plus allow and limits", async () => {
  const f = write({
    providers: [provider],
    model: 'local/m2',
    allow: ['node', 'npm'],
    maxParallel: 2,
    budgetTokens: 5000,
    timeouts: { turnMs: 1000 },
  });
  const r = await loadCliConfig(f, { LOCAL_KEY: 'k' });
  assert.equal(r.file, f);
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(r.config.allow, ['node', 'npm']);
  assert.deepEqual(agentSettingsOf(r.config), { providers: [provider], model: 'local/m2', timeouts: { turnMs: 1000 } });
  assert.deepEqual(agentSettingsOf(r.config, { turnMs: 7 }).timeouts, { turnMs: 7 });
  const unset = await loadCliConfig(f, {});
  assert.match(unset.warnings.join(), /providers\[0\]\.apiKey: the environment variable LOCAL_KEY is not set/);
});

test('a bad file names the file and the field', async () => {
  let f = write({ providers: [{ ...provider, apiKey: 'sk-literal-key' }] });
  await rejects(loadCliConfig(f, {}), f, 'providers[0].apiKey', /must be \{env:NAME\}/);
  f = write({ providers: [provider], allow: ['node', '/bin/sh'] });
  await rejects(loadCliConfig(f, {}), f, 'allow[1]', /program name/);
  f = write({ maxParallel: 0 });
  await rejects(loadCliConfig(f, {}), f, 'maxParallel', /./);
  f = write({ providers: [provider], modle: 'x/y' });
  await rejects(loadCliConfig(f, {}), f, '(top level)', /modle/);
  f = write({ providers: [provider], model: 'local/m3' });
  await rejects(loadCliConfig(f, {}), f, 'model', /not a configured model; configured: local\/m1, local\/m2/);
  f = write('{ "providers": [');
  await rejects(loadCliConfig(f, {}), f, '(file)', /not valid JSON/);
});

test('--model picks from the configured models, the demo model when none', () => {
  assert.equal(checkModelChoice({ providers: [provider] }, 'local/m1'), undefined);
  assert.match(
    checkModelChoice({ providers: [provider] }, 'other/x') ?? '',
    /--model: unknown model "other\/x"; configured models: local\/m1, local\/m2/,
  );
  assert.equal(checkModelChoice({}, 'demo/scripted'), undefined);
  assert.match(checkModelChoice({}, 'local/m1') ?? '', /configured models: demo\/scripted/);
});

test("the README's example config is valid", () => {
  const readme = readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');
  const block = /```json\n\s*(\{[\s\S]*?)\n\s*```/.exec(readme)?.[1];
  assert.ok(block, 'the README has an example config');
  const r = cliConfigSchema.safeParse(JSON.parse(block));
  assert.ok(r.success, r.success ? '' : JSON.stringify(r.error.issues));
});

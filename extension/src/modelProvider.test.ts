import assert from 'node:assert/strict';
import { test } from 'node:test';
import { providerSchema } from '../../protocol/provider';
import {
  buildProviderEntry,
  checkBaseURL,
  keyEnvName,
  keyedProviders,
  modelChoices,
  modelsFromListing,
  parseModelIds,
  ProviderInputError,
  providerPresets,
  screenProviders,
  upsertProvider,
} from './modelProvider';

const fails = (fn: () => unknown, field: string, message: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof ProviderInputError && e.field === field && message.test(e.message));

test('an OpenAI-compatible entry references its key by environment variable, never by value', () => {
  const e = buildProviderEntry({
    preset: 'openai-compatible',
    id: 'my-gw',
    baseURL: ' http://127.0.0.1:8080/v1/ ',
    models: ['a', 'b'],
    withKey: true,
  });
  assert.deepEqual(e, {
    id: 'my-gw',
    name: 'OpenAI-compatible',
    baseURL: 'http://127.0.0.1:8080/v1',
    apiKey: '{env:ORCH_KEY_MY_GW}',
    models: { a: {}, b: {} },
  });
  assert.ok(providerSchema.safeParse(e).success, 'the server schema accepts it');
});

test('native presets carry their kind and default base URL; local presets take no key', () => {
  const a = buildProviderEntry({ preset: 'anthropic', models: ['claude-sonnet-4-5'], withKey: true });
  assert.equal(a.kind, 'anthropic');
  assert.equal(a.baseURL, 'https://api.anthropic.com/v1');
  assert.equal(a.apiKey, '{env:ORCH_KEY_ANTHROPIC}');
  const o = buildProviderEntry({ preset: 'ollama', models: ['qwen2.5-coder'], withKey: false });
  assert.equal(o.kind, undefined, 'Ollama is OpenAI-compatible');
  assert.equal(o.baseURL, 'http://localhost:11434/v1');
  assert.equal(o.apiKey, undefined);
  for (const p of providerPresets) assert.ok(p.baseURL || p.preset === 'openai-compatible', `${p.preset} has a base URL`);
});

test('bad input is refused with an error naming the field', () => {
  fails(() => buildProviderEntry({ preset: 'openai-compatible', models: ['m'], withKey: false }), 'baseURL', /needs a base URL/);
  fails(
    () => buildProviderEntry({ preset: 'openai-compatible', baseURL: 'not a url', models: ['m'], withKey: false }),
    'baseURL',
    /is not a URL/,
  );
  fails(() => checkBaseURL('ftp://host/v1'), 'baseURL', /http:\/\/ or https:\/\//);
  fails(() => checkBaseURL('http://u:p@host/v1'), 'baseURL', /credentials/);
  fails(() => buildProviderEntry({ preset: 'openai', models: [], withKey: true }), 'models', /at least one model/);
  fails(() => buildProviderEntry({ preset: 'openai', models: ['gpt', 'gpt'], withKey: true }), 'models', /"gpt" is listed twice/);
  fails(() => buildProviderEntry({ preset: 'openai', id: 'bad id', models: ['m'], withKey: true }), 'id', /letters, digits/);
  fails(() => buildProviderEntry({ preset: 'openai', id: 'demo', models: ['m'], withKey: true }), 'id', /reserved/);
  fails(() => buildProviderEntry({ preset: 'openai', models: ['m'], withKey: false }), 'apiKey', /needs an API key/);
  fails(() => buildProviderEntry({ preset: 'lmstudio', models: ['m'], withKey: true }), 'apiKey', /takes no API key/);
  fails(() => buildProviderEntry({ preset: 'nope' as never, models: ['m'], withKey: false }), 'preset', /unknown provider "nope"/);
});

test('a duplicate provider id is refused unless replacing, and ids may not share a key variable', () => {
  const first = buildProviderEntry({ preset: 'openai-compatible', id: 'gw', baseURL: 'http://h/v1', models: ['a'], withKey: true });
  const second = buildProviderEntry({ preset: 'openai-compatible', id: 'gw', baseURL: 'http://h2/v1', models: ['b'], withKey: true });
  const list = upsertProvider([], first, false);
  fails(() => upsertProvider(list, second, false), 'id', /already configured/);
  assert.deepEqual(upsertProvider(list, second, true), [second]);
  const dash = buildProviderEntry({ preset: 'openai-compatible', id: 'my-gw', baseURL: 'http://h/v1', models: ['a'], withKey: true });
  const under = buildProviderEntry({ preset: 'openai-compatible', id: 'my_gw', baseURL: 'http://h/v1', models: ['a'], withKey: true });
  fails(() => upsertProvider([dash], under, true), 'id', /share the key variable ORCH_KEY_MY_GW/);
});

test('model ids parse from commas, spaces and lines; a /models listing yields unique ids', () => {
  assert.deepEqual(parseModelIds(' a, b\nc ,, a '), ['a', 'b', 'c', 'a']);
  assert.deepEqual(parseModelIds('  '), []);
  assert.deepEqual(modelsFromListing({ data: [{ id: 'x' }, { id: 'y' }, { id: 'x' }, { nope: 1 }, { id: 'has space' }] }), ['x', 'y']);
  assert.deepEqual(modelsFromListing({ error: 'no' }), []);
});

test('keyed providers and default-model choices come from the settings; the demo model is always offered', () => {
  const keyed = buildProviderEntry({ preset: 'openai-compatible', id: 'gw', baseURL: 'http://h/v1', models: ['a', 'b'], withKey: true });
  const handWritten = { id: 'other', baseURL: 'http://h/v1', apiKey: '{env:MY_OWN_KEY}', models: { m: {} } };
  assert.deepEqual(keyedProviders([keyed, handWritten, 'junk']), [{ providerId: 'gw', envName: keyEnvName('gw') }]);
  assert.deepEqual(
    modelChoices([keyed, handWritten]).map((c) => c.id),
    ['gw/a', 'gw/b', 'other/m', 'demo/scripted'],
  );
  assert.match(modelChoices([]).at(-1)!.description, /Demo \(scripted, no real LLM\)/);
});

test('promoted fine-tuned versions are offered before the demo model; unpromoted versions are not', () => {
  const version = (n: number, promoted: boolean) => ({
    version: n,
    ...(promoted ? { promotion: { at: '', model: `finetuned/coder-v${n}`, baseURL: 'http://127.0.0.1:1/v1' } } : {}),
  });
  const registered = [{ name: 'coder', versions: [version(1, true), version(2, false)] }] as unknown as Parameters<typeof modelChoices>[1];
  const choices = modelChoices([], registered);
  assert.deepEqual(
    choices.map((c) => c.id),
    ['finetuned/coder-v1', 'demo/scripted'],
  );
  assert.equal(choices[0]!.description, 'coder version 1 (fine-tuned, local)');
});

test('a provider naming another provider’s key variable is refused by name; its own key, other env names and junk pass', () => {
  const openai = buildProviderEntry({ preset: 'openai', models: ['gpt'], withKey: true });
  const evil = { id: 'evil', baseURL: 'https://attacker.example/v1', apiKey: '{env:ORCH_KEY_OPENAI}', models: { m: {} } };
  const stray = { id: 'stray', baseURL: 'https://h/v1', apiKey: '{env:ORCH_KEY_NOBODY}', models: { m: {} } };
  const handWritten = { id: 'other', baseURL: 'http://h/v1', apiKey: '{env:MY_OWN_KEY}', models: { m: {} } };
  const { accepted, refused } = screenProviders([openai, evil, stray, handWritten, 'junk']);
  assert.deepEqual(accepted, [openai, handWritten, 'junk']);
  assert.deepEqual(
    refused.map((r) => r.providerId),
    ['evil', 'stray'],
  );
  assert.match(refused[0].reason, /provider "evil" was refused: its apiKey references ORCH_KEY_OPENAI, the key of provider "openai"/);
  assert.match(refused[0].reason, /only use its own key \{env:ORCH_KEY_EVIL\}/);
  assert.match(refused[1].reason, /provider "stray" was refused: its apiKey references ORCH_KEY_NOBODY; /);
});

test('two ids sharing one key variable are both refused: neither may read the other’s key', () => {
  const dash = { id: 'my-gw', baseURL: 'http://h/v1', apiKey: '{env:ORCH_KEY_MY_GW}', models: { a: {} } };
  const under = { id: 'my_gw', baseURL: 'https://attacker.example/v1', apiKey: '{env:ORCH_KEY_MY_GW}', models: { a: {} } };
  const { accepted, refused } = screenProviders([dash, under]);
  assert.deepEqual(accepted, []);
  assert.deepEqual(
    refused.map((r) => r.reason),
    [
      'provider "my-gw" was refused: its key variable ORCH_KEY_MY_GW is also the one of provider "my_gw"; rename one of them',
      'provider "my_gw" was refused: its key variable ORCH_KEY_MY_GW is also the one of provider "my-gw"; rename one of them',
    ],
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as vscode from 'vscode';
import { providerKeyEnv, secretName } from './modelKeys';

/** SecretStorage as the extension reads it: `get` by name (an in-memory store; VS Code's needs a window). */
function secretsOf(values: Record<string, string>): vscode.SecretStorage {
  return { get: async (name: string) => values[name] } as unknown as vscode.SecretStorage;
}

test('a stored key reaches the server only as its own provider’s variable; a provider naming it is dropped', async () => {
  const secrets = secretsOf({ [secretName('openai')]: 'sk-openai-secret', [secretName('evil')]: 'sk-evil' });
  const openai = { id: 'openai', kind: 'openai', baseURL: 'https://api.openai.com/v1', apiKey: '{env:ORCH_KEY_OPENAI}', models: { g: {} } };
  const evil = { id: 'evil', baseURL: 'https://attacker.example/v1', apiKey: '{env:ORCH_KEY_OPENAI}', models: { m: {} } };
  const local = { id: 'local', baseURL: 'http://127.0.0.1:1/v1', apiKey: '{env:ORCH_KEY_LOCAL}', models: { m: {} } };
  const r = await providerKeyEnv(secrets, [openai, evil, local]);
  assert.deepEqual(r.providers, [openai, local], 'the server never sees the evil entry');
  assert.deepEqual(r.env, { ORCH_KEY_OPENAI: 'sk-openai-secret' });
  assert.deepEqual(r.missing, ['local']);
  assert.deepEqual(
    r.refused.map((x) => x.providerId),
    ['evil'],
  );
});

/**
 * Provider API keys live in VS Code SecretStorage only. They reach the server process through its environment
 * (`ORCH_KEY_<ID>`, referenced by the provider entry as `{env:ORCH_KEY_<ID>}`), never through settings,
 * initialization options, logs or the extension host's own environment.
 */
import type * as vscode from 'vscode';
import { keyedProviders } from './modelProvider';

/** The SecretStorage key holding a provider's API key. */
export function secretName(providerId: string): string {
  return `orchestrator.providerKey.${providerId}`;
}

export async function storeProviderKey(secrets: vscode.SecretStorage, providerId: string, key: string | undefined): Promise<void> {
  if (key) await secrets.store(secretName(providerId), key);
  else await secrets.delete(secretName(providerId));
}

export async function hasProviderKey(secrets: vscode.SecretStorage, providerId: string): Promise<boolean> {
  return !!(await secrets.get(secretName(providerId)));
}

/**
 * The environment to add to the server process: `ORCH_KEY_<ID>` for every configured provider that references
 * its stored key. Missing keys are named in `missing` (the server then starts, and the provider answers 401).
 */
export async function providerKeyEnv(
  secrets: vscode.SecretStorage,
  providers: readonly unknown[],
): Promise<{ env: Record<string, string>; missing: string[] }> {
  const env: Record<string, string> = {};
  const missing: string[] = [];
  for (const { providerId, envName } of keyedProviders(providers)) {
    const key = await secrets.get(secretName(providerId));
    if (key) env[envName] = key;
    else missing.push(providerId);
  }
  return { env, missing };
}

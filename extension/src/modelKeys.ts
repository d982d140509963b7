/**
 * Provider API keys live in VS Code SecretStorage only. They reach the server process through its environment
 * (`ORCH_KEY_<ID>`, referenced by the provider entry as `{env:ORCH_KEY_<ID>}`), never through settings,
 * initialization options, logs or the extension host's own environment.
 */
import type * as vscode from 'vscode';
import { keyedProviders, screenProviders, type RefusedProvider } from './modelProvider';

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
 * What the server process gets: the providers it may use (`screenProviders`: an entry naming another
 * provider's key variable is refused, named in `refused`) and `ORCH_KEY_<ID>` for every accepted provider
 * that references its own stored key. Missing keys are named in `missing` (the server then starts, and the
 * provider answers 401).
 */
export async function providerKeyEnv(
  secrets: vscode.SecretStorage,
  providers: readonly unknown[],
): Promise<{ env: Record<string, string>; missing: string[]; providers: unknown[]; refused: RefusedProvider[] }> {
  const { accepted, refused } = screenProviders(providers);
  const env: Record<string, string> = {};
  const missing: string[] = [];
  for (const { providerId, envName } of keyedProviders(accepted)) {
    const key = await secrets.get(secretName(providerId));
    if (key) env[envName] = key;
    else missing.push(providerId);
  }
  return { env, missing, providers: accepted, refused };
}

/**
 * Asks a provider which models it serves: `GET {baseURL}/models` with the key, under a deadline. Only the
 * model ids come back; an error message never contains the key.
 */
import type { ProviderKind } from '../../protocol/provider';
import { modelsFromListing } from './modelProvider';

export type ListingResult = { ok: true; models: string[] } | { ok: false; reason: string };

export async function listModels(baseURL: string, kind: ProviderKind, key: string | undefined, timeoutMs = 10_000): Promise<ListingResult> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key && kind === 'anthropic') {
    headers['x-api-key'] = key;
    headers['anthropic-version'] = '2023-06-01';
  } else if (key) headers.authorization = `Bearer ${key}`;
  const url = `${baseURL}/models`;
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return { ok: false, reason: `${url} answered HTTP ${res.status}${res.status === 401 ? ' (is the API key right?)' : ''}` };
    const models = modelsFromListing(await res.json());
    return models.length ? { ok: true, models } : { ok: false, reason: `${url} listed no models` };
  } catch (e) {
    const name = e instanceof Error ? e.name : '';
    if (name === 'TimeoutError' || name === 'AbortError') return { ok: false, reason: `${url} did not answer within ${timeoutMs} ms` };
    return { ok: false, reason: `${url} could not be reached (${e instanceof Error ? e.message : String(e)})` };
  }
}

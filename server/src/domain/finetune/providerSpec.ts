/**
 * A fine-tune job's provider choice, checked before anything is written. Pure. `local` takes no `hosted`
 * settings; a hosted provider needs them (`baseURL`, `remoteModel`, `accountId` for fireworks) and a key in
 * the server's environment variable `apiKeyEnv` (default `ORCH_KEY_<PROVIDER>`). The key itself never
 * enters the job: only the variable's name does.
 */
import type { FineTuneProvider, HostedProvider, HostedSpecInput, RemoteJobInfo } from '../../../../protocol/finetune';
import { fineTuneProviders } from '../../../../protocol/finetune';
import { DomainError } from '../errors';

/** `ORCH_KEY_OPENAI_COMPATIBLE`, `ORCH_KEY_TOGETHER`, `ORCH_KEY_FIREWORKS`. */
export const defaultKeyEnv = (provider: HostedProvider): string => `ORCH_KEY_${provider.toUpperCase().replace(/-/g, '_')}`;

export interface ProviderChoice {
  provider: FineTuneProvider;
  /** Hosted providers only. */
  remote?: RemoteJobInfo;
}

const bad = (field: string, message: string): DomainError => new DomainError('bad_input', `${field}: ${message}`, { field });

/**
 * The checked choice. `hasKey(name)` says whether the server's environment holds a non-empty value for `name`.
 * Errors name the field: `provider`, `hosted`, `hosted.baseURL`, `hosted.accountId`, `hosted.apiKeyEnv`, `evaluate`.
 */
export function checkProviderChoice(
  input: { provider?: string; hosted?: HostedSpecInput; evaluate?: boolean },
  hasKey: (name: string) => boolean,
): ProviderChoice {
  const provider = (input.provider ?? 'local') as FineTuneProvider;
  if (!fineTuneProviders.includes(provider))
    throw bad('provider', `unknown provider ${JSON.stringify(input.provider)} (one of ${fineTuneProviders.join(', ')})`);
  if (provider === 'local') {
    if (input.hosted) throw bad('hosted', 'the local provider takes no hosted settings');
    return { provider };
  }
  const h = input.hosted;
  if (!h?.baseURL) throw bad('hosted.baseURL', `the ${provider} provider needs its API root (e.g. https://…/v1)`);
  if (!/^https?:\/\/[^/]/.test(h.baseURL)) throw bad('hosted.baseURL', `must be an http(s) URL (got ${JSON.stringify(h.baseURL)})`);
  if (!h.remoteModel) throw bad('hosted.remoteModel', `the ${provider} provider needs the id of its base model`);
  if (provider === 'fireworks' && !h.accountId) throw bad('hosted.accountId', 'the fireworks provider needs the account id');
  if (provider !== 'fireworks' && h.accountId) throw bad('hosted.accountId', `only the fireworks provider takes an account id`);
  if (input.evaluate)
    throw bad('evaluate', `a model trained by ${provider} stays with the provider; only local jobs can be evaluated here`);
  const apiKeyEnv = h.apiKeyEnv ?? defaultKeyEnv(provider);
  if (!/^ORCH_KEY_[A-Z0-9_]{1,64}$/.test(apiKeyEnv)) throw bad('hosted.apiKeyEnv', 'must be an ORCH_KEY_* environment variable name');
  if (!hasKey(apiKeyEnv)) throw bad('hosted.apiKeyEnv', `no key: the server's environment variable ${apiKeyEnv} is not set`);
  return {
    provider,
    remote: {
      baseURL: h.baseURL.replace(/\/+$/, ''),
      apiKeyEnv,
      remoteModel: h.remoteModel,
      ...(h.accountId ? { accountId: h.accountId } : {}),
      ...(h.deadlineMs !== undefined ? { deadlineMs: h.deadlineMs } : {}),
      ...(h.pollMs !== undefined ? { pollMs: h.pollMs } : {}),
    },
  };
}

/**
 * A fine-tune job's provider choice, checked before anything is written. Pure. `local` takes no `hosted`
 * settings; a hosted provider needs them (`remoteModel`, `accountId` for fireworks) and must be configured by
 * the server's operator: its API root in `ORCH_FT_<PROVIDER>_URL` and its key in `ORCH_KEY_<PROVIDER>`. The
 * operator binds the key to its endpoint: a request can neither point the key at another URL (`hosted.baseURL`,
 * if given, must be the configured one) nor pick another key (`hosted.apiKeyEnv` is refused). The key itself
 * never enters the job: only the variable's name does.
 */
import type { FineTuneProvider, HostedProvider, HostedSpecInput, RemoteJobInfo } from '../../../../protocol/finetune';
import { fineTuneProviders } from '../../../../protocol/finetune';
import { DomainError } from '../errors';

const envSuffix = (provider: HostedProvider): string => provider.toUpperCase().replace(/-/g, '_');
/** `ORCH_KEY_OPENAI_COMPATIBLE`, `ORCH_KEY_TOGETHER`, `ORCH_KEY_FIREWORKS`. */
export const defaultKeyEnv = (provider: HostedProvider): string => `ORCH_KEY_${envSuffix(provider)}`;
/** `ORCH_FT_OPENAI_COMPATIBLE_URL`, `ORCH_FT_TOGETHER_URL`, `ORCH_FT_FIREWORKS_URL`. */
export const endpointEnv = (provider: HostedProvider): string => `ORCH_FT_${envSuffix(provider)}_URL`;

/** The hosted endpoints the operator configured: provider → API root (from `ORCH_FT_<PROVIDER>_URL`). */
export type HostedEndpoints = Partial<Record<HostedProvider, string>>;

/** The configured endpoints in an environment: each hosted provider's non-empty `ORCH_FT_<PROVIDER>_URL`. */
export function hostedEndpointsFrom(env: Record<string, string | undefined>): HostedEndpoints {
  const endpoints: HostedEndpoints = {};
  for (const p of fineTuneProviders) if (p !== 'local' && env[endpointEnv(p)]) endpoints[p] = env[endpointEnv(p)];
  return endpoints;
}

/** What the server offers hosted jobs: the configured endpoints, and whether a key variable holds a value. */
export interface HostedConfig {
  endpoints: HostedEndpoints;
  hasKey(name: string): boolean;
}

/** An http(s) URL in one spelling (lower-case scheme and host, no default port, no trailing `/`); else undefined. */
export function normalizeBaseURL(raw: string): string | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  return u.href.replace(/\/+$/, '');
}

export interface ProviderChoice {
  provider: FineTuneProvider;
  /** Hosted providers only. */
  remote?: RemoteJobInfo;
}

const bad = (field: string, message: string): DomainError => new DomainError('bad_input', `${field}: ${message}`, { field });

/** The provider's configured endpoint and key variable, or why it is not usable on this server. */
function configured(provider: HostedProvider, config: HostedConfig): { baseURL: string; apiKeyEnv: string } | string {
  const raw = config.endpoints[provider];
  const baseURL = raw === undefined ? undefined : normalizeBaseURL(raw);
  const apiKeyEnv = defaultKeyEnv(provider);
  if (!baseURL || !config.hasKey(apiKeyEnv))
    return `provider ${provider} is not configured on this server (set ${endpointEnv(provider)} and ${apiKeyEnv})`;
  return { baseURL, apiKeyEnv };
}

/**
 * The checked choice. Errors name the field: `provider` (unknown, or not configured on this server), `hosted`,
 * `hosted.baseURL` (not the configured endpoint), `hosted.apiKeyEnv` (a request cannot choose the key),
 * `hosted.remoteModel`, `hosted.accountId`, `evaluate`.
 */
export function checkProviderChoice(
  input: { provider?: string; hosted?: HostedSpecInput; evaluate?: boolean },
  config: HostedConfig,
): ProviderChoice {
  const provider = (input.provider ?? 'local') as FineTuneProvider;
  if (!fineTuneProviders.includes(provider))
    throw bad('provider', `unknown provider ${JSON.stringify(input.provider)} (one of ${fineTuneProviders.join(', ')})`);
  if (provider === 'local') {
    if (input.hosted) throw bad('hosted', 'the local provider takes no hosted settings');
    return { provider };
  }
  const endpoint = configured(provider, config);
  if (typeof endpoint === 'string') throw bad('provider', endpoint);
  const h = input.hosted;
  // The wire schema has no such field; refused here too, since this check is the rule.
  if (h && (h as { apiKeyEnv?: unknown }).apiKeyEnv !== undefined)
    throw bad('hosted.apiKeyEnv', `a request cannot choose the key: the ${provider} provider uses the server's ${endpoint.apiKeyEnv}`);
  if (!h?.remoteModel) throw bad('hosted.remoteModel', `the ${provider} provider needs the id of its base model`);
  if (h.baseURL !== undefined && normalizeBaseURL(h.baseURL) !== endpoint.baseURL)
    throw bad(
      'hosted.baseURL',
      `must be the endpoint this server configures for ${provider} (${endpointEnv(provider)}), or left out (got ${JSON.stringify(h.baseURL)})`,
    );
  if (provider === 'fireworks' && !h.accountId) throw bad('hosted.accountId', 'the fireworks provider needs the account id');
  if (provider !== 'fireworks' && h.accountId) throw bad('hosted.accountId', `only the fireworks provider takes an account id`);
  if (input.evaluate)
    throw bad('evaluate', `a model trained by ${provider} stays with the provider; only local jobs can be evaluated here`);
  return {
    provider,
    remote: {
      baseURL: endpoint.baseURL,
      apiKeyEnv: endpoint.apiKeyEnv,
      remoteModel: h.remoteModel,
      ...(h.accountId ? { accountId: h.accountId } : {}),
      ...(h.deadlineMs !== undefined ? { deadlineMs: h.deadlineMs } : {}),
      ...(h.pollMs !== undefined ? { pollMs: h.pollMs } : {}),
    },
  };
}

/**
 * Where a stored hosted job may still send its key (resuming after a restart): the provider's configured
 * endpoint and key variable, only if the job's stored base URL is that endpoint. An error line otherwise, and
 * nothing is sent.
 */
export function storedJobEndpoint(
  provider: HostedProvider,
  storedBaseURL: string,
  config: HostedConfig,
): { baseURL: string; apiKeyEnv: string } | string {
  const endpoint = configured(provider, config);
  if (typeof endpoint === 'string') return endpoint;
  if (normalizeBaseURL(storedBaseURL) !== endpoint.baseURL)
    return `the job's endpoint ${storedBaseURL} is not the one this server configures for ${provider} (${endpointEnv(provider)}); its key is not sent there`;
  return endpoint;
}

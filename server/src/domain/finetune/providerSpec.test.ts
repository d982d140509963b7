import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HostedSpecInput } from '../../../../protocol/finetune';
import { DomainError } from '../errors';
import { checkProviderChoice, defaultKeyEnv, endpointEnv, hostedEndpointsFrom, storedJobEndpoint, type HostedConfig } from './providerSpec';

const keys = new Set(['ORCH_KEY_TOGETHER', 'ORCH_KEY_FIREWORKS', 'ORCH_KEY_ANTHROPIC']);
// The operator configured together and fireworks (openai-compatible has neither URL nor key).
const config: HostedConfig = {
  endpoints: { together: 'https://api.together.xyz/v1', fireworks: 'http://127.0.0.1:9/v1/' },
  hasKey: (n) => keys.has(n),
};
const field = (f: string) => (e: unknown) => DomainError.is(e, 'bad_input') && e.data?.field === f && e.message.startsWith(`${f}: `);

test('local is the default and takes no hosted settings', () => {
  assert.deepEqual(checkProviderChoice({}, config), { provider: 'local' });
  assert.throws(
    () => checkProviderChoice({ provider: 'local', hosted: { baseURL: 'http://x/v1', remoteModel: 'm' } }, config),
    field('hosted'),
  );
});

test("a hosted choice takes the server's endpoint and key variable (never the key)", () => {
  const c = checkProviderChoice({ provider: 'together', hosted: { remoteModel: 'llama' } }, config);
  assert.deepEqual(c, {
    provider: 'together',
    remote: { baseURL: 'https://api.together.xyz/v1', apiKeyEnv: 'ORCH_KEY_TOGETHER', remoteModel: 'llama' },
  });
  // The configured endpoint may be repeated, in any equivalent spelling.
  for (const baseURL of ['https://api.together.xyz/v1', 'https://API.together.xyz:443/v1/'])
    assert.deepEqual(checkProviderChoice({ provider: 'together', hosted: { baseURL, remoteModel: 'llama' } }, config), c);
  assert.equal(defaultKeyEnv('openai-compatible'), 'ORCH_KEY_OPENAI_COMPATIBLE');
  assert.equal(endpointEnv('openai-compatible'), 'ORCH_FT_OPENAI_COMPATIBLE_URL');
  const f = checkProviderChoice({ provider: 'fireworks', hosted: { remoteModel: 'm', accountId: 'acct' } }, config);
  assert.deepEqual(f.remote, { baseURL: 'http://127.0.0.1:9/v1', apiKeyEnv: 'ORCH_KEY_FIREWORKS', remoteModel: 'm', accountId: 'acct' });
  assert.deepEqual(hostedEndpointsFrom({ ORCH_FT_TOGETHER_URL: 'https://t/v1', ORCH_FT_FIREWORKS_URL: '', ORCH_FT_LOCAL_URL: 'x' }), {
    together: 'https://t/v1',
  });
});

test('attack: a request cannot send the key to a URL of its choosing, nor pick another key', () => {
  // The review's scenario: the operator's Anthropic key to an attacker's URL.
  const attack = { baseURL: 'http://attacker.example/v1', apiKeyEnv: 'ORCH_KEY_ANTHROPIC', remoteModel: 'm' } as HostedSpecInput;
  assert.throws(() => checkProviderChoice({ provider: 'together', hosted: attack }, config), field('hosted.apiKeyEnv'));
  // Another URL (an attacker, an internal address, a look-alike) than the configured one is refused naming hosted.baseURL.
  for (const baseURL of [
    'http://attacker.example/v1',
    'http://169.254.169.254/latest',
    'http://127.0.0.1:9/v1',
    'https://api.together.xyz.attacker.example/v1',
    'https://api.together.xyz/v1/../../other',
    'https://user@api.together.xyz/v1',
  ])
    assert.throws(
      () => checkProviderChoice({ provider: 'together', hosted: { baseURL, remoteModel: 'm' } }, config),
      (e: unknown) => field('hosted.baseURL')(e) && /ORCH_FT_TOGETHER_URL/.test((e as Error).message),
      baseURL,
    );
  assert.throws(
    () =>
      checkProviderChoice(
        { provider: 'together', hosted: { apiKeyEnv: 'ORCH_KEY_TOGETHER', remoteModel: 'm' } as HostedSpecInput },
        config,
      ),
    field('hosted.apiKeyEnv'),
    'even its own key variable: the request names no key',
  );
});

test('a provider the operator did not configure (no URL, or no key) is refused', () => {
  const unconfigured = (e: unknown) =>
    field('provider')(e) &&
    (e as Error).message ===
      'provider: provider openai-compatible is not configured on this server (set ORCH_FT_OPENAI_COMPATIBLE_URL and ORCH_KEY_OPENAI_COMPATIBLE)';
  assert.throws(
    () =>
      checkProviderChoice({ provider: 'openai-compatible', hosted: { baseURL: 'http://attacker.example/v1', remoteModel: 'm' } }, config),
    unconfigured,
  );
  const urlNoKey = { ...config, endpoints: { ...config.endpoints, 'openai-compatible': 'http://gw/v1' } };
  assert.throws(() => checkProviderChoice({ provider: 'openai-compatible', hosted: { remoteModel: 'm' } }, urlNoKey), unconfigured);
  const badUrl = { endpoints: { 'openai-compatible': 'ftp://gw/v1' }, hasKey: () => true };
  assert.throws(() => checkProviderChoice({ provider: 'openai-compatible', hosted: { remoteModel: 'm' } }, badUrl), unconfigured);
});

test('bad specs name the field', () => {
  assert.throws(() => checkProviderChoice({ provider: 'replicate' }, config), field('provider'));
  assert.throws(() => checkProviderChoice({ provider: 'together' }, config), field('hosted.remoteModel'));
  assert.throws(
    () => checkProviderChoice({ provider: 'together', hosted: { baseURL: 'ftp://x/v1', remoteModel: 'm' } }, config),
    field('hosted.baseURL'),
  );
  assert.throws(() => checkProviderChoice({ provider: 'fireworks', hosted: { remoteModel: 'm' } }, config), field('hosted.accountId'));
  assert.throws(
    () => checkProviderChoice({ provider: 'together', hosted: { remoteModel: 'm', accountId: 'a' } }, config),
    field('hosted.accountId'),
  );
  assert.throws(
    () => checkProviderChoice({ provider: 'together', evaluate: true, hosted: { remoteModel: 'm' } }, config),
    field('evaluate'),
  );
});

test('a stored job (resumed after a restart) gets the key only at the endpoint configured now', () => {
  assert.deepEqual(storedJobEndpoint('together', 'https://api.together.xyz/v1', config), {
    baseURL: 'https://api.together.xyz/v1',
    apiKeyEnv: 'ORCH_KEY_TOGETHER',
  });
  // A job stored before the rule (or before the configuration changed) with another endpoint fails clearly.
  assert.match(
    storedJobEndpoint('together', 'http://attacker.example/v1', config) as string,
    /^the job's endpoint http:\/\/attacker\.example\/v1 is not the one this server configures for together \(ORCH_FT_TOGETHER_URL\); its key is not sent there$/,
  );
  assert.match(storedJobEndpoint('openai-compatible', 'http://gw/v1', config) as string, /is not configured on this server/);
});

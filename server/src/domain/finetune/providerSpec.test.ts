import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../errors';
import { checkProviderChoice, defaultKeyEnv } from './providerSpec';

const keys = new Set(['ORCH_KEY_TOGETHER', 'ORCH_KEY_FIREWORKS', 'ORCH_KEY_MINE']);
const has = (n: string) => keys.has(n);
const field = (f: string) => (e: unknown) => DomainError.is(e, 'bad_input') && e.data?.field === f && e.message.startsWith(`${f}: `);

test('local is the default and takes no hosted settings', () => {
  assert.deepEqual(checkProviderChoice({}, has), { provider: 'local' });
  assert.throws(
    () => checkProviderChoice({ provider: 'local', hosted: { baseURL: 'http://x/v1', remoteModel: 'm' } }, has),
    field('hosted'),
  );
});

test('a hosted choice names its provider, base URL, model and the key variable (never the key)', () => {
  const c = checkProviderChoice({ provider: 'together', hosted: { baseURL: 'https://api.together.xyz/v1/', remoteModel: 'llama' } }, has);
  assert.deepEqual(c, {
    provider: 'together',
    remote: { baseURL: 'https://api.together.xyz/v1', apiKeyEnv: 'ORCH_KEY_TOGETHER', remoteModel: 'llama' },
  });
  assert.equal(defaultKeyEnv('openai-compatible'), 'ORCH_KEY_OPENAI_COMPATIBLE');
  const f = checkProviderChoice(
    {
      provider: 'fireworks',
      hosted: { baseURL: 'http://127.0.0.1:9/v1', remoteModel: 'm', accountId: 'acct', apiKeyEnv: 'ORCH_KEY_MINE' },
    },
    has,
  );
  assert.equal(f.remote?.apiKeyEnv, 'ORCH_KEY_MINE');
  assert.equal(f.remote?.accountId, 'acct');
});

test('bad specs name the field', () => {
  assert.throws(() => checkProviderChoice({ provider: 'replicate' }, has), field('provider'));
  assert.throws(() => checkProviderChoice({ provider: 'together' }, has), field('hosted.baseURL'));
  assert.throws(
    () => checkProviderChoice({ provider: 'together', hosted: { baseURL: 'ftp://x/v1', remoteModel: 'm' } }, has),
    field('hosted.baseURL'),
  );
  assert.throws(
    () => checkProviderChoice({ provider: 'fireworks', hosted: { baseURL: 'http://x/v1', remoteModel: 'm' } }, has),
    field('hosted.accountId'),
  );
  assert.throws(
    () => checkProviderChoice({ provider: 'together', hosted: { baseURL: 'http://x/v1', remoteModel: 'm', accountId: 'a' } }, has),
    field('hosted.accountId'),
  );
  assert.throws(
    () => checkProviderChoice({ provider: 'openai-compatible', hosted: { baseURL: 'http://x/v1', remoteModel: 'm' } }, has),
    (e: unknown) => field('hosted.apiKeyEnv')(e) && /ORCH_KEY_OPENAI_COMPATIBLE is not set/.test((e as Error).message),
  );
  assert.throws(
    () =>
      checkProviderChoice({ provider: 'together', hosted: { baseURL: 'http://x/v1', remoteModel: 'm', apiKeyEnv: 'HOME' } }, () => true),
    field('hosted.apiKeyEnv'),
    'only ORCH_KEY_* variables can be named: a spec cannot send another server secret away',
  );
  assert.throws(
    () => checkProviderChoice({ provider: 'together', evaluate: true, hosted: { baseURL: 'http://x/v1', remoteModel: 'm' } }, has),
    field('evaluate'),
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addKnownSecrets, redactSecrets, redactUrlUserinfo, redactValue } from './redact';

test('redacts provider keys, tokens, bearer headers and password assignments', () => {
  const text =
    'key sk-abcdefghijklmnopqrstuvwx and ghp_abcdefghijklmnopqrstuvwxyz0123 Authorization: Bearer abc.def.ghi123 password=hunter22 AKIAABCDEFGHIJKLMNOP';
  const out = redactSecrets(text);
  for (const secret of [
    'sk-abcdefghijklmnopqrstuvwx',
    'ghp_abcdefghijklmnopqrstuvwxyz0123',
    'abc.def.ghi123',
    'hunter22',
    'AKIAABCDEFGHIJKLMNOP',
  ]) {
    assert.ok(!out.includes(secret), `${secret} is gone: ${out}`);
  }
  assert.match(out, /Bearer \[REDACTED\]/);
  assert.match(out, /password=\[REDACTED\]/);
});

test('leaves ordinary text alone', () => {
  const text = 'Wrote src/token.ts with 42 lines; the secretary called.';
  assert.equal(redactSecrets(text), text);
});

test('deep-redacts values under secret-looking keys', () => {
  const v = redactValue({ a: { apiKey: 'plain', list: ['sk-abcdefghijklmnopqrstuvwx'] }, n: 3 });
  assert.deepEqual(v, { a: { apiKey: '[REDACTED]', list: ['[REDACTED]'] }, n: 3 });
});

test('redacts known secret values of any shape, including inside JSON values; ignores values too short to be keys', () => {
  addKnownSecrets(['local-key-7Qz', 'abc']);
  const out = redactSecrets('curl -H "x: local-key-7Qz" host; local-key-7Qz-suffix; abc stays');
  assert.equal(out, 'curl -H "x: [REDACTED]" host; [REDACTED]-suffix; abc stays');
  assert.deepEqual(redactValue({ text: 'said local-key-7Qz' }), { text: 'said [REDACTED]' });
});

test('token counts are usage figures, not secrets: numeric values under *tokens keys are kept, anything else is not', () => {
  const line = 'usage {"tokens": 1000, "inputTokens":512, "max_tokens": 64, "tokenCount": 3} token=abcd1234 authToken=9999';
  assert.equal(
    redactSecrets(line),
    'usage {"tokens": 1000, "inputTokens":512, "max_tokens": 64, "tokenCount": 3} token=[REDACTED] authToken=[REDACTED]',
  );
  assert.deepEqual(redactValue({ tokens: '1000', outputTokens: '12', tokens2: 'x', accessTokens: 'ab-cd-ef' }), {
    tokens: '1000',
    outputTokens: '12',
    tokens2: '[REDACTED]',
    accessTokens: '[REDACTED]',
  });
  assert.equal(redactSecrets('password=12345678'), 'password=[REDACTED]');
});

test('masks the userinfo of URLs, nothing else', () => {
  assert.equal(
    redactUrlUserinfo("git push https://user:TOKEN@git.example.com/team/repo.git failed: fatal: 'https://x-token:abc@h/r' not found"),
    "git push https://***@git.example.com/team/repo.git failed: fatal: 'https://***@h/r' not found",
  );
  assert.equal(redactUrlUserinfo('postgres://u:p@ss@db:5432/x and ssh://git@host/r'), 'postgres://***@db:5432/x and ssh://***@host/r');
  const plain = 'cloning /srv/git/team.git, https://host/repo.git?x=a@b and git@github.com:o/r.git (mail me@example.com)';
  assert.equal(redactUrlUserinfo(plain), plain);
});

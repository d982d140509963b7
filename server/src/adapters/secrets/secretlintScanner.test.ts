import assert from 'node:assert/strict';
import { test } from 'node:test';
import { secretCorpus } from './secretCorpus';
import { SecretlintScanner } from './secretlintScanner';

const scanner = new SecretlintScanner();

test('the recommended preset finds every secret format of the corpus, by rule id and range only', async () => {
  for (const p of secretCorpus(7)) {
    const text = `Running the deploy step.\n${p.text}\nDone.`;
    const found = await scanner.scan(text);
    assert.ok(found.length > 0, `${p.kind} is found`);
    const start = text.indexOf(p.secret);
    const covered = found.some((f) => f.start <= start + 4 && f.end >= start + p.secret.length - 4);
    assert.ok(covered, `${p.kind}: a finding covers the secret (${JSON.stringify(found)})`);
    for (const f of found) {
      assert.match(f.kind, /^@secretlint\/secretlint-rule-/);
      assert.deepEqual(Object.keys(f).sort(), ['end', 'kind', 'start']);
    }
  }
});

test('ordinary code and prose give no findings', async () => {
  const text = [
    'const total = items.reduce((a, b) => a + b.price, 0);',
    'See https://github.com/acme/app/pull/42 and run `npm test`.',
    'export function parse(input: string): Config { return JSON.parse(input) as Config; }',
    'The key of the map is the session id; the value is its lease.',
  ].join('\n');
  assert.deepEqual(await scanner.scan(text), []);
  assert.deepEqual(await scanner.scan(''), []);
});

test('a secretlint-disable comment in the text does not switch the scan off', async () => {
  const p = secretCorpus(3).find((x) => x.kind === 'github-classic')!;
  const text = `// secretlint-disable\n${p.text}\n// secretlint-enable`;
  assert.ok((await scanner.scan(text)).length > 0);
  const line = `${p.text} // secretlint-disable-line`;
  assert.ok((await scanner.scan(line)).length > 0);
});

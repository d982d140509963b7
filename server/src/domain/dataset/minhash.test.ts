import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimatedJaccard, nearDuplicates, shingles, signature } from './minhash';

const base =
  'Add a function that parses the configuration file and returns the list of enabled plugins sorted by priority, ' +
  'then update the loader to call it once at start-up and log every plugin that failed to load with its error message. ' +
  'The assistant read src/config.ts and src/loader.ts, wrote parsePlugins with a stable sort on priority and name, ' +
  'added unit tests for an empty file, a file with a disabled plugin and a file with two plugins of equal priority, ' +
  'ran the test suite, which passed, and summarised the change in two sentences for the reviewer.';

test('identical and lightly edited texts are near duplicates of the first; unrelated texts are not', () => {
  const edited = base.replace('sorted by priority', 'sorted by their priority');
  const other =
    'Rename the HTTP client class to ApiClient everywhere, keep a deprecated alias, and fix the three failing tests in the network module.';
  const out = nearDuplicates([base, other, edited, base]);
  assert.deepEqual(
    out.map((o) => o.duplicateOf),
    [-1, -1, 0, 0],
  );
  assert.ok(out[2]!.similarity >= 0.8 && out[2]!.similarity < 1);
  assert.equal(out[3]!.similarity, 1);
});

test('signatures are deterministic and estimate Jaccard similarity', () => {
  const a = signature(shingles(base, 5), 64);
  assert.deepEqual(a, signature(shingles(base, 5), 64));
  const far = signature(shingles('completely different words about a cooking recipe with flour eggs sugar butter and milk', 5), 64);
  assert.ok(estimatedJaccard(a, far) < 0.2);
});

test('short texts are one shingle; bad band settings are refused', () => {
  assert.equal(shingles('two words', 5).length, 1);
  assert.throws(() => nearDuplicates(['a'], { numHashes: 10, bands: 3, shingleSize: 5, threshold: 0.8 }), /multiple of bands/);
});

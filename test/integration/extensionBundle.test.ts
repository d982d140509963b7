// Issue 13 (activation ≤ 100 ms): what `dist/extension.js` holds is evaluated before `activate` runs. zod (the
// protocol's schemas), the language client and ws are bundles of their own, loaded when first needed; this test
// reads the built bundles' source maps (`npm run build` first) and fails when one of them is back in the main one.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const dist = path.resolve(__dirname, '..', '..', 'dist');

/** The npm packages a bundle was built from (from its source map). */
function packagesIn(bundle: string): Set<string> {
  const map = JSON.parse(readFileSync(path.join(dist, `${bundle}.map`), 'utf8')) as { sources: string[] };
  const out = new Set<string>();
  for (const s of map.sources) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(s);
    if (m) out.add(m[1]);
  }
  return out;
}

test('dist/extension.js holds no npm package but jsonc-parser (zod, the language client and ws load later)', () => {
  assert.deepEqual([...packagesIn('extension.js')], ['jsonc-parser']);
  assert.doesNotMatch(readFileSync(path.join(dist, 'extension.js'), 'utf8'), /require\("zod"\)|ZodType|\$ZodError/);
});

test('the lazily loaded parts hold what the main bundle does not', () => {
  assert.ok(packagesIn('extensionSchemas.js').has('zod'), 'the schemas part holds zod');
  assert.ok(packagesIn('extensionClient.js').has('vscode-languageclient'), 'the client part holds the language client');
  assert.ok(packagesIn('extensionTeam.js').has('ws'), 'the team part holds ws');
  // The main bundle requires the schemas part by its file name, beside it (esbuild.mjs `lazyParts`).
  assert.match(readFileSync(path.join(dist, 'extension.js'), 'utf8'), /require\("\.\/extensionSchemas\.js"\)/);
});

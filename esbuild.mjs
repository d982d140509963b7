// Bundles: extension (node/cjs, vscode external), server + CLI (node/cjs), one browser ESM bundle per
// webview surface, and the VS Code test suites (cjs, vscode and mocha external).
//   node esbuild.mjs [--watch] [--production]
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const common = {
  bundle: true,
  sourcemap: true,
  minify: production,
  logLevel: 'warning',
  define: { __ORCHESTRATOR_VERSION__: JSON.stringify(version) },
};
const node = { ...common, platform: 'node', format: 'cjs', target: 'node20' };

const configs = [
  {
    ...node,
    entryPoints: { extension: 'extension/src/main.ts' },
    outdir: 'dist',
    // When the bundle starts evaluating: `activate` reports its module evaluation time (bench, issue 13).
    banner: { js: 'globalThis.__orchExtensionLoadStart = Date.now();' },
    // ws (the team server link) loads these optional native speed-ups only when installed.
    external: ['vscode', 'bufferutil', 'utf-8-validate'],
    // jsonc-parser's UMD build requires its parts dynamically (esbuild cannot follow); its ESM build bundles.
    alias: { 'jsonc-parser': './node_modules/jsonc-parser/lib/esm/main.js' },
  },
  {
    ...node,
    entryPoints: { server: 'server/src/main.ts', cli: 'server/src/cli.ts' },
    outdir: 'dist',
    external: ['bufferutil', 'utf-8-validate', 'pg-native'],
  },
  {
    ...common,
    entryPoints: {
      dashboard: 'webview/src/dashboard/main.ts',
      marketplace: 'webview/src/marketplace/main.ts',
      curator: 'webview/src/curator/main.ts',
    },
    outdir: 'dist/webview',
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
  },
  ...(production
    ? []
    : [
        {
          ...node,
          entryPoints: ['test/vscode/index.ts', 'test/vscode/*.test.ts'],
          outdir: 'dist/test/vscode',
          external: ['vscode', 'mocha'],
        },
      ]),
];

const t0 = Date.now();
// The local fine-tune trainer (a Python script the server runs in the training venv) ships beside the bundle.
mkdirSync('dist/python', { recursive: true });
for (const f of ['train_lora.py', 'eval_lora.py', 'serve_lora.py']) copyFileSync(`server/python/${f}`, `dist/python/${f}`);
if (watch) {
  const contexts = await Promise.all(configs.map((c) => esbuild.context(c)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('esbuild: watching for changes…');
} else {
  await Promise.all(configs.map((c) => esbuild.build(c)));
  console.log(`esbuild: ${configs.length} bundle groups in ${Date.now() - t0} ms${production ? ' (production)' : ''}`);
}

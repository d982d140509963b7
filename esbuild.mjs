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

// Issue 13 (activation ≤ 100 ms): the language client and the team connection (with vscode-languageclient and ws,
// ~0.9 MB) are bundles of their own, loaded by `ctx.ts`'s `import()` when a server starts; so are the protocol's zod
// schemas (~0.85 MB with zod), which `schemas.ts` requires on the first validation. The extension bundle neither
// parses nor evaluates them at activation (test/integration/extensionBundle.test.ts keeps zod out).
const lazyParts = {
  './client': './extensionClient.js',
  './teamConnection': './extensionTeam.js',
  './protocolSchemas': './extensionSchemas.js',
};
const lazyPartsPlugin = {
  name: 'lazy-extension-parts',
  setup(build) {
    // ctx.ts's `import('./client')` becomes a lazily evaluated `require('./extensionClient.js')` (the extension
    // host's own require, so `vscode` resolves there as in the main bundle).
    build.onResolve({ filter: /^\.\/(client|teamConnection)$/ }, (args) =>
      args.importer.endsWith('ctx.ts') && args.kind === 'dynamic-import' ? { path: args.path, namespace: 'lazy-part' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-part' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(lazyParts[args.path])});`,
      loader: 'js',
    }));
    build.onResolve({ filter: /^\.\/extension(Client|Team|Schemas)\.js$/ }, (args) => ({ path: args.path, external: true }));
    // schemas.ts's `require('./protocolSchemas')` stays a `require`, of the bundle beside this one, where it is.
    build.onResolve({ filter: /^\.\/protocolSchemas$/ }, (args) =>
      args.importer.endsWith('schemas.ts') && args.kind === 'require-call' ? { path: lazyParts[args.path], external: true } : undefined,
    );
  },
};

const configs = [
  {
    ...node,
    entryPoints: { extension: 'extension/src/main.ts' },
    outdir: 'dist',
    plugins: [lazyPartsPlugin],
    // When the bundle starts evaluating: `activate` reports its module evaluation time (bench, issue 13).
    banner: { js: 'globalThis.__orchExtensionLoadStart = Date.now();' },
    // ws (the team server link) loads these optional native speed-ups only when installed.
    external: ['vscode', 'bufferutil', 'utf-8-validate'],
    // jsonc-parser's UMD build requires its parts dynamically (esbuild cannot follow); its ESM build bundles.
    alias: { 'jsonc-parser': './node_modules/jsonc-parser/lib/esm/main.js' },
  },
  {
    ...node,
    entryPoints: {
      extensionClient: 'extension/src/client.ts',
      extensionTeam: 'extension/src/teamConnection.ts',
      extensionSchemas: 'extension/src/protocolSchemas.ts',
    },
    outdir: 'dist',
    external: ['vscode', 'bufferutil', 'utf-8-validate'],
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

#!/usr/bin/env node
// The headless CLI: the bundle is built by `npm run build` (esbuild.mjs) into dist/cli.js.
require('../dist/cli.js');

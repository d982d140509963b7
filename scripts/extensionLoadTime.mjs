// How long evaluating an extension bundle takes in plain node (`require` with an inert `vscode`), issue 13.
//   node scripts/extensionLoadTime.mjs [--runs N] [bundle.js ...]   (default: dist/extension.js)
// Several bundles are measured interleaved (run i of each, in turn), each in a fresh node process; prints the
// median and the range per bundle.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 5;
const bundles = (args.length ? args : ['dist/extension.js']).map((b) => path.resolve(b));

// A child: `require('vscode')` gets an object with every name the bundle reads from it (`vscode.X`), each a proxy
// that answers anything with itself (esbuild's `__toESM` copies own properties, so the names must be real).
const child = `
const Module = require('node:module');
const { readFileSync } = require('node:fs');
const inert = new Proxy(function () {}, { get: (t, k) => (k === Symbol.toPrimitive ? () => '' : inert), apply: () => inert, construct: () => inert });
const names = new Set([...readFileSync(process.argv[1], 'utf8').matchAll(/\\bvscode\\d*\\.([A-Za-z_$][\\w$]*)/g)].map((m) => m[1]));
const fake = Object.fromEntries([...names].map((n) => [n, inert]));
const load = Module._load;
Module._load = function (req, ...rest) { return req === 'vscode' ? fake : load.call(this, req, ...rest); };
const t0 = performance.now();
require(process.argv[1]);
process.stdout.write(String(performance.now() - t0));
`;

const times = new Map(bundles.map((b) => [b, []]));
for (let i = 0; i < runs; i++)
  for (const b of bundles) times.get(b).push(Number(execFileSync(process.execPath, ['-e', child, b], { encoding: 'utf8' })));
for (const [b, ts] of times) {
  const s = [...ts].sort((x, y) => x - y);
  const kb = Math.round(statSync(b).size / 1024);
  console.log(
    `${path.relative(process.cwd(), b)}: ${kb} KB, median ${s[Math.floor(s.length / 2)].toFixed(0)} ms (${s[0].toFixed(0)}–${s[s.length - 1].toFixed(0)}, ${runs} runs)`,
  );
}

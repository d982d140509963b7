// Fills an npm cache outside the repository with the real ACP agents the integration tests install offline
// (the npx packages of test/fixtures/acp-index/real-agents.json, with all their dependencies), so that inside
// the test's loopback-only network namespace `npm install` runs with `npm_config_offline=true` against it.
// Cache: $ORCH_TEST_CACHE or ~/.cache/industrial-orchestrator, under npm-prefetch/cache. Idempotent: a marker
// per package spec; a filled cache costs nothing. The last stdout line is JSON {"cache": "<folder>"}.
// Exit 1 with the reason when a package cannot be fetched. Usage: node tools/prefetchAcpAgents.mjs
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const index = path.join(repo, 'test', 'fixtures', 'acp-index', 'real-agents.json');
const deadlineMs = 8 * 60_000;
const root = path.join(
  path.resolve(process.env.ORCH_TEST_CACHE ?? path.join(os.homedir(), '.cache', 'industrial-orchestrator')),
  'npm-prefetch',
);
const cache = path.join(root, 'cache');

const specs = JSON.parse(fs.readFileSync(index, 'utf8'))
  .agents.map((a) => a.distribution?.npx?.package)
  .filter(Boolean);

function fetchOne(spec) {
  const slug = spec.replace(/[^A-Za-z0-9.-]+/g, '_');
  const marker = path.join(root, `${slug}.ok`);
  if (fs.existsSync(marker)) return Promise.resolve(undefined);
  const prefix = path.join(root, 'work', slug);
  fs.rmSync(prefix, { recursive: true, force: true });
  fs.mkdirSync(prefix, { recursive: true });
  const t0 = Date.now();
  return new Promise((resolve) => {
    const args = ['install', '--prefix', prefix, '--cache', cache, '--no-audit', '--no-fund', '--loglevel=error', spec];
    const child = spawn('npm', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      fs.rmSync(prefix, { recursive: true, force: true });
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      if (code !== 0) return resolve(`${spec}: npm install exited ${code} after ${secs} s: ${out.trim().slice(-1500)}`);
      fs.writeFileSync(marker, `${new Date().toISOString()}\n`);
      console.log(`[prefetchAcpAgents] ${spec} fetched into ${cache} (${secs} s)`);
      resolve(undefined);
    });
  });
}

fs.mkdirSync(root, { recursive: true });
const problems = (await Promise.all(specs.map(fetchOne))).filter(Boolean);
for (const p of problems) console.error(`[prefetchAcpAgents] ${p}`);
console.log(JSON.stringify({ cache }));
process.exit(problems.length ? 1 : 0);

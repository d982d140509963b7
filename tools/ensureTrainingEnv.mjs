// Makes sure the Python environment the local LoRA trainer needs (CPU torch, peft, transformers, tokenizers,
// safetensors; pinned in server/python/requirements-lora-cpu.txt) exists before the tests that train.
// Idempotent: a venv at ~/.cache/industrial-orchestrator/train-venv (or $ORCH_TRAIN_VENV) whose `.ready`
// marker holds the requirements' hash is reused as is. Packages come only from the machine's local package
// folders (`pip config list`: extra index + find-links); the first local index is passed as --index-url so pip
// never waits on the unreachable public index. About 1.2 GB and ~60 s the first time.
// Usage: node tools/ensureTrainingEnv.mjs        prints the venv's python path on the last line; exit 1 with
// one clear line when it cannot be made.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const requirements = path.join(root, 'server', 'python', 'requirements-lora-cpu.txt');
const venv = process.env.ORCH_TRAIN_VENV ?? path.join(os.homedir(), '.cache', 'industrial-orchestrator', 'train-venv');
const python = path.join(venv, 'bin', 'python');
const marker = path.join(venv, '.ready');
const deadlineMs = 8 * 60_000;
const started = Date.now();
const log = (m) => console.log(`[ensureTrainingEnv] ${m}`);
const fail = (m) => {
  console.log(`[ensureTrainingEnv] FAILED: ${m}`);
  process.exit(1);
};

const wanted = crypto.createHash('sha256').update(fs.readFileSync(requirements)).digest('hex');
const probe = () =>
  spawnSync(python, ['-c', 'import torch,peft,transformers,tokenizers,safetensors;print(torch.__version__)'], {
    encoding: 'utf8',
    timeout: 120_000,
  });

if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8').trim() === wanted && probe().status === 0) {
  log(`training venv is ready (${venv}); nothing to do.`);
  console.log(python);
  process.exit(0);
}

const remaining = () => Math.max(1000, deadlineMs - (Date.now() - started));
const pipConfig = (key) => {
  const r = spawnSync('python3', ['-m', 'pip', 'config', 'get', key], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? r.stdout.trim().split(/\s+/).filter(Boolean) : [];
};
const indexes = pipConfig('global.extra-index-url');
const findLinks = [...pipConfig('global.find-links'), ...pipConfig(':env:.find-links')];
const torchWheel = findLinks.some((d) => {
  try {
    return fs.readdirSync(d).some((f) => /^torch-.*\+cpu.*\.whl$/.test(f));
  } catch {
    return false;
  }
});
if (!torchWheel && indexes.length === 0)
  fail(
    'no local Python package folder with a CPU torch wheel (pip config has no find-links/extra-index-url); the training tests cannot run here.',
  );

log(`creating ${venv} from the local package folders (${[...indexes, ...findLinks].join(', ')}); ~60 s and ~1.2 GB once.`);
fs.rmSync(venv, { recursive: true, force: true });
fs.mkdirSync(path.dirname(venv), { recursive: true });
const mk = spawnSync('python3', ['-m', 'venv', venv], { encoding: 'utf8', timeout: remaining() });
if (mk.status !== 0) fail(`python3 -m venv failed: ${(mk.stderr || mk.error?.message || '').trim().split('\n').pop()}`);
const indexArgs = indexes.flatMap((u, i) => (i === 0 ? ['--index-url', u] : ['--extra-index-url', u]));
const linkArgs = findLinks.flatMap((d) => ['--find-links', d]);
const pip = spawnSync(
  python,
  ['-m', 'pip', 'install', '--no-cache-dir', '--quiet', '--retries', '0', ...indexArgs, ...linkArgs, '-r', requirements],
  { encoding: 'utf8', timeout: remaining(), killSignal: 'SIGKILL', env: { ...process.env, PIP_NO_INPUT: '1' } },
);
if (pip.status !== 0) {
  const tail = (pip.stderr || pip.stdout || pip.error?.message || '')
    .split('\n')
    .filter((l) => l.trim() && !l.includes('is ignored: it is neither'))
    .slice(-3)
    .join(' | ');
  fail(`pip could not install the training packages from the local folders: ${tail}`);
}
const p = probe();
if (p.status !== 0) fail(`the training venv does not import torch/peft/transformers: ${(p.stderr || '').trim().split('\n').pop()}`);
fs.writeFileSync(marker, `${wanted}\n`);
log(`ready: torch ${p.stdout.trim()} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(python);

// Makes sure bubblewrap (bwrap), the OS sandbox around agents' shell commands, is installed before the
// test layers that use it. Idempotent: does nothing when bwrap is already there. When it is missing and we
// are root on a Debian-like system (apt-get), installs the `bubblewrap` package with a deadline; otherwise
// prints why not, and the sandbox tests skip (outside CI) or fail (in CI). Never fails itself.
// Usage: node tools/ensureSandbox.mjs
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const deadlineMs = 5 * 60_000;

function findBwrap() {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin', '/bin', '/usr/local/bin'].filter((d) => path.isAbsolute(d));
  return dirs
    .map((d) => path.join(d, 'bwrap'))
    .find((f) => {
      try {
        fs.accessSync(f, fs.constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

function run(cmd, args) {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: Math.max(1000, deadlineMs - (Date.now() - started)),
    killSignal: 'SIGKILL',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  const ok = r.status === 0;
  console.log(`[ensureSandbox] ${cmd} ${args.join(' ')}: ${ok ? 'ok' : r.error ? r.error.message : `exit ${r.status}`} (${secs} s)`);
  if (!ok)
    console.log(
      (r.stderr || r.stdout || '')
        .trim()
        .split('\n')
        .slice(-5)
        .map((l) => `[ensureSandbox]   ${l}`)
        .join('\n'),
    );
  return ok;
}

const started = Date.now();
const found = findBwrap();
if (found) {
  console.log(`[ensureSandbox] bubblewrap is installed (${found}); nothing to do.`);
} else if (process.platform !== 'linux') {
  console.log(`[ensureSandbox] no bubblewrap on ${process.platform} (it is Linux-only); the sandbox tests skip.`);
} else if (typeof process.getuid === 'function' && process.getuid() !== 0) {
  console.log(
    "[ensureSandbox] bubblewrap is missing and this is not root, so it is not installed here: run `sudo apt-get install bubblewrap` (or your distribution's package); the sandbox tests skip outside CI.",
  );
} else if (spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status !== 0) {
  console.log(
    "[ensureSandbox] bubblewrap is missing and there is no apt-get: install the bubblewrap package with your distribution's package manager; the sandbox tests skip outside CI.",
  );
} else {
  console.log('[ensureSandbox] bubblewrap is missing: installing the Debian package `bubblewrap` with apt-get.');
  // A stale or empty package list makes `install` fail to find it; update first, within the same deadline.
  if (!run('apt-get', ['install', '-y', '--no-install-recommends', 'bubblewrap'])) {
    if (run('apt-get', ['update'])) run('apt-get', ['install', '-y', '--no-install-recommends', 'bubblewrap']);
  }
  const now = findBwrap();
  console.log(
    now
      ? `[ensureSandbox] installed: ${now}`
      : '[ensureSandbox] bubblewrap could not be installed; the sandbox tests will fail in CI and skip elsewhere.',
  );
}

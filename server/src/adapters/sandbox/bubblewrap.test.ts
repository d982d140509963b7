/**
 * The bubblewrap sandbox: detection (with the machine's real bwrap where it exists), the generated wrapper's
 * choice of writable folder (with a recording stand-in for bwrap), and the real confinement: a command run
 * through the wrapper writes in its task folder and its private temp, never beside it, never in `.git`.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BubblewrapSandbox, detectBubblewrap, findExecutable, rootId, wrapperScript } from './bubblewrap';

let tmp: string;
before(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'bwrap-test-')));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const realBwrap = findExecutable('bwrap', `${process.env.PATH ?? ''}:/usr/bin`);
// CI installs bubblewrap first (tools/ensureSandbox.mjs), so there the real-sandbox tests never skip.
const needBwrap = !realBwrap && !process.env.CI ? 'bwrap is not installed here (tools/ensureSandbox.mjs says why)' : false;

function script(dir: string, name: string, body: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/bash\n${body}\n`, { mode: 0o755 });
  return file;
}

describe('detectBubblewrap', () => {
  test('off by setting, on another OS, or without bwrap: disabled, and the reason says why and what to do', async () => {
    const off = await detectBubblewrap({ mode: 'off' });
    assert.equal(off.status.enabled, false);
    assert.match(off.status.reason, /turned off by the sandbox setting/i);
    const mac = await detectBubblewrap({ mode: 'auto', platform: 'darwin' });
    assert.equal(mac.status.enabled, false);
    assert.match(mac.status.reason, /darwin.*Linux-only/);
    const emptyDir = path.join(tmp, 'empty-path');
    fs.mkdirSync(emptyDir, { recursive: true });
    const none = await detectBubblewrap({ mode: 'auto', platform: 'linux', pathEnv: emptyDir });
    assert.equal(none.status.enabled, false);
    assert.match(none.status.reason, /not installed.*apt-get install bubblewrap/);
    assert.equal(none.bwrap, undefined);
  });

  test('a bwrap that does not confine (a write beside the bound folder succeeds) is refused', async () => {
    // Passes the command through without any namespace: exactly what must never be reported as a sandbox.
    const dir = path.join(tmp, 'fake-bin');
    script(dir, 'bwrap', 'while [[ $# -gt 0 && $1 != -- ]]; do shift; done; shift; exec "$@"');
    fs.symlinkSync('/bin/bash', path.join(dir, 'bash'));
    const d = await detectBubblewrap({ mode: 'auto', platform: 'linux', pathEnv: dir, scratchDir: tmp });
    assert.equal(d.status.enabled, false);
    assert.match(d.status.reason, /could not make a sandbox here: a write outside the bound folder succeeded/);
  });

  test('a bwrap that hangs is given up on at the deadline', async () => {
    const dir = path.join(tmp, 'hang-bin');
    script(dir, 'bwrap', 'exec sleep 30');
    fs.symlinkSync('/bin/bash', path.join(dir, 'bash'));
    const t0 = Date.now();
    const d = await detectBubblewrap({ mode: 'auto', platform: 'linux', pathEnv: dir, probeTimeoutMs: 500, scratchDir: tmp });
    assert.equal(d.status.enabled, false);
    assert.match(d.status.reason, /no answer within 500 ms/);
    assert.ok(Date.now() - t0 < 10_000);
  });

  test("the machine's real bwrap passes the probe and is reported with its version", { skip: needBwrap }, async () => {
    const d = await detectBubblewrap({ mode: 'auto', platform: 'linux' });
    assert.equal(d.status.enabled, true, d.status.reason);
    assert.match(d.status.reason, /^bubblewrap \d+\.\d+.*write only in their task folder/);
    assert.ok(d.bwrap && d.bash);
  });
});

describe('the wrapper picks the writable folder', () => {
  test('the longest registered folder containing the physical cwd; .git read-only; its private temp; nothing for other cwds', () => {
    const dir = path.join(tmp, 'argv');
    const log = path.join(dir, 'argv.txt');
    const fake = script(dir, 'fake-bwrap', `printf '%s\\n' "$@" > ${JSON.stringify(log)}`);
    const outer = path.join(dir, 'repo');
    const inner = path.join(outer, 'wt');
    fs.mkdirSync(path.join(inner, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(inner, '.git'), 'gitdir: elsewhere\n');
    const tmpRoot = path.join(dir, 'tmp');
    fs.mkdirSync(path.join(tmpRoot, rootId(inner)), { recursive: true });
    const roots = path.join(dir, 'roots.tsv');
    fs.writeFileSync(roots, `${rootId(outer)}\t${outer}\n${rootId(inner)}\t${inner}\n`);
    const wrapper = path.join(dir, 'bash');
    fs.writeFileSync(wrapper, wrapperScript({ bwrap: fake, bash: '/bin/bash', rootsFile: roots, tmpRoot }), { mode: 0o755 });
    // A symlinked path to the cwd is resolved first, as the registered roots are.
    fs.symlinkSync(inner, path.join(dir, 'link'));
    execFileSync(wrapper, ['-c', 'true'], { cwd: path.join(dir, 'link', 'sub') });
    const argv = fs.readFileSync(log, 'utf8').trim().split('\n');
    const t = path.join(tmpRoot, rootId(inner));
    assert.deepEqual(argv, [
      '--ro-bind',
      '/',
      '/',
      '--dev',
      '/dev',
      '--proc',
      '/proc',
      '--unshare-pid',
      '--die-with-parent',
      '--bind',
      inner,
      inner,
      '--ro-bind',
      `${inner}/.git`,
      `${inner}/.git`,
      '--bind',
      t,
      t,
      '--setenv',
      'TMPDIR',
      t,
      '--setenv',
      'TMP',
      t,
      '--setenv',
      'TEMP',
      t,
      '--chdir',
      path.join(inner, 'sub'),
      '--',
      '/bin/bash',
      '-c',
      'true',
    ]);
    // A prefix that is not a folder boundary does not count, and an unknown cwd gets no writable bind.
    const sibling = path.join(dir, 'repo-other');
    fs.mkdirSync(sibling);
    const r = spawnSync(wrapper, ['-c', 'true'], { cwd: sibling, encoding: 'utf8' });
    assert.match(r.stderr, /not in a task folder, so this command can write nowhere/);
    const argv2 = fs.readFileSync(log, 'utf8').trim().split('\n');
    assert.ok(!argv2.includes('--bind'), argv2.join(' '));
  });
});

describe('real confinement through the wrapper', { skip: needBwrap }, () => {
  let sandbox: BubblewrapSandbox;
  let worktree: string;
  let repo: string;

  before(async () => {
    const d = await detectBubblewrap({ mode: 'auto', platform: 'linux' });
    assert.ok(d.bwrap && d.bash, d.status.reason);
    sandbox = new BubblewrapSandbox(path.join(tmp, 'sandbox'), { bwrap: d.bwrap, bash: d.bash });
    repo = path.join(tmp, 'repo');
    fs.mkdirSync(repo);
    const git = (cwd: string, ...a: string[]) => execFileSync('git', a, { cwd, stdio: 'ignore' });
    git(repo, 'init', '-q');
    git(repo, '-c', 'user.email=t@example.invalid', '-c', 'user.name=t', 'commit', '--allow-empty', '-qm', 'init');
    worktree = path.join(tmp, 'worktrees', 'task');
    git(repo, 'worktree', 'add', '-q', worktree, '-b', 'task');
  });

  const sh = (cwd: string, command: string) => spawnSync(sandbox.shellPath, ['-c', command], { cwd, encoding: 'utf8', timeout: 30_000 });

  test('writes land in the task folder and its temp; beside it, in the main repo and in .git they fail', () => {
    const release = sandbox.allow(worktree);
    try {
      const r = sh(
        worktree,
        [
          'echo in > inside.txt',
          'echo t > "$TMPDIR/scratch" && cat "$TMPDIR/scratch" > from-tmp.txt',
          `echo out > ${JSON.stringify(path.join(tmp, 'outside.txt'))} || echo outside-refused`,
          `echo x > ${JSON.stringify(path.join(repo, 'planted.txt'))} || echo repo-refused`,
          'echo gitdir: /tmp > .git || echo dotgit-refused',
          'git add inside.txt 2>/dev/null || echo git-add-refused',
          'git status --short',
        ].join('; '),
      );
      assert.equal(r.status, 0, r.stderr);
      assert.equal(fs.readFileSync(path.join(worktree, 'inside.txt'), 'utf8'), 'in\n');
      assert.equal(fs.readFileSync(path.join(worktree, 'from-tmp.txt'), 'utf8'), 't\n');
      assert.ok(!fs.existsSync(path.join(tmp, 'outside.txt')), 'nothing written beside the task folder');
      assert.ok(!fs.existsSync(path.join(repo, 'planted.txt')), "nothing written in the user's repository");
      assert.match(fs.readFileSync(path.join(worktree, '.git'), 'utf8'), /^gitdir: .*worktrees/);
      for (const w of ['outside-refused', 'repo-refused', 'dotgit-refused', 'git-add-refused']) assert.match(r.stdout, new RegExp(w));
      assert.match(r.stdout, /\?\? inside\.txt/, 'git still reads inside the sandbox');
      assert.match(r.stderr, /Read-only file system/);
    } finally {
      release();
    }
  });

  test("provider keys (ORCH_KEY_*) in OpenCode's environment do not reach the agent's commands", () => {
    const release = sandbox.allow(worktree);
    try {
      const r = spawnSync(sandbox.shellPath, ['-c', 'echo "[$ORCH_KEY_LOCAL][$KEEP_ME]"; env | grep -c ^ORCH_KEY_ || true'], {
        cwd: worktree,
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, ORCH_KEY_LOCAL: 'sk-secret-value', ORCH_KEY_OTHER: 'x', KEEP_ME: 'kept' },
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, '[][kept]\n0\n');
    } finally {
      release();
    }
  });

  test('once the turn released the folder, commands there can write nowhere', () => {
    const release = sandbox.allow(worktree);
    const release2 = sandbox.allow(worktree);
    release();
    assert.equal(sh(worktree, 'echo a > still-open.txt').status, 0, 'a second registration keeps it open');
    release2();
    assert.deepEqual(sandbox.roots(), []);
    const r = sh(worktree, 'echo b > after-release.txt');
    assert.notEqual(r.status, 0);
    assert.ok(!fs.existsSync(path.join(worktree, 'after-release.txt')));
    assert.match(r.stderr, /can write nowhere/);
  });
});

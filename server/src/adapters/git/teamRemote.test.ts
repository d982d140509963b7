/**
 * The team server's git side of workers (`teamRemote.ts`) on real repositories: network calls to the remote
 * never run in the tenant's repository (its config is the tenant's), a dependent's start commit is the same on
 * every run, and a merged result comes back into the tenant's repository.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { TeamRemoteGit } from './teamRemote';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@x', '-c', 'init.defaultBranch=main', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();

async function setup() {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'orch-teamremote-'));
  const remote = path.join(root, 'remote.git');
  const tenant = path.join(root, 'tenant');
  await fs.mkdir(tenant);
  git(root, 'init', '--quiet', '--bare', remote);
  git(tenant, 'init', '--quiet');
  await fs.writeFile(path.join(tenant, 'README.md'), 'hello\n');
  git(tenant, 'add', '-A');
  git(tenant, 'commit', '--quiet', '-m', 'base');
  const base = git(tenant, 'rev-parse', 'HEAD');
  return { root, remote, tenant, base, data: path.join(root, 'data') };
}

/** A worker's push: `files` committed on `base` as `branch` of the remote, from a clone of its own. */
async function workerCommit(root: string, remote: string, base: string, branch: string, files: Record<string, string>) {
  const clone = path.join(root, `clone-${branch.replace(/\W/g, '_')}`);
  git(root, 'clone', '--quiet', remote, clone);
  git(clone, 'checkout', '--quiet', '-B', 'w', base);
  for (const [f, text] of Object.entries(files)) await fs.writeFile(path.join(clone, f), text);
  git(clone, 'add', '-A');
  git(clone, 'commit', '--quiet', '-m', branch);
  git(clone, 'push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`);
  return git(clone, 'rev-parse', 'HEAD');
}

test("the base push reaches the real remote and never runs what the tenant repository's config names", async () => {
  const s = await setup();
  const marker = path.join(s.root, 'planted-ran');
  const planted = path.join(s.root, 'planted.sh');
  await fs.writeFile(planted, `#!/bin/sh\ntouch '${marker}'\nexit 1\n`, { mode: 0o755 });
  // The tenant's repository redirects the remote to ssh and names its own ssh program.
  git(s.tenant, 'config', `url.ssh://evil.invalid/x.git.insteadOf`, s.remote);
  git(s.tenant, 'config', 'core.sshCommand', planted);
  const t = new TeamRemoteGit(s.remote, s.data);
  await t.pushBase(s.tenant, s.base, 'orchestrator/s1/_base');
  assert.equal(git(s.remote, 'rev-parse', 'refs/heads/orchestrator/s1/_base'), s.base, 'the real remote holds the base');
  assert.equal(existsSync(marker), false, 'the planted ssh command never ran');
  // The other calls to the remote run from the server's repository too.
  const a = await workerCommit(s.root, s.remote, s.base, 'orchestrator/s1/a', { 'a.txt': 'a\n' });
  assert.deepEqual(await t.changedFiles(s.tenant, 'orchestrator/s1/a', s.base, a), ['a.txt']);
  await t.mergeDependencies(s.tenant, s.base, [{ name: 'a', branch: 'orchestrator/s1/a', commit: a }], 'orchestrator/s1/_deps/b');
  assert.equal(existsSync(marker), false, 'the planted ssh command never ran');
});

test("a dependent's start commit is the same on every run (after a restart too), and pushed", async () => {
  const s = await setup();
  const t = new TeamRemoteGit(s.remote, s.data);
  await t.pushBase(s.tenant, s.base, 'orchestrator/s1/_base');
  const a = await workerCommit(s.root, s.remote, s.base, 'orchestrator/s1/a', { 'a.txt': 'a\n' });
  const b = await workerCommit(s.root, s.remote, s.base, 'orchestrator/s1/b', { 'b.txt': 'b\n' });
  const deps = [
    { name: 'a', branch: 'orchestrator/s1/a', commit: a },
    { name: 'b', branch: 'orchestrator/s1/b', commit: b },
  ];
  const first = await t.mergeDependencies(s.tenant, s.base, deps, 'orchestrator/s1/_deps/c');
  // Wait until the clock's second moves on (a commit made now would carry another date).
  const at = Math.floor(Date.now() / 1000);
  while (Math.floor(Date.now() / 1000) === at) await new Promise((r) => setTimeout(r, 50));
  // A restarted server: a new object over a fresh data folder.
  const again = await new TeamRemoteGit(s.remote, path.join(s.root, 'data2')).mergeDependencies(
    s.tenant,
    s.base,
    deps,
    'orchestrator/s1/_deps/c',
  );
  assert.equal(again, first, 'the same commit');
  assert.equal(git(s.remote, 'rev-parse', 'refs/heads/orchestrator/s1/_deps/c'), first);
  assert.equal(git(s.remote, 'ls-tree', '--name-only', first), 'README.md\na.txt\nb.txt');
});

test('a merged result comes back into the tenant repository as its integration branch, without a transport there', async () => {
  const s = await setup();
  const t = new TeamRemoteGit(s.remote, s.data);
  await t.pushBase(s.tenant, s.base, 'orchestrator/s1/_base');
  const m = await workerCommit(s.root, s.remote, s.base, 'orchestrator/s1/integration', { 'x.txt': 'x\n' });
  // The tenant's config redirects the server's repository to ssh and names its own ssh program: no transport
  // runs in the tenant's repository, so neither applies.
  const marker = path.join(s.root, 'planted-ran');
  const planted = path.join(s.root, 'planted.sh');
  await fs.writeFile(planted, `#!/bin/sh\ntouch '${marker}'\nexit 1\n`, { mode: 0o755 });
  git(s.tenant, 'config', `url.ssh://evil.invalid/x.git.insteadOf`, path.join(s.data, 'workers'));
  git(s.tenant, 'config', 'core.sshCommand', planted);
  await t.fetchInto(s.tenant, 'orchestrator/s1/integration', s.base, m);
  assert.equal(existsSync(marker), false, 'the planted ssh command never ran');
  assert.equal(git(s.tenant, 'rev-parse', 'refs/heads/orchestrator/s1/integration'), m);
  assert.equal(git(s.tenant, 'show', `${m}:x.txt`), 'x');
});

test('a result commit read from the ledger that is not a commit id never reaches git (an option would write a file)', async () => {
  const s = await setup();
  const t = new TeamRemoteGit(s.remote, s.data);
  await t.pushBase(s.tenant, s.base, 'orchestrator/s3/_base');
  const good = await workerCommit(s.root, s.remote, s.base, 'orchestrator/s3/a', { 'a.txt': 'a\n' });
  assert.deepEqual(await t.changedFiles(s.tenant, 'orchestrator/s3/a', s.base, good), ['a.txt']);
  const written = path.join(s.root, 'written-by-git');
  for (const bad of [`--output=${written}`, '-d', 'main', `${good}\n^HEAD`, good.toUpperCase()]) {
    await assert.rejects(t.changedFiles(s.tenant, 'orchestrator/s3/a', s.base, bad), /is not a commit id/, bad);
    await assert.rejects(t.fetchInto(s.tenant, 'orchestrator/s3/integration', s.base, bad), /is not a commit id/, bad);
    await assert.rejects(
      t.mergeDependencies(s.tenant, s.base, [{ name: 'a', branch: 'orchestrator/s3/a', commit: bad }], 'orchestrator/s3/_deps/b'),
      /is not a commit id/,
      bad,
    );
  }
  assert.equal(existsSync(written), false, 'git wrote no file');
  assert.throws(() => git(s.tenant, 'rev-parse', '--verify', '-q', 'refs/heads/orchestrator/s3/integration'), 'no branch was moved');
});

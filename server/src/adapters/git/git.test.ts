import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DomainError } from '../../domain/errors';
import { GitError, GitWorkspace } from './git';
import { RemoteClone } from './remoteClone';

const git = new GitWorkspace(20_000);
const g = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, encoding: 'utf8' });

function repo(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'orch-git-'));
  g(d, 'init', '-q', '-b', 'main');
  writeFileSync(path.join(d, 'a.txt'), 'one\ntwo\nthree\n');
  g(d, 'add', '-A');
  g(d, 'commit', '-q', '-m', 'init');
  return d;
}

test("commitChanges: commits everything and lists the files from the base, the agent's own commits included", async () => {
  const r = repo();
  const base = (await git.headCommit(r))!;
  writeFileSync(path.join(r, 'own.txt'), 'committed by the agent\n');
  g(r, 'add', 'own.txt');
  g(r, 'commit', '-q', '-m', 'own');
  writeFileSync(path.join(r, 'a.txt'), 'changed\n');
  writeFileSync(path.join(r, 'new.txt'), 'untracked\n');
  assert.deepEqual(await git.commitChanges(r, 'task', base), [
    { path: 'a.txt', status: 'modified' },
    { path: 'new.txt', status: 'added' },
    { path: 'own.txt', status: 'added' },
  ]);
  assert.equal(g(r, 'status', '--porcelain'), '', 'everything committed');
  assert.equal(g(r, 'log', '-1', '--format=%s').trim(), 'task');
  // Nothing to commit: still the files from the base; no base: none.
  assert.equal((await git.commitChanges(r, 'nothing', base)).length, 3);
  assert.equal(g(r, 'log', '-1', '--format=%s').trim(), 'task');
  assert.deepEqual(await git.commitChanges(r, 'none', null), []);
});

test('assertRepo names what is wrong with cwd', async () => {
  await assert.rejects(git.assertRepo('relative/path'), (e: unknown) => DomainError.is(e, 'bad_input') && /absolute/.test(e.message));
  await assert.rejects(
    git.assertRepo('/nonexistent/xyz'),
    (e: unknown) => DomainError.is(e, 'bad_input') && /does not exist/.test(e.message),
  );
  const plain = mkdtempSync(path.join(os.tmpdir(), 'orch-plain-'));
  await assert.rejects(
    git.assertRepo(plain),
    (e: unknown) => DomainError.is(e, 'bad_input') && /not inside a git repository/.test(e.message),
  );
  const r = repo();
  assert.equal((await git.assertRepo(r)).head?.length, 40);
});

test('worktrees: commit on a task branch, merge into the integration branch, diff and cleanup', async () => {
  const r = repo();
  const base = (await git.headCommit(r))!;
  await git.createBranch(r, 'orchestrator/s1/integration', base);
  const wt = path.join(mkdtempSync(path.join(os.tmpdir(), 'orch-wt-')), 't1');
  await git.addWorktree(r, wt, 'orchestrator/s1/t1', 'orchestrator/s1/integration');
  await git.addWorktree(r, wt, 'orchestrator/s1/t1', 'orchestrator/s1/integration'); // idempotent
  writeFileSync(path.join(wt, 'b.txt'), 'new\n');
  const sha = await git.commitAll(wt, 'task t1');
  assert.equal(sha?.length, 40);
  assert.equal(await git.commitAll(wt, 'nothing'), null);
  assert.deepEqual(await git.changedFiles(wt, base), [{ path: 'b.txt', status: 'added' }]);
  const integ = path.join(path.dirname(wt), 'integ');
  await git.addWorktree(r, integ, 'orchestrator/s1/integration', base);
  const m = await git.merge(integ, 'orchestrator/s1/t1', 'merge t1');
  assert.ok(m.ok);
  assert.equal(readFileSync(path.join(integ, 'b.txt'), 'utf8'), 'new\n');
  assert.match(await git.diff(integ, base), /\+new/);
  await git.removeWorktree(r, wt);
  assert.ok(!g(r, 'worktree', 'list').includes(wt));
});

test('a real conflict is reported and the merge aborted, nothing overwritten', async () => {
  const r = repo();
  const base = (await git.headCommit(r))!;
  const root = mkdtempSync(path.join(os.tmpdir(), 'orch-wt-'));
  for (const [t, text] of [
    ['x', 'ONE from x\n'],
    ['y', 'ONE from y\n'],
  ]) {
    const wt = path.join(root, t);
    await git.addWorktree(r, wt, `orchestrator/s/${t}`, base);
    writeFileSync(path.join(wt, 'a.txt'), text + 'two\nthree\n');
    await git.commitAll(wt, `task ${t}`);
  }
  const integ = path.join(root, 'integ');
  await git.addWorktree(r, integ, 'orchestrator/s/integration', base);
  assert.ok((await git.merge(integ, 'orchestrator/s/x', 'merge x')).ok);
  const second = await git.merge(integ, 'orchestrator/s/y', 'merge y');
  assert.equal(second.ok, false);
  assert.deepEqual(second.conflicts, ['a.txt']);
  assert.equal(readFileSync(path.join(integ, 'a.txt'), 'utf8'), 'ONE from x\ntwo\nthree\n', 'the first result stays');
  assert.deepEqual(await git.dirtyFiles(integ), [], 'the aborted merge left nothing behind');
});

test("deleteBranches removes only the session's branches, even one still checked out in a removed worktree", async () => {
  const r = repo();
  const base = (await git.headCommit(r))!;
  for (const b of ['orchestrator/s1/integration', 'orchestrator/s1/t1', 'orchestrator/s10/integration', 'orchestrator/other'])
    await git.createBranch(r, b, base);
  const session = mkdtempSync(path.join(os.tmpdir(), 'orch-wt-'));
  const wt = path.join(session, 's1', 't2');
  await git.addWorktree(r, wt, 'orchestrator/s1/t2', base);
  await git.removeWorktree(r, wt);
  assert.throws(() => readFileSync(path.join(session, 's1')), /ENOENT/, "the session's empty folder went with its last worktree");
  assert.deepEqual((await git.deleteBranches(r, 'orchestrator/s1')).sort(), [
    'orchestrator/s1/integration',
    'orchestrator/s1/t1',
    'orchestrator/s1/t2',
  ]);
  assert.deepEqual(
    g(r, 'branch', '--list', 'orchestrator/*')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .sort(),
    ['orchestrator/other', 'orchestrator/s10/integration'],
  );
  assert.deepEqual(await git.deleteBranches(r, 'orchestrator/s1/'), [], 'nothing left to delete');
  await assert.rejects(git.deleteBranches(r, ''), /refusing/);
  assert.equal(await git.resolveRef(r, 'orchestrator/s1/integration'), null);
  assert.equal(await git.resolveRef(r, 'orchestrator/other'), base);
});

test('readBlob reads a file as a commit stores it; changedFiles lists unusual names unquoted', async () => {
  const r = repo();
  const base = (await git.headCommit(r))!;
  const outside = mkdtempSync(path.join(os.tmpdir(), 'orch-outside-'));
  writeFileSync(path.join(outside, 'secret.txt'), 'outside secret\n');
  writeFileSync(path.join(r, 'a.txt'), 'changed\n');
  writeFileSync(path.join(r, 'tést file.txt'), 'accent\n');
  writeFileSync(path.join(r, 'bin.dat'), Buffer.from([1, 0, 2]));
  symlinkSync(outside, path.join(r, 'link'));
  g(r, 'add', '-A');
  g(r, 'commit', '-q', '-m', 'more');
  const head = (await git.headCommit(r))!;
  assert.deepEqual(
    (await git.changedFiles(r, base, head)).map((f) => [f.path, f.status]),
    [
      ['a.txt', 'modified'],
      ['bin.dat', 'added'],
      ['link', 'added'],
      ['tést file.txt', 'added'],
    ],
  );
  const text = async (rev: string, p: string) => {
    const b = await git.readBlob(r, rev, p, 1000);
    return b.kind === 'blob' ? new TextDecoder().decode(b.data) : b.kind;
  };
  assert.equal(await text(base, 'a.txt'), 'one\ntwo\nthree\n');
  assert.equal(await text(head, 'a.txt'), 'changed\n');
  assert.equal(await text(base, 'tést file.txt'), 'absent');
  assert.equal(await text(head, 'tést file.txt'), 'accent\n');
  // A symlink is its target's text; what it points at is never read.
  assert.equal(await text(head, 'link'), outside);
  assert.equal(await text(head, 'link/secret.txt'), 'absent');
  assert.deepEqual(await git.readBlob(r, head, 'a.txt', 3), { kind: 'tooLarge', bytes: 8 });
  g(r, 'rm', '-q', 'link');
  mkdirSync(path.join(r, 'dir'));
  writeFileSync(path.join(r, 'dir', 'x'), 'x');
  g(r, 'add', '-A');
  g(r, 'commit', '-q', '-m', 'dir');
  assert.equal(await text((await git.headCommit(r))!, 'dir'), 'notAFile');
  await assert.rejects(git.readBlob(r, 'HEAD~1', 'a.txt', 10), /commit id/);
});

test('git errors and the remote clone never show the credentials of a remote URL', async () => {
  const e = new GitError(
    ['push', 'https://user:TOKEN123@git.example.com/r.git', 'b'],
    128,
    "fatal: unable to access 'https://user:TOKEN123@git.example.com/r.git/'",
  );
  assert.ok(!e.message.includes('TOKEN123'), e.message);
  assert.match(e.message, /git push https:\/\/\*\*\*@git\.example\.com\/r\.git b failed \(128\)/);
  const data = mkdtempSync(path.join(os.tmpdir(), 'orch-clone-secret-'));
  const clone = new RemoteClone(data, 'https://user:TOKEN123@127.0.0.1:1/r.git');
  await assert.rejects(clone.ensureCommit('0123456789abcdef'), (err: Error) => {
    assert.ok(!String(err).includes('TOKEN123'), String(err));
    return true;
  });
});

test('the remote clone merges a task branch only at its recorded commit, and pushes only over what it expected', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'orch-clone-lease-'));
  const g = (cwd: string, ...a: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { cwd, encoding: 'utf8' }).trim();
  const remote = path.join(root, 'remote.git');
  g(root, 'init', '-q', '--bare', '-b', 'main', remote);
  const seed = path.join(root, 'seed');
  g(root, 'clone', '-q', remote, seed);
  g(seed, 'commit', '-q', '--allow-empty', '-m', 'init');
  g(seed, 'push', '-q', 'origin', 'HEAD:main');
  const base = g(seed, 'rev-parse', 'HEAD');
  const clone = new RemoteClone(path.join(root, 'data'), remote);
  await clone.ensureCommit(base);
  const branch = 'orchestrator/s1/t1';
  const wt = clone.worktreeOf('acme', 's1', 't1');
  await clone.addWorktree(wt, branch, base);
  assert.equal(await clone.remoteHead(branch), undefined);
  writeFileSync(path.join(wt, 'a.txt'), 'a\n');
  const recorded = await clone.commitAll(wt, 't1');
  await clone.push(wt, branch, undefined);
  assert.equal(await clone.remoteHead(branch), recorded);
  // Someone else pushes over the task branch: a push expecting nothing (or the old commit) is refused.
  g(seed, 'push', '-q', '-f', 'origin', `${base}:refs/heads/${branch}`);
  writeFileSync(path.join(wt, 'a.txt'), 'b\n');
  await clone.commitAll(wt, 't1 again');
  await assert.rejects(clone.push(wt, branch, undefined), GitError);
  await assert.rejects(clone.push(wt, branch, recorded), GitError);
  assert.equal(await clone.remoteHead(branch), base);
  // The merge refuses the branch that no longer holds the recorded commit, and merges it once it does.
  const iwt = clone.worktreeOf('acme', 's1', '_integration');
  await clone.addWorktree(iwt, 'orchestrator/s1/integration', base);
  await clone.fetchBranches([branch]);
  assert.equal(await clone.merge(iwt, branch, recorded, 'Merge t1'), 'moved');
  g(seed, 'fetch', '-q', path.join(root, 'data', 'repos', readdirSync(path.join(root, 'data', 'repos'))[0]), recorded);
  g(seed, 'push', '-q', '-f', 'origin', `${recorded}:refs/heads/${branch}`);
  await clone.fetchBranches([branch]);
  assert.equal(await clone.merge(iwt, branch, recorded, 'Merge t1'), 'merged');
  assert.equal(readFileSync(path.join(iwt, 'a.txt'), 'utf8'), 'a\n');
});

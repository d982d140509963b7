// `addWorktree` says whether it made a new branch at `base` (the runner then skips the reset) or reused a worktree
// or a branch (the runner resets: a retry never inherits an earlier attempt's edits). Real git.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { GitWorkspace } from './git';

test("addWorktree: 'created' only for a new branch at base; 'reused' for an existing folder or branch", async () => {
  const repo = mkdtempSync(path.join(os.tmpdir(), 'orch-addwt-'));
  const git = (...a: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { cwd: repo, encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  writeFileSync(path.join(repo, 'a.txt'), 'a\n');
  git('add', '-A');
  git('commit', '-qm', 'init');
  const ws = new GitWorkspace();
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'orch-addwt-wt-')), 't1');
  assert.equal(await ws.addWorktree(repo, dir, 'orchestrator/s/t1', 'main'), 'created');
  assert.equal(git('-C', dir, 'rev-parse', 'HEAD'), git('rev-parse', 'main'), 'at base');
  assert.equal(await ws.addWorktree(repo, dir, 'orchestrator/s/t1', 'main'), 'reused', 'the folder is there');
  await ws.removeWorktree(repo, dir);
  rmSync(dir, { recursive: true, force: true });
  assert.equal(await ws.addWorktree(repo, dir, 'orchestrator/s/t1', 'main'), 'reused', 'the branch is there (an earlier attempt)');
});

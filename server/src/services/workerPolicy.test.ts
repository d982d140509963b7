import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { RealPathResolver } from '../adapters/fs/realPathResolver';
import { policyAnswer, type PermissionRequest } from '../ports/agentRuntime';
import { workerPolicy } from './workerService';

test("a worker's policy judges a symlink in the worktree by where it points", async (t) => {
  const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'orch-worker-policy-')));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  const home = path.join(root, 'home', 'worker');
  const worktree = path.join(root, 'data', 'worktrees', 's1', 't1');
  await fs.mkdir(path.join(home, '.ssh'), { recursive: true });
  await fs.writeFile(path.join(home, '.ssh', 'id_rsa'), 'secret');
  await fs.mkdir(path.join(worktree, 'src'), { recursive: true });
  await fs.writeFile(path.join(worktree, 'src', 'a.ts'), 'x');
  await fs.symlink(home, path.join(worktree, 'docs'));
  const policy = workerPolicy(worktree, new RealPathResolver(home));
  const ask = async (permission: string, patterns: string[]) =>
    policyAnswer(await policy({ runId: 'r', permission, patterns, cwd: worktree } satisfies PermissionRequest)).decision;

  assert.equal(await ask('read', [path.join(worktree, 'src', 'a.ts')]), 'allow');
  assert.equal(await ask('bash', ['cat src/a.ts']), 'allow');
  assert.equal(await ask('bash', ['cat docs/.ssh/id_rsa']), 'deny');
  assert.equal(await ask('bash', ['cat docs/*/id_rsa']), 'deny');
  assert.equal(await ask('read', [path.join(worktree, 'docs', '.ssh', 'id_rsa')]), 'deny');
  assert.equal(await ask('edit', [path.join(worktree, 'docs', 'notes.md')]), 'deny');
});

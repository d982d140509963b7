import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { TurnSnapshots } from './worktreeDiff';

function repo(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'acp-snap-'));
  const git = (...a: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { cwd: d, stdio: 'ignore' });
  git('init', '-q');
  fs.writeFileSync(path.join(d, 'keep.txt'), 'keep\n');
  fs.writeFileSync(path.join(d, 'edit.txt'), 'old\n');
  fs.writeFileSync(path.join(d, 'gone.txt'), 'bye\n');
  fs.writeFileSync(path.join(d, '.gitignore'), 'ignored/\n');
  git('add', '-A');
  git('commit', '-qm', 'init');
  return d;
}

const summary = (cs: { path: string; status: string; additions: number; deletions: number }[]) =>
  cs.map((c) => `${c.status} ${c.path} +${c.additions} -${c.deletions}`).sort();

test('a turn’s changes: modified, added (untracked), deleted; ignored files and what was there before are not changes', async () => {
  const d = repo();
  // Uncommitted work from before the turn belongs to the before-snapshot, not to the turn.
  fs.writeFileSync(path.join(d, 'keep.txt'), 'keep, edited before the turn\n');
  fs.writeFileSync(path.join(d, 'before.txt'), 'untracked before the turn\n');
  const s = await TurnSnapshots.begin(d);
  try {
    // Written at once, while the before-tree may still be being written in the background.
    fs.writeFileSync(path.join(d, 'edit.txt'), 'new\nlines\n');
    fs.writeFileSync(path.join(d, 'added.txt'), 'added\n');
    fs.rmSync(path.join(d, 'gone.txt'));
    fs.mkdirSync(path.join(d, 'ignored'));
    fs.writeFileSync(path.join(d, 'ignored', 'x.txt'), 'x\n');
    const changes = await s.changes();
    assert.deepEqual(summary(changes), ['added added.txt +1 -0', 'deleted gone.txt +0 -1', 'modified edit.txt +2 -1']);
    const edit = changes.find((c) => c.path === 'edit.txt');
    assert.match(edit?.patch ?? '', /^-old$/m);
    assert.match(edit?.patch ?? '', /^\+lines$/m);
  } finally {
    s.dispose();
  }
});

test('a turn that changes nothing has no changes; a file changed within the same second as the snapshot is seen', async () => {
  const d = repo();
  const s = await TurnSnapshots.begin(d);
  assert.deepEqual(await s.changes(), []);
  s.dispose();
  // Same size, same second: git's racy-entry rule must still see the new content.
  const t = await TurnSnapshots.begin(d);
  fs.writeFileSync(path.join(d, 'edit.txt'), 'odl\n');
  assert.deepEqual(summary(await t.changes()), ['modified edit.txt +1 -1']);
  t.dispose();
});

test('a folder that is not a git worktree has no changes', async () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'acp-snap-plain-'));
  const s = await TurnSnapshots.begin(d);
  fs.writeFileSync(path.join(d, 'a.txt'), 'a\n');
  assert.deepEqual(await s.changes(), []);
  s.dispose();
});

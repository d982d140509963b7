/**
 * A repository an agent could have written to names programs of its own in `.gitattributes` + the
 * repository config: an external diff driver (`diff.<driver>.command`) and a text conversion
 * (`diff.<driver>.textconv`). The server's diffs must never run them. Real git, the real server with the
 * real OpenCode binary and the scripted model (`session/diff`), and the ACP worktree diff on a real repo.
 * Likewise a filter driver (`filter.<name>.clean`) of the repository config: `git add` would run it when the
 * server snapshots or commits the agent's worktree.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sessionDiff, sessionStart } from '../../protocol/session';
import { diffTrees, snapshotTree, TurnSnapshots } from '../../server/src/adapters/acp/worktreeDiff';
import { GitWorkspace } from '../../server/src/adapters/git/git';
import { startServer, tempDir, type ServerHandle } from './serverProcess';
import { ended, sampleRepo, waitSession } from './sessionHelpers';

/** Plants the drivers in `repo`: each writes its own marker file into the returned folder when run. */
function plantDrivers(repo: string): string {
  const markers = mkdtempSync(path.join(os.tmpdir(), 'orch-markers-'));
  const git = (...a: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { cwd: repo, stdio: 'ignore' });
  writeFileSync(path.join(repo, '.gitattributes'), '* diff=evil\n');
  writeFileSync(path.join(repo, 'notes.txt'), 'old line\n');
  git('add', '-A');
  git('commit', '-qm', 'attributes');
  git('config', 'diff.evil.command', `touch ${markers}/external-driver-ran; true`);
  git('config', 'diff.evil.textconv', `touch ${markers}/textconv-ran; cat`);
  return markers;
}

const ran = (markers: string) => readdirSync(markers);

describe('diffs never run diff drivers or text conversions planted in the repository', () => {
  let server: ServerHandle;
  before(async () => {
    server = await startServer(tempDir());
  });
  after(async () => {
    await server?.stop();
  });

  test('session/diff of a session whose repository names a diff driver', async () => {
    const cwd = sampleRepo();
    const markers = plantDrivers(cwd);
    // Plain git in this repository does run them: the test would notice if they stopped being planted.
    const probe = execFileSync('git', ['diff', 'HEAD~1', 'HEAD'], { cwd, encoding: 'utf8' });
    assert.ok(existsSync(path.join(markers, 'external-driver-ran')), `the planted driver works: ${probe}`);
    execFileSync('rm', ['-f', path.join(markers, 'external-driver-ran')]);

    const s = await server.request(sessionStart, {
      goal: '- [mod] Modify {files: notes.txt}: [[script:write_file notes.txt]] new line',
      cwd,
      approve: true,
    });
    const done = await waitSession(server, s.id, ended);
    assert.equal(done.state, 'completed', JSON.stringify(done.tasks.map((t) => [t.planId, t.state, t.lastError])));
    const diff = await server.request(sessionDiff, { sessionId: s.id });
    assert.deepEqual(
      diff.files.map((f) => f.path),
      ['notes.txt'],
    );
    assert.match(diff.patch, /^-old line$/m, 'the patch is git’s own, not a driver’s output');
    assert.match(diff.patch, /^\+new line$/m);
    assert.deepEqual(ran(markers), [], 'no planted program ran in the server’s process context');
  });

  test('the ACP worktree diff (snapshot trees of the worktree)', async () => {
    const cwd = sampleRepo();
    const markers = plantDrivers(cwd);
    const before = await snapshotTree(cwd);
    writeFileSync(path.join(cwd, 'notes.txt'), 'changed by the agent\n');
    const after = await snapshotTree(cwd);
    assert.ok(before && after && before !== after);
    const changes = await diffTrees(cwd, before, after);
    assert.deepEqual(
      changes.map((c) => [c.path, c.status]),
      [['notes.txt', 'modified']],
    );
    assert.match(changes[0].patch ?? '', /^\+changed by the agent$/m);
    assert.deepEqual(ran(markers), [], 'no planted program ran');
  });

  test('the ACP turn diff (worktree in a private index, against the before-tree)', async () => {
    const cwd = sampleRepo();
    const markers = plantDrivers(cwd);
    const snaps = await TurnSnapshots.begin(cwd);
    writeFileSync(path.join(cwd, 'notes.txt'), 'changed by the agent\n');
    const changes = await snaps.changes();
    snaps.dispose();
    assert.deepEqual(
      changes.map((c) => [c.path, c.status]),
      [['notes.txt', 'modified']],
    );
    assert.match(changes[0].patch ?? '', /^\+changed by the agent$/m);
    assert.deepEqual(ran(markers), [], 'no planted program ran');
  });
});

/** Plants a clean filter for every file in `repo`'s own config; it writes a marker when run. */
function plantFilter(repo: string): string {
  const markers = mkdtempSync(path.join(os.tmpdir(), 'orch-markers-'));
  const git = (...a: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { cwd: repo, stdio: 'ignore' });
  writeFileSync(path.join(repo, '.gitattributes'), '*.txt filter=evil\n');
  git('add', '-A');
  git('commit', '-qm', 'attributes');
  git('config', 'filter.evil.clean', `touch ${markers}/clean-filter-ran; cat`);
  return markers;
}

describe('snapshots and commits of an agent worktree never run filter drivers of the repository config', () => {
  test('the planted filter works with plain git (the test would notice otherwise)', () => {
    const cwd = sampleRepo();
    const markers = plantFilter(cwd);
    writeFileSync(path.join(cwd, 'a.txt'), 'x\n');
    execFileSync('git', ['add', 'a.txt'], { cwd });
    assert.deepEqual(ran(markers), ['clean-filter-ran']);
  });

  test('the ACP snapshot (git add into a private index)', async () => {
    const cwd = sampleRepo();
    const markers = plantFilter(cwd);
    writeFileSync(path.join(cwd, 'a.txt'), 'written by the agent\n');
    assert.ok(await snapshotTree(cwd));
    assert.deepEqual(ran(markers), []);
  });

  test('the ACP turn snapshots (before, a file written in the same second, after and the diff)', async () => {
    const cwd = sampleRepo();
    const markers = plantFilter(cwd);
    writeFileSync(path.join(cwd, 'a.txt'), 'there before the turn\n');
    const snaps = await TurnSnapshots.begin(cwd);
    writeFileSync(path.join(cwd, 'a.txt'), 'written by the agent\n');
    writeFileSync(path.join(cwd, 'b.txt'), 'also by the agent\n');
    const changes = await snaps.changes();
    snaps.dispose();
    assert.deepEqual(
      changes.map((c) => [c.path, c.status]),
      [
        ['a.txt', 'modified'],
        ['b.txt', 'added'],
      ],
    );
    assert.deepEqual(ran(markers), []);
  });

  test('the task commit (GitWorkspace.commitAll) stores the file as written', async () => {
    const cwd = sampleRepo();
    const markers = plantFilter(cwd);
    writeFileSync(path.join(cwd, 'a.txt'), 'written by the agent\n');
    const git = new GitWorkspace();
    assert.ok(await git.commitAll(cwd, 'task'));
    assert.deepEqual(ran(markers), []);
    assert.equal(execFileSync('git', ['show', 'HEAD:a.txt'], { cwd, encoding: 'utf8' }), 'written by the agent\n');
  });
});

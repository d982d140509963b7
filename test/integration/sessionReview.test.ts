/**
 * Reviewing a session file by file (`session/diff` with and without `taskId`, `session/fileContent`)
 * through the real server, the real OpenCode binary with the scripted model, and real git: both sides of
 * a modified and an added file, per task and per session, and paths that try to read anything else.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import { errorCodes } from '../../protocol/errors';
import { sessionDiff, sessionFileContent, sessionStart, type SessionView } from '../../protocol/session';
import { startServer, tempDir, type ServerHandle } from './serverProcess';
import { ended, sampleRepo, task, waitSession } from './sessionHelpers';

let server: ServerHandle;
before(async () => {
  server = await startServer(tempDir());
});
after(async () => {
  await server?.stop();
});

async function refusedPath(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof ResponseError, `the request is refused (got ${JSON.stringify(err)})`);
  assert.equal(err.code, errorCodes.invalidParams, err.message);
  assert.match(err.message, /path/);
  assert.match(err.message, pattern);
}

describe('session review: file contents on both sides of a session and of a task', () => {
  let cwd: string;
  let outside: string;
  let done: SessionView;

  before(async () => {
    cwd = sampleRepo();
    // The repository holds notes.txt and a symlink to a folder outside it, before the session starts.
    outside = mkdtempSync(path.join(os.tmpdir(), 'orch-outside-'));
    writeFileSync(path.join(outside, 'secret.txt'), 'outside secret\n');
    writeFileSync(path.join(cwd, 'notes.txt'), 'old line\n');
    symlinkSync(outside, path.join(cwd, 'out'));
    const git = (...a: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { cwd, stdio: 'ignore' });
    git('add', '-A');
    git('commit', '-qm', 'notes and a link');
    const goal = [
      '- [mod] Modify {files: notes.txt}: [[script:write_file notes.txt]] new line',
      '- [add] Add {files: added.txt}: [[script:write_file added.txt]] fresh file',
      '- [later] Later (after: mod) {files: notes.txt}: [[script:write_file notes.txt]] final line',
    ].join('\n');
    const s = await server.request(sessionStart, { goal, cwd, approve: true });
    done = await waitSession(server, s.id, ended);
    assert.equal(done.state, 'completed', JSON.stringify(done.tasks.map((t) => [t.planId, t.state, t.lastError])));
  });

  const content = (p: { taskId?: string; path: string; side: 'base' | 'result' }) =>
    server.request(sessionFileContent, { sessionId: done.id, ...p }).then((r) => r.content);

  test('per session: the base commit against the integration branch', async () => {
    const diff = await server.request(sessionDiff, { sessionId: done.id });
    assert.deepEqual(
      diff.files.map((f) => [f.path, f.status]),
      [
        ['added.txt', 'added'],
        ['notes.txt', 'modified'],
      ],
    );
    assert.equal(await content({ path: 'notes.txt', side: 'base' }), 'old line\n');
    assert.equal(await content({ path: 'notes.txt', side: 'result' }), 'final line\n');
    assert.equal(await content({ path: 'added.txt', side: 'base' }), null, 'an added file is absent on the base side');
    assert.equal(await content({ path: 'added.txt', side: 'result' }), 'fresh file\n');
  });

  test("per task: the commit the task started from (its dependencies' results) against its branch", async () => {
    const [mod, add, later] = ['mod', 'add', 'later'].map((id) => task(done, id).id);
    const files = async (taskId: string) => (await server.request(sessionDiff, { sessionId: done.id, taskId })).files.map((f) => f.path);
    assert.deepEqual(await files(mod), ['notes.txt']);
    assert.deepEqual(await files(add), ['added.txt']);
    assert.deepEqual(await files(later), ['notes.txt']);
    assert.equal(await content({ taskId: mod, path: 'notes.txt', side: 'base' }), 'old line\n');
    assert.equal(await content({ taskId: mod, path: 'notes.txt', side: 'result' }), 'new line\n');
    // `later` ran after `mod` merged: its base already holds mod's line.
    assert.equal(await content({ taskId: later, path: 'notes.txt', side: 'base' }), 'new line\n');
    assert.equal(await content({ taskId: later, path: 'notes.txt', side: 'result' }), 'final line\n');
    assert.equal(await content({ taskId: add, path: 'added.txt', side: 'base' }), null);
    assert.equal(await content({ taskId: add, path: 'added.txt', side: 'result' }), 'fresh file\n');
    // A file of the session that this task did not change is not part of its review.
    await refusedPath(
      content({ taskId: add, path: 'notes.txt', side: 'result' }),
      /"notes\.txt" is not one of the files task .* changed \(added\.txt\)/,
    );
    const unknown = await server.request(sessionDiff, { sessionId: done.id, taskId: `${done.id}:nope` }).then(
      () => undefined,
      (e: unknown) => e as ResponseError,
    );
    assert.equal(unknown?.code, errorCodes.notFound);
    assert.match(unknown!.message, /^taskId: /);
  });

  test('paths outside the diff are refused with the path named, and nothing is read', async () => {
    await refusedPath(content({ path: '../notes.txt', side: 'base' }), /"\.\.\/notes\.txt" climbs out of the repository/);
    await refusedPath(content({ path: 'x/../../etc/passwd', side: 'base' }), /climbs out/);
    await refusedPath(content({ path: '/etc/passwd', side: 'result' }), /"\/etc\/passwd" is an absolute path/);
    await refusedPath(content({ path: path.join(outside, 'secret.txt'), side: 'result' }), /absolute path/);
    await refusedPath(content({ path: './notes.txt', side: 'base' }), /not written as session\/diff lists it/);
    // Through the symlink committed in the repository: not a file of the diff, so never read.
    await refusedPath(content({ path: 'out/secret.txt', side: 'result' }), /"out\/secret\.txt" is not one of the files session .* changed/);
    // A file of the repository that the session did not change.
    await refusedPath(
      content({ path: 'README.md', side: 'base' }),
      /"README\.md" is not one of the files session .* changed \(added\.txt, notes\.txt\)/,
    );
    const strict = await server.request(sessionFileContent, { sessionId: done.id, path: 'notes.txt', side: 'left' as 'base' }).then(
      () => undefined,
      (e: unknown) => e as ResponseError,
    );
    assert.equal(strict?.code, errorCodes.invalidParams);
    assert.match(strict!.message, /side/);
  });
});

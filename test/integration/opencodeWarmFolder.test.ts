/**
 * `OpencodeAdapter.warmFolder` (issue 13) against the real `opencode` binary and the scripted model: it opens
 * OpenCode's per-folder state (the folder's snapshot repository among it) without a model request, without
 * changing a file and without leaving a session behind; a turn there afterwards works and reports its diff.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { TestOpencodeAdapter as OpencodeAdapter } from './opencodeTestAdapter';
import { startScriptedModel, type ScriptedModel } from '../../server/src/adapters/scriptedModel/scriptedModel';

let tmp: string;
let model: ScriptedModel;
let adapter: OpencodeAdapter;

function makeRepo(name: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'README.md'), '# r\n');
  const git = (...a: string[]) => execFileSync('git', a, { cwd: dir, stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.email=t@example.invalid', '-c', 'user.name=test', 'commit', '-qm', 'init');
  return dir;
}

/** Every snapshot repository OpenCode keeps (`<data>/snapshot/<project>/<folder hash>`). */
function snapshotRepos(): string[] {
  const root = path.join(tmp, 'data', 'opencode-home', 'data', 'opencode', 'snapshot');
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root).flatMap((p) => fs.readdirSync(path.join(root, p)).map((f) => path.join(p, f)));
}

const status = (cwd: string) => execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd, encoding: 'utf8' });

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-warm-'));
  model = await startScriptedModel();
  adapter = new OpencodeAdapter({
    dataDir: path.join(tmp, 'data'),
    models: { providers: [{ id: 'scripted', baseURL: model.url, models: { scripted: {} } }], defaultModel: 'scripted/scripted' },
    timeouts: { idleMs: 60_000, turnMs: 180_000 },
  });
});

after(async () => {
  await adapter?.dispose();
  await model?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('before OpenCode runs, warming a folder is a no-op that starts nothing', async () => {
  const repo = makeRepo('not-started');
  await adapter.warmFolder(repo);
  assert.equal(adapter.serverPid, undefined, 'the warm-up did not start opencode serve');
});

test('a warm-up opens the folder (its snapshot repository exists), asks no model, changes no file, leaves no session; a turn there then works', async () => {
  await adapter.start();
  const repo = makeRepo('warm');
  fs.writeFileSync(path.join(repo, 'README.md'), '# r\nchanged, not committed\n');
  fs.writeFileSync(path.join(repo, 'untracked.txt'), 'mine\n');
  const statusBefore = status(repo);
  const reposBefore = snapshotRepos();
  const requestsBefore = model.requests.length;

  await adapter.warmFolder(repo);

  assert.equal(model.requests.length, requestsBefore, 'no request reached the model');
  assert.equal(status(repo), statusBefore, 'the folder is as it was');
  assert.equal(fs.readFileSync(path.join(repo, 'README.md'), 'utf8'), '# r\nchanged, not committed\n');
  assert.equal(fs.readFileSync(path.join(repo, 'untracked.txt'), 'utf8'), 'mine\n');
  const made = snapshotRepos().filter((r) => !reposBefore.includes(r));
  assert.equal(made.length, 1, `the folder's snapshot repository was made by the warm-up (new: ${made.join(', ')})`);
  assert.deepEqual(await adapter.sessionTitles(repo), [], 'the warm-up session is gone');

  const events: string[] = [];
  const r = await adapter.prompt({ runId: 'after-warm', cwd: repo, prompt: '[[script:write_file hello.txt]] Hello' }, (e) =>
    events.push(e.kind),
  );
  assert.equal(r.status, 'succeeded', JSON.stringify(r.error));
  assert.ok(fs.existsSync(path.join(repo, 'hello.txt')));
  assert.ok(
    r.diff.some((f) => f.path === 'hello.txt'),
    `the turn's diff names the written file: ${JSON.stringify(r.diff.map((f) => f.path))}`,
  );
  assert.ok(!r.diff.some((f) => f.path === 'untracked.txt' || f.path === 'README.md'), 'what was there before is not in the diff');
  assert.deepEqual(
    snapshotRepos().filter((x) => !reposBefore.includes(x)),
    made,
    'the turn used the snapshot repository the warm-up made',
  );
});

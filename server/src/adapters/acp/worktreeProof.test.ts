import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { forgetProofs, TurnSnapshots } from './worktreeDiff';
import { proofHolds, recordProof } from './worktreeProof';

function repo(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'acp-proof-'));
  const git = (...a: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { cwd: d, stdio: 'ignore' });
  git('init', '-q');
  fs.mkdirSync(path.join(d, 'src'));
  fs.writeFileSync(path.join(d, 'src', 'a.txt'), 'alpha\n');
  fs.writeFileSync(path.join(d, 'edit.txt'), 'old\n');
  fs.writeFileSync(path.join(d, 'target.txt'), 'target\n');
  fs.symlinkSync('target.txt', path.join(d, 'link'));
  git('add', '-A');
  git('commit', '-qm', 'init');
  return d;
}

const summary = (cs: { path: string; status: string }[]) => cs.map((c) => `${c.status} ${c.path}`).sort();

/** One turn: begin, the agent's work, the changes. */
async function turn(d: string, work: () => void = () => undefined) {
  const s = await TurnSnapshots.begin(d);
  try {
    work();
    return { proven: s.proven, changes: summary(await s.changes()) };
  } finally {
    s.dispose();
  }
}

/** Something else writes in the worktree, without telling us: a separate process. */
const sh = (d: string, script: string) => execFileSync('sh', ['-c', script], { cwd: d, stdio: 'ignore' });

test('an unchanged worktree: the next turn’s before-snapshot is proven without git, and the diff is the turn’s own', async () => {
  forgetProofs();
  const d = repo();
  assert.equal((await turn(d)).proven, false, 'the first turn has no proof yet');
  const second = await turn(d, () => fs.writeFileSync(path.join(d, 'src', 'a.txt'), 'alpha\nbeta\n'));
  assert.equal(second.proven, true, 'nothing changed since the last snapshot: proven');
  assert.deepEqual(second.changes, ['modified src/a.txt']);
  // The turn just wrote src/a.txt (a recent stat): the proof hashes it and still holds.
  const third = await turn(d, () => fs.writeFileSync(path.join(d, 'new.txt'), 'n\n'));
  assert.equal(third.proven, true);
  assert.deepEqual(third.changes, ['added new.txt']);
  // A turn that changes nothing: no changes (its before-proof still holds), and the next turn is proven too.
  assert.deepEqual((await turn(d)).changes, []);
  assert.equal((await turn(d)).proven, true);
});

test('attack: a file rewritten by a subprocess between turns (same size, same second) is not the next turn’s change', async () => {
  forgetProofs();
  const d = repo();
  await turn(d);
  sh(d, 'printf "odl\\n" > edit.txt');
  // The agent puts the original back: that is the turn's change.
  const t = await turn(d, () => fs.writeFileSync(path.join(d, 'edit.txt'), 'old\n'));
  assert.equal(t.proven, false);
  assert.deepEqual(t.changes, ['modified edit.txt']);
});

test('attack: a new untracked file in a new folder, made by a subprocess between turns, then deleted by the agent', async () => {
  forgetProofs();
  const d = repo();
  await turn(d);
  sh(d, 'mkdir -p deep/er && printf "x\\n" > deep/er/new.txt');
  const t = await turn(d, () => fs.rmSync(path.join(d, 'deep'), { recursive: true }));
  assert.equal(t.proven, false);
  assert.deepEqual(t.changes, ['deleted deep/er/new.txt']);
});

test('attack: a file changed between turns with its old mtime put back, then restored by the agent', async () => {
  forgetProofs();
  const d = repo();
  const f = path.join(d, 'src', 'a.txt');
  const old = new Date(Date.now() - 3_600_000);
  fs.utimesSync(f, old, old);
  await turn(d);
  sh(d, `printf "ALPHA\\n" > src/a.txt && touch -d @${Math.floor(old.getTime() / 1000)} src/a.txt`);
  const t = await turn(d, () => fs.writeFileSync(f, 'alpha\n'));
  assert.equal(t.proven, false);
  assert.deepEqual(t.changes, ['modified src/a.txt']);
});

test('attack: a symlink retargeted (same length) and a file swapped for a symlink between turns', async () => {
  forgetProofs();
  const d = repo();
  await turn(d);
  sh(d, 'ln -sfn edit.txt link');
  let t = await turn(d, () => {
    fs.rmSync(path.join(d, 'link'));
    fs.symlinkSync('target.txt', path.join(d, 'link'));
  });
  assert.equal(t.proven, false);
  assert.deepEqual(t.changes, ['modified link']);
  sh(d, 'rm target.txt && ln -s edit.txt target.txt');
  t = await turn(d, () => {
    fs.rmSync(path.join(d, 'target.txt'));
    fs.writeFileSync(path.join(d, 'target.txt'), 'target\n');
  });
  assert.equal(t.proven, false);
  assert.deepEqual(t.changes, ['modified target.txt']);
});

test('attack: a file made executable between turns, and a file un-ignored through .gitignore', async () => {
  forgetProofs();
  const d = repo();
  fs.writeFileSync(path.join(d, '.gitignore'), 'secret.txt\n');
  fs.writeFileSync(path.join(d, 'secret.txt'), 's\n');
  await turn(d);
  sh(d, 'chmod +x edit.txt && : > .gitignore');
  const t = await turn(d, () => {
    fs.chmodSync(path.join(d, 'edit.txt'), 0o644);
    fs.rmSync(path.join(d, 'secret.txt'));
  });
  assert.equal(t.proven, false);
  assert.deepEqual(t.changes, ['deleted secret.txt', 'modified edit.txt']);
});

test('a deleted tracked file and a nested repository give no proof', async () => {
  forgetProofs();
  const d = repo();
  await turn(d);
  sh(d, 'rm src/a.txt');
  let t = await turn(d, () => fs.writeFileSync(path.join(d, 'src', 'a.txt'), 'alpha\n'));
  assert.equal(t.proven, false);
  assert.deepEqual(t.changes, ['added src/a.txt']);
  sh(d, 'mkdir sub && git init -q sub');
  await turn(d);
  t = await turn(d);
  assert.equal(t.proven, false);
});

test('a write within the same clock tick as git’s stat (its stat repeats): a recent entry is decided by its content', async () => {
  forgetProofs();
  const d = repo();
  const ix = fs.mkdtempSync(path.join(os.tmpdir(), 'acp-proof-ix-'));
  const file = path.join(ix, 'index');
  const addStartMs = Date.now();
  execFileSync('git', ['add', '-A', '.'], { cwd: d, env: { ...process.env, GIT_INDEX_FILE: file } });
  const proof = recordProof(file, addStartMs, [path.join(d, '.git', 'config')]);
  assert.ok(proof);
  assert.equal(proofHolds(d, proof), 'holds');
  // Same size, new content; then the index entry gets the file's new stat, as if git had looked in the same
  // tick as the write (a coarse clock): the stat matches, only the content can tell.
  const f = path.join(d, 'edit.txt');
  fs.writeFileSync(f, 'new\n');
  const st = fs.lstatSync(f, { bigint: true });
  const buf = Buffer.from(proof.index);
  const at = buf.indexOf(Buffer.from('edit.txt\0')) - 62;
  const put = (off: number, ns: bigint) => {
    buf.writeUInt32BE(Number(ns / 1_000_000_000n), at + off);
    buf.writeUInt32BE(Number(ns % 1_000_000_000n), at + off + 4);
  };
  put(0, st.ctimeNs);
  put(8, st.mtimeNs);
  buf.writeUInt32BE(Number(st.ino & 0xffffffffn), at + 20);
  assert.equal(proofHolds(d, { ...proof, index: buf }), 'changed');
});

test('a worktree too big to walk (over 5,000 entries) is never proven: git every turn, the diff still right', async () => {
  forgetProofs();
  const d = repo();
  fs.mkdirSync(path.join(d, 'many'));
  for (let i = 0; i < 5_100; i++) fs.writeFileSync(path.join(d, 'many', `f${i}.txt`), `${i}\n`);
  await turn(d);
  const t = await turn(d, () => fs.writeFileSync(path.join(d, 'many', 'f7.txt'), 'seven\n'));
  assert.equal(t.proven, false);
  assert.deepEqual(t.changes, ['modified many/f7.txt']);
  assert.equal((await turn(d)).proven, false, 'not tried again');
});

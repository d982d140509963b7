import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loopPath, RealPathResolver } from './realPathResolver';

const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'orch-resolver-')));
const task = path.join(root, 'task');
const outside = path.join(root, 'outside');
mkdirSync(path.join(task, 'src'), { recursive: true });
mkdirSync(path.join(outside, 'a', 'b'), { recursive: true });
writeFileSync(path.join(outside, 'secret.txt'), 'x');
symlinkSync(outside, path.join(task, 'escape'));
symlinkSync('../outside/a/b', path.join(task, 'rel'));
symlinkSync(path.join(outside, 'not-yet', 'file.txt'), path.join(task, 'dangling'));
symlinkSync(path.join(task, 'loop2'), path.join(task, 'loop1'));
symlinkSync(path.join(task, 'loop1'), path.join(task, 'loop2'));
symlinkSync(path.join(task, 'escape'), path.join(task, 'chain'));
const r = new RealPathResolver('/home/someone');

test('a plain path inside the folder resolves to itself; a missing tail is appended as written', async () => {
  assert.equal(await r.resolve(path.join(task, 'src', 'a.ts')), path.join(task, 'src', 'a.ts'));
  assert.equal(await r.resolve(path.join(task, 'new', 'dir', 'x.ts')), path.join(task, 'new', 'dir', 'x.ts'));
  assert.equal(await r.resolve(`${task}/src/./../src/b.ts`), path.join(task, 'src', 'b.ts'));
});

test('a committed symlink to a folder outside resolves outside (absolute and relative links, chains)', async () => {
  assert.equal(await r.resolve(path.join(task, 'escape', 'secret.txt')), path.join(outside, 'secret.txt'));
  assert.equal(await r.resolve(path.join(task, 'escape', 'new.txt')), path.join(outside, 'new.txt'));
  assert.equal(await r.resolve(path.join(task, 'rel', 'x')), path.join(outside, 'a', 'b', 'x'));
  assert.equal(await r.resolve(path.join(task, 'chain', 'secret.txt')), path.join(outside, 'secret.txt'));
});

test("`..` after a link climbs from the link's target, as the kernel does", async () => {
  // Lexically task/rel/../x is task/x; really it is outside/a/x.
  assert.equal(await r.resolve(`${task}/rel/../x`), path.join(outside, 'a', 'x'));
});

test('a dangling link resolves to where a write through it would land', async () => {
  assert.equal(await r.resolve(path.join(task, 'dangling')), path.join(outside, 'not-yet', 'file.txt'));
});

test('a link loop resolves outside everything, and home is what it was given', async () => {
  assert.equal(await r.resolve(path.join(task, 'loop1', 'x')), loopPath);
  assert.equal(r.home(), '/home/someone');
});

test('a wildcard lists what the shell would pass (links included, dot-files only when asked, not resolved)', async () => {
  writeFileSync(path.join(task, 'src', 'a.ts'), '');
  writeFileSync(path.join(task, 'src', 'b.js'), '');
  writeFileSync(path.join(task, 'src', '.hidden.ts'), '');
  symlinkSync(path.join(outside, 'secret.txt'), path.join(task, 'src', 'c.ts'));
  assert.deepEqual(await r.expand(`${task}/src/*.ts`), [path.join(task, 'src', 'a.ts'), path.join(task, 'src', 'c.ts')]);
  assert.deepEqual(await r.expand(`${task}/src/.*.ts`), [path.join(task, 'src', '.hidden.ts')]);
  assert.deepEqual(await r.expand(`${task}/src/[ab].*`), [path.join(task, 'src', 'a.ts'), path.join(task, 'src', 'b.js')]);
  assert.deepEqual(await r.expand(`${task}/*/a.ts`), [path.join(task, 'src', 'a.ts')]);
  assert.deepEqual(await r.expand(`${task}/nothing/*`), []);
  assert.equal(await r.expand(`${task}/src/*`, 2), null, 'too many');
});

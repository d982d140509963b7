import assert from 'node:assert/strict';
import { mkdtempSync, promises as fs, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { writeFileAtomic, type AtomicFs } from './atomicFile';

const dir = () => mkdtempSync(path.join(os.tmpdir(), 'orch-atomic-'));
const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

/** The real file system, recording each call; `failOn` makes one step throw ENOSPC (after doing part of it). */
function spyFs(log: string[], failOn?: 'writeFile' | 'sync' | 'rename'): AtomicFs {
  return {
    mkdir: (d, o) => fs.mkdir(d, o),
    async open(file, flags, mode) {
      const h = await fs.open(file, flags, mode);
      log.push(`open ${path.basename(file)} ${flags}`);
      return {
        async writeFile(data, enc) {
          if (failOn === 'writeFile') {
            await h.writeFile(data.slice(0, 3), enc);
            throw enospc();
          }
          await h.writeFile(data, enc);
          log.push(`write ${path.basename(file)}`);
        },
        async sync() {
          if (failOn === 'sync') throw enospc();
          await h.sync();
          log.push(`sync ${path.basename(file)}`);
        },
        async close() {
          await h.close();
          log.push(`close ${path.basename(file)}`);
        },
      };
    },
    async rename(from, to) {
      if (failOn === 'rename') throw enospc();
      await fs.rename(from, to);
      log.push(`rename ${path.basename(from)} → ${path.basename(to)}`);
    },
    rm: (f, o) => fs.rm(f, o),
  };
}

test('a write goes to a temp file beside the target, is fsynced, then renamed over it; the directory is fsynced', async () => {
  const d = dir();
  const file = path.join(d, 'store.json');
  writeFileSync(file, 'old');
  const log: string[] = [];
  await writeFileAtomic(file, 'new content', spyFs(log));
  assert.equal(readFileSync(file, 'utf8'), 'new content');
  const tmp = /^open (\.store\.json\.\d+\.[0-9a-f]+\.tmp) w$/.exec(log[0] ?? '')?.[1];
  assert.ok(tmp, `the first open is a temp file, not the target: ${log.join(' | ')}`);
  assert.deepEqual(log.slice(0, 6), [
    `open ${tmp} w`,
    `write ${tmp}`,
    `sync ${tmp}`,
    `close ${tmp}`,
    `rename ${tmp} → store.json`,
    `open ${path.basename(d)} r`,
  ]);
  assert.ok(!log.some((l) => l.startsWith('open store.json')), 'the target is never opened for writing');
  assert.deepEqual(readdirSync(d), ['store.json']);
});

test('the target is replaced, not rewritten in place: its inode changes', async () => {
  const d = dir();
  const file = path.join(d, 'store.json');
  writeFileSync(file, 'old');
  const before = statSync(file).ino;
  await writeFileAtomic(file, 'new');
  assert.notEqual(statSync(file).ino, before, 'a new inode: the file was renamed over, never truncated and rewritten');
});

for (const step of ['writeFile', 'sync', 'rename'] as const) {
  test(`ENOSPC during ${step}: the error is thrown, the target keeps its bytes, no temp file is left`, async () => {
    const d = dir();
    const file = path.join(d, 'store.json');
    writeFileSync(file, 'old bytes');
    await assert.rejects(
      writeFileAtomic(file, 'new bytes that do not fit', spyFs([], step)),
      (e: unknown) => (e as { code?: string }).code === 'ENOSPC',
    );
    assert.equal(readFileSync(file, 'utf8'), 'old bytes');
    assert.deepEqual(readdirSync(d), ['store.json'], 'no temp file');
  });
}

test('a reader polling the file while it is rewritten never sees a partial file', async () => {
  const d = dir();
  const file = path.join(d, 'store.json');
  const big = (i: number) => JSON.stringify({ i, pad: 'x'.repeat(2_000_000) });
  await writeFileAtomic(file, big(0));
  let reads = 0;
  let writing = true;
  const reader = (async () => {
    while (writing) {
      const text = await fs.readFile(file, 'utf8');
      assert.doesNotThrow(() => JSON.parse(text), `read ${reads}: a whole file (${text.length} chars)`);
      reads++;
    }
  })();
  for (let i = 1; i <= 15; i++) await writeFileAtomic(file, big(i));
  writing = false;
  await reader;
  assert.ok(reads > 0);
});

import assert from 'node:assert/strict';
import { appendFileSync, promises as fs, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DomainError } from '../../domain/errors';
import type { Logger } from '../../ports/logger';
import { JsonlTranscripts, type TranscriptFs } from './jsonlTranscript';

const warnings: string[] = [];
const logger: Logger = { error() {}, warn: (m) => warnings.push(m), info() {}, debug() {} };

test('appends in order, one JSON line each, redacting secrets', async () => {
  const t = new JsonlTranscripts(mkdtempSync(path.join(os.tmpdir(), 'orch-tr-')), logger);
  await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      t.append('s1', 't1', { seq: i, at: 'now', kind: 'message_chunk', text: i === 7 ? 'use sk-abcdefghijklmnopqrstuvwx' : `chunk ${i}` }),
    ),
  );
  const entries = await t.read('s1', 't1');
  assert.deepEqual(
    entries.map((e) => e.seq),
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.equal(entries[7].text, 'use [REDACTED]');
  assert.ok(!readFileSync(t.fileFor('s1', 't1'), 'utf8').includes('sk-abcdef'));
});

test('a torn last line is skipped and reported, earlier lines survive', async () => {
  const t = new JsonlTranscripts(mkdtempSync(path.join(os.tmpdir(), 'orch-tr-')), logger);
  await t.append('s', 't', { seq: 0, at: 'now', kind: 'x' });
  appendFileSync(t.fileFor('s', 't'), '{"seq":1,"at":');
  const entries = await t.read('s', 't');
  assert.equal(entries.length, 1);
  assert.ok(warnings.some((w) => w.includes('not a complete JSON line')));
});

test('ids that could escape the transcript folder are refused', () => {
  const t = new JsonlTranscripts('/tmp/x', logger);
  for (const bad of ['..', '../etc', 'a/b', '']) {
    assert.throws(
      () => t.fileFor(bad, 't'),
      (e: unknown) => DomainError.is(e, 'bad_input'),
    );
  }
});

/** Real file handles; `datasync` waits for `gate` and every call is logged. */
function gatedFs(log: string[], gate: () => Promise<void>, opts: { failWrite?: boolean } = {}): TranscriptFs {
  return {
    mkdir: (d, o) => fs.mkdir(d, o),
    readFile: (f, e) => fs.readFile(f, e),
    async open(file, flags, mode) {
      const h = await fs.open(file, flags, mode);
      return {
        stat: () => h.stat(),
        async write(data) {
          if (opts.failWrite) {
            await h.write(data.slice(0, 7));
            log.push('write (partial)');
            throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          }
          await h.write(data);
          log.push('write');
        },
        async datasync() {
          log.push('datasync start');
          await gate();
          await h.datasync();
          log.push('datasync done');
        },
        truncate: (n) => h.truncate(n),
        close: () => h.close(),
      };
    },
  };
}

test('an append resolves only after fdatasync of its line', async () => {
  const log: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const t = new JsonlTranscripts(
    mkdtempSync(path.join(os.tmpdir(), 'orch-tr-')),
    logger,
    gatedFs(log, () => gate),
  );
  let acknowledged = false;
  const append = t.append('s', 't', { seq: 1, at: 'now', kind: 'x' }).then(() => {
    acknowledged = true;
    log.push('resolved');
  });
  const deadline = Date.now() + 5_000;
  while (!log.includes('datasync start') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(acknowledged, false, `not acknowledged while fdatasync is pending: ${log.join(' | ')}`);
  release();
  await append;
  assert.deepEqual(log, ['write', 'datasync start', 'datasync done', 'resolved']);
});

test('a failed append (ENOSPC mid-line) is cut back and reported; the next line is whole', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'orch-tr-'));
  const reported: unknown[] = [];
  const ok = new JsonlTranscripts(root, logger);
  await ok.append('s', 't', { seq: 1, at: 'now', kind: 'x' });
  const failing = new JsonlTranscripts(
    root,
    logger,
    gatedFs([], async () => undefined, { failWrite: true }),
    (e) => reported.push(e),
  );
  await assert.rejects(failing.append('s', 't', { seq: 2, at: 'now', kind: 'x' }), /ENOSPC/);
  assert.equal((reported[0] as { code?: string }).code, 'ENOSPC');
  await ok.append('s', 't', { seq: 2, at: 'now', kind: 'x' });
  const lines = readFileSync(ok.fileFor('s', 't'), 'utf8').split('\n').filter(Boolean);
  assert.deepEqual(
    lines.map((l) => (JSON.parse(l) as { seq: number }).seq),
    [1, 2],
    'no torn line between the two',
  );
});

test('group commit: lines appended during a write share the next fdatasync, in order, each acknowledged after it', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'orch-tr-'));
  const log: string[] = [];
  let release!: () => void;
  let gate = new Promise<void>((r) => (release = r));
  const t = new JsonlTranscripts(
    root,
    logger,
    gatedFs(log, () => gate),
  );
  const acked: number[] = [];
  const first = t.append('s', 't', { seq: 1, at: 'now', kind: 'x' }).then(() => acked.push(1));
  const deadline = Date.now() + 5_000;
  while (!log.includes('datasync start') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  // Appended while the first line's fdatasync is pending: one write and one fdatasync for the three.
  const rest = [2, 3, 4].map((seq) => t.append('s', 't', { seq, at: 'now', kind: 'x' }).then(() => acked.push(seq)));
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(acked, [], 'nothing acknowledged before its fdatasync');
  const opened = gate;
  gate = new Promise<void>((r) => {
    release();
    release = r;
  });
  await opened;
  await first;
  while (log.filter((l) => l === 'datasync start').length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(acked, [1], 'the group waits for its own fdatasync');
  release();
  await Promise.all(rest);
  assert.deepEqual(acked, [1, 2, 3, 4]);
  assert.deepEqual(log, ['write', 'datasync start', 'datasync done', 'write', 'datasync start', 'datasync done']);
  const lines = readFileSync(t.fileFor('s', 't'), 'utf8').split('\n').filter(Boolean);
  assert.deepEqual(
    lines.map((l) => (JSON.parse(l) as { seq: number }).seq),
    [1, 2, 3, 4],
  );
});

test('group commit: a failed group write fails every append in it, is cut back whole, and the next append is written', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'orch-tr-'));
  const ok = new JsonlTranscripts(root, logger);
  await ok.append('s', 't', { seq: 1, at: 'now', kind: 'x' });
  const reported: unknown[] = [];
  let writes = 0;
  const real = gatedFs([], async () => undefined);
  const failing: TranscriptFs = {
    ...real,
    async open(file, flags, mode) {
      const h = await real.open(file, flags, mode);
      return {
        ...h,
        async write(data) {
          writes++;
          if (writes === 1) return void (await new Promise((r) => setTimeout(r, 50)), await h.write(data)); // 3 and 4 queue meanwhile
          if (writes === 2) {
            await h.write(data.slice(0, 9)); // torn mid-group
            throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
          }
          await h.write(data);
        },
      };
    },
  };
  const t = new JsonlTranscripts(root, logger, failing, (e) => reported.push(e));
  const results = await Promise.allSettled([2, 3, 4].map((seq) => t.append('s', 't', { seq, at: 'now', kind: 'x' })));
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'rejected'],
    'the group of 3 and 4 failed as a whole',
  );
  assert.equal(reported.length, 2, 'each failed append is reported');
  await t.append('s', 't', { seq: 5, at: 'now', kind: 'x' });
  const lines = readFileSync(ok.fileFor('s', 't'), 'utf8').split('\n').filter(Boolean);
  assert.deepEqual(
    lines.map((l) => (JSON.parse(l) as { seq: number }).seq),
    [1, 2, 5],
    'the torn group was cut back: no half line',
  );
});

test('a short write (a file-size limit, a nearly full disk) fails its group and is cut back: no half line, never acknowledged', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'orch-tr-'));
  const ok = new JsonlTranscripts(root, logger);
  await ok.append('s', 't', { seq: 1, at: 'now', kind: 'x' });
  const real = gatedFs([], async () => undefined);
  let writes = 0;
  const short: TranscriptFs = {
    ...real,
    async open(file, flags, mode) {
      const h = await real.open(file, flags, mode);
      return {
        ...h,
        async write(data) {
          writes++;
          if (writes > 1) return h.write(data);
          // What FileHandle.write does at a file-size limit: it writes part and says how much, without an error.
          await h.write(data.slice(0, 11));
          return { bytesWritten: 11, buffer: data };
        },
      };
    },
  };
  const t = new JsonlTranscripts(root, logger, short);
  await assert.rejects(t.append('s', 't', { seq: 2, at: 'now', kind: 'x', text: 'y'.repeat(3000) }), /short write .*11 of \d+ bytes/);
  await t.append('s', 't', { seq: 3, at: 'now', kind: 'x' });
  assert.deepEqual(
    (await t.read('s', 't')).map((e) => e.seq),
    [1, 3],
    'the short group was cut back and the next line stands on its own',
  );
});

test('a transcript with no append in flight holds no state: 200 finished runs leave nothing behind, and later appends still chain', async () => {
  const t = new JsonlTranscripts(mkdtempSync(path.join(os.tmpdir(), 'orch-tr-')), logger);
  for (let r = 0; r < 200; r++)
    await Promise.all([0, 1, 2].map((seq) => t.append('single', `r${r}`, { seq, at: 'now', kind: 'message_chunk', text: `${seq}` })));
  await new Promise((r) => setImmediate(r));
  assert.equal(t.pendingFiles, 0, 'per-run append chains are dropped once their last line is on disk');
  await Promise.all([3, 4, 5].map((seq) => t.append('single', 'r7', { seq, at: 'now', kind: 'message_chunk', text: `${seq}` })));
  assert.deepEqual(
    (await t.read('single', 'r7')).map((e) => e.seq),
    [0, 1, 2, 3, 4, 5],
  );
});

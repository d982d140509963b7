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

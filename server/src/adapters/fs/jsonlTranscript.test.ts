import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DomainError } from '../../domain/errors';
import type { Logger } from '../../ports/logger';
import { JsonlTranscripts } from './jsonlTranscript';

const warnings: string[] = [];
const logger: Logger = { error() {}, warn: (m) => warnings.push(m), info() {}, debug() {} };

test('appends in order, one JSON line each, redacting secrets', async () => {
  const t = new JsonlTranscripts(mkdtempSync(path.join(os.tmpdir(), 'orch-tr-')), logger);
  await Promise.all(Array.from({ length: 50 }, (_, i) => t.append('s1', 't1', { seq: i, at: 'now', kind: 'message_chunk', text: i === 7 ? 'use sk-abcdefghijklmnopqrstuvwx' : `chunk ${i}` })));
  const entries = await t.read('s1', 't1');
  assert.deepEqual(entries.map((e) => e.seq), Array.from({ length: 50 }, (_, i) => i));
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
    assert.throws(() => t.fileFor(bad, 't'), (e: unknown) => DomainError.is(e, 'bad_input'));
  }
});

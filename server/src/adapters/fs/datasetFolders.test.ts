import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DomainError } from '../../domain/errors';
import { DatasetFolders } from './datasetFolders';

const root = () => path.join(mkdtempSync(path.join(os.tmpdir(), 'orch-ds-')), 'datasets');

test('a dataset folder is created whole, read back, listed; a second create under the same name is a conflict', async () => {
  const r = root();
  const d = new DatasetFolders(r);
  const where = await d.create('demo-1', [
    { path: 'manifest.json', content: '{}\n' },
    { path: 'openai/train.jsonl', content: '{"a":1}\n' },
  ]);
  assert.equal(where, path.join(r, 'demo-1'));
  assert.equal(await d.read('demo-1', 'openai/train.jsonl'), '{"a":1}\n');
  assert.equal(await d.read('demo-1', 'nope.txt'), undefined);
  assert.equal(await d.read('other', 'manifest.json'), undefined);
  assert.deepEqual(await d.list(), ['demo-1']);
  await assert.rejects(
    d.create('demo-1', [{ path: 'x', content: '' }]),
    (e: unknown) => DomainError.is(e, 'conflict') && /already exists/.test(e.message),
  );
  assert.deepEqual(readdirSync(r).sort(), ['demo-1']);
});

test('bad names and paths are refused before anything is written; a failed write leaves nothing', async () => {
  const r = root();
  const d = new DatasetFolders(r);
  await assert.rejects(d.create('../evil', []), /^DomainError: name: must match/);
  await assert.rejects(d.create('ok', [{ path: '../x', content: '' }]), /is not a relative path inside the dataset/);
  await assert.rejects(d.create('ok', [{ path: '/etc/x', content: '' }]), /is not a relative path/);
  assert.ok(!existsSync(path.join(r, 'ok')));
  // Two files at the same path: the second open ('wx') fails mid-write; the temp folder is removed.
  await assert.rejects(
    d.create('dup', [
      { path: 'a.txt', content: '1' },
      { path: 'a.txt', content: '2' },
    ]),
    /EEXIST/,
  );
  assert.deepEqual(readdirSync(r), []);
});

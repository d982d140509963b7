import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliUsageError } from './cliArgs';
import { parseStoreOption } from './teamStore';

test('--store: lowdb or nothing is the file store; a postgres URL is kept as given', () => {
  assert.equal(parseStoreOption(undefined), undefined);
  assert.equal(parseStoreOption('lowdb'), undefined);
  assert.equal(parseStoreOption('postgres://u:p@127.0.0.1:5432/orch'), 'postgres://u:p@127.0.0.1:5432/orch');
  assert.equal(parseStoreOption('postgresql://db.internal/orch'), 'postgresql://db.internal/orch');
});

test('--store: anything else is a usage error that names it without the password', () => {
  for (const bad of ['mysql://u:hunter2@h/db', 'postgres:///nohost', 'lowdb:/tmp/x', '']) {
    assert.throws(
      () => parseStoreOption(bad),
      (e: unknown) =>
        e instanceof CliUsageError && /--store takes lowdb or postgres:\/\//.test(e.message) && !e.message.includes('hunter2'),
      bad,
    );
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../errors';
import { currentSchemaVersion, emptyStore, parseStore } from '../storeSchema';

test('a store of the current schema written before fine-tuning existed loads with empty fineTuneJobs and models, no migration', () => {
  const { fineTuneJobs: _j, models: _m, ...old } = emptyStore('2026-01-01T00:00:00.000Z');
  const { data, migratedFrom } = parseStore(JSON.stringify(old), 'store.json');
  assert.equal(old.schemaVersion, currentSchemaVersion);
  assert.equal(migratedFrom, undefined);
  assert.deepEqual(data.fineTuneJobs, []);
  assert.deepEqual(data.models, []);
});

test('a fine-tune job or model record that does not match its schema names the field', () => {
  const bad = { ...emptyStore('2026-01-01T00:00:00.000Z'), fineTuneJobs: [{ id: 'ft-1', state: 'exploded' }] };
  assert.throws(
    () => parseStore(JSON.stringify(bad), 'store.json'),
    (e: unknown) => DomainError.is(e, 'store_corrupt') && /fineTuneJobs\.0/.test(e.message),
  );
  const badModel = {
    ...emptyStore('2026-01-01T00:00:00.000Z'),
    models: [{ name: 'm', tenantId: 'local', createdAt: 1, versions: [], aliases: { gold: 1 }, audit: [] }],
  };
  assert.throws(
    () => parseStore(JSON.stringify(badModel), 'store.json'),
    (e: unknown) => DomainError.is(e, 'store_corrupt') && /models\.0\.aliases/.test(e.message),
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../errors';
import { defaultHyperparameters } from './job';
import { addVersion, championRefusal, newModel, setAlias, type RegisteredModel } from './registry';

const version = (validationLoss?: number) => ({
  createdAt: 1,
  lineage: {
    dataset: { name: 'd', id: 'sha256:x' },
    jobId: 'ft-1',
    baseModel: 'tiny-llama' as const,
    provider: 'local' as const,
    hyperparameters: defaultHyperparameters,
  },
  metrics: { firstLoss: 6, finalLoss: 2, steps: 60, ...(validationLoss === undefined ? {} : { validationLoss }) },
  artifact: { adapterDir: '/a', baseDir: '/b' },
});

function withVersions(...losses: (number | undefined)[]): RegisteredModel {
  let m = newModel('m', 'local', 0);
  for (const l of losses) m = addVersion(m, version(l)).model;
  return m;
}

test('versions are numbered 1, 2, … after the highest existing one', () => {
  const m = withVersions(3, 2);
  assert.deepEqual(
    m.versions.map((v) => v.version),
    [1, 2],
  );
  assert.equal(addVersion(m, version(1)).version, 3);
});

test('the first champion needs no comparison; a later one must beat its validation loss', () => {
  const m = setAlias(withVersions(3, 2.5, 3.5), 'champion', 1, 10);
  assert.equal(m.aliases.champion, 1);
  assert.equal(championRefusal(m, 2), undefined, 'a lower validation loss wins');
  const moved = setAlias(m, 'champion', 2, 11);
  assert.equal(moved.aliases.champion, 2);
  assert.deepEqual(moved.audit[1], { alias: 'champion', version: 2, previous: 1, at: 11 });
  assert.match(championRefusal(m, 3) ?? '', /3\.5000 does not beat champion version 1's 3\.0000/);
  assert.throws(
    () => setAlias(m, 'champion', 3, 12),
    (e: unknown) => DomainError.is(e, 'conflict') && /override\.reason/.test(e.message),
  );
});

test('an equal validation loss does not beat the champion; a version without one cannot be compared', () => {
  const m = setAlias(withVersions(3, 3, undefined), 'champion', 1, 10);
  assert.ok(championRefusal(m, 2));
  assert.match(championRefusal(m, 3) ?? '', /no validation loss/);
});

test('an override with a reason moves the champion anyway and is audited; an empty reason is refused', () => {
  const m = setAlias(withVersions(3, 4), 'champion', 1, 10);
  const forced = setAlias(m, 'champion', 2, 11, { reason: 'better on the held-out tool calls' });
  assert.equal(forced.aliases.champion, 2);
  assert.deepEqual(forced.audit.at(-1), {
    alias: 'champion',
    version: 2,
    previous: 1,
    at: 11,
    override: { reason: 'better on the held-out tool calls' },
  });
  assert.throws(
    () => setAlias(m, 'champion', 2, 11, { reason: '  ' }),
    (e: unknown) => DomainError.is(e, 'bad_input'),
  );
});

test('challenger moves freely; an unknown version is not_found and nothing changes', () => {
  const m = setAlias(withVersions(3, 4), 'champion', 1, 10);
  assert.equal(setAlias(m, 'challenger', 2, 11).aliases.challenger, 2);
  assert.throws(
    () => setAlias(m, 'challenger', 9, 11),
    (e: unknown) => DomainError.is(e, 'not_found'),
  );
  assert.deepEqual(m.aliases, { champion: 1 });
});

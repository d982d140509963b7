import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sessionTaskWarnings, turnWarnings } from './turnOutcome';

const deniedEdit = { permission: 'edit', patterns: ['../x.txt'], reason: 'outside' };
const deniedBash = { permission: 'bash', patterns: ['sort -o /tmp/x a'], reason: 'writes a file' };

test('a succeeded turn whose only write was denied is flagged, naming the write', () => {
  const w = turnWarnings({ state: 'succeeded', changedFiles: 0, denied: [deniedEdit] });
  assert.equal(w.length, 1);
  assert.match(w[0], /every write was denied \(1: edit \.\.\/x\.txt\); nothing changed/);
});

test('denied commands with nothing changed, and partial denials, are flagged too', () => {
  assert.match(
    turnWarnings({ state: 'succeeded', changedFiles: 0, denied: [deniedBash] })[0],
    /1 permission request\(s\) were denied .*nothing changed/,
  );
  assert.match(turnWarnings({ state: 'succeeded', changedFiles: 2, denied: [deniedEdit] })[0], /some of the work may be missing/);
});

test('a clean success or a failure gets no warning', () => {
  assert.deepEqual(turnWarnings({ state: 'succeeded', changedFiles: 1, denied: [] }), []);
  assert.deepEqual(turnWarnings({ state: 'failed', changedFiles: 0, denied: [deniedEdit] }), []);
});

test('a writing session task that changed nothing is flagged; a reading one is not', () => {
  assert.deepEqual(sessionTaskWarnings({ mode: 'write', changedFiles: [] }), ['the task changed no files']);
  assert.deepEqual(sessionTaskWarnings({ mode: 'read', changedFiles: [] }), []);
  assert.deepEqual(sessionTaskWarnings({ mode: 'write', changedFiles: ['a.ts'] }), []);
  const run = turnWarnings({ state: 'succeeded', changedFiles: 0, denied: [deniedEdit] });
  assert.deepEqual(sessionTaskWarnings({ mode: 'write', changedFiles: [], runWarnings: run }), run, 'not said twice');
});

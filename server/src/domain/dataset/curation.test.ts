import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../errors';
import { applyCuratorChoices, excludedReason } from './curation';
import type { Example } from './example';
import { curate, type Candidate } from './pipeline';
import { goodRow, provenance } from './testData';

const cands = (): Candidate[] => ['r1', 'r2', 'r3'].map((id) => ({ source: id, provenance: provenance(id), row: goodRow() }));
const count = (t: string) => Math.ceil(t.length / 4);

test('an excluded run is dropped at curator with the reason, and the others are untouched', async () => {
  const before = cands();
  const { candidates } = applyCuratorChoices(before, { exclude: ['r2'] });
  assert.deepEqual(candidates[1]!.dropped, { stage: 'curator', reason: excludedReason });
  assert.equal(candidates[0], before[0]);
  const r = await curate(candidates, {}, { countTokens: count });
  assert.equal(r.records[1]!.stage, 'curator');
  assert.equal(r.stats.dropped.curator, 1);
});

test('an edit replaces one message of a copy and is listed; the pipeline still redacts the edited text', async () => {
  const before = cands();
  const { candidates, edited } = applyCuratorChoices(before, {
    edits: [
      { runId: 'r3', message: 4, content: 'Two files. Mail me at dev@example.com' },
      { runId: 'r3', message: 1, content: 'List the files please.' },
    ],
  });
  assert.deepEqual(edited.get('r3'), [1, 4]);
  assert.equal((before[2]!.row as Example).messages[4]!.content, goodRow().messages[4]!.content, 'the input is not changed');
  const r = await curate(candidates, {}, { countTokens: count });
  const ex = r.examples.find((e) => e.source === 'r3')!;
  assert.equal(ex.messages[4]!.content, 'Two files. Mail me at [REDACTED:email]');
  assert.equal(ex.messages[1]!.content, 'List the files please.');
});

test('bad choices name the edit and the problem', () => {
  const c = cands();
  const msg = (choices: Parameters<typeof applyCuratorChoices>[1]) => {
    try {
      applyCuratorChoices(c, choices);
    } catch (e) {
      assert.ok(DomainError.is(e, 'bad_input'));
      return (e as Error).message;
    }
    return 'no error';
  };
  assert.match(msg({ exclude: ['nope'] }), /^curation\.exclude\[0\]: run "nope" is not a candidate/);
  assert.match(msg({ edits: [{ runId: 'r1', message: 9, content: 'x' }] }), /^curation\.edits\[0\]\.message: run "r1" has 5 messages/);
  assert.match(msg({ exclude: ['r1'], edits: [{ runId: 'r1', message: 0, content: 'x' }] }), /r1" is excluded/);
  assert.match(
    msg({
      edits: [
        { runId: 'r1', message: 0, content: 'x' },
        { runId: 'r1', message: 0, content: 'y' },
      ],
    }),
    /^curation\.edits\[1\]\.message: message 0 of r1 is edited twice/,
  );
});

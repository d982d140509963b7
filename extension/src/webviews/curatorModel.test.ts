import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DatasetCandidate, DatasetExample, DatasetRecord } from '../../../protocol/dataset';
import { emptyCuratorQuery } from '../../../protocol/webview/curator';
import { choicesOf, curationFor, curatorSnapshot, filterOf, rowsOf, selectedOf, titleOf } from './curatorModel';

const cand = (runId: string, over: Partial<DatasetCandidate['provenance']> = {}): DatasetCandidate => ({
  runId,
  provenance: {
    sessionId: `s-${runId}`,
    runId,
    repo: '/r',
    agent: 'opencode',
    model: 'demo/scripted',
    outcome: 'succeeded',
    applied: false,
    createdAt: '2026-12-06T10:00:00.000Z',
    ...over,
  },
  reasons: ['outcome succeeded (taken: succeeded)'],
  tokens: 120,
});
const example = (source: string, user: string): DatasetExample => ({
  source,
  split: 'train',
  tokens: 100,
  messages: [
    { role: 'user', content: user },
    { role: 'assistant', content: 'done' },
  ],
});

test('the query becomes the dataset filter: outcome, agent, model and whole UTC days', () => {
  assert.deepEqual(filterOf(emptyCuratorQuery), { outcomes: ['succeeded'] });
  assert.deepEqual(filterOf({ outcome: 'any', agent: 'opencode', model: 'm', since: '2026-12-01', until: '2026-12-06' }), {
    outcomes: ['succeeded', 'failed', 'cancelled'],
    agents: ['opencode'],
    models: ['m'],
    since: '2026-12-01T00:00:00.000Z',
    until: '2026-12-06T23:59:59.999Z',
  });
});

test('only choices about runs the filter takes are sent, and never an edit of an excluded run', () => {
  const edits = new Map([
    ['b', new Map([[1, 'edited b']])],
    [
      'a',
      new Map([
        [2, 'two'],
        [0, 'zero'],
      ]),
    ],
    ['gone', new Map([[0, 'x']])],
  ]);
  assert.deepEqual(curationFor(['a', 'b'], new Set(['b', 'gone']), edits), {
    exclude: ['b'],
    edits: [
      { runId: 'a', message: 0, content: 'zero' },
      { runId: 'a', message: 2, content: 'two' },
    ],
  });
  assert.equal(curationFor(['a'], new Set(['z']), new Map()), undefined);
});

test('rows carry every candidate with its fate; a run without a record is dropped at build with its problem', () => {
  const records: DatasetRecord[] = [
    {
      source: 'a',
      provenance: cand('a').provenance,
      status: 'kept',
      split: 'validation',
      tokens: 90,
      redactions: [{ kind: '@secretlint/secretlint-rule-github', field: 'messages[0].content', start: 3, end: 20 }],
      edited: [0],
    },
    {
      source: 'b',
      provenance: cand('b').provenance,
      status: 'dropped',
      stage: 'curator',
      reason: 'excluded by the curator',
      redactions: [],
    },
  ];
  const c = { ...cand('c'), problem: 'the turn was cut off' };
  delete c.tokens;
  const rows = rowsOf(
    [cand('a'), cand('b'), c],
    records,
    [example('a', 'Deploy [REDACTED:github]\nmore')],
    new Set(['b']),
    new Map([['b', 'old title of b']]),
  );
  assert.deepEqual(
    rows.map((r) => [r.runId, r.status, r.stage, r.reason, r.split, r.tokens, r.redactions, r.excluded, r.edited, r.title]),
    [
      ['a', 'kept', undefined, undefined, 'validation', 90, 1, false, [0], 'Deploy [REDACTED:github]'],
      ['b', 'dropped', 'curator', 'excluded by the curator', undefined, 120, 0, true, [], 'old title of b'],
      ['c', 'dropped', 'build', 'the turn was cut off', undefined, undefined, 0, false, [], ''],
    ],
  );
  const sel = selectedOf('a', rows, records, [example('a', 'x')]);
  assert.deepEqual(sel?.redactions, [{ kind: 'github', field: 'messages[0].content' }]);
  assert.equal(sel?.example?.source, 'a');
  assert.equal(selectedOf('b', rows, records, [])?.example, null);
  assert.equal(selectedOf('nope', rows, records, []), null);
});

test('titles are one line of at most 120 characters; choices list every agent and model once', () => {
  assert.equal(titleOf(example('a', `\n  \n${'x'.repeat(200)}\nsecond`), ''), `${'x'.repeat(119)}…`);
  assert.equal(titleOf(undefined, 'fallback line\nmore'), 'fallback line');
  assert.deepEqual(choicesOf([cand('a'), cand('b', { agent: 'acp-x', model: undefined }), cand('c', { model: 'm2' })]), {
    agents: ['acp-x', 'opencode'],
    models: ['demo/scripted', 'm2'],
  });
});

test('the snapshot is complete and numbered', () => {
  const s = curatorSnapshot(
    {
      query: emptyCuratorQuery,
      agents: [],
      models: [],
      rows: [],
      selected: null,
      stats: null,
      warnings: [],
      busy: null,
      exported: null,
      job: null,
      error: 'boom',
    },
    7,
  );
  assert.equal(s.type, 'curator/view');
  assert.equal(s.seq, 7);
  assert.equal(s.error, 'boom');
  assert.equal(s.errorAt, 'list');
  assert.ok(!('error' in curatorSnapshot({ ...s, error: undefined }, 8)));
});

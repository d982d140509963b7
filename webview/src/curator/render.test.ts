import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CuratorRow, CuratorViewMessage } from '../../../protocol/webview/curator';
import { emptyCuratorQuery } from '../../../protocol/webview/curator';
import { highlightRedactions, renderDetail, renderHistogram, renderJob, renderRows, renderStats } from './render';

const row = (runId: string, over: Partial<CuratorRow> = {}): CuratorRow => ({
  runId,
  sessionId: `run-${runId}`,
  agent: 'opencode',
  outcome: 'succeeded',
  title: `<b>${runId}</b>`,
  status: 'kept',
  split: 'train',
  reasons: ['outcome succeeded'],
  tokens: 50,
  redactions: 0,
  excluded: false,
  edited: [],
  ...over,
});
const view = (over: Partial<CuratorViewMessage> = {}): CuratorViewMessage => ({
  type: 'curator/view',
  seq: 1,
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
  ...over,
});

test('redaction placeholders are marked and everything else is escaped', () => {
  assert.equal(
    highlightRedactions('key <x> [REDACTED:github] & [REDACTED:email] [REDACTED] [REDACTED:]'),
    'key &lt;x&gt; <mark class="redaction" title="Redacted: github">[REDACTED:github]</mark> &amp; <mark class="redaction" title="Redacted: email">[REDACTED:email]</mark> <mark class="redaction" title="Redacted in the transcript">[REDACTED]</mark> [REDACTED:]',
  );
});

test('rows say kept or dropped and why, escaped', () => {
  const html = renderRows(
    view({ rows: [row('a'), row('b', { status: 'dropped', stage: 'curator', reason: 'excluded by the curator', excluded: true })] }),
  );
  assert.match(html, /data-id="a"/);
  assert.match(html, /kept · train/);
  assert.match(html, /dropped: excluded/);
  assert.match(html, /<div class="why">excluded by the curator<\/div>/);
  assert.ok(!html.includes('<b>a</b>'));
  assert.match(renderRows(view({ busy: 'loading' })), /Reading the agent runs/);
});

test('the selected example is a conversation with tool calls, redactions marked, edit and exclude buttons', () => {
  const r = row('a', { edited: [0], redactions: 1 });
  const v = view({
    rows: [r],
    selected: {
      row: r,
      redactions: [{ kind: 'github', field: 'messages[0].content' }],
      example: {
        source: 'a',
        split: 'train',
        tokens: 50,
        messages: [
          { role: 'user', content: 'use [REDACTED:github]' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c1', type: 'function', function: { name: 'write', arguments: '{"path":"a.txt"}' } }],
          },
          { role: 'tool', tool_call_id: 'c1', content: 'ok' },
        ],
      },
    },
  });
  const html = renderDetail(v);
  assert.match(html, /<mark class="redaction"[^>]*>\[REDACTED:github\]<\/mark>/);
  assert.match(html, /calls write/);
  assert.match(html, /&quot;path&quot;: &quot;a.txt&quot;/);
  assert.match(html, /data-exclude="true"/);
  assert.match(html, /data-edit="undo" data-message="0"/);
  assert.ok(!html.includes('data-edit="undo" data-message="1"'));
  const editing = renderDetail(v, { runId: 'a', message: 0 });
  assert.match(editing, /<vscode-textarea id="edit-text"[^>]*value="use \[REDACTED:github\]"/);
  assert.match(editing, /data-edit="save" data-message="0"/);
  const excluded = renderDetail(
    view({ selected: { row: row('b', { status: 'dropped', stage: 'curator', excluded: true }), example: null, redactions: [] } }),
  );
  assert.match(excluded, /data-exclude="false"/);
  assert.match(excluded, /Include the run/);
});

test('stats: counts, split sizes, dropped per stage, histogram bars in bucket order', () => {
  const html = renderStats(
    {
      candidates: 3,
      kept: 2,
      dropped: { curator: 1 },
      train: { examples: 2, tokens: 300 },
      validation: { examples: 0, tokens: 0 },
      groups: 2,
      redactions: { github: 1 },
      tokenHistogram: { '256': 1, '64': 4 },
    },
    ['only one group'],
  );
  assert.match(html, /data-stat="candidates">3</);
  assert.match(html, /2 examples, 300 tokens/);
  assert.match(html, /excluded <span class="n">1/);
  assert.match(html, /only one group/);
  const h = renderHistogram({ '256': 1, '64': 4 });
  assert.ok(h.indexOf('≤ 64') < h.indexOf('≤ 256'));
  assert.match(h, /width:100%/);
  assert.match(h, /width:25%/);
});

test('the job shows its state, step and error', () => {
  const html = renderJob({
    id: 'ft-1',
    state: 'failed',
    provider: 'local',
    modelName: 'm',
    baseModel: 'tiny-llama',
    dataset: { name: 'd', id: 'sha256:x' },
    hyperparameters: {} as never,
    progress: { step: 0, totalSteps: 5 },
    lossCurve: [],
    validationCurve: [],
    createdAt: '2026-12-06T00:00:00Z',
    outputDir: '/x',
    error: { reason: 'trainer_failed', message: 'no <python>' },
  });
  assert.match(html, /job-state failed/);
  assert.match(html, /step 0 of 5/);
  assert.match(html, /trainer_failed: no &lt;python&gt;/);
});

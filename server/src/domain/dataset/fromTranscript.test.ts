import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildExample, inferTools, toolName } from './fromTranscript';
import { transcript } from './testData';
import { validateExample } from './validate';

test('a finished run becomes user → assistant(text + tool call) → tool → assistant, and validates', () => {
  const r = buildExample({ prompt: 'What does a.ts export?', events: transcript() });
  assert.ok(r.ok);
  assert.deepEqual(r.example.messages, [
    { role: 'user', content: 'What does a.ts export?' },
    {
      role: 'assistant',
      content: 'I will read the file.',
      tool_calls: [{ id: 't1', type: 'function', function: { name: 'read', arguments: '{"filePath":"src/a.ts"}' } }],
    },
    { role: 'tool', tool_call_id: 't1', content: 'export const a = 1;' },
    { role: 'assistant', content: 'The file exports a = 1.' },
  ]);
  assert.deepEqual(r.example.tools, [
    { type: 'function', function: { name: 'read', parameters: { type: 'object', properties: { filePath: { type: 'string' } } } } },
  ]);
  validateExample(r.example, 'run');
});

test('events out of order or replayed (same key) give the same example', () => {
  const events = transcript();
  const shuffled = [...events].reverse().concat(events.slice(0, 4));
  const a = buildExample({ prompt: 'p', events });
  const b = buildExample({ prompt: 'p', events: shuffled });
  assert.deepEqual(a, b);
});

test('a run that did not finish is dropped with the reason', () => {
  assert.deepEqual(buildExample({ prompt: 'p', events: transcript({ finished: null }) }), {
    ok: false,
    reason: 'truncated: the run has no finished event (it did not end)',
  });
  assert.deepEqual(buildExample({ prompt: 'p', events: transcript({ finished: 'cancelled' }) }), {
    ok: false,
    reason: 'truncated: the run stopped with cancelled, not end_turn',
  });
  const open = buildExample({ prompt: 'p', events: transcript({ toolStatus: 'in_progress' }) });
  assert.equal(!open.ok && open.reason, 'truncated: tool call t1 (read) never completed (status in_progress)');
  assert.deepEqual(buildExample({ prompt: '  ', events: transcript() }), { ok: false, reason: 'empty: the run has no prompt' });
  assert.deepEqual(buildExample({ prompt: 'p', events: [{ seq: 1, key: 'f', kind: 'finished', stopReason: 'end_turn' }] }), {
    ok: false,
    reason: 'empty: no assistant text or tool call',
  });
});

test('a failed tool call is answered with a note; odd tool names are made valid', () => {
  const r = buildExample({ prompt: 'p', events: transcript({ toolStatus: 'failed' }) });
  assert.ok(r.ok);
  assert.deepEqual(r.example.messages[2], { role: 'tool', tool_call_id: 't1', content: '(the tool call failed)' });
  assert.equal(toolName('mcp.server/do it'), 'mcp_server_do_it');
  const tools = inferTools([
    { id: 'a', type: 'function', function: { name: 'x', arguments: '{"n":1,"s":"a"}' } },
    { id: 'b', type: 'function', function: { name: 'x', arguments: '{"n":1.5}' } },
  ]);
  assert.deepEqual(tools[0]!.function.parameters, {
    type: 'object',
    properties: { n: { type: ['integer', 'number'] }, s: { type: 'string' } },
  });
});

test('paths under the folder of the run become relative, everywhere', () => {
  const events = (transcript() as Record<string, unknown>[]).map((e) =>
    e.kind === 'tool_call' && 'input' in e
      ? { ...e, input: { filePath: '/tmp/data/worktrees/s1/a/src/a.ts' }, output: 'read /tmp/data/worktrees/s1/a/src/a.ts' }
      : e,
  );
  const r = buildExample({
    prompt: 'Look in /tmp/data/worktrees/s1/a and /tmp/data/worktrees/s1/a/src',
    events,
    workdir: '/tmp/data/worktrees/s1/a/',
  });
  assert.ok(r.ok);
  assert.equal(r.example.messages[0]!.content, 'Look in . and src');
  const call = r.example.messages[1]!;
  assert.equal(call.role === 'assistant' && call.tool_calls![0]!.function.arguments, '{"filePath":"src/a.ts"}');
  assert.equal(r.example.messages[2]!.content, 'read src/a.ts');
  assert.ok(!JSON.stringify(r).includes('/tmp/data'));
});

test('malformed transcript lines are ignored, not fatal', () => {
  const events = [null, 42, 'text', { kind: 'tool_call' }, { kind: 'unknown_kind', seq: 0 }, ...transcript()];
  const r = buildExample({ prompt: 'p', events });
  assert.ok(r.ok);
  assert.equal(r.example.messages.length, 4);
});

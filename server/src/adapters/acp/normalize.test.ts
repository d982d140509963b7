import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentEventLog } from '../../domain/agentEvent';
import { UpdateNormalizer } from './normalize';
import { chooseOption, permissionOfKind, toPermissionRequest } from './permissions';

const events = (n: UpdateNormalizer, u: unknown) => {
  const r = n.apply(u);
  assert.ok('events' in r, JSON.stringify(r));
  return r.events;
};

test('chunks get stable keys by turn, role, message and offset; text is capped', () => {
  const log = new AgentEventLog(() => 't');
  const n = new UpdateNormalizer(log, 't1', { maxChunkChars: 5, maxToolOutputChars: 5 });
  const a = events(n, { sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: 'hi ' }, messageId: 'm1' });
  const b = events(n, { sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: 'there' }, messageId: 'm1' });
  const c = events(n, { sessionUpdate: 'agent_thought_chunk', content: { type: 'text', text: 'hmm, long thought' } });
  assert.deepEqual(
    [...a, ...b, ...c].map((e) => [e.key, e.kind === 'message_chunk' && e.role]),
    [
      ['text:t1:assistant:m1@0', 'assistant'],
      ['text:t1:assistant:m1@3', 'assistant'],
      ['text:t1:thought:@0', 'thought'],
    ],
  );
  assert.match(c[0].kind === 'message_chunk' ? c[0].text : '', /^hmm, \n\[… 12 more characters not kept\]$/);
});

test('tool calls merge partial updates and only move forward', () => {
  const n = new UpdateNormalizer(new AgentEventLog(), 't1');
  events(n, {
    sessionUpdate: 'tool_call',
    toolCallId: 'c1',
    title: 'Write a',
    kind: 'edit',
    status: 'pending',
    locations: [{ path: '/r/a' }],
  });
  const upd = events(n, {
    sessionUpdate: 'tool_call_update',
    toolCallId: 'c1',
    status: 'completed',
    content: [{ type: 'diff', path: '/r/a', newText: 'x' }],
  });
  assert.equal(upd.length, 1);
  const e = upd[0];
  assert.ok(e.kind === 'tool_call');
  assert.deepEqual(
    [e.title, e.toolName, e.status, e.locations, e.output],
    ['Write a', 'edit', 'completed', [{ path: '/r/a' }], 'diff /r/a'],
  );
  assert.deepEqual(events(n, { sessionUpdate: 'tool_call_update', toolCallId: 'c1', status: 'in_progress' }), [], 'no going back');
  assert.deepEqual(events(n, { sessionUpdate: 'available_commands_update', availableCommands: [] }), []);
  assert.deepEqual(events(n, { sessionUpdate: 'some_future_kind' }), []);
});

test('malformed updates are reported, not thrown', () => {
  const n = new UpdateNormalizer(new AgentEventLog(), 't1');
  for (const [u, re] of [
    [42, /not an object/],
    [{}, /sessionUpdate is missing/],
    [{ sessionUpdate: 'agent_message_chunk' }, /content is missing/],
    [{ sessionUpdate: 'tool_call', title: 'x' }, /toolCallId is missing/],
    [{ sessionUpdate: 'tool_call_update', toolCallId: 'a', status: 'done' }, /status "done"/],
    [{ sessionUpdate: 'plan', entries: 'x' }, /entries is not a list/],
  ] as [unknown, RegExp][]) {
    const r = n.apply(u);
    assert.ok('malformed' in r && re.test(r.malformed), JSON.stringify(r));
  }
});

test('permission requests map ACP kinds onto the policy names, with paths, commands or URLs', () => {
  assert.deepEqual(['read', 'edit', 'delete', 'move', 'execute', 'fetch', 'search', 'think', undefined].map(permissionOfKind), [
    'read',
    'edit',
    'edit',
    'edit',
    'bash',
    'webfetch',
    'grep',
    'think',
    'other',
  ]);
  const n = new UpdateNormalizer(new AgentEventLog(), 't1');
  const edit = n.noteToolCall({
    toolCallId: 'e',
    kind: 'edit',
    content: [{ type: 'diff', path: '/r/b' }],
    rawInput: { filepath: '/r/c' },
  })!;
  assert.deepEqual(toPermissionRequest('task', '/r', edit).patterns, ['/r/b', '/r/c']);
  const bash = n.noteToolCall({ toolCallId: 'b', kind: 'execute', rawInput: { command: 'ls -la' } })!;
  assert.deepEqual(toPermissionRequest('task', '/r', bash).patterns, ['ls -la']);
  const argv = n.noteToolCall({ toolCallId: 'v', kind: 'execute', rawInput: { command: ['git', 'status'] } })!;
  assert.deepEqual(toPermissionRequest('task', '/r', argv).patterns, ['git status']);
  const blind = n.noteToolCall({ toolCallId: 'x', kind: 'execute', title: 'Run something' })!;
  assert.deepEqual(toPermissionRequest('task', '/r', blind).patterns, [], 'no command line: the policy asks');
  const opts = [
    { optionId: 'a', kind: 'allow_always' },
    { optionId: 'o', kind: 'allow_once' },
    { optionId: 'r', kind: 'reject_once' },
  ];
  assert.equal(chooseOption(opts, 'allow'), 'o');
  assert.equal(chooseOption(opts, 'deny'), 'r');
  assert.equal(chooseOption([{ optionId: 'a', kind: 'allow_always' }], 'allow'), 'a');
  assert.equal(chooseOption([{ optionId: 'a', kind: 'allow_always' }], 'deny'), undefined);
});

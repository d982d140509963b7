import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../errors';
import { goodRow } from './testData';
import { parseExamplesJsonl, validateExample } from './validate';

const fails = (raw: unknown, field: string, message: RegExp) => {
  assert.throws(
    () => validateExample(raw, 7),
    (e: unknown) => {
      assert.ok(DomainError.is(e, 'bad_input'), String(e));
      assert.deepEqual(e.data, { row: 7, field });
      assert.match(e.message, new RegExp(`^row 7: ${field.replace(/[[\]().]/g, '\\$&')}: `));
      assert.match(e.message, message);
      return true;
    },
  );
};

test('a good row is normalised: CRLF, trailing whitespace, compact tool arguments', () => {
  const ex = validateExample(goodRow(), 1);
  assert.equal(ex.messages[1]!.content, 'List the files.');
  const a = ex.messages[2]!;
  assert.equal(a.role === 'assistant' && a.tool_calls![0]!.function.arguments, '{"command":"ls"}');
  assert.equal(ex.tools.length, 1);
});

test('wrong roles, missing content and unknown fields name the row and the field', () => {
  const r = goodRow();
  (r.messages[1] as { role: string }).role = 'human';
  fails(r, 'messages[1].role', /must be one of system, user, assistant, tool, got "human"/);
  const r2 = goodRow();
  (r2.messages[1] as { content: unknown }).content = 42;
  fails(r2, 'messages[1].content', /must be a string, got 42/);
  const r3 = goodRow();
  (r3.messages[4] as Record<string, unknown>).name = 'x';
  fails(r3, 'messages[4].name', /unknown field/);
  fails({ messages: [] }, 'messages', /must not be empty/);
  fails('nope', '(row)', /must be a JSON object/);
  const r4 = goodRow();
  (r4.messages[4] as Record<string, unknown>).weight = 2;
  fails(r4, 'messages[4].weight', /must be 0 or 1/);
});

test('tool arguments that are not JSON, or not an object, are refused', () => {
  const r = goodRow();
  (r.messages[2] as { tool_calls: { function: { arguments: string } }[] }).tool_calls[0]!.function.arguments = '{"command": ls}';
  fails(r, 'messages[2].tool_calls[0].function.arguments', /is not valid JSON/);
  const r2 = goodRow();
  (r2.messages[2] as { tool_calls: { function: { arguments: string } }[] }).tool_calls[0]!.function.arguments = '[1,2]';
  fails(r2, 'messages[2].tool_calls[0].function.arguments', /must be a JSON object/);
  const r3 = goodRow();
  (r3.messages[2] as { tool_calls: { function: { name: string } }[] }).tool_calls[0]!.function.name = 'rm';
  fails(r3, 'messages[2].tool_calls[0].function.name', /not one of the declared tools/);
});

test('truncated conversations are refused: ending on a tool result, or a call never answered', () => {
  const r = goodRow();
  r.messages.pop();
  fails(r, 'messages[3].role', /must end with an assistant message, not tool \(truncated turn\)/);
  const r2 = goodRow();
  r2.messages.splice(3, 1);
  fails(r2, 'messages[2].tool_calls', /tool call "c1" has no tool message answering it/);
  const r3 = goodRow();
  (r3.messages[3] as { tool_call_id: string }).tool_call_id = 'zz';
  fails(r3, 'messages[3].tool_call_id', /"zz" answers no earlier unanswered tool call/);
  fails({ messages: [{ role: 'assistant', content: 'hi' }] }, 'messages[0].role', /must start with a user message/);
});

test('parseExamplesJsonl is all or nothing and names the line', () => {
  const good = JSON.stringify(goodRow());
  assert.equal(parseExamplesJsonl(`${good}\n\n${good}\n`).length, 2);
  assert.throws(() => parseExamplesJsonl(`${good}\n{"messages": [}\n`), /^DomainError: row 2: \(row\): is not valid JSON/);
  const bad = goodRow();
  (bad.messages[0] as { role: string }).role = 'robot';
  assert.throws(
    () => parseExamplesJsonl(`${good}\n${good}\n${JSON.stringify(bad)}`),
    /^DomainError: row 3: messages\[0\]\.role: must be one of/,
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../errors';
import { checkTrainingRows } from './trainingRows';

const row = (messages: unknown) => JSON.stringify({ messages });
const good = row([
  { role: 'user', content: 'hi' },
  { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'read', arguments: '{"path":"a"}' } }] },
  { role: 'tool', tool_call_id: 'c', content: 'x' },
  { role: 'assistant', content: 'done', weight: 1 },
]);

const refused = (text: string, pattern: RegExp) =>
  assert.throws(
    () => checkTrainingRows(text, 'd/openai/train.jsonl'),
    (e: unknown) => DomainError.is(e, 'bad_input') && pattern.test(e.message) && e.message.startsWith('dataset d/openai/train.jsonl:'),
  );

test('well-formed chat rows are counted; blank lines skipped', () => {
  assert.equal(checkTrainingRows(`${good}\n\n${good}\n`, 'f'), 2);
  assert.equal(checkTrainingRows('', 'f'), 0);
});

test('a bad row is refused naming the file, the line and what is wrong', () => {
  refused(`${good}\n{not json`, /:2: is not JSON/);
  refused(row([]), /:1: messages must be a non-empty list/);
  refused(row([{ role: 'robot', content: 'x' }]), /messages\[0\]\.role "robot" is not one of/);
  refused(row([{ role: 'user', content: 'hi' }]), /no assistant turn/);
  refused(
    row([
      { role: 'user', content: 3 },
      { role: 'assistant', content: 'a' },
    ]),
    /messages\[0\]\.content must be text/,
  );
  refused(
    row([{ role: 'assistant', content: null, tool_calls: [{ function: { name: 'read', arguments: '{path' } }] }]),
    /tool_calls\[0\]\.function\.arguments is not JSON/,
  );
});

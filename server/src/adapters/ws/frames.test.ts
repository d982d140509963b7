import assert from 'node:assert/strict';
import { test } from 'node:test';
import { invalidRequestCode, parseErrorCode, parseFrame } from './frames';

test('a request, a notification and a response pass', () => {
  for (const m of [
    { jsonrpc: '2.0', id: 1, method: 'server/status', params: {} },
    { jsonrpc: '2.0', method: 'x/didY' },
    { jsonrpc: '2.0', id: 'a', result: null },
    { jsonrpc: '2.0', id: 3, error: { code: 1, message: 'no' } },
  ])
    assert.equal(parseFrame(JSON.stringify(m)).kind, 'message', JSON.stringify(m));
});

test('not JSON is a parse error; other shapes are invalid requests with their id when usable', () => {
  const bad = parseFrame('{"jsonrpc":');
  assert.equal(bad.kind === 'reject' && bad.reply.error.code, parseErrorCode);
  const cases: [string, string | number | null][] = [
    ['[]', null],
    ['42', null],
    ['null', null],
    ['{"jsonrpc":"1.0","id":7,"method":"a"}', 7],
    ['{"jsonrpc":"2.0","id":7,"method":5}', 7],
    ['{"jsonrpc":"2.0","id":{},"method":"a"}', null],
    ['{"jsonrpc":"2.0","id":8,"method":"a","params":3}', 8],
    ['{"jsonrpc":"2.0","id":9}', 9],
    ['{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"limit":-1}}', null],
  ];
  for (const [text, id] of cases) {
    const f = parseFrame(text);
    assert.equal(f.kind, 'reject', text);
    if (f.kind === 'reject') {
      assert.equal(f.reply.error.code, invalidRequestCode, text);
      assert.equal(f.reply.id, id, text);
    }
  }
});

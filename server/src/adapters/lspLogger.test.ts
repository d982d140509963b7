import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, type LineSink } from './lspLogger';

const secret = 'sk-abcdefghijklmnopqrstuvwx0123';

test('every level of a server log line is redacted before it reaches the sink', () => {
  const lines: string[] = [];
  const sink: LineSink = { error: (l) => lines.push(l), warn: (l) => lines.push(l), info: (l) => lines.push(l), log: (l) => lines.push(l) };
  const logger = createLogger(sink, () => 'debug');
  for (const level of ['error', 'warn', 'info', 'debug'] as const)
    logger[level](`${level}: calling the model with ${secret} and Authorization: Bearer abcdefgh12345678`);
  assert.equal(lines.length, 4);
  for (const l of lines) {
    assert.ok(!l.includes(secret) && !l.includes('abcdefgh12345678'), `no secret in ${l}`);
    assert.match(l, /\[REDACTED\]/);
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Example } from './example';
import type { TextFinding } from './pii';
import { redactExample, textSegments } from './redact';
import { validateExample } from './validate';

/** A tiny scanner for `TOKEN_` words, standing in for the secretlint adapter's contract (tested in adapters/secrets). */
const scan = async (text: string): Promise<TextFinding[]> =>
  [...text.matchAll(/TOKEN_[A-Z0-9]+/g)].map((m) => ({
    kind: '@secretlint/secretlint-rule-demo',
    start: m.index,
    end: m.index + m[0].length,
  }));

const example = (): Example =>
  validateExample(
    {
      messages: [
        { role: 'user', content: 'Deploy with TOKEN_ABC123 and mail ops@example.com' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'c1',
              type: 'function',
              function: { name: 'bash', arguments: JSON.stringify({ command: 'curl -H "x: TOKEN_XYZ" http://10.1.2.3/', env: ['A="q"'] }) },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'ok from 10.1.2.3' },
        { role: 'assistant', content: 'Done.' },
      ],
    },
    1,
  );

test('segments name every text, including strings inside tool arguments', () => {
  assert.deepEqual(
    textSegments(example()).map((s) => s.field),
    [
      'messages[0].content',
      'messages[1].tool_calls[0].function.arguments.command',
      'messages[1].tool_calls[0].function.arguments.env[0]',
      'messages[2].content',
      'messages[3].content',
    ],
  );
});

test('secrets and PII are replaced, tool arguments stay valid JSON, and each redaction is recorded by place only', async () => {
  const { example: out, redactions } = await redactExample(example(), scan, true);
  const text = JSON.stringify(out);
  for (const gone of ['TOKEN_ABC123', 'TOKEN_XYZ', 'ops@example.com', '10.1.2.3']) assert.ok(!text.includes(gone), gone);
  assert.equal(out.messages[0]!.content, 'Deploy with [REDACTED:demo] and mail [REDACTED:email]');
  const call = out.messages[1]!.role === 'assistant' ? out.messages[1]!.tool_calls![0]! : undefined;
  assert.deepEqual(JSON.parse(call!.function.arguments), { command: 'curl -H "x: [REDACTED:demo]" http://[REDACTED:ip]/', env: ['A="q"'] });
  assert.deepEqual(
    redactions.map((r) => [r.kind, r.field]),
    [
      ['demo', 'messages[0].content'],
      ['email', 'messages[0].content'],
      ['demo', 'messages[1].tool_calls[0].function.arguments.command'],
      ['ip', 'messages[1].tool_calls[0].function.arguments.command'],
      ['ip', 'messages[2].content'],
    ],
  );
  const r0 = redactions[0]!;
  assert.equal(out.messages[0]!.content!.slice(r0.start, r0.end), '[REDACTED:demo]');
  assert.ok(!JSON.stringify(redactions).includes('TOKEN_'));
});

test('nothing to redact returns the same example', async () => {
  const ex = validateExample(
    {
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
      ],
    },
    1,
  );
  const r = await redactExample(ex, scan, true);
  assert.equal(r.example, ex);
  assert.deepEqual(r.redactions, []);
});

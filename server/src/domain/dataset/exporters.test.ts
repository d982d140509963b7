import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CuratedExample } from './example';
import { exportDataset, exportFormats, type ExportFile } from './exporters';
import { curate, type Candidate } from './pipeline';
import { goodRow, provenance } from './testData';
import { validateExample } from './validate';

async function curated(): Promise<CuratedExample[]> {
  const c: Candidate[] = [];
  for (let i = 0; i < 12; i++) {
    const row = goodRow();
    row.messages[1] = { role: 'user', content: `Task ${i}: list the files of package number ${i} and say how many there are.` };
    row.messages[4] = { role: 'assistant', content: `Package ${i} has ${i + 2} files.` };
    if (i === 3) {
      // Two calls at once (parallel), one of them answered by a failure note.
      (row.messages[2] as { tool_calls: unknown[] }).tool_calls.push({
        id: 'c2',
        type: 'function',
        function: { name: 'bash', arguments: '{"command":"pwd"}' },
      });
      row.messages.splice(4, 0, { role: 'tool', tool_call_id: 'c2', content: '/repo' });
    }
    c.push({ source: `run-${i}`, provenance: provenance(`run-${i}`), row });
  }
  const r = await curate(c, { validationFraction: 0.25 }, { countTokens: (t) => t.length });
  assert.equal(r.examples.length, 12);
  return r.examples;
}

const lines = (f: ExportFile) => {
  assert.ok(f.content === '' || f.content.endsWith('\n'), `${f.path} ends with a newline`);
  return f.content
    .split('\n')
    .filter(Boolean)
    .map((l, i) => ({ line: i + 1, row: JSON.parse(l) as Record<string, unknown> }));
};
const file = (files: ExportFile[], path: string) => files.find((f) => f.path === path)!;

test('OpenAI: every line is {messages, tools, parallel_tool_calls} with weight on assistant turns and valid tool calls', async () => {
  const ex = await curated();
  const files = exportDataset(ex, 'openai');
  assert.deepEqual(
    files.map((f) => f.path),
    ['train.jsonl', 'validation.jsonl'],
  );
  let n = 0;
  for (const f of files)
    for (const { line, row } of lines(f)) {
      n++;
      assert.deepEqual(Object.keys(row).sort(), ['messages', 'parallel_tool_calls', 'tools'], `${f.path}:${line}`);
      const { parallel_tool_calls: parallel, ...rest } = row;
      const v = validateExample(rest, `${f.path}:${line}`);
      for (const m of v.messages) if (m.role === 'assistant') assert.equal(m.weight, 1);
      const calls = v.messages.flatMap((m) => (m.role === 'assistant' ? (m.tool_calls ?? []) : []));
      assert.equal(
        parallel,
        v.messages.some((m) => m.role === 'assistant' && (m.tool_calls?.length ?? 0) > 1),
      );
      for (const c of calls) assert.equal(typeof JSON.parse(c.function.arguments), 'object');
    }
  assert.equal(n, 12);
  assert.equal(lines(file(files, 'validation.jsonl')).length, ex.filter((e) => e.split === 'validation').length);
  assert.ok(files.flatMap(lines).some(({ row }) => row.parallel_tool_calls === true));
});

test('ShareGPT: conversations of {from, value} with function_call / observation turns, and the axolotl chat_template stanza', async () => {
  const files = exportDataset(await curated(), 'sharegpt');
  assert.deepEqual(
    files.map((f) => f.path),
    ['train.jsonl', 'validation.jsonl', 'axolotl.yaml'],
  );
  const froms = new Set<string>();
  for (const f of files.filter((x) => x.path.endsWith('.jsonl')))
    for (const { line, row } of lines(f)) {
      assert.deepEqual(Object.keys(row).sort(), ['conversations', 'tools'], `${f.path}:${line}`);
      const conv = row.conversations as { from: string; value: string }[];
      assert.ok(Array.isArray(conv) && conv.length >= 3);
      for (const t of conv) {
        assert.deepEqual(Object.keys(t).sort(), ['from', 'value']);
        assert.ok(['system', 'human', 'gpt', 'function_call', 'observation'].includes(t.from), t.from);
        assert.equal(typeof t.value, 'string');
        froms.add(t.from);
        if (t.from === 'function_call') {
          const call = JSON.parse(t.value) as { name: string; arguments: unknown };
          assert.equal(call.name, 'bash');
          assert.equal(typeof call.arguments, 'object');
        }
      }
      assert.ok(['gpt', 'function_call'].includes(conv[conv.length - 1]!.from));
      const tools = JSON.parse(row.tools as string) as { name: string; parameters: unknown }[];
      assert.equal(tools[0]!.name, 'bash');
    }
  assert.deepEqual([...froms].sort(), ['function_call', 'gpt', 'human', 'observation', 'system']);
  const yaml = file(files, 'axolotl.yaml').content;
  for (const needle of [
    'type: chat_template',
    'field_messages: conversations',
    'roles_to_train: [assistant]',
    'path: train.jsonl',
    'path: validation.jsonl',
  ])
    assert.ok(yaml.includes(needle), needle);
});

test('mlx-lm: train.jsonl and valid.jsonl rows in the tools format, without weight', async () => {
  const ex = await curated();
  const files = exportDataset(ex, 'mlx');
  assert.deepEqual(
    files.map((f) => f.path),
    ['train.jsonl', 'valid.jsonl'],
  );
  let n = 0;
  for (const f of files)
    for (const { line, row } of lines(f)) {
      n++;
      assert.deepEqual(Object.keys(row).sort(), ['messages', 'tools']);
      assert.ok(!JSON.stringify(row).includes('"weight"'));
      validateExample(row, `${f.path}:${line}`);
    }
  assert.equal(n, ex.length);
});

test('every format of an empty dataset is empty files, not missing ones', () => {
  for (const format of exportFormats) for (const f of exportDataset([], format)) if (f.path.endsWith('.jsonl')) assert.equal(f.content, '');
});

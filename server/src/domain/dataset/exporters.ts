/**
 * Exporters: pure functions from curated examples to file contents (the service writes them).
 * - `openai`: OpenAI chat-with-tools fine-tuning JSONL, `{messages, tools?, parallel_tool_calls}` per line,
 *   `weight` (0|1) on every assistant message (1 unless the example set it), `train.jsonl` + `validation.jsonl`.
 * - `sharegpt`: ShareGPT rows `{conversations: [{from, value}], tools?}` with from = system | human | gpt |
 *   function_call | observation (tool calls and results as JSON text), plus `axolotl.yaml`, the dataset
 *   stanza for axolotl's `chat_template` type (training on gpt / function_call turns only).
 * - `mlx`: mlx-lm's data folder, `train.jsonl` + `valid.jsonl`, rows in its `tools` format
 *   (`{messages, tools}`, OpenAI shape, no `weight`).
 * Rows follow the examples' order; every file ends with a newline.
 */
import type { ChatMessage, CuratedExample } from './example';

export type ExportFormat = 'openai' | 'sharegpt' | 'mlx';
export const exportFormats: readonly ExportFormat[] = ['openai', 'sharegpt', 'mlx'];

export interface ExportFile {
  path: string;
  content: string;
}

const jsonl = (rows: readonly unknown[]): string => rows.map((r) => `${JSON.stringify(r)}\n`).join('');
const sides = (examples: readonly CuratedExample[]) => ({
  train: examples.filter((e) => e.split === 'train'),
  validation: examples.filter((e) => e.split === 'validation'),
});

function openAiRow(e: CuratedExample): Record<string, unknown> {
  const messages = e.messages.map((m) => (m.role === 'assistant' ? { ...m, weight: m.weight ?? 1 } : m));
  return {
    messages,
    ...(e.tools.length ? { tools: e.tools } : {}),
    parallel_tool_calls: e.messages.some((m) => m.role === 'assistant' && (m.tool_calls?.length ?? 0) > 1),
  };
}

function mlxRow(e: CuratedExample): Record<string, unknown> {
  const messages = e.messages.map((m): ChatMessage => {
    if (m.role !== 'assistant' || m.weight === undefined) return m;
    const { weight: _weight, ...rest } = m;
    return rest;
  });
  return { messages, ...(e.tools.length ? { tools: e.tools } : {}) };
}

export interface ShareGptTurn {
  from: 'system' | 'human' | 'gpt' | 'function_call' | 'observation';
  value: string;
}

function shareGptRow(e: CuratedExample): Record<string, unknown> {
  const conversations: ShareGptTurn[] = [];
  for (const m of e.messages) {
    if (m.role === 'system') conversations.push({ from: 'system', value: m.content });
    else if (m.role === 'user') conversations.push({ from: 'human', value: m.content });
    else if (m.role === 'tool') conversations.push({ from: 'observation', value: m.content });
    else {
      if (m.content) conversations.push({ from: 'gpt', value: m.content });
      for (const c of m.tool_calls ?? [])
        conversations.push({
          from: 'function_call',
          value: JSON.stringify({ name: c.function.name, arguments: JSON.parse(c.function.arguments) }),
        });
    }
  }
  return { conversations, ...(e.tools.length ? { tools: JSON.stringify(e.tools.map((t) => t.function)) } : {}) };
}

const axolotlStanza = (path: string) =>
  [
    `  - path: ${path}`,
    '    ds_type: json',
    '    type: chat_template',
    '    field_messages: conversations',
    '    message_property_mappings:',
    '      role: from',
    '      content: value',
    '    roles:',
    '      system: [system]',
    '      user: [human]',
    '      assistant: [gpt, function_call]',
    '      tool: [observation]',
    '    roles_to_train: [assistant]',
  ].join('\n');

export const axolotlYaml = (): string =>
  [
    '# Dataset stanzas for axolotl (type: chat_template over ShareGPT rows); merge into a training config.',
    'datasets:',
    axolotlStanza('train.jsonl'),
    'test_datasets:',
    axolotlStanza('validation.jsonl'),
    '',
  ].join('\n');

export function exportDataset(examples: readonly CuratedExample[], format: ExportFormat): ExportFile[] {
  const { train, validation } = sides(examples);
  switch (format) {
    case 'openai':
      return [
        { path: 'train.jsonl', content: jsonl(train.map(openAiRow)) },
        { path: 'validation.jsonl', content: jsonl(validation.map(openAiRow)) },
      ];
    case 'sharegpt':
      return [
        { path: 'train.jsonl', content: jsonl(train.map(shareGptRow)) },
        { path: 'validation.jsonl', content: jsonl(validation.map(shareGptRow)) },
        { path: 'axolotl.yaml', content: axolotlYaml() },
      ];
    case 'mlx':
      return [
        { path: 'train.jsonl', content: jsonl(train.map(mlxRow)) },
        { path: 'valid.jsonl', content: jsonl(validation.map(mlxRow)) },
      ];
  }
}

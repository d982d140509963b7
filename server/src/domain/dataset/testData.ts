/** Rows and transcripts shared by the dataset tests (plain data, no doubles). */
import type { Provenance } from './example';

export const goodRow = () => ({
  messages: [
    { role: 'system', content: 'You are a coding agent.' },
    { role: 'user', content: 'List the files.\r\n' },
    {
      role: 'assistant',
      content: 'Let me look.',
      tool_calls: [{ id: 'c1', type: 'function', function: { name: 'bash', arguments: '{ "command": "ls" }' } }],
    },
    { role: 'tool', tool_call_id: 'c1', content: 'a.ts\nb.ts' },
    { role: 'assistant', content: 'There are two files: a.ts and b.ts.' },
  ],
  tools: [{ type: 'function', function: { name: 'bash', parameters: { type: 'object', properties: { command: { type: 'string' } } } } }],
});

export const provenance = (runId: string, over: Partial<Provenance> = {}): Provenance => ({
  sessionId: `s-${runId}`,
  runId,
  repo: `/repos/${runId}`,
  agent: 'opencode',
  model: 'demo/scripted',
  outcome: 'succeeded',
  applied: true,
  ...over,
});

let seq = 0;
const ev = (body: Record<string, unknown>, key?: string) => ({
  seq: ++seq,
  at: '2026-12-05T00:00:00.000Z',
  key: key ?? `k${seq}`,
  ...body,
});

/** A transcript of one finished run: text, a tool call through its statuses, more text, usage, finished. */
export function transcript(opts: { finished?: string | null; toolStatus?: string; text?: string } = {}) {
  const events = [
    ev({ kind: 'message_chunk', role: 'thought', text: 'thinking…' }),
    ev({ kind: 'message_chunk', role: 'assistant', text: 'I will ' }),
    ev({ kind: 'message_chunk', role: 'assistant', text: 'read the file.' }),
    ev({ kind: 'tool_call', id: 't1', title: 'read', toolName: 'read', status: 'pending' }),
    ev({ kind: 'tool_call', id: 't1', title: 'read', toolName: 'read', status: 'in_progress', input: { filePath: 'src/a.ts' } }),
  ];
  if (opts.toolStatus !== 'in_progress')
    events.push(
      ev({
        kind: 'tool_call',
        id: 't1',
        title: 'read',
        toolName: 'read',
        status: opts.toolStatus ?? 'completed',
        input: { filePath: 'src/a.ts' },
        ...(opts.toolStatus === 'failed' ? {} : { output: 'export const a = 1;' }),
      }),
    );
  events.push(ev({ kind: 'message_chunk', role: 'assistant', text: opts.text ?? 'The file exports a = 1.' }));
  events.push(ev({ kind: 'usage', inputTokens: 10, outputTokens: 5, cost: 0 }));
  if (opts.finished !== null) events.push(ev({ kind: 'finished', stopReason: opts.finished ?? 'end_turn' }));
  return events;
}

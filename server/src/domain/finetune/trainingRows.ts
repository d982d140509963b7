/**
 * Checks a dataset version's OpenAI chat JSONL before a job is queued: every line a JSON object with a
 * non-empty `messages` list of known roles, string (or null with tool calls) content, tool call arguments
 * that parse as JSON, and at least one assistant turn to learn from. Pure; the first problem is a
 * `bad_input` naming the file and line.
 */
import { DomainError } from '../errors';

const roles = new Set(['system', 'user', 'assistant', 'tool']);

const bad = (file: string, line: number, problem: string): never => {
  throw new DomainError('bad_input', `dataset ${file}:${line}: ${problem}`, { field: 'dataset', file, line });
};

/** The number of examples in `text` (blank lines skipped); throws on the first bad row. */
export function checkTrainingRows(text: string, file: string): number {
  let count = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (!raw.trim()) continue;
    const n = i + 1;
    let row: unknown;
    try {
      row = JSON.parse(raw);
    } catch {
      return bad(file, n, 'is not JSON');
    }
    if (!row || typeof row !== 'object' || Array.isArray(row)) return bad(file, n, 'is not a JSON object');
    const messages = (row as { messages?: unknown }).messages;
    if (!Array.isArray(messages) || messages.length === 0) return bad(file, n, 'messages must be a non-empty list');
    let learnable = false;
    messages.forEach((m: unknown, k) => {
      if (!m || typeof m !== 'object') return bad(file, n, `messages[${k}] is not an object`);
      const { role, content, tool_calls: calls } = m as { role?: unknown; content?: unknown; tool_calls?: unknown };
      if (typeof role !== 'string' || !roles.has(role))
        return bad(file, n, `messages[${k}].role ${JSON.stringify(role)} is not one of system, user, assistant, tool`);
      if (typeof content !== 'string' && !(content === null && Array.isArray(calls)))
        return bad(file, n, `messages[${k}].content must be text`);
      if (calls !== undefined) {
        if (role !== 'assistant' || !Array.isArray(calls))
          return bad(file, n, `messages[${k}].tool_calls is only a list on assistant turns`);
        calls.forEach((c: unknown, j) => {
          const args = (c as { function?: { arguments?: unknown } } | null)?.function?.arguments;
          try {
            if (typeof args !== 'string') throw new Error();
            JSON.parse(args);
          } catch {
            bad(file, n, `messages[${k}].tool_calls[${j}].function.arguments is not JSON`);
          }
        });
      }
      if (role === 'assistant') learnable = true;
    });
    if (!learnable) return bad(file, n, 'has no assistant turn to learn from');
    count++;
  }
  return count;
}

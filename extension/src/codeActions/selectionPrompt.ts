/**
 * The prompt an agent gets from code in the editor: which file, which lines, the text itself and, for a
 * quick fix, the diagnostic. Pure: the code-action provider and the command hand it plain values.
 */

export type SelectionIntent = 'send' | 'tests' | 'explain' | 'fix';

export interface Position0 {
  /** 0-based, as VS Code counts. */
  line: number;
  character: number;
}

export interface SelectionDiagnostic {
  message: string;
  severity: 'error' | 'warning' | 'information' | 'hint';
  source?: string;
  code?: string;
}

export interface SelectionContext {
  /** Path relative to the workspace folder (forward slashes). */
  file: string;
  languageId: string;
  start: Position0;
  end: Position0;
  text: string;
  diagnostic?: SelectionDiagnostic;
  /** What the user typed (Send to Agent…). */
  instruction?: string;
}

/** Longer selections are cut: a prompt is not a place for whole files (the agent can read them). */
export const maxSelectionChars = 20_000;

const asks: Record<SelectionIntent, string> = {
  send: 'Do what the instruction below says with this code.',
  tests:
    "Write tests for this code. Follow the project's existing test framework and layout, put the tests beside the code's existing tests, and run them if you can.",
  explain: 'Explain what this code does, why, and anything surprising in it. Do not change any file.',
  fix: 'Fix the problem the diagnostic reports, with the smallest change that is right. Keep the rest of the code as it is.',
};

/** "lines 3–5" or "line 3, columns 5–12" (1-based, as editors show them). */
export function describeRange(start: Position0, end: Position0): string {
  // A selection that ends at column 0 of the next line covers whole lines only up to the previous one.
  const lastLine = end.line > start.line && end.character === 0 ? end.line - 1 : end.line;
  if (lastLine === start.line) {
    return end.line === start.line && end.character > start.character
      ? `line ${start.line + 1}, columns ${start.character + 1}–${end.character}`
      : `line ${start.line + 1}`;
  }
  return `lines ${start.line + 1}–${lastLine + 1}`;
}

/** A fence longer than any run of backticks in `text`, so the text cannot close it. */
function fenceFor(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  return '`'.repeat(Math.max(3, longest + 1));
}

export function selectionPrompt(intent: SelectionIntent, c: SelectionContext): string {
  const cut = c.text.length > maxSelectionChars;
  const text = cut ? c.text.slice(0, maxSelectionChars) : c.text;
  const fence = fenceFor(text);
  const lines = [`File: ${c.file} (${describeRange(c.start, c.end)})`];
  if (c.diagnostic) {
    const d = c.diagnostic;
    const origin = [d.source, d.code].filter(Boolean).join(' ');
    lines.push(`Diagnostic (${d.severity}${origin ? `, ${origin}` : ''}): ${d.message}`);
  }
  lines.push(
    '',
    `${cut ? `The code (first ${maxSelectionChars} characters of the selection)` : 'The code'}:`,
    `${fence}${c.languageId}`,
    text,
    fence,
    '',
    asks[intent],
  );
  if (c.instruction?.trim()) lines.push('', `Instruction: ${c.instruction.trim()}`);
  return lines.join('\n');
}

/** The code action's title for a diagnostic: its message on one line, cut to fit a menu. */
export function fixTitle(message: string, max = 60): string {
  const one = message.replace(/\s+/g, ' ').trim();
  return `Ask an Agent to Fix: ${one.length > max ? `${one.slice(0, max - 1)}…` : one}`;
}

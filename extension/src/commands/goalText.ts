/**
 * The text side of writing a goal in an editor (pure, no `vscode`): the help comment a goal document
 * starts with, reading the goal back out of it, mapping the planner's line numbers to editor lines, and
 * repairing a task list that a one-line input flattened.
 */

export const goalHelp = [
  '<!-- Write the goal for a new session below, then press ▶ in the editor title (or Ctrl+Enter).',
  '     One line per task makes a task list, e.g.',
  '       - [fix] Fix add() in src/math.js {files: src/math.js}: make add(0.1, 0.2) round correctly',
  '       - [tests] Test add() (after: fix) {files: test/math.test.js}',
  '     This comment is ignored. Close the editor to give up. -->',
  '',
  '',
].join('\n');

/** The goal text of a goal document: the leading help comment dropped; `offset` = editor lines before the goal's line 1. */
export function goalFromDocument(text: string): { goal: string; offset: number } {
  const m = /^\s*<!--[\s\S]*?-->/.exec(text);
  const rest = m ? text.slice(m[0].length) : text;
  const removed = m ? m[0] : '';
  const leading = /^\s*/.exec(rest)?.[0] ?? '';
  const offset = (removed.match(/\n/g)?.length ?? 0) + (leading.match(/\n/g)?.length ?? 0);
  return { goal: rest.trim(), offset };
}

/** Error messages of the planner say `line N` of the goal; in the editor that line is N + offset. */
export const editorLines = (message: string, offset: number): string =>
  message.replace(/\bline (\d+)\b/g, (_m, n: string) => `line ${Number(n) + offset}`);

/**
 * A task list pasted into the one-line input box arrives flattened; put each `- [id]` item back on
 * its own line. Text that is not a list (or already has lines) is returned unchanged.
 */
export function unflattenTaskList(goal: string): string {
  if (goal.includes('\n')) return goal;
  const item = /(?:^|\s)[-*]\s*\[[A-Za-z0-9_-]{1,64}\]\s/g;
  if ((goal.match(item) ?? []).length < 2) return goal;
  return goal.replace(/\s+(?=[-*]\s*\[[A-Za-z0-9_-]{1,64}\]\s)/g, '\n').trim();
}

/**
 * Where a review document comes from, as carried by its `orchestrator-review:` URI: the session, the
 * task (for a per-task review), the side and the file. Pure (no `vscode` import), so it is unit-tested;
 * `reviewProvider.ts` turns it into a `vscode.Uri`.
 *
 *   orchestrator-review:/<path>?session=<id>&task=<id>&side=base|result
 *
 * The file's path is the URI's path, so the editor tab shows its name and language.
 */
import type { FileContentView } from '../../../protocol/session';

export const reviewScheme = 'orchestrator-review';

export interface ReviewRef {
  sessionId: string;
  taskId?: string;
  side: 'base' | 'result';
  /** As `session/diff` lists it: relative, `/` between names. */
  path: string;
}

/** The URI parts of a review document (`path` starts with `/`). */
export function reviewUriParts(r: ReviewRef): { scheme: string; path: string; query: string } {
  const q = new URLSearchParams({ session: r.sessionId, ...(r.taskId ? { task: r.taskId } : {}), side: r.side });
  return { scheme: reviewScheme, path: `/${r.path}`, query: q.toString() };
}

/** The review a URI names, or undefined when it is not a well-formed review URI. */
export function parseReviewUri(u: { scheme: string; path: string; query: string }): ReviewRef | undefined {
  if (u.scheme !== reviewScheme || !u.path.startsWith('/')) return undefined;
  const q = new URLSearchParams(u.query);
  const sessionId = q.get('session');
  const side = q.get('side');
  if (!sessionId || (side !== 'base' && side !== 'result')) return undefined;
  const taskId = q.get('task') ?? undefined;
  return { sessionId, ...(taskId ? { taskId } : {}), side, path: u.path.slice(1) };
}

/** What a review document shows: the file's text, nothing for a side where it does not exist, or why its bytes are not shown. */
export function reviewText(c: FileContentView): string {
  if (c.content !== null) return c.content;
  if (!c.omitted) return '';
  const size = c.omitted.bytes >= 1024 ? `${Math.round(c.omitted.bytes / 1024)} KB` : `${c.omitted.bytes} bytes`;
  if (c.omitted.reason === 'binary') return `(binary file, ${size}: not shown)`;
  if (c.omitted.reason === 'tooLarge') return `(file too large to review here, ${size}: not shown)`;
  return '(not a file: a folder or a submodule)';
}

/** The title of the changes editor: the session's first goal line, and the task for a per-task review. */
export function reviewTitle(goal: string, task?: { planId: string; title: string }): string {
  const first = goal.split('\n').find((l) => l.trim()) ?? goal;
  const short = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
  return `Review: ${short(first.trim(), 60)}${task ? ` — [${task.planId}] ${short(task.title, 40)}` : ''}`;
}

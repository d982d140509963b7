/**
 * The plan review document, pure (no `vscode`): a session's plan as JSON with comments (the `planInput`
 * schema of `protocol/session.ts`, one key per line so every reason lands on its own line), read back
 * with its syntax errors, and where a reason's path (`tasks[1].dependsOn[0]`) is in the text.
 *
 * JSON rather than a Markdown dialect: the user edits exactly what `session/plan` takes, the server's
 * own schema and plan rules judge it (no second parser to drift), and VS Code colours and folds it.
 */
import { findNodeAtLocation, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { errorCodes, type ParamsIssue } from '../../../protocol/errors';
import type { PlanTaskInput, SessionView } from '../../../protocol/session';

/** A plan as `session/plan` takes it. */
export interface PlanDocumentInput {
  summary?: string;
  tasks: PlanTaskInput[];
}

/** A reason the document is refused, placed in the text by offsets (`end` exclusive). */
export interface TextProblem {
  start: number;
  end: number;
  message: string;
}

/** The plan a session holds, or one rebuilt from its tasks (plan ids for dependencies). */
export function planOfSession(s: SessionView): PlanDocumentInput {
  if (s.plan) return s.plan;
  const planIdOf = new Map(s.tasks.map((t) => [t.id, t.planId] as const));
  return {
    tasks: s.tasks.map((t) => ({
      id: t.planId,
      title: t.title,
      prompt: t.prompt,
      dependsOn: t.dependsOn.map((d) => planIdOf.get(d) ?? d),
      expectedFiles: t.expectedFiles,
    })),
  };
}

/** The review document's text: a comment header, then the plan as indented JSON. */
export function planToText(s: Pick<SessionView, 'id' | 'goal'>, plan: PlanDocumentInput): string {
  const goal = s.goal.split(/\r?\n/).find((l) => l.trim()) ?? '';
  const header = [
    `// Plan of session ${s.id}${goal ? `: ${goal.length > 100 ? `${goal.slice(0, 100)}…` : goal}` : ''}`,
    '// Edit titles, prompts, dependsOn (ids of other tasks), expectedFiles (paths in the repository),',
    '// estimate { tokens, minutes }, mode (write | read); add or remove tasks. Problems show as you type.',
    '// "Approve Plan" (editor title or the link above) saves this plan and runs it; closing discards it.',
  ];
  return `${header.join('\n')}\n${JSON.stringify(plan, null, 2)}\n`;
}

/** The JSON value of the document (comments allowed), or every syntax error placed in the text. */
export function readPlanText(text: string): { ok: true; value: unknown } | { ok: false; problems: TextProblem[] } {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: false, disallowComments: false });
  if (errors.length || !root)
    return {
      ok: false,
      problems: errors.length
        ? errors.map((e) => ({ start: e.offset, end: e.offset + Math.max(e.length, 1), message: `JSON: ${syntaxWords(e)}` }))
        : [{ start: 0, end: 0, message: 'JSON: the document holds no plan (expected { "tasks": [...] })' }],
    };
  return { ok: true, value: valueOf(root) };
}

function syntaxWords(e: ParseError): string {
  const code = printParseErrorCode(e.error);
  // `CommaExpected` → "comma expected"
  return code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

function valueOf(n: Node): unknown {
  if (n.type === 'object')
    return Object.fromEntries(
      (n.children ?? []).map((p) => [String(p.children?.[0]?.value), p.children?.[1] ? valueOf(p.children[1]) : null]),
    );
  if (n.type === 'array') return (n.children ?? []).map(valueOf);
  return n.value;
}

/**
 * Where a reason's path points in the text. A value is marked itself; an object or array by its key
 * (or its opening line when it has none); a path that does not exist (a missing field, an unknown key)
 * by the deepest part that does.
 */
export function rangeOfPath(text: string, path: readonly (string | number)[]): { start: number; end: number } {
  const root = parseTree(text, [], { disallowComments: false });
  if (!root) return { start: 0, end: 0 };
  let node: Node | undefined;
  for (let n = path.length; n >= 0 && !node; n--) node = findNodeAtLocation(root, [...path.slice(0, n)]);
  node ??= root;
  const key = node.parent?.type === 'property' ? node.parent.children?.[0] : undefined;
  if (node.type === 'object' || node.type === 'array') {
    if (key) return { start: key.offset, end: key.offset + key.length };
    const lineEnd = text.indexOf('\n', node.offset);
    return { start: node.offset, end: lineEnd < 0 ? node.offset + node.length : Math.min(lineEnd, node.offset + node.length) };
  }
  return { start: node.offset, end: node.offset + node.length };
}

/** `tasks[1].dependsOn[0]`: a path as a reader writes it. */
export function pathWords(path: readonly (string | number)[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${k}`)).join('') || 'plan';
}

/**
 * The plan reasons of a `session/plan` refusal (InvalidParams with `data.issues`), with paths inside the
 * plan (the `plan` prefix dropped); undefined for any other error (not a draft, server down, …).
 */
export function planIssuesOf(e: unknown): ParamsIssue[] | undefined {
  if (!e || typeof e !== 'object') return undefined;
  const { code, data } = e as { code?: unknown; data?: unknown };
  if (code !== errorCodes.invalidParams || !data || typeof data !== 'object') return undefined;
  const issues = (data as { issues?: unknown }).issues;
  if (!Array.isArray(issues)) return undefined;
  return issues.flatMap((i: unknown): ParamsIssue[] => {
    if (!i || typeof i !== 'object') return [];
    const { path, message } = i as { path?: unknown; message?: unknown };
    if (!Array.isArray(path) || typeof message !== 'string') return [];
    const keys = path.filter((k): k is string | number => typeof k === 'string' || typeof k === 'number');
    return [{ path: keys[0] === 'plan' ? keys.slice(1) : keys, message }];
  });
}

/** Each reason placed in the text, its message naming the field (`tasks[1].title: must not be empty`). */
export function placeIssues(text: string, issues: readonly ParamsIssue[]): TextProblem[] {
  return issues.map((i) => ({ ...rangeOfPath(text, i.path), message: `${pathWords(i.path)}: ${i.message}` }));
}

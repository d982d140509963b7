/**
 * The deterministic template planner (design.md §4 "Plan"): rules and templates that turn a goal into a
 * valid plan offline, with no model. Used when no planning agent is available, by tests and by the CLI.
 *
 * Explicit task-list syntax (wins over every template): when any line of the goal starts with `- [id]`,
 * the goal is read as a list of tasks, one per item:
 *
 *     - [id] Title (after: a, b) {files: src/a.ts, src/b.ts} {caps: code, tests} {tokens: 5000} {minutes: 3} {mode: read}: prompt
 *         indented lines (or any non-item lines) after an item continue its prompt
 *
 * - `id`: 1–64 letters, digits, `-`, `_`. `*` works as the bullet too.
 * - `(after: a, b)`: dependencies by id. `{files: …}`: the lease request (globs, comma-separated).
 *   `{caps: …}`: required capabilities. `{tokens: N}`, `{minutes: N}`: the estimate. `{mode: read|write}`.
 * - The prompt follows the first `:` outside parentheses and braces; without one, the title is the prompt.
 * - A title may contain balanced parentheses (`Fix add() in src/math.js`); only `(after …)` is a group.
 * - Lines before the first item are ignored (a heading or the goal itself).
 * The resulting plan goes through `validatePlan`, so cycles, unknown ids and duplicates are reported.
 *
 * Templates, tried in order (first match wins):
 * - bugfix   ("fix", "bug", "crash", "broken", "regression", "failing"): reproduce → fix → verify
 * - tests    ("write/add … tests", "coverage" at the start): write-tests → run-tests
 * - refactor ("refactor", "rename", "clean up", "simplify", "extract", …): analyze → refactor (one task per
 *   file when several files are given, in parallel) → verify
 * - docs     (starts with "document", "update the docs/readme", …): docs
 * - feature  ("add", "implement", "create", "build", "support", …): design → implement (one per file, in
 *   parallel, when several source files are given) → tests ∥ docs
 * - generic: one task carrying the goal.
 * Files come from the `files` option, else from paths mentioned in the goal. A write task without predicted
 * files gets none (the scheduler then leases the whole repo for it).
 */
import { repoPathProblem } from '../../../../protocol/session';
import { planLimits, validatePlan, type Plan } from './plan';

export type TemplateName = 'explicit' | 'bugfix' | 'tests' | 'refactor' | 'docs' | 'feature' | 'generic';
export type TemplatePlanResult = ({ ok: true; plan: Plan } | { ok: false; errors: string[] }) & { template: TemplateName };

export const templateCapabilities = {
  design: ['planning'],
  code: ['code'],
  tests: ['tests'],
  docs: ['docs'],
  debug: ['debugging'],
} as const;

interface Draft {
  id: string;
  title: string;
  prompt: string;
  dependsOn?: string[];
  expectedFiles?: string[];
  capabilities?: readonly string[];
  estimate?: { tokens: number; minutes: number };
  mode?: 'read' | 'write';
}

const itemLine = /^\s*[-*]\s*\[([^\]]*)\]\s*(.*)$/;
const testFile = /(^|\/)(tests?|__tests__|spec)\/|\.(test|spec)\.[a-z0-9]+$/i;
const testGlobs = ['test/**', 'tests/**', '**/__tests__/**', '**/*.test.*', '**/*.spec.*'];
const docGlobs = ['README.md', 'docs/**', 'CHANGELOG.md'];
const maxParallelFiles = 6;

export const isTaskList = (text: string): boolean => text.split(/\r?\n/).some((l) => itemLine.test(l));

const splitList = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** Index of the first `:` outside () and {}, or -1. */
function promptColon(s: string): number {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(' || c === '{') depth++;
    else if ((c === ')' || c === '}') && depth > 0) depth--;
    else if (c === ':' && depth === 0) return i;
  }
  return -1;
}

function parensBalanced(s: string): boolean {
  let depth = 0;
  for (const c of s) {
    if (c === '(') depth++;
    else if (c === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

function parseItem(id: string, rest: string, line: number, errors: string[]): Draft & { estimate: { tokens: number; minutes: number } } {
  const colon = promptColon(rest);
  let head = colon < 0 ? rest : rest.slice(0, colon);
  const prompt = colon < 0 ? '' : rest.slice(colon + 1).trim();
  const draft: Draft & { estimate: { tokens: number; minutes: number } } = {
    id: id.trim(),
    title: '',
    prompt,
    estimate: { tokens: 20_000, minutes: 10 },
  };
  head = head.replace(/\(\s*after\b\s*:?\s*([^()]*)\)/gi, (_m, list: string) => {
    draft.dependsOn = [...(draft.dependsOn ?? []), ...splitList(list)];
    return ' ';
  });
  head = head.replace(/\{\s*([a-zA-Z]+)\s*:\s*([^}]*)\}/g, (_m, key: string, value: string) => {
    const k = key.toLowerCase();
    const v = value.trim();
    const num = Number(v);
    if (k === 'files') {
      const files = splitList(v);
      for (const f of files) {
        const problem = repoPathProblem(f);
        if (problem) errors.push(`line ${line}: {files: ${v}}: task "${id.trim()}": ${problem}`);
      }
      draft.expectedFiles = [...(draft.expectedFiles ?? []), ...files];
    } else if (k === 'caps' || k === 'capabilities') draft.capabilities = [...(draft.capabilities ?? []), ...splitList(v)];
    else if (k === 'tokens' || k === 'minutes') {
      if (!v || !Number.isFinite(num) || num < 0) errors.push(`line ${line}: {${key}} needs a number ≥ 0, got "${v}"`);
      else draft.estimate[k] = num;
    } else if (k === 'mode') {
      if (v !== 'read' && v !== 'write') errors.push(`line ${line}: {mode} must be read or write, got "${v}"`);
      else draft.mode = v;
    } else errors.push(`line ${line}: unknown option {${key}} (use files, caps, tokens, minutes, mode)`);
    return ' ';
  });
  // Parentheses are ordinary title text (`Fix add() in src/math.js`) as long as they pair up; braces
  // only ever open an option group, so any left over is a typo.
  if (/[{}]/.test(head)) errors.push(`line ${line}: unbalanced or unknown {…} group in "${head.trim()}"`);
  else if (!parensBalanced(head)) errors.push(`line ${line}: unbalanced parentheses in "${head.trim()}"`);
  draft.title = head.replace(/\s+/g, ' ').trim();
  if (!draft.title) errors.push(`line ${line}: task "${draft.id}" has no title`);
  if (!draft.prompt) draft.prompt = draft.title;
  return draft;
}

/** Parse the explicit task-list syntax (see the header) into a validated plan. */
export function parseTaskList(text: string): { ok: true; plan: Plan } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const drafts: Draft[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const m = itemLine.exec(raw);
    if (m) drafts.push(parseItem(m[1] ?? '', m[2] ?? '', i + 1, errors));
    else if (drafts.length && raw.trim()) {
      const last = drafts[drafts.length - 1] as Draft;
      last.prompt = `${last.prompt}\n${raw.trim()}`;
    }
  });
  if (!drafts.length) errors.push('no task items found (expected lines like "- [id] Title: prompt")');
  if (errors.length) return { ok: false, errors };
  const r = validatePlan({ tasks: drafts.map(toPlanTask) });
  return r.ok ? r : { ok: false, errors: r.errors };
}

function toPlanTask(d: Draft): Record<string, unknown> {
  return {
    id: d.id,
    title: d.title,
    prompt: d.prompt,
    dependsOn: d.dependsOn ?? [],
    expectedFiles: d.expectedFiles ?? [],
    capabilities: [...(d.capabilities ?? [])],
    estimate: d.estimate ?? { tokens: 20_000, minutes: 10 },
    mode: d.mode ?? 'write',
  };
}

/** File paths mentioned in free text (a path with a `/`, or a name with a file extension). */
export function filesInText(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/(?<![\w/.@-])((?:[\w.-]+\/)+[\w.*-]+|[\w-]+\.[A-Za-z][A-Za-z0-9]{1,7})(?![\w/-])/g)) {
    const p = (m[1] ?? '').replace(/[.,;:]+$/, '');
    // Paths outside the repository (`../x`) are not lease requests.
    if (p && !/^https?:/.test(p) && !repoPathProblem(p)) out.add(p);
  }
  return [...out];
}

function slugOf(goal: string): string {
  return (
    goal
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'goal'
  );
}

const scope = (files: readonly string[]): string =>
  files.length ? ` Expected files: ${files.join(', ')}. Stay inside them; say so if you must touch others.` : '';

/** One task per file (up to a cap) when several files are given, else one task over all of them. */
function perFile(prefix: string, files: readonly string[], make: (files: string[], suffix: string) => Omit<Draft, 'id'>): Draft[] {
  if (files.length <= 1 || files.length > maxParallelFiles) return [{ id: prefix, ...make([...files], '') }];
  return files.map((f, i) => ({ id: `${prefix}-${i + 1}`, ...make([f], ` (${f})`) }));
}

const rules: { name: Exclude<TemplateName, 'explicit' | 'generic'>; test: RegExp }[] = [
  { name: 'bugfix', test: /\b(fix(es|ed)?|bugs?|crash(es|ing)?|broken|regression|failing)\b/i },
  {
    name: 'tests',
    test: /^\s*(please\s+)?(write|add|improve|increase)\s+((more|missing|unit|integration|e2e|the)\s+)*(tests?|test coverage|coverage)\b/i,
  },
  { name: 'refactor', test: /\b(refactor(ing)?|restructure|rename|clean\s*up|simplify|extract|reorgani[sz]e|deduplicate)\b/i },
  { name: 'docs', test: /^\s*(please\s+)?(document|(write|add|update|improve)\s+(the\s+)?(docs|documentation|readme|changelog))\b/i },
  { name: 'feature', test: /\b(add|implement|create|build|support|introduce|make|enable|allow)\b/i },
];

function build(name: TemplateName, goal: string, files: readonly string[]): Draft[] {
  const g = `Goal: ${goal}\n\n`;
  const tests = files.filter((f) => testFile.test(f));
  const sources = files.filter((f) => !testFile.test(f));
  const testFiles = tests.length ? tests : testGlobs;
  switch (name) {
    case 'bugfix':
      return [
        {
          id: 'reproduce',
          title: 'Reproduce the bug',
          capabilities: [...templateCapabilities.debug, ...templateCapabilities.tests],
          expectedFiles: testFiles,
          estimate: { tokens: 15_000, minutes: 8 },
          prompt: `${g}Reproduce the problem with a failing automated test. Do not fix it yet; report the root cause you suspect.${scope(testFiles)}`,
        },
        {
          id: 'fix',
          title: 'Fix the bug',
          dependsOn: ['reproduce'],
          capabilities: templateCapabilities.code,
          expectedFiles: sources,
          estimate: { tokens: 30_000, minutes: 15 },
          prompt: `${g}Fix the root cause so that the reproducing test passes, without weakening the test.${scope(sources)}`,
        },
        {
          id: 'verify',
          title: 'Verify the fix',
          dependsOn: ['fix'],
          capabilities: templateCapabilities.tests,
          mode: 'read',
          estimate: { tokens: 8_000, minutes: 5 },
          prompt: `${g}Run the whole test suite and report whether the fix holds and nothing else broke. Do not edit files.`,
        },
      ];
    case 'tests':
      return [
        {
          id: 'write-tests',
          title: 'Write the tests',
          capabilities: templateCapabilities.tests,
          expectedFiles: testFiles,
          estimate: { tokens: 25_000, minutes: 12 },
          prompt: `${g}Write the tests. Cover normal cases, edge cases and errors; keep them deterministic.${scope(testFiles)}`,
        },
        {
          id: 'run-tests',
          title: 'Run the tests',
          dependsOn: ['write-tests'],
          capabilities: templateCapabilities.tests,
          mode: 'read',
          estimate: { tokens: 8_000, minutes: 5 },
          prompt: `${g}Run the test suite and report the results. Do not edit files.`,
        },
      ];
    case 'refactor': {
      const work = perFile('refactor', sources, (fs, suffix) => ({
        title: `Refactor${suffix}`,
        dependsOn: ['analyze'],
        capabilities: templateCapabilities.code,
        expectedFiles: fs,
        estimate: { tokens: 30_000, minutes: 15 },
        prompt: `${g}Refactor following the analysis, keeping behaviour identical.${scope(fs)}`,
      }));
      return [
        {
          id: 'analyze',
          title: 'Analyze the code to refactor',
          capabilities: templateCapabilities.design,
          mode: 'read',
          estimate: { tokens: 10_000, minutes: 5 },
          prompt: `${g}Read the code involved and write down the refactoring steps and risks. Do not edit files.${scope(files)}`,
        },
        ...work,
        {
          id: 'verify',
          title: 'Verify behaviour is unchanged',
          dependsOn: work.map((w) => w.id),
          capabilities: templateCapabilities.tests,
          mode: 'read',
          estimate: { tokens: 8_000, minutes: 5 },
          prompt: `${g}Run the test suite and check the refactoring changed no behaviour. Do not edit files.`,
        },
      ];
    }
    case 'docs':
      return [
        {
          id: 'docs',
          title: 'Write the documentation',
          capabilities: templateCapabilities.docs,
          expectedFiles: files.length ? [...files] : docGlobs,
          estimate: { tokens: 10_000, minutes: 6 },
          prompt: `${g}Write or update the documentation.${scope(files.length ? files : docGlobs)}`,
        },
      ];
    case 'feature': {
      const impl = perFile('implement', sources, (fs, suffix) => ({
        title: `Implement${suffix}`,
        dependsOn: ['design'],
        capabilities: templateCapabilities.code,
        expectedFiles: fs,
        estimate: { tokens: 30_000, minutes: 15 },
        prompt: `${g}Implement the change following the design notes.${scope(fs)}`,
      }));
      const after = impl.map((w) => w.id);
      return [
        {
          id: 'design',
          title: 'Design the change',
          capabilities: templateCapabilities.design,
          mode: 'read',
          estimate: { tokens: 10_000, minutes: 5 },
          prompt: `${g}Read the relevant code and decide how to build this: files to change, interfaces, edge cases. Do not edit files.${scope(files)}`,
        },
        ...impl,
        {
          id: 'tests',
          title: 'Write tests',
          dependsOn: after,
          capabilities: templateCapabilities.tests,
          expectedFiles: testFiles,
          estimate: { tokens: 20_000, minutes: 10 },
          prompt: `${g}Write tests for the new behaviour and run them.${scope(testFiles)}`,
        },
        {
          id: 'docs',
          title: 'Document the change',
          dependsOn: after,
          capabilities: templateCapabilities.docs,
          expectedFiles: docGlobs,
          estimate: { tokens: 8_000, minutes: 5 },
          prompt: `${g}Document the new behaviour for users.${scope(docGlobs)}`,
        },
      ];
    }
    case 'generic':
    case 'explicit':
      return [
        {
          id: slugOf(goal),
          title: goal.trim().split(/\r?\n/)[0]?.slice(0, 200) ?? goal,
          expectedFiles: [...files],
          estimate: { tokens: 30_000, minutes: 15 },
          prompt: `${goal.trim()}${scope(files)}`,
        },
      ];
  }
}

/**
 * Plan `goal` with the explicit task-list syntax when present, else with the first matching template.
 * `files` (the user's selection, or known files) narrows the lease requests.
 */
export function templatePlan(goal: string, opts: { files?: readonly string[] } = {}): TemplatePlanResult {
  if (!goal.trim()) return { ok: false, errors: ['goal: must not be empty'], template: 'generic' };
  if (isTaskList(goal)) return { ...parseTaskList(goal), template: 'explicit' };
  const files = [...new Set(opts.files ?? filesInText(goal))].slice(0, planLimits.maxFiles);
  const name = rules.find((r) => r.test.test(goal))?.name ?? 'generic';
  return { ...validatePlan({ tasks: build(name, goal, files).map(toPlanTask) }), template: name };
}

/**
 * The plan a planner returns (design.md §4 "Plan"): a DAG of tasks. Plans come from an LLM, so they are
 * untrusted: `validatePlan` checks the shape with zod (unknown keys are errors, so a misspelt
 * `depends_on` is reported instead of silently dropping dependencies) and then the graph: duplicate ids,
 * unknown dependencies, self-dependencies, cycles (with their path) and size. Every error names the task
 * and the field. `extractJson` pulls the JSON object out of prose or markdown fences.
 */
import { z } from 'zod';
import { repoPath } from '../../../../protocol/session';
import { DomainError } from '../errors';
import { newTask, type Task } from './taskState';

export const planLimits = {
  maxTasks: 50,
  maxDependencies: 50,
  maxFiles: 200,
  maxCapabilities: 20,
  maxPromptChars: 20_000,
  maxTokensPerTask: 5_000_000,
  maxMinutesPerTask: 24 * 60,
} as const;

/**
 * Heading of the block the runner appends to a dependent task's prompt (its dependencies' summaries).
 * Not part of what the user asked: the scripted demo model strips it before choosing what to do.
 */
export const dependencyContextHeading = 'Context from the tasks this one depends on';

/** A task's prompt plus what its finished dependencies did (their changes are already in its worktree). */
export function promptWithDependencies(task: Pick<Task, 'prompt' | 'dependsOn'>, all: readonly Task[]): string {
  const lines = task.dependsOn.flatMap((id) => {
    const t = all.find((x) => x.id === id);
    if (!t?.result) return [];
    const changed = t.result.changedFiles.length ? ` (changed: ${t.result.changedFiles.join(', ')})` : '';
    return [`- [${t.planId}] ${t.title}: ${t.result.summary.slice(0, 600)}${changed}`];
  });
  if (!lines.length) return task.prompt;
  return `${task.prompt}\n\n${dependencyContextHeading} (their changes are already in your working tree):\n${lines.join('\n')}`;
}

export const taskIdPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const taskId = z.string().regex(taskIdPattern, 'must be 1–64 letters, digits, "-" or "_", starting with a letter or digit');

export const planTaskSchema = z
  .object({
    id: taskId,
    title: z.string().trim().min(1, 'must not be empty').max(200),
    prompt: z.string().trim().min(1, 'must not be empty').max(planLimits.maxPromptChars),
    dependsOn: z.array(z.string()).max(planLimits.maxDependencies).default([]),
    /** Lease paths or globs: relative, normalised, inside the repository (`repoPathProblem` says why not). */
    expectedFiles: z.array(repoPath).max(planLimits.maxFiles).default([]),
    capabilities: z.array(z.string().trim().min(1).max(64)).max(planLimits.maxCapabilities).default([]),
    estimate: z
      .object({
        tokens: z.number().int().min(0).max(planLimits.maxTokensPerTask),
        minutes: z.number().positive().max(planLimits.maxMinutesPerTask),
      })
      .strict()
      .default({ tokens: 20_000, minutes: 10 }),
    /** `read` for tasks that only read (design, review): they take read leases. */
    mode: z.enum(['write', 'read']).default('write'),
  })
  .strict();

export const planSchema = z
  .object({
    summary: z.string().max(2_000).optional(),
    tasks: z.array(planTaskSchema).min(1, 'a plan needs at least one task'),
  })
  .strict();

export type PlanTask = z.infer<typeof planTaskSchema>;
export type Plan = z.infer<typeof planSchema>;
/** One reason a plan is refused, with its path inside the plan (`['tasks', 1, 'dependsOn', 0]`) for editors. */
export interface PlanIssue {
  path: (string | number)[];
  message: string;
}
/** `errors`: one line per reason naming the task and field; `issues`: the same reasons with their paths. */
export type PlanResult = { ok: true; plan: Plan } | { ok: false; errors: string[]; issues: PlanIssue[] };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function where(raw: unknown, path: readonly PropertyKey[]): string {
  let out = '';
  let node: unknown = raw;
  for (const [i, key] of path.entries()) {
    if (typeof key === 'number') {
      out += `[${key}]`;
      node = Array.isArray(node) ? node[key] : undefined;
      const id = isRecord(node) && typeof node.id === 'string' && path[i - 1] === 'tasks' ? node.id : undefined;
      if (id !== undefined) out += ` (id "${id}")`;
    } else {
      out += `${out ? '.' : ''}${String(key)}`;
      node = isRecord(node) ? node[String(key)] : undefined;
    }
  }
  return out || 'plan';
}

/** Cycles of the dependency graph, each as a path that returns to its start (at most `max`). */
export function findCycles(tasks: readonly Pick<PlanTask, 'id' | 'dependsOn'>[], max = 10): string[][] {
  const deps = new Map(tasks.map((t) => [t.id, t.dependsOn] as const));
  const state = new Map<string, 1 | 2>(); // 1 on stack, 2 done
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (id: string): void => {
    state.set(id, 1);
    stack.push(id);
    for (const d of deps.get(id) ?? []) {
      if (cycles.length >= max) break;
      if (!deps.has(d) || d === id) continue; // unknown and self-dependencies are reported separately
      const s = state.get(d);
      if (s === 1) cycles.push([...stack.slice(stack.indexOf(d)), d]);
      else if (s === undefined) visit(d);
    }
    stack.pop();
    state.set(id, 2);
  };
  for (const t of tasks) if (!state.has(t.id) && cycles.length < max) visit(t.id);
  return cycles;
}

/**
 * The graph as far as it can be read from untrusted input: tasks with a string id, their string
 * dependencies. Lets the graph rules report alongside shape errors (an editor shows every reason at once).
 */
function looseGraph(raw: unknown): { index: number; id: string; dependsOn: unknown[] }[] {
  if (!isRecord(raw) || !Array.isArray(raw.tasks)) return [];
  return raw.tasks.flatMap((t: unknown, index) =>
    isRecord(t) && typeof t.id === 'string' ? [{ index, id: t.id, dependsOn: Array.isArray(t.dependsOn) ? t.dependsOn : [] }] : [],
  );
}

/** Duplicate ids, unknown, self and repeated dependencies, cycles: every one, with its path. */
function graphIssues(raw: unknown): PlanIssue[] {
  const tasks = looseGraph(raw);
  const out: PlanIssue[] = [];
  const firstIndex = new Map<string, number>();
  for (const t of tasks) {
    const prev = firstIndex.get(t.id);
    if (prev !== undefined) out.push({ path: ['tasks', t.index, 'id'], message: `duplicate task id (also tasks[${prev}])` });
    else firstIndex.set(t.id, t.index);
  }
  for (const t of tasks) {
    const seen = new Set<string>();
    t.dependsOn.forEach((d, j) => {
      if (typeof d !== 'string') return; // the schema names it
      const path = ['tasks', t.index, 'dependsOn', j];
      if (d === t.id) out.push({ path, message: `task "${t.id}" depends on itself` });
      else if (!firstIndex.has(d)) out.push({ path, message: `unknown task "${d}"` });
      else if (seen.has(d)) out.push({ path, message: `"${d}" is listed twice` });
      seen.add(d);
    });
  }
  const graph = tasks.map((t) => ({ id: t.id, dependsOn: t.dependsOn.filter((d): d is string => typeof d === 'string') }));
  for (const c of findCycles(graph)) {
    const first = tasks.find((t) => t.id === c[0]);
    out.push({ path: first ? ['tasks', first.index, 'dependsOn'] : ['tasks'], message: `dependency cycle: ${c.join(' → ')}` });
  }
  return out;
}

/** `tasks[1] (id "b").dependsOn: unknown task "zz"`: how a graph reason reads, naming the task and field. */
function errorLine(raw: unknown, issue: PlanIssue): string {
  if (issue.message.startsWith('dependency cycle:')) return issue.message;
  // A dependency's index is not part of the wording: the task and the field are.
  const path = issue.path[2] === 'dependsOn' ? issue.path.slice(0, 3) : issue.path;
  return `${where(raw, path)}: ${issue.message}`;
}

/** Validate untrusted planner output. Nothing in the plan is trusted before this returns ok. Every reason is reported. */
export function validatePlan(raw: unknown, opts: { maxTasks?: number } = {}): PlanResult {
  const maxTasks = opts.maxTasks ?? planLimits.maxTasks;
  if (isRecord(raw) && Array.isArray(raw.tasks) && raw.tasks.length > maxTasks) {
    const message = `the plan has ${raw.tasks.length} tasks; at most ${maxTasks} are allowed`;
    return { ok: false, errors: [`tasks: ${message}`], issues: [{ path: ['tasks'], message }] };
  }
  const parsed = planSchema.safeParse(raw);
  const shape = parsed.success ? [] : parsed.error.issues;
  const shapeIssues = shape.flatMap((i): PlanIssue[] => {
    const path = i.path.filter((k): k is string | number => typeof k !== 'symbol');
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => ({ path: [...path, k], message: `unknown field "${k}"` }));
    return [{ path, message: i.message }];
  });
  const shapeLines = shape.map(
    (i) => `${where(raw, i.path)}: ${i.message}${i.code === 'unrecognized_keys' ? ` (${i.keys.join(', ')})` : ''}`,
  );
  const graph = graphIssues(raw);
  const issues = [...shapeIssues, ...graph];
  if (!issues.length && parsed.success) return { ok: true, plan: parsed.data };
  return { ok: false, errors: [...shapeLines, ...graph.map((i) => errorLine(raw, i))], issues };
}

export type ExtractResult = { ok: true; value: Record<string, unknown> } | { ok: false; error: string };

function tryObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The end index (exclusive) of the balanced `{…}` starting at `start`, respecting JSON strings. */
function balancedEnd(text: string, start: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i + 1;
  }
  return undefined;
}

/**
 * The JSON object in an LLM reply: the whole text, else a fenced ```json block, else the first balanced
 * `{…}` that parses. An error says whether there was no JSON at all ("prose instead of JSON") or broken JSON.
 */
export function extractJson(text: string): ExtractResult {
  const whole = tryObject(text.trim());
  if (whole) return { ok: true, value: whole };
  let sawCandidate = false;
  for (const m of text.matchAll(/```[a-zA-Z0-9_-]*[ \t]*\r?\n([\s\S]*?)```/g)) {
    sawCandidate = true;
    const v = tryObject((m[1] ?? '').trim());
    if (v) return { ok: true, value: v };
  }
  let firstError: string | undefined;
  for (let start = text.indexOf('{'); start >= 0; start = text.indexOf('{', start + 1)) {
    sawCandidate = true;
    const end = balancedEnd(text, start);
    if (end === undefined) {
      firstError ??= 'an object starts but never closes (truncated output?)';
      continue;
    }
    const slice = text.slice(start, end);
    const v = tryObject(slice);
    if (v) return { ok: true, value: v };
    try {
      JSON.parse(slice);
    } catch (e) {
      firstError ??= (e as Error).message;
    }
  }
  if (!sawCandidate) {
    const head = text.trim().slice(0, 80).replace(/\s+/g, ' ');
    return {
      ok: false,
      error: `prose instead of JSON: no JSON object found in the planner output${head ? ` (it starts: "${head}")` : ' (it is empty)'}`,
    };
  }
  return { ok: false, error: `invalid JSON in the planner output: ${firstError ?? 'no parsable object'}` };
}

/** `extractJson` then `validatePlan`: the whole path from LLM text to a trusted plan. */
export function parsePlanText(text: string, opts: { maxTasks?: number } = {}): PlanResult {
  const json = extractJson(text);
  return json.ok ? validatePlan(json.value, opts) : { ok: false, errors: [json.error], issues: [{ path: [], message: json.error }] };
}

/**
 * Task ids in dependency order (Kahn's algorithm; ties keep plan order). Throws DomainError('bad_input')
 * on a cycle or unknown dependency, so validate first.
 */
export function topoOrder(plan: Pick<Plan, 'tasks'>): string[] {
  return levels(plan).flat();
}

/** Parallel waves: level 0 has no dependencies, level n depends only on levels < n. Plan order inside a level. */
export function levels(plan: Pick<Plan, 'tasks'>): string[][] {
  const ids = new Set(plan.tasks.map((t) => t.id));
  const indegree = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const t of plan.tasks) {
    indegree.set(t.id, new Set(t.dependsOn).size);
    for (const d of new Set(t.dependsOn)) {
      if (!ids.has(d)) throw new DomainError('bad_input', `task "${t.id}" depends on unknown task "${d}"`);
      dependents.set(d, [...(dependents.get(d) ?? []), t.id]);
    }
  }
  const position = new Map(plan.tasks.map((t, i) => [t.id, i] as const));
  const out: string[][] = [];
  let wave = plan.tasks.filter((t) => indegree.get(t.id) === 0).map((t) => t.id);
  let placed = 0;
  while (wave.length) {
    out.push(wave);
    placed += wave.length;
    const next: string[] = [];
    for (const id of wave)
      for (const dep of dependents.get(id) ?? []) {
        const n = (indegree.get(dep) ?? 0) - 1;
        indegree.set(dep, n);
        if (n === 0) next.push(dep);
      }
    wave = next.sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0));
  }
  if (placed !== plan.tasks.length) {
    const cycle = findCycles(plan.tasks, 1)[0];
    throw new DomainError('bad_input', `the plan has a dependency cycle${cycle ? `: ${cycle.join(' → ')}` : ''}`);
  }
  return out;
}

export interface TasksFromPlanOptions {
  sessionId: string;
  tenantId: string;
  nowMs: number;
  maxAttempts?: number;
  /** Global task id for a plan id; default `<sessionId>:<planId>`. */
  makeId?: (planId: string) => string;
}

/** Task entities for a validated plan, all `pending`, with `order` set to the topological position. */
export function tasksFromPlan(plan: Plan, o: TasksFromPlanOptions): Task[] {
  const makeId = o.makeId ?? ((planId: string) => `${o.sessionId}:${planId}`);
  const order = new Map(topoOrder(plan).map((id, i) => [id, i] as const));
  return plan.tasks.map((t) =>
    newTask({
      id: makeId(t.id),
      planId: t.id,
      sessionId: o.sessionId,
      tenantId: o.tenantId,
      title: t.title,
      prompt: t.prompt,
      dependsOn: [...new Set(t.dependsOn)].map(makeId),
      expectedFiles: t.expectedFiles,
      capabilities: t.capabilities,
      estimate: t.estimate,
      mode: t.mode,
      order: order.get(t.id) ?? 0,
      ...(o.maxAttempts === undefined ? {} : { maxAttempts: o.maxAttempts }),
      nowMs: o.nowMs,
    }),
  );
}

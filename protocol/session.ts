/**
 * `session/*`: a goal planned into a DAG of tasks that run in parallel in git worktrees under file
 * leases and budgets, merged in dependency order onto the session's integration branch.
 * Times are epoch milliseconds.
 */
import { z } from 'zod';
import { modelId } from './agent';
import type { UsageTotals } from './agentEvent';
import { defineNotification, defineRequest } from './messages';

export type SessionState =
  'draft' | 'running' | 'paused' | 'awaiting_approval' | 'completed' | 'partially_completed' | 'failed' | 'cancelled' | 'timed_out';
/** The states of a task (a node of the plan); a run's states (`RunState`) are a subset. */
export type TaskState = 'pending' | 'ready' | 'running' | 'blocked' | 'succeeded' | 'failed' | 'cancelled' | 'skipped';

export interface TaskView {
  id: string;
  planId: string;
  title: string;
  prompt: string;
  dependsOn: string[];
  expectedFiles: string[];
  state: TaskState;
  attempts: number;
  maxAttempts: number;
  /** The task's own scheduling priority (0 = highest … 4 = lowest) when set; else the session's applies. */
  priority?: number;
  agentId?: string;
  routeReason?: string;
  blocked?: { on: string; reason: string; since: string };
  branch?: string;
  /** The run (see `run/get`, `run/transcript`) of the latest attempt. */
  runId?: string;
  /** While an attempt runs: the title of its tool call in progress, when one is. */
  currentTool?: string;
  /** While an attempt runs: what it has used so far (`result.usage` once it finished). */
  usage?: UsageTotals;
  /** `warnings`: why a succeeded task is not a plain success (a writing task that changed no files, writes denied). */
  result?: { summary: string; changedFiles: string[]; usage: UsageTotals; error?: string; warnings?: string[] };
  lastError?: string;
  /** Earlier attempts that ended without success (retried or put back), oldest first: the timeline draws them. */
  earlierAttempts?: { startedAt: string; finishedAt: string; outcome: string; agentId?: string; error?: string }[];
  startedAt?: string;
  finishedAt?: string;
}

export interface BudgetView {
  limits: { tokens?: number; money?: number; wallMs?: number; maxParallel?: number };
  spent: { tokens: number; money: number };
  reservedTotal: { tokens: number; money: number };
  /** When the session's wall clock started (its first dispatch). */
  startedAt?: string;
}

export interface SessionView {
  id: string;
  goal: string;
  cwd: string;
  state: SessionState;
  priority: number;
  planner?: string;
  /** The `provider/model` the session's agent turns use (`session/start` `model`); absent: the agent's default. */
  model?: string;
  plan?: { summary?: string; tasks: PlanTaskInput[] };
  tasks: TaskView[];
  budget: BudgetView;
  /** Everything the session cost so far: its tasks' turns and the LLM planner's turns. */
  usage: UsageTotals;
  /** What planning cost (LLM planner only); already included in `usage` and `budget.spent`. */
  plannerUsage?: UsageTotals;
  /** When the session's changes were applied to the user's working tree; a second apply is refused. */
  appliedAt?: string;
  /** The files that apply wrote. */
  appliedFiles?: string[];
  /** Why the session waits for the user (budget crossing with its numbers, a merge conflict, …). */
  approval?: { kind: string; message: string };
  integrationBranch?: string;
  baseCommit?: string;
  error?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
}

/** A session, task or run id as the server issues them. */
export const id = z.string().regex(/^[A-Za-z0-9_.:-]{1,160}$/, 'must be an id');

/**
 * Why `p` is not a path (or glob) inside the repository, or undefined when it is one. A lease path is
 * relative to the repository root, uses `/` (a `\\` counts as one), and never climbs out: no absolute
 * path, no drive letter, no `~`, no `..` segment, no NUL.
 */
export function repoPathProblem(p: string): string | undefined {
  const shown = JSON.stringify(p.length > 80 ? `${p.slice(0, 80)}…` : p);
  if (p.includes('\0')) return `${shown} contains a NUL character`;
  const s = p.trim().replace(/\\/g, '/');
  if (s.startsWith('/')) return `${shown} is an absolute path; give a path relative to the repository root`;
  if (/^[A-Za-z]:/.test(s)) return `${shown} is an absolute path (a drive letter); give a path relative to the repository root`;
  if (s.startsWith('~')) return `${shown} starts with "~" (a home folder); give a path relative to the repository root`;
  if (s.split('/').includes('..')) return `${shown} climbs out of the repository with ".."`;
  if (!normalRepoPath(s)) return `${shown} names no file inside the repository (use "**" for all of it)`;
  return undefined;
}

/** `./a//b` → `a/b`, backslashes → `/` (a trailing `/`, meaning a folder, is kept). Check with `repoPathProblem` first. */
export function normalRepoPath(p: string): string {
  const s = p.trim().replace(/\\/g, '/');
  const dir = s.endsWith('/');
  const parts = s.split('/').filter((x) => x && x !== '.');
  return parts.length ? `${parts.join('/')}${dir ? '/' : ''}` : '';
}

/** A lease path or glob inside the repository (see `repoPathProblem`), normalised. */
export const repoPath = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(500)
  .superRefine((p, ctx) => {
    const problem = repoPathProblem(p);
    if (problem) ctx.addIssue({ code: 'custom', message: `must be a path inside the repository: ${problem}` });
  })
  .transform(normalRepoPath);

/** A task as a planner (or the user editing a plan) writes it. Validated again by the server's plan rules. */
export const planTaskInput = z
  .object({
    id: z.string(),
    title: z.string(),
    prompt: z.string(),
    dependsOn: z.array(z.string()).optional(),
    expectedFiles: z.array(repoPath).optional(),
    capabilities: z.array(z.string()).optional(),
    estimate: z.object({ tokens: z.number(), minutes: z.number() }).strict().optional(),
    mode: z.enum(['write', 'read']).optional(),
  })
  .strict();
export type PlanTaskInput = z.infer<typeof planTaskInput>;
export const planInput = z.object({ summary: z.string().optional(), tasks: z.array(planTaskInput) }).strict();

export const budgetInput = z
  .object({
    tokens: z.number().int().positive().optional(),
    money: z.number().positive().optional(),
    wallMs: z.number().int().positive().optional(),
    maxParallel: z.number().int().min(1).max(64).optional(),
  })
  .strict();

/**
 * `session/start` (client → server): plan `goal` for the git repository `cwd`. The session starts as
 * `draft` with its plan unless `approve` is set. `planner`: `template` (deterministic rules) or
 * `llm` (asks the planning agent for JSON; one repair round); absent: a task list (`- [id] Title: …`)
 * is taken as written (`template`); any other goal goes to `llm` when a real model is configured and
 * to `template` with the scripted demo model. Errors: InvalidParams (cwd,
 * goal, an invalid plan with every reason listed; nothing is created).
 */
export const sessionStart = defineRequest<SessionView>()(
  'session/start',
  'clientToServer',
  z
    .object({
      goal: z.string().trim().min(1, 'must not be empty').max(20_000),
      cwd: z.string().min(1),
      planner: z.enum(['template', 'llm']).optional(),
      plan: planInput.optional(),
      approve: z.boolean().optional(),
      priority: z.number().int().min(0).max(4).optional(),
      budget: budgetInput.optional(),
      model: modelId.optional(),
    })
    .strict(),
);

/**
 * `session/plan` (client → server): replace the plan of a `draft` session. `dryRun`: check the plan
 * exactly as a real call would (schema, plan rules, draft state) and change nothing; the answer is the
 * session as it is. Errors: InvalidParams (every reason, each also in `data.issues` with its path
 * inside the params, e.g. `['plan', 'tasks', 1, 'dependsOn', 0]`), notFound, conflict (not a draft).
 */
export const sessionPlan = defineRequest<SessionView>()(
  'session/plan',
  'clientToServer',
  z.object({ sessionId: id, plan: planInput, dryRun: z.boolean().optional() }).strict(),
);

/**
 * `session/approve` (client → server): start a draft, or continue from `awaiting_approval`, optionally with
 * new limits. `plan` (drafts only): replace the draft's plan and start it in one step (one store write),
 * checked exactly as `session/plan` checks it; a refused plan changes nothing. Approvals of one session
 * never overlap: a second one while the first is in flight, or once the session runs, is a conflict.
 * Errors: InvalidParams (the plan's reasons in `data.issues`, as `session/plan`), notFound, conflict.
 */
export const sessionApprove = defineRequest<SessionView>()(
  'session/approve',
  'clientToServer',
  z.object({ sessionId: id, budget: budgetInput.optional(), plan: planInput.optional() }).strict(),
);

const sessionOnly = z.object({ sessionId: id }).strict();
/** `session/get` (client → server). Errors: notFound. */
export const sessionGet = defineRequest<SessionView>()('session/get', 'clientToServer', sessionOnly);
/** `session/list` (client → server): newest first. */
export const sessionList = defineRequest<SessionView[]>()(
  'session/list',
  'clientToServer',
  z.object({ limit: z.number().int().min(1).max(1000).optional() }).strict(),
);
/** `session/pause` (client → server): no new dispatches; running tasks finish. Errors: notFound, conflict. */
export const sessionPause = defineRequest<SessionView>()('session/pause', 'clientToServer', sessionOnly);
/** `session/resume` (client → server). Errors: notFound, conflict. */
export const sessionResume = defineRequest<SessionView>()('session/resume', 'clientToServer', sessionOnly);
/** `session/cancel` (client → server): cancels running tasks (partial output kept) and everything pending. */
export const sessionCancel = defineRequest<SessionView>()('session/cancel', 'clientToServer', sessionOnly);
/**
 * `session/retry` (client → server): re-opens failed tasks (and, for a cancelled session, its cancelled
 * tasks); never finished ones. Errors: notFound, conflict (nothing to retry; already applied; a draft
 * that was cancelled before it started).
 */
export const sessionRetry = defineRequest<SessionView>()('session/retry', 'clientToServer', sessionOnly);
/** One file of a diff, as `session/diff` lists it. */
export interface DiffFile {
  path: string;
  status: string;
}

/**
 * `session/diff` (client → server): the integration branch against the base commit; with `taskId`, that
 * task's branch against the commit it started from (its dependencies' results included in the base). A
 * task that never ran has an empty diff. Errors: notFound (sessionId, taskId), conflict (taskId: its
 * branch is gone, e.g. after apply).
 */
export const sessionDiff = defineRequest<{ files: DiffFile[]; patch: string }>()(
  'session/diff',
  'clientToServer',
  z.object({ sessionId: id, taskId: id.optional() }).strict(),
);

/**
 * A file path exactly as `session/diff` lists it: relative to the repository root, `/`-separated, no
 * `.` or `..` segment, not absolute, no trailing `/`. Whether it is one of the diff's files is checked
 * by the server.
 */
export const diffFilePath = z
  .string()
  .min(1, 'must not be empty')
  .max(4096)
  .superRefine((p, ctx) => {
    const problem =
      repoPathProblem(p) ??
      (p !== normalRepoPath(p) || p.endsWith('/')
        ? `${JSON.stringify(p)} is not written as session/diff lists it (relative, "/" between names, no "." segment, no trailing "/")`
        : undefined);
    if (problem) ctx.addIssue({ code: 'custom', message: `must be a file of the diff: ${problem}` });
  });

/** What `session/fileContent` answers. */
export interface FileContentView {
  /** The text on that side; null when the file does not exist there (added: no base; deleted: no result) or is `omitted`. */
  content: string | null;
  /** The file exists on that side but its bytes are not sent: `binary` (a NUL byte), `tooLarge` (over 5 MB), `notAFile` (a submodule). */
  omitted?: { reason: 'binary' | 'tooLarge' | 'notAFile'; bytes: number };
}

/**
 * `session/fileContent` (client → server): one changed file's content on one side of `session/diff`
 * (same `taskId`): `base` (the commit the session, or the task, started from) or `result` (the
 * integration branch, the applied commit, or the task's branch). Read from git objects, never from a
 * worktree or the user's files. Errors: InvalidParams (`path` not relative, climbing out with `..`,
 * absolute, or not one of the files of that diff; nothing is read), notFound (sessionId, taskId),
 * conflict (the branch is gone).
 */
export const sessionFileContent = defineRequest<FileContentView>()(
  'session/fileContent',
  'clientToServer',
  z.object({ sessionId: id, taskId: id.optional(), path: diffFilePath, side: z.enum(['base', 'result']) }).strict(),
);

/**
 * `session/apply` (client → server): apply the session's diff to the user's working tree, once. Then
 * the session's `orchestrator/<session>/*` branches and worktrees are removed (`appliedAt` is set).
 * `warning`: the files were applied but that clean-up failed. Refused (conflict, nothing changed)
 * while the session still runs, when it was already applied, or when the user has uncommitted changes
 * to any of the same files (listed).
 */
export const sessionApply = defineRequest<{ applied: string[]; warning?: string }>()('session/apply', 'clientToServer', sessionOnly);

/**
 * `session/delete` (client → server): forget a session and leave the user's repository as it was before
 * it started: a live session is cancelled first (its running turns end), then its worktrees, its
 * `orchestrator/<session>/*` branches, its tasks and its agent-turn records are removed. Transcript files
 * are kept (append-only records). Errors: notFound, timeout (its turns did not stop; nothing removed).
 */
export const sessionDelete = defineRequest<{ sessionId: string; removedBranches: string[] }>()(
  'session/delete',
  'clientToServer',
  sessionOnly,
);

/** `session/didChange` (server → client): the full session view after every change. */
export const sessionDidChange = defineNotification('session/didChange', 'serverToClient', z.custom<SessionView>());

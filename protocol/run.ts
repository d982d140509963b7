/**
 * `run/*` and `permission/*`: one run is one agent turn on a repository (a single run started by a
 * client, an attempt of a session's task, or a planning turn), its live updates and its transcript.
 * A run is never called a task: a task is a node of a session's plan (`session.ts`).
 * Times are ISO 8601 strings, as everywhere in `protocol/`.
 */
import { z } from 'zod';
import { modelId } from './agent';
import type { AgentEvent, UsageTotals } from './agentEvent';
import { defineNotification, defineRequest } from './messages';
import type { TaskState } from './session';

/** The states a run takes: a subset of the task states (a run is never waiting, blocked or skipped). */
export type RunState = Extract<TaskState, 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled'>;

export interface FileChange {
  path: string;
  status: 'added' | 'modified' | 'deleted';
  additions: number;
  deletions: number;
  patch?: string;
}

export interface RunError {
  reason: string;
  message: string;
  stderrTail?: string;
}

/** A permission request that was denied during a run (by the policy, the user, or a deadline). */
export interface DeniedPermission {
  permission: string;
  patterns: string[];
  /** Why: the policy's reason, or who denied it. */
  reason: string;
}

/** What clients see of a run. */
export interface RunView {
  id: string;
  /** The session the run belongs to (an attempt of one of its tasks, or its planning turn); absent for a single run. */
  sessionId?: string;
  /** The session task this run is an attempt of; absent for single runs and planning turns. */
  taskId?: string;
  agent: string;
  cwd: string;
  prompt: string;
  model?: string;
  state: RunState;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** Title of the tool call in progress, when one is. */
  currentTool?: string;
  usage: UsageTotals;
  /** Number of transcript events so far. */
  events: number;
  summary?: string;
  diff?: FileChange[];
  error?: RunError;
  /** Permission requests denied so far, oldest first (at most 50 kept). */
  denied?: DeniedPermission[];
  /**
   * Set when the run ended `succeeded` but is not a plain success: every write was denied and nothing
   * changed, or requests were denied. Clients show them next to the state.
   */
  warnings?: string[];
}

const runId = z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'must be a run id');

export const timeoutsSchema = z
  .object({
    idleMs: z
      .number()
      .int()
      .min(1000)
      .max(24 * 3600_000)
      .optional(),
    turnMs: z
      .number()
      .int()
      .min(1000)
      .max(7 * 24 * 3600_000)
      .optional(),
    unreachableMs: z.number().int().min(1000).max(3600_000).optional(),
    permissionMs: z.number().int().min(1000).max(3600_000).optional(),
  })
  .strict();

export const runStartParams = z
  .object({
    /** A registered agent's id (`agent/list`): OpenCode, an ACP agent, a marketplace agent or a plugin agent. */
    agent: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be an agent id (lowercase letters, digits and hyphens)'),
    cwd: z.string().min(1, 'must be an absolute path'),
    prompt: z.string().trim().min(1, 'must not be empty').max(200_000),
    model: modelId.optional(),
    timeouts: timeoutsSchema.optional(),
  })
  .strict();
export type RunStartParams = z.infer<typeof runStartParams>;

/**
 * `run/start` (client → server): validate, then start one agent run in `cwd`; answers at once with the
 * run's id, progress follows as `run/didUpdate`. Errors: InvalidParams naming the field for a bad agent,
 * cwd (missing, not a folder, not in a git repository), empty prompt or unknown model; nothing is
 * started then. agentUnavailable when the agent cannot be started. agentDisabled when the agent is listed in
 * `orchestrator.agents.disabled` (the message and `data` name the agent and the setting); no run is recorded.
 */
export const runStart = defineRequest<{ runId: string }>()('run/start', 'clientToServer', runStartParams);

/** `run/get` (client → server). Errors: InvalidParams, notFound. */
export const runGet = defineRequest<RunView>()('run/get', 'clientToServer', z.object({ runId }).strict());

/** `run/list` (client → server): most recent first. */
export const runList = defineRequest<RunView[]>()(
  'run/list',
  'clientToServer',
  z.object({ limit: z.number().int().min(1).max(1000).optional() }).strict(),
);

/** `run/cancel` (client → server): cancels a running run; it ends `cancelled` keeping partial output. Errors: notFound. */
export const runCancel = defineRequest<RunView>()('run/cancel', 'clientToServer', z.object({ runId }).strict());

/** `run/transcript` (client → server): transcript events with `seq > afterSeq`. Errors: notFound. */
export const runTranscript = defineRequest<{ events: AgentEvent[] }>()(
  'run/transcript',
  'clientToServer',
  z
    .object({
      runId,
      afterSeq: z.number().int().min(0).optional(),
    })
    .strict(),
);

/** `run/didUpdate` (server → client): the run's full view, plus the event that changed it (if any). */
export const runDidUpdate = defineNotification('run/didUpdate', 'serverToClient', z.custom<{ run: RunView; event?: AgentEvent }>());

export interface PermissionAsk {
  runId: string;
  /** The session the run belongs to; absent for a single run. */
  sessionId?: string;
  /** The session task the run is an attempt of. */
  taskId?: string;
  permission: string;
  patterns: string[];
  /** Why the policy did not decide by itself. */
  reason: string;
  /** The run's folder (the task's worktree). */
  cwd: string;
  /** The folder the command runs in, when the agent chose one other than `cwd` (bash `workdir`). */
  commandCwd?: string;
  /**
   * For commands: the whole command line as the agent will run it. OpenCode's `patterns` are only the commands
   * it found in the line (no `cd x &&`, separators or repeats), so clients show this line; "always" covers
   * exactly this line.
   */
  commandLine?: string;
  /** The file the agent named with the ask (OpenCode's `metadata.filepath`), when it did. */
  filepath?: string;
  /** For edits: the change as a unified diff (OpenCode's `metadata.diff`), clipped to 20,000 characters. */
  diff?: string;
  /**
   * Present when an answer "always" can be remembered: for the whole `session` (all its tasks and runs),
   * or for this `run` when it belongs to no session. Absent when the ask is too broad to remember.
   */
  rememberScope?: 'session' | 'run';
  /** The server denies when no answer arrives within this many milliseconds. */
  deadlineMs?: number;
}

export interface PermissionAnswer {
  decision: 'allow' | 'deny';
  /**
   * With `allow`: also allow the very same ask (same permission and tool kind, same patterns, the same whole
   * command line, the same real paths, same place) for the rest of
   * the ask's `rememberScope` without asking again. Never overrides a policy denial. Older clients omit it.
   */
  remember?: 'session' | 'run';
}

/** What a client may answer; anything else counts as `deny`. */
export const permissionAnswer = z
  .object({
    decision: z.enum(['allow', 'deny']),
    remember: z.enum(['session', 'run']).optional(),
  })
  .strict();

/**
 * `permission/request` (server → client): the policy could not decide; ask the user. The server denies
 * when no answer arrives before its deadline (`deadlineMs`), and records that in the transcript.
 */
export const permissionRequest = defineRequest<PermissionAnswer>()('permission/request', 'serverToClient', z.custom<PermissionAsk>());

/**
 * `task/*` and `permission/*`: one agent turn on a repository, its live updates and its transcript.
 * (Sessions that plan a goal into many tasks build on these.)
 */
import { z } from 'zod';
import type { AgentEvent, UsageTotals } from './agentEvent';
import { defineNotification, defineRequest } from './messages';

export type TaskState = 'pending' | 'ready' | 'running' | 'blocked' | 'succeeded' | 'failed' | 'cancelled' | 'skipped';

export interface TaskFileChange {
  path: string;
  status: 'added' | 'modified' | 'deleted';
  additions: number;
  deletions: number;
  patch?: string;
}

export interface TaskError {
  reason: string;
  message: string;
  stderrTail?: string;
}

/** A permission request that was denied during a turn (by the policy, the user, or a deadline). */
export interface DeniedPermission {
  permission: string;
  patterns: string[];
  /** Why: the policy's reason, or who denied it. */
  reason: string;
}

/** What clients see of a task. */
export interface TaskView {
  id: string;
  sessionId: string;
  agent: string;
  cwd: string;
  prompt: string;
  model?: string;
  state: TaskState;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** Title of the tool call in progress, when one is. */
  currentTool?: string;
  usage: UsageTotals;
  /** Number of transcript events so far. */
  events: number;
  summary?: string;
  diff?: TaskFileChange[];
  error?: TaskError;
  /** Permission requests denied so far, oldest first (at most 50 kept). */
  denied?: DeniedPermission[];
  /**
   * Set when the turn ended `succeeded` but is not a plain success: every write was denied and nothing
   * changed, or requests were denied. Clients show them next to the state.
   */
  warnings?: string[];
}

export const agentIds = ['opencode'] as const;
const taskId = z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'must be a task id');

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

/**
 * `task/run` (client → server): validate, then start one agent turn in `cwd`; answers at once with the
 * ids, progress follows as `task/didUpdate`. Errors: InvalidParams naming the field for a bad agent,
 * cwd (missing, not a folder, not in a git repository), empty prompt or unknown model; nothing is
 * started then. agentUnavailable when the agent cannot be started.
 */
export const taskRun = defineRequest<{ taskId: string; sessionId: string }>()(
  'task/run',
  'clientToServer',
  z
    .object({
      agent: z.enum(agentIds),
      cwd: z.string().min(1, 'must be an absolute path'),
      prompt: z.string().trim().min(1, 'must not be empty').max(200_000),
      model: z
        .string()
        .regex(/^[^/\s]+\/\S+$/, 'must be provider/model')
        .optional(),
      timeouts: timeoutsSchema.optional(),
    })
    .strict(),
);

/** `task/get` (client → server). Errors: InvalidParams, notFound. */
export const taskGet = defineRequest<TaskView>()('task/get', 'clientToServer', z.object({ taskId }).strict());

/** `task/list` (client → server): most recent first. */
export const taskList = defineRequest<TaskView[]>()(
  'task/list',
  'clientToServer',
  z.object({ limit: z.number().int().min(1).max(1000).optional() }).strict(),
);

/** `task/cancel` (client → server): cancels a running task; the task ends `cancelled` keeping partial output. Errors: notFound. */
export const taskCancel = defineRequest<TaskView>()('task/cancel', 'clientToServer', z.object({ taskId }).strict());

/** `task/transcript` (client → server): transcript events with `seq > afterSeq`. Errors: notFound. */
export const taskTranscript = defineRequest<{ events: AgentEvent[] }>()(
  'task/transcript',
  'clientToServer',
  z
    .object({
      taskId,
      afterSeq: z.number().int().min(0).optional(),
    })
    .strict(),
);

/** `task/didUpdate` (server → client): the task's full view, plus the event that changed it (if any). */
export const taskDidUpdate = defineNotification('task/didUpdate', 'serverToClient', z.custom<{ task: TaskView; event?: AgentEvent }>());

export interface PermissionAsk {
  taskId: string;
  permission: string;
  patterns: string[];
  /** Why the policy did not decide by itself. */
  reason: string;
  cwd: string;
}

/**
 * `permission/request` (server → client): the policy could not decide; ask the user. The server denies
 * when no answer arrives before its deadline.
 */
export const permissionRequest = defineRequest<{ decision: 'allow' | 'deny' }>()(
  'permission/request',
  'serverToClient',
  z.custom<PermissionAsk>(),
);

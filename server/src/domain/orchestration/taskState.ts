/**
 * The task entity and its state machine (design.md §4 "Task").
 *
 *   pending ──ready──▶ ready ──dispatch──▶ running ──succeed──▶ succeeded
 *      │                 │  ▲                │  ▲
 *      │            block│  │unblock    block│  │unblock        (blocked on a lease: from ready;
 *      │                 ▼  │                ▼  │                blocked on a permission: from running)
 *      │               blocked(lease)      blocked(permission)
 *      └──▶ skipped (a dependency failed)   fail ──▶ failed ──retry──▶ pending (attempts < maxAttempts)
 *   any non-terminal ──cancel──▶ cancelled; running/blocked(permission) ──requeue──▶ ready (interrupted, attempt refunded)
 *
 * `attempts` counts dispatches; `dispatch` refuses when attempts already reached `maxAttempts`. `retry`
 * re-opens failed, cancelled or skipped tasks (never succeeded ones) while attempts < maxAttempts; a user
 * retry may pass `raiseLimit` to grant one more attempt. Every function returns a new object.
 */
import type { TaskState } from '../../../../protocol/session';
import type { UsageTotals } from '../agentEvent';
import { DomainError } from '../errors';
import type { LeaseMode } from './lease';

export type { TaskState };
/** `worker`: on a team server with workers, a running task no worker has taken yet (the task stays `running`). */
export type BlockedOn = 'lease' | 'permission' | 'worker';

export const defaultMaxAttempts = 3;

export interface TaskEstimate {
  tokens: number;
  minutes: number;
}

export interface TaskResult {
  summary: string;
  changedFiles: string[];
  usage: UsageTotals;
  error?: string;
  /** Why a succeeded task is not a plain success (see domain/turnOutcome.ts). */
  warnings?: string[];
}

export interface Task {
  /** Globally unique id (the store key; dependencies refer to it). */
  id: string;
  /** The id the plan gave the task (unique within its session; used in branch names). */
  planId: string;
  sessionId: string;
  tenantId: string;
  title: string;
  prompt: string;
  /** Ids (`id`, not `planId`) of the tasks this one waits for. */
  dependsOn: string[];
  /** Globs the task expects to touch: its lease request. */
  expectedFiles: string[];
  capabilities: string[];
  estimate: TaskEstimate;
  /** Lease mode: read-only tasks take read leases and need no worktree. */
  mode: LeaseMode;
  /** Position in the session's topological order (0-based); the scheduler's tiebreak. */
  order: number;
  /** Overrides the session priority for this task (0 = highest … 4 = lowest). */
  priority?: number;
  state: TaskState;
  attempts: number;
  maxAttempts: number;
  agentId?: string;
  routeReason?: string;
  blocked?: { on: BlockedOn; reason: string; since: number };
  /** Not dispatched before this time (retry backoff). */
  notBeforeMs?: number;
  result?: TaskResult;
  lastError?: string;
  /** Earlier attempts that ended without success (newest last, at most `maxEarlierAttempts`). */
  earlierAttempts?: EarlierAttempt[];
  branch?: string;
  createdAt: number;
  updatedAt: number;
  startedAt?: number;
  finishedAt?: number;
}

/** An attempt that ended without success and was re-opened (retry) or put back (requeue). */
export interface EarlierAttempt {
  startedAt: number;
  finishedAt: number;
  outcome: 'failed' | 'cancelled' | 'skipped' | 'requeued';
  agentId?: string;
  error?: string;
}
export const maxEarlierAttempts = 10;

/** The task's attempt history with the attempt that just ended appended (none if it never started). */
function withEarlier(t: Task, outcome: EarlierAttempt['outcome'], nowMs: number, error?: string): Pick<Task, 'earlierAttempts'> {
  if (t.startedAt === undefined) return t.earlierAttempts ? { earlierAttempts: t.earlierAttempts } : {};
  const attempt: EarlierAttempt = {
    startedAt: t.startedAt,
    finishedAt: Math.max(t.startedAt, t.finishedAt ?? nowMs),
    outcome,
    ...(t.agentId === undefined ? {} : { agentId: t.agentId }),
    ...(error === undefined ? {} : { error }),
  };
  return { earlierAttempts: [...(t.earlierAttempts ?? []), attempt].slice(-maxEarlierAttempts) };
}

export type TaskEvent =
  | { type: 'ready'; nowMs: number }
  | { type: 'block'; on: BlockedOn; reason: string; nowMs: number }
  | { type: 'unblock'; nowMs: number }
  | { type: 'dispatch'; agentId: string; routeReason: string; branch?: string; nowMs: number }
  | { type: 'succeed'; result: TaskResult; nowMs: number }
  | { type: 'fail'; error: string; result?: TaskResult; nowMs: number }
  | { type: 'cancel'; reason?: string; nowMs: number }
  | { type: 'skip'; reason: string; nowMs: number }
  | { type: 'retry'; notBeforeMs?: number; raiseLimit?: boolean; nowMs: number }
  | { type: 'requeue'; reason: string; nowMs: number };

const terminal: ReadonlySet<TaskState> = new Set(['succeeded', 'failed', 'cancelled', 'skipped']);

export const isTaskTerminal = (s: TaskState): boolean => terminal.has(s);
/** Failed and out of automatic attempts: its dependents are skipped. */
export const isFinallyFailed = (t: Pick<Task, 'state' | 'attempts' | 'maxAttempts'>): boolean =>
  t.state === 'failed' && t.attempts >= t.maxAttempts;
/** Whether an automatic retry is allowed. */
export const canRetry = (t: Pick<Task, 'state' | 'attempts' | 'maxAttempts'>): boolean =>
  (t.state === 'failed' || t.state === 'cancelled' || t.state === 'skipped') && t.attempts < t.maxAttempts;
/** A task that holds an agent (and its lease): running, or blocked on a permission while running. */
export const isActiveTask = (t: Pick<Task, 'state' | 'blocked'>): boolean =>
  t.state === 'running' || (t.state === 'blocked' && t.blocked?.on === 'permission');
/** A task the scheduler may dispatch: ready, or blocked waiting for a lease. */
export const isDispatchable = (t: Pick<Task, 'state' | 'blocked'>): boolean =>
  t.state === 'ready' || (t.state === 'blocked' && t.blocked?.on === 'lease');

/** Exponential backoff before retry number `attempts` (1-based: the delay after the first failure is `baseMs`). */
export function retryBackoffMs(attempts: number, baseMs = 2_000, maxMs = 60_000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

export interface NewTaskInput {
  id: string;
  planId?: string;
  sessionId: string;
  tenantId: string;
  title: string;
  prompt: string;
  dependsOn?: string[];
  expectedFiles?: string[];
  capabilities?: string[];
  estimate?: TaskEstimate;
  mode?: LeaseMode;
  order?: number;
  priority?: number;
  maxAttempts?: number;
  nowMs: number;
}

export function newTask(i: NewTaskInput): Task {
  const maxAttempts = i.maxAttempts ?? defaultMaxAttempts;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
    throw new DomainError('bad_input', `task ${i.id}: maxAttempts must be an integer ≥ 1, got ${maxAttempts}`);
  if (i.priority !== undefined && !(Number.isInteger(i.priority) && i.priority >= 0 && i.priority <= 4)) {
    throw new DomainError('bad_input', `task ${i.id}: priority must be an integer 0–4, got ${i.priority}`);
  }
  return {
    id: i.id,
    planId: i.planId ?? i.id,
    sessionId: i.sessionId,
    tenantId: i.tenantId,
    title: i.title,
    prompt: i.prompt,
    dependsOn: [...(i.dependsOn ?? [])],
    expectedFiles: [...(i.expectedFiles ?? [])],
    capabilities: [...(i.capabilities ?? [])],
    estimate: i.estimate ?? { tokens: 20_000, minutes: 10 },
    mode: i.mode ?? 'write',
    order: i.order ?? 0,
    ...(i.priority === undefined ? {} : { priority: i.priority }),
    state: 'pending',
    attempts: 0,
    maxAttempts,
    createdAt: i.nowMs,
    updatedAt: i.nowMs,
  };
}

function invalid(t: Task, event: TaskEvent, to: TaskState | string, why?: string): never {
  throw new DomainError('conflict', `task ${t.id}: invalid transition ${t.state} → ${to} (${event.type})${why ? `: ${why}` : ''}`, {
    taskId: t.id,
    from: t.state,
    to,
    event: event.type,
  });
}

function without<T extends Task>(t: T, ...keys: ('blocked' | 'lastError' | 'notBeforeMs' | 'result' | 'finishedAt' | 'startedAt')[]): T {
  const copy: T = { ...t };
  for (const k of keys) delete copy[k];
  return copy;
}

/**
 * Apply `event` to `t`; throws DomainError('conflict') naming from → to when the transition is not allowed.
 * Fields beyond `Task` (what the services store beside it) are kept as they are.
 */
export function transitionTask<T extends Task>(t: T, event: TaskEvent): T {
  const at = { updatedAt: event.nowMs };
  switch (event.type) {
    case 'ready':
      if (t.state !== 'pending') invalid(t, event, 'ready');
      return { ...t, ...at, state: 'ready' };
    case 'block': {
      const from: TaskState = event.on === 'lease' ? 'ready' : 'running';
      const same = t.state === 'blocked' && t.blocked?.on === event.on;
      if (t.state !== from && !same) invalid(t, event, 'blocked', `a ${event.on} block applies to ${from} tasks`);
      return {
        ...t,
        ...at,
        state: 'blocked',
        blocked: { on: event.on, reason: event.reason, since: same && t.blocked ? t.blocked.since : event.nowMs },
      };
    }
    case 'unblock': {
      if (t.state !== 'blocked') invalid(t, event, 'ready|running');
      return { ...without(t, 'blocked'), ...at, state: t.blocked?.on === 'permission' ? 'running' : 'ready' };
    }
    case 'dispatch':
      if (!isDispatchable(t)) invalid(t, event, 'running');
      if (t.attempts >= t.maxAttempts) invalid(t, event, 'running', `attempts exhausted (${t.attempts}/${t.maxAttempts})`);
      return {
        ...without(t, 'blocked', 'notBeforeMs', 'result'),
        ...at,
        state: 'running',
        attempts: t.attempts + 1,
        agentId: event.agentId,
        routeReason: event.routeReason,
        startedAt: event.nowMs,
        ...(event.branch === undefined ? {} : { branch: event.branch }),
      };
    case 'succeed':
      if (t.state !== 'running') invalid(t, event, 'succeeded');
      // A success ends the story of earlier attempts: their error no longer describes the task.
      return { ...without(t, 'blocked', 'lastError'), ...at, state: 'succeeded', result: event.result, finishedAt: event.nowMs };
    case 'fail':
      if (t.state !== 'running' && t.state !== 'blocked' && t.state !== 'ready') invalid(t, event, 'failed');
      return {
        ...without(t, 'blocked'),
        ...at,
        state: 'failed',
        lastError: event.error,
        finishedAt: event.nowMs,
        ...(event.result ? { result: { ...event.result, error: event.error } } : {}),
      };
    case 'cancel':
      if (isTaskTerminal(t.state)) invalid(t, event, 'cancelled');
      return {
        ...without(t, 'blocked'),
        ...at,
        state: 'cancelled',
        finishedAt: event.nowMs,
        ...(event.reason ? { lastError: event.reason } : {}),
      };
    case 'skip':
      if (!(t.state === 'pending' || t.state === 'ready' || (t.state === 'blocked' && t.blocked?.on === 'lease')))
        invalid(t, event, 'skipped');
      return { ...without(t, 'blocked'), ...at, state: 'skipped', lastError: event.reason, finishedAt: event.nowMs };
    case 'retry': {
      if (!(t.state === 'failed' || t.state === 'cancelled' || t.state === 'skipped'))
        invalid(t, event, 'pending', 'only failed, cancelled or skipped tasks are re-opened');
      let maxAttempts = t.maxAttempts;
      if (t.attempts >= maxAttempts) {
        if (!event.raiseLimit) invalid(t, event, 'pending', `attempts exhausted (${t.attempts}/${t.maxAttempts})`);
        maxAttempts = t.attempts + 1;
      }
      return {
        ...without(t, 'blocked', 'result', 'finishedAt', 'notBeforeMs', 'startedAt'),
        ...withEarlier(t, t.state as 'failed' | 'cancelled' | 'skipped', event.nowMs, t.lastError),
        ...at,
        state: 'pending',
        maxAttempts,
        ...(event.notBeforeMs === undefined ? {} : { notBeforeMs: event.notBeforeMs }),
      };
    }
    case 'requeue':
      if (!isActiveTask(t)) invalid(t, event, 'ready', 'only running tasks (or tasks blocked on a permission) are requeued');
      return {
        ...without(t, 'blocked', 'startedAt'),
        ...withEarlier(t, 'requeued', event.nowMs, event.reason),
        ...at,
        state: 'ready',
        attempts: Math.max(0, t.attempts - 1),
        lastError: event.reason,
      };
  }
}

/**
 * The records of the embedded store, one zod schema per collection, checked on every load. The types
 * the services work with are inferred from (or checked against) these schemas, so a record read from
 * disk is typed without a cast. Unknown keys are errors: a schema-invalid file names the field.
 * Pure: no I/O. The store's envelope and its migrations are in storeSchema.ts.
 */
import { z } from 'zod';
import type { UsageTotals } from './agentEvent';
import type { BudgetCrossing, BudgetState } from './orchestration/budget';
import type { Lease } from './orchestration/lease';
import { planSchema } from './orchestration/plan';
import type { AgentHealth } from './orchestration/routing';
import type { PendingApproval, Session } from './orchestration/sessionState';
import type { Task, TaskResult } from './orchestration/taskState';

const id = z.string().min(1);
const count = z.number().int().min(0);
const ms = z.number();

export const usageSchema: z.ZodType<UsageTotals> = z
  .object({ inputTokens: count, outputTokens: count, reasoningTokens: count, cacheReadTokens: count, cost: z.number().min(0) })
  .strict();

const amount = z.object({ tokens: z.number(), money: z.number() }).strict();

export const budgetSchema: z.ZodType<BudgetState> = z
  .object({
    limits: z
      .object({
        tokens: z.number().optional(),
        money: z.number().optional(),
        wallMs: z.number().optional(),
        maxParallel: z.number().optional(),
      })
      .strict(),
    spent: amount,
    reserved: z.record(z.string(), amount),
    reservedTotal: amount,
    startedAtMs: ms.optional(),
  })
  .strict();

const crossing: z.ZodType<BudgetCrossing> = z
  .object({
    limit: z.enum(['tokens', 'money', 'wallMs']),
    limitValue: z.number(),
    used: z.number(),
    reserved: z.number(),
    requested: z.number(),
    taskId: z.string().optional(),
    message: z.string(),
  })
  .strict();

const approval: z.ZodType<PendingApproval> = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('budget'), message: z.string(), crossing }).strict(),
  z.object({ kind: z.literal('permission'), message: z.string(), taskId: z.string(), permissionId: z.string() }).strict(),
  z.object({ kind: z.literal('other'), message: z.string() }).strict(),
]);

/** A session as stored: the domain `Session` plus what the services keep beside it. */
export type StoredSession = Session & {
  baseCommit?: string;
  model?: string;
  /** What the LLM planner's turns cost (already included in `usage` and the budget's `spent`). */
  plannerUsage?: UsageTotals;
  /** Set once the session's diff was applied to the user's working tree: what, and from which commit. */
  applied?: { at: number; files: string[]; commit?: string };
};

export const sessionRecordSchema: z.ZodType<StoredSession> = z
  .object({
    id,
    tenantId: id,
    goal: z.string(),
    cwd: z.string().min(1),
    state: z.enum([
      'draft',
      'running',
      'paused',
      'awaiting_approval',
      'completed',
      'partially_completed',
      'failed',
      'cancelled',
      'timed_out',
    ]),
    priority: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3), z.literal(4)]),
    createdAt: ms,
    updatedAt: ms,
    budget: budgetSchema,
    usage: usageSchema,
    plan: planSchema.optional(),
    planner: z.string().optional(),
    integrationBranch: z.string().optional(),
    approval: approval.optional(),
    error: z.string().optional(),
    startedAt: ms.optional(),
    finishedAt: ms.optional(),
    baseCommit: z.string().optional(),
    model: z.string().optional(),
    plannerUsage: usageSchema.optional(),
    applied: z
      .object({ at: ms, files: z.array(z.string()), commit: z.string().optional() })
      .strict()
      .optional(),
  })
  .strict();

/** A task of a session as stored: the domain `Task` plus the id of its current agent run and its base commit. */
export type StoredTask = Task & { runId?: string; baseSha?: string };

const taskResult: z.ZodType<TaskResult> = z
  .object({
    summary: z.string(),
    changedFiles: z.array(z.string()),
    usage: usageSchema,
    error: z.string().optional(),
    warnings: z.array(z.string()).optional(),
  })
  .strict();

export const taskRecordSchema: z.ZodType<StoredTask> = z
  .object({
    id,
    planId: id,
    sessionId: id,
    tenantId: id,
    title: z.string(),
    prompt: z.string(),
    dependsOn: z.array(z.string()),
    expectedFiles: z.array(z.string()),
    capabilities: z.array(z.string()),
    estimate: z.object({ tokens: z.number(), minutes: z.number() }).strict(),
    mode: z.enum(['write', 'read']),
    order: count,
    priority: z.number().int().min(0).max(4).optional(),
    state: z.enum(['pending', 'ready', 'running', 'blocked', 'succeeded', 'failed', 'cancelled', 'skipped']),
    attempts: count,
    maxAttempts: z.number().int().min(1),
    agentId: z.string().optional(),
    routeReason: z.string().optional(),
    blocked: z
      .object({ on: z.enum(['lease', 'permission', 'worker']), reason: z.string(), since: ms })
      .strict()
      .optional(),
    notBeforeMs: ms.optional(),
    result: taskResult.optional(),
    lastError: z.string().optional(),
    earlierAttempts: z
      .array(
        z
          .object({
            startedAt: ms,
            finishedAt: ms,
            outcome: z.enum(['failed', 'cancelled', 'skipped', 'requeued']),
            agentId: z.string().optional(),
            error: z.string().optional(),
          })
          .strict(),
      )
      .optional(),
    branch: z.string().optional(),
    createdAt: ms,
    updatedAt: ms,
    startedAt: ms.optional(),
    finishedAt: ms.optional(),
    runId: z.string().optional(),
    baseSha: z.string().optional(),
  })
  .strict();

/** One agent turn (a single run, or one attempt of a session task), as the run service stores it. */
export const runRecordSchema = z
  .object({
    id,
    tenantId: id,
    sessionId: id.optional(),
    taskId: id.optional(),
    agent: z.string().min(1),
    cwd: z.string(),
    prompt: z.string(),
    model: z.string().optional(),
    state: z.enum(['pending', 'running', 'succeeded', 'failed', 'cancelled']),
    createdAt: z.string(),
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    currentTool: z.string().optional(),
    usage: usageSchema,
    events: count,
    summary: z.string().optional(),
    diff: z
      .array(
        z
          .object({
            path: z.string(),
            status: z.enum(['added', 'modified', 'deleted']),
            additions: count,
            deletions: count,
            patch: z.string().optional(),
          })
          .strict(),
      )
      .optional(),
    error: z.object({ reason: z.string(), message: z.string(), stderrTail: z.string().optional() }).strict().optional(),
    denied: z.array(z.object({ permission: z.string(), patterns: z.array(z.string()), reason: z.string() }).strict()).optional(),
    warnings: z.array(z.string()).optional(),
  })
  .strict();
export type StoredRun = z.infer<typeof runRecordSchema>;

/** A registered agent descriptor (ACP registry entry shape). Nothing writes these yet; the collection is kept for team mode. */
export const agentRecordSchema = z
  .object({
    id,
    tenantId: id,
    name: z.string().optional(),
    version: z.string().optional(),
    description: z.string().optional(),
    distribution: z.record(z.string(), z.unknown()).optional(),
    /** Installed from the marketplace: the descriptor as installed, how, where, and whether it takes tasks. */
    installed: z
      .object({
        descriptor: z.record(z.string(), z.unknown()),
        source: z.string(),
        kind: z.enum(['npx', 'uvx', 'binary', 'command']),
        enabled: z.boolean(),
        installedAt: z.string(),
        installDir: z.string().optional(),
        commandPath: z.string().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type StoredAgent = z.infer<typeof agentRecordSchema>;

export const agentHealthSchema: z.ZodType<AgentHealth> = z
  .object({
    running: count,
    successes: count,
    failures: count,
    consecutiveFailures: count,
    circuit: z.enum(['closed', 'open']),
    openedAtMs: ms.optional(),
    probeTaskId: z.string().optional(),
    lastError: z.string().optional(),
  })
  .strict();

export const leaseSchema: z.ZodType<Lease> = z
  .object({
    taskId: z.string(),
    repo: z.string(),
    globs: z.array(z.string()),
    mode: z.enum(['read', 'write']),
    acquiredAt: z.number(),
    expiresAt: z.number(),
  })
  .strict();

export const tenantSchema = z.object({ id, name: z.string() }).strict();

/** One finished session moved out of the hot store: enough to list it without opening its file. */
export const archiveEntrySchema = z
  .object({
    id,
    tenantId: id,
    /** The session's goal, cut to 200 characters. */
    title: z.string(),
    state: z.string(),
    createdAt: ms,
    finishedAt: ms.optional(),
    archivedAt: ms,
  })
  .strict();
export type ArchiveEntry = z.infer<typeof archiveEntrySchema>;

/** The content of `store-archive/.index.json`: every archive entry (not in `store.json`, so a store write does not grow with history). */
export const archiveIndexSchema = z.object({ schemaVersion: z.literal(1), entries: z.array(archiveEntrySchema) }).strict();

/** The content of `store-archive/<sessionId>.json`: a session with its tasks and its runs. */
export const archivedSessionSchema = z
  .object({
    schemaVersion: z.literal(1),
    session: sessionRecordSchema,
    tasks: z.array(taskRecordSchema),
    runs: z.array(runRecordSchema),
  })
  .strict();
export type ArchivedSession = z.infer<typeof archivedSessionSchema>;

/**
 * What a queued session task carries to a worker on another machine (design.md §8): the tenant, session
 * and task, where the code is (the team's git remote and the base commit), the prompt and the agent. Jobs are
 * checked at the worker's edge with these schemas; a bad job names its field.
 */
import { z } from 'zod';

const id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only, starting with a letter or digit')
  // Ids name git branches (`orchestrator/<session>/<task>`): refuse what `git check-ref-format` refuses.
  .refine((s) => !s.includes('..') && !s.endsWith('.') && !s.toLowerCase().endsWith('.lock'), {
    message: 'no "..", and no "." or ".lock" at the end (git refuses such branch names)',
  });

export const taskJobSchema = z
  .object({
    tenantId: id,
    sessionId: id,
    taskId: id,
    /** The team's git remote (URL or path) the worker clones and pushes to. */
    remote: z.string().min(1),
    /** The commit the task starts from (full or abbreviated hex). */
    baseCommit: z.string().regex(/^[0-9a-f]{7,64}$/, 'a commit id (hex)'),
    prompt: z.string().min(1),
    /** The agent's id (an ACP agent of the worker's config). */
    agent: id,
    /** The task's place in the plan's dependency order: the session merge follows it. */
    order: z.number().int().nonnegative(),
    /** How many tasks the session has: its merge is queued once that many are recorded. */
    sessionTasks: z.number().int().positive(),
  })
  .strict();
export type TaskJob = z.infer<typeof taskJobSchema>;

export const mergeJobSchema = z
  .object({
    tenantId: id,
    sessionId: id,
    remote: z.string().min(1),
    baseCommit: taskJobSchema.shape.baseCommit,
    sessionTasks: z.number().int().positive(),
  })
  .strict();
export type MergeJob = z.infer<typeof mergeJobSchema>;

/** Parses job data; throws an Error naming the first wrong field (`taskId: …`). */
export function parseJob<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const i = r.error.issues[0];
  throw new Error(`bad ${what} job: ${i.path.join('.') || '(root)'}: ${i.message}`);
}

/** The session's tasks in merge order (plan order, then id for ties). */
export function mergeOrder<T extends { order: number; taskId: string }>(tasks: readonly T[]): T[] {
  return [...tasks].sort((a, b) => a.order - b.order || (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0));
}

/** A 64-bit advisory lock key as two int4s: a namespace and a hash of the parts (FNV-1a, 32 bits). */
export function lockKey(namespace: number, ...parts: string[]): [number, number] {
  let h = 0x811c9dc5;
  for (const ch of parts.join('\u0000')) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193);
  }
  return [namespace | 0, h | 0];
}
